"""The provider base: operations are methods named after the operation (``CreateRole`` -> ``create_role``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from botocore import xform_name

from ..wire.errors import ServiceError, model_error

if TYPE_CHECKING:
    from ..gateway.gateway import Gateway
    from ..store.db import Database
    from .context import RequestContext

Handler = Callable[["RequestContext", dict[str, Any]], dict[str, Any] | None]
# The authorizer's hooks a service supplies (``turnout.authz.resources_base``), called with (db, account, region,
# arn or name): a resource's stored tags by ARN, and the ARN of a resource a request names in a form only the
# service can resolve.
TagLookup = Callable[["Database", str, str, str], dict[str, str]]
NameResolver = Callable[["Database", str, str, str], "str | None"]


class Provider:
    """Base of every service provider. Subclasses set ``service`` and define one method per operation."""

    service: str = ""
    # Installed in the authorizer's registries by ``Gateway.register`` (importing a service module registers
    # nothing): per service prefix (``"ecs"``), the lookup of a resource's stored tags by ARN
    # (``aws:ResourceTag/*``); per ``"<prefix>:<resource type>"``, the resolver of a resource named otherwise.
    tag_lookups: ClassVar[Mapping[str, TagLookup]] = {}
    name_resolvers: ClassVar[Mapping[str, NameResolver]] = {}

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
