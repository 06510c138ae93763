"""Who is calling: the principal a request's credentials resolve to."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from . import arns


@dataclass(frozen=True, slots=True)
class Session:
    """What an STS session carries (AssumeRole, GetSessionToken, GetFederationToken)."""

    issuer_type: str  # Role | IAMUser | Root
    issuer_arn: str
    issuer_id: str
    issuer_name: str
    session_name: str
    issued_at: str  # ISO 8601
    expires_at: str  # ISO 8601
    policy: str | None = None  # inline session policy
    policy_arns: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None
    mfa_authenticated: bool = False
    chained: bool = False
    invoked_by: str | None = None  # the service principal that assumed the role on the caller's behalf

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["policy_arns"] = list(self.policy_arns)
        data["transitive_tag_keys"] = list(self.transitive_tag_keys)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        data = dict(data)
        data["policy_arns"] = tuple(data.get("policy_arns", ()))
        data["transitive_tag_keys"] = tuple(data.get("transitive_tag_keys", ()))
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. ``type`` follows CloudTrail's userIdentity types."""

    account_id: str
    type: str  # Root | IAMUser | AssumedRole | FederatedUser | AWSService
    arn: str
    principal_id: str  # aws:userid
    name: str | None = None  # aws:username for users; the session name for sessions
    access_key_id: str | None = None
    session: Session | None = None

    @property
    def is_root(self) -> bool:
        return self.type == "Root"

    @classmethod
    def root(cls, account_id: str, access_key_id: str | None = None) -> Principal:
        return cls(account_id, "Root", arns.root(account_id), account_id, None, access_key_id)

    @classmethod
    def service(cls, service_principal: str) -> Principal:
        """An AWS service acting for itself (``ecs.amazonaws.com`` assuming a customer role)."""
        return cls("", "AWSService", service_principal, service_principal, service_principal)
