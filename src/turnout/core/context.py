"""Everything one request carries through the chain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.model import OperationModel

from ..wire.errors import ServiceError
from ..wire.models import ServiceSpec
from .principal import Principal

if TYPE_CHECKING:  # types only: the request context sits below the layers that fill it
    from ..auth.sigv4 import SignatureInfo
    from ..gateway.gateway import Gateway


@dataclass(slots=True)
class HttpRequest:
    method: str
    path: str
    query_string: str
    headers: dict[str, list[str]]  # lower-case names
    body: bytes
    client_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        values = self.headers.get(name)
        return values[0] if values else None


@dataclass(slots=True)
class RequestContext:
    gateway: Gateway
    request_id: str
    received_at: datetime
    http: HttpRequest | None = None
    service: ServiceSpec | None = None
    operation: OperationModel | None = None
    region: str = "us-east-1"
    form: dict[str, str] = field(default_factory=dict)  # flat query/form parameters
    query_pairs: list[tuple[str, str]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # rest-xml URI labels (S3's Bucket and Key)
    signature: SignatureInfo | None = None
    principal: Principal | None = None
    params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: ServiceError | None = None
    # Set for calls Turnout makes itself on a principal's behalf (ECS acting through a role).
    invoked_by: str | None = None
    source_ip: str = "127.0.0.1"
    user_agent: str = ""
    # Filled by later steps for whoever needs them (authorization diagnostics, recorded resources...).
    annotations: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    elapsed_ms: float = 0.0
    recorded: bool = False  # the recorders have seen the call (a write's, inside its own transaction)

    @property
    def account_id(self) -> str:
        assert self.principal is not None, "no principal before authentication"
        return self.principal.account_id

    @property
    def operation_name(self) -> str:
        return self.operation.name if self.operation is not None else self.form.get("Action", "Unknown")

    @property
    def protocol(self) -> str:
        return self.service.protocol if self.service is not None else "query"
