"""The provider base: operations are methods named after the operation (``CreateRole`` -> ``create_role``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore import xform_name

from ..wire.errors import ServiceError, model_error

if TYPE_CHECKING:
    from ..gateway.gateway import Gateway
    from .context import RequestContext

Handler = Callable[["RequestContext", dict[str, Any]], dict[str, Any] | None]


class Provider:
    """Base of every service provider. Subclasses set ``service`` and define one method per operation."""

    service: str = ""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.db = gateway.db
        self.clock = gateway.clock
        self._handlers: dict[str, Handler | None] = {}

    @property
    def model(self) -> Any:
        from ..wire.models import SERVICES

        return SERVICES[self.service].model

    def handler(self, operation: str) -> Handler | None:
        if operation not in self._handlers:
            method = getattr(self, xform_name(operation), None)
            self._handlers[operation] = method if callable(method) else None
        return self._handlers[operation]

    def error(self, name: str, message: str, **fields: Any) -> ServiceError:
        """The modelled error ``name`` (shape name or code) of this service."""
        return model_error(self.model, name, message, **fields)

    def now(self) -> datetime:
        return self.clock.now()

    def precheck(self, ctx: RequestContext) -> None:
        """Checks the service makes before authorizing the call (AWS answers them whatever the caller's
        permissions); raise a ServiceError. Most operations have none."""

    def startup(self) -> None:
        """Called once the server is ready (timers, resumed work)."""
