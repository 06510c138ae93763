"""The engine (being written): ``wake()`` after a request changed what it should do; ``start()`` at startup."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ....gateway.gateway import Gateway


class Engine:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def start(self) -> None:
        """Resume every unfinished deployment and task transition (server startup)."""

    def wake(self) -> None:
        """Something changed (a new deployment, a stop request, a continued hook): run soon, after the current
        request's transaction has committed."""
