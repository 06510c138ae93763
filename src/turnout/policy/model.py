"""The engine's data model: compiled policies, requests, policy sets and decisions.

Everything here is plain data (slotted dataclasses). Compilation lives in ``parse.py``, evaluation in
``evaluate.py``; this module only names things and holds the small per-request derivations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from turnout.policy.conditions.base import Clause
    from turnout.policy.matching import ActionMatcher, ResourcePattern
    from turnout.policy.principals import PrincipalSpec

Effect = Literal["Allow", "Deny"]
Outcome = Literal["Allow", "ImplicitDeny", "ExplicitDeny"]
ResourceKind = Literal["resource", "trust", "key"]
ContextValue = str | Sequence[str]  # as held after normalisation: a string, or a list for a multivalued key
ContextInput = str | bool | int | float | Sequence[str | bool | int | float]  # accepted (bools become "true")

ALLOW: Final = "Allow"
IMPLICIT_DENY: Final = "ImplicitDeny"
EXPLICIT_DENY: Final = "ExplicitDeny"

# Principal types a request can carry (``Request.principal_type``).
ROOT: Final = "Root"
IAM_USER: Final = "IAMUser"
ASSUMED_ROLE: Final = "AssumedRole"
FEDERATED_USER: Final = "FederatedUser"
AWS_SERVICE: Final = "AWSService"
ANONYMOUS: Final = "Anonymous"
PRINCIPAL_TYPES: Final = frozenset({ROOT, IAM_USER, ASSUMED_ROLE, FEDERATED_USER, AWS_SERVICE, ANONYMOUS})
IAM_PRINCIPAL_TYPES: Final = frozenset({ROOT, IAM_USER, ASSUMED_ROLE, FEDERATED_USER})
SESSION_TYPES: Final = frozenset({ASSUMED_ROLE, FEDERATED_USER})


class PolicyType(StrEnum):
    """Where a policy sits in the evaluation; the value is AWS's wording for it in denial messages."""

    IDENTITY = "identity-based policy"
    RESOURCE = "resource-based policy"
    TRUST = "role trust policy"
    BOUNDARY = "permissions boundary"
    SESSION = "session policy"
    SCP = "service control policy"
    RCP = "resource control policy"
    ENDPOINT = "VPC endpoint policy"


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column in a policy document's text."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Statement:
    """One normalised statement. ``actions``/``resources`` hold either the positive or the ``Not`` form."""

    index: int
    sid: str | None
    effect: Effect
    actions: ActionMatcher
    not_action: bool
    resources: tuple[ResourcePattern, ...] | None  # None: no Resource/NotResource element (trust policies)
    not_resource: bool
    principal: PrincipalSpec | None  # None: no Principal/NotPrincipal element
    not_principal: bool
    conditions: tuple[Clause, ...]
    start: Position | None = None
    end: Position | None = None
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    """A compiled policy document. ``candidates(service)`` is the per-service index of statements."""

    policy_id: str
    statements: tuple[Statement, ...]
    version: str | None
    errors: tuple[str, ...]
    by_service: Mapping[str, tuple[Statement, ...]]
    always: tuple[Statement, ...]

    def candidates(self, service: str) -> tuple[Statement, ...]:
        """Statements that can apply to an action of ``service`` (lower-case prefix), in document order."""
        return self.by_service.get(service, self.always)


@dataclass(slots=True)
class Request:
    """One authorization question. ``context`` keys are matched case-insensitively; a list is a multivalued key.

    ``role_arn`` is the ARN of the role behind an assumed-role session; when absent it is derived from the
    session ARN (which carries no role path).
    """

    principal_arn: str | None
    principal_account: str | None
    principal_type: str
    action: str
    resource: str
    resource_account: str | None = None
    context: Mapping[str, ContextInput] = field(default_factory=dict)
    principal_service: str | None = None
    role_arn: str | None = None
    service: str = field(init=False, repr=False, compare=False)
    action_lower: str = field(init=False, repr=False, compare=False)
    values: dict[str, ContextValue] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.principal_type not in PRINCIPAL_TYPES:
            raise ValueError(f"unknown principal type {self.principal_type!r}")
        lowered = self.action.lower()
        self.action_lower = lowered
        self.service = lowered.partition(":")[0]
        self.values = {key.lower(): _context_value(value) for key, value in self.context.items()}
        if self.role_arn is None and self.principal_type == ASSUMED_ROLE and self.principal_arn:
            self.role_arn = role_arn_of_session(self.principal_arn)


def _context_value(value: object) -> ContextValue:
    """Context values are strings or lists of strings; booleans and numbers become their policy spelling."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return [item if isinstance(item, str) else str(_context_value(item)) for item in value]
    return str(value)


def role_arn_of_session(arn: str) -> str | None:
    """``arn:P:sts::A:assumed-role/R/S`` -> ``arn:P:iam::A:role/R``; a role ARN is returned as is."""
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return None
    if parts[2] == "iam" and parts[5].startswith("role/"):
        return arn
    if parts[2] != "sts" or not parts[5].startswith("assumed-role/"):
        return None
    role_name = parts[5][len("assumed-role/"):].split("/", 1)[0]
    return f"arn:{parts[1]}:iam::{parts[4]}:role/{role_name}"


@dataclass(slots=True)
class PolicySet:
    """The policies that apply to one request. ``scps``/``rcps`` are organisation levels, root first; each
    level must allow. ``None`` means the layer does not apply. ``resource_kind`` says whether the resource
    policy is an ordinary resource-based policy, a role trust policy or a KMS key policy (the last two must
    allow the principal explicitly: there is no identity-only path)."""

    identity: Sequence[Policy] = ()
    resource: Policy | None = None
    resource_kind: ResourceKind = "resource"
    boundary: Policy | None = None
    session: Sequence[Policy] = ()
    scps: Sequence[Sequence[Policy]] | None = None
    rcps: Sequence[Sequence[Policy]] | None = None
    endpoint: Sequence[Policy] = ()

    @property
    def resource_is_trust_policy(self) -> bool:
        return self.resource_kind == "trust"

    @property
    def resource_type(self) -> PolicyType:
        return PolicyType.TRUST if self.resource_kind == "trust" else PolicyType.RESOURCE


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    """A statement whose Action, Resource, Principal and Condition all matched the request."""

    policy_type: PolicyType
    policy_id: str
    statement_index: int
    sid: str | None
    effect: Effect
    start: Position | None
    end: Position | None


@dataclass(slots=True)
class Decision:
    """The engine's answer. ``denied_by`` names the policy type that decided a denial (None for an Allow or
    for a denial by a built-in service rule, then explained by ``reason``). ``type_decisions`` holds the
    outcome of each policy type that took part (for the simulator's boundary/organisations decisions)."""

    effect: Outcome
    denied_by: PolicyType | None = None
    matched: list[MatchedStatement] = field(default_factory=list)
    missing_context_keys: list[str] = field(default_factory=list)
    type_decisions: dict[PolicyType, Outcome] = field(default_factory=dict)
    reason: str | None = None

    @property
    def allowed(self) -> bool:
        return self.effect == ALLOW

    @property
    def boundary_decision(self) -> Outcome | None:
        return self.type_decisions.get(PolicyType.BOUNDARY)

    @property
    def organizations_decision(self) -> Outcome | None:
        return self.type_decisions.get(PolicyType.SCP)
