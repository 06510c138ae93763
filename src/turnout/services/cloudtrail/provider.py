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
        """``LookupEvents`` first copies every journal and writes the events still waiting (this process's internal
        calls), in a write transaction of its own, so that the lookup itself is a read: it finds every call answered
        before it, and takes no lock. It leaves their indexing to the background process (``store.find`` reads the
        events not indexed yet directly): indexing a few calls' events rewrites the posting lists of every value
        they carry, which cost each lookup of a busy server more than the lookup itself."""
        if ctx.operation is not None and ctx.operation.name == "LookupEvents":
            recorder = recorder_of(self.gateway)
            if recorder is not None:
                recorder.flush(index=False)
        super().precheck(ctx)
