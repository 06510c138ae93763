"""The CloudTrail provider, assembled from mixins: ``LookupEvents`` (``lookup.py``), trails (``trails.py``) and
their Insights selectors (``insights.py``).

Every call is recorded by :class:`~turnout.services.cloudtrail.recorder.CloudTrailRecorder`, a gateway recorder
(``server.build_gateway``); the provider only reads what it wrote. A mixin that needs to run something when the
server starts defines ``startup`` and calls ``super().startup()``.
"""

from __future__ import annotations

from ..base import Provider
from .insights import InsightOperations
from .lookup import LookupOperations
from .recorder import recorder_of
from .trails import TrailOperations


class CloudTrailProvider(LookupOperations, TrailOperations, InsightOperations, Provider):
    service = "cloudtrail"

    def startup(self) -> None:
        recorder = recorder_of(self.gateway)
        if recorder is not None:
            recorder.start()  # write events from the server's event loop from now on
        from . import delivery

        if self.gateway.primary:  # one process delivers (turnout.workers)
            delivery.start(self.gateway)  # trails' log file delivery
        super().startup()
