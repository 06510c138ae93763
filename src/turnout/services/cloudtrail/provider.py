"""The CloudTrail provider, assembled from mixins: ``LookupEvents`` (``lookup.py``), trails (``trails.py``) and
their Insights selectors (``insights.py``).

Every call is recorded by :class:`~turnout.services.cloudtrail.recorder.CloudTrailRecorder`, a gateway recorder
(``server.build_gateway``); the provider only reads what it wrote. A mixin that needs to run something when the
server starts defines ``startup`` and calls ``super().startup()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.provider import Provider
from .insights import InsightOperations
from .lookup import LookupOperations
from .recorder import recorder_of
from .trails import TrailOperations

if TYPE_CHECKING:
    from ...core.context import RequestContext


class CloudTrailProvider(LookupOperations, TrailOperations, InsightOperations, Provider):
    service = "cloudtrail"

    def startup(self) -> None:
        recorder = recorder_of(self.gateway)
        if recorder is not None:
            # Events through this process's journal from now on; the background process copies every journal.
            recorder.start(copies=self.gateway.primary)
        from . import delivery

        if self.gateway.primary:  # one process delivers (turnout.workers)
            delivery.start(self.gateway)  # trails' log file delivery
        super().startup()

    def precheck(self, ctx: RequestContext) -> None:
        """``LookupEvents`` first writes and indexes the events still waiting (this process's internal calls, and
        every event written unindexed by any process), each in a write transaction of its own, so that the lookup
        itself is a read: it finds every call answered before it, and takes no lock."""
        if ctx.operation is not None and ctx.operation.name == "LookupEvents":
            recorder = recorder_of(self.gateway)
            if recorder is not None:
                recorder.flush()
        super().precheck(ctx)
