"""The engine's data model: compiled policies, requests, policy sets and decisions.

Everything here is plain data (slotted dataclasses; ``Request`` a slotted class that derives what it can on
first use). Compilation lives in ``parse.py`` (and the per-action specialisation in ``compiled.py``),
evaluation in ``evaluate.py``; this module only names things and holds the small per-request derivations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from turnout.policy.compiled import Entry
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
    compiled: dict[object, object] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Specialised forms of the statement, filled on first use by ``compiled.py``."""


@dataclass(frozen=True, slots=True)
class Policy:
    """A compiled policy document. ``candidates(service)`` is the per-service index of statements.

    ``tables`` holds, per policy type, the statements whose Action element matches an action (keyed by the
    lower-case action), specialised for that type; ``compiled.entries`` fills it on first use (see there).
    """

    policy_id: str
    statements: tuple[Statement, ...]
    version: str | None
    errors: tuple[str, ...]
    by_service: Mapping[str, tuple[Statement, ...]]
    always: tuple[Statement, ...]
    tables: dict[PolicyType, dict[str, tuple[Entry, ...]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    identity_table: dict[str, tuple[Entry, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.tables[PolicyType.IDENTITY] = self.identity_table  # the same table, at hand for the common case

    def candidates(self, service: str) -> tuple[Statement, ...]:
        """Statements that can apply to an action of ``service`` (lower-case prefix), in document order."""
        return self.by_service.get(service, self.always)


class _FromResource(Enum):
    FROM_RESOURCE = "from resource"


class _FromSession(Enum):
    FROM_SESSION = "from session"


FROM_RESOURCE: Final = _FromResource.FROM_RESOURCE  # ``Request._resource_account``: to be read from the ARN
FROM_SESSION: Final = _FromSession.FROM_SESSION  # ``Request._role_arn``: to be derived from the session ARN
_REQUEST_FIELDS: Final = ("principal_arn", "principal_account", "principal_type", "action", "resource",
                          "resource_account", "context", "principal_service", "role_arn", "principal_id")


class Request:
    """One authorization question. ``context`` keys are matched case-insensitively; a list is a multivalued key.

    ``principal_id`` is the caller's IAM unique id: the user's (``AIDA...``), or for an assumed-role session the
    role's (``AROA...``); resource-based policies name principals by it once saved (see ``principals``).
    ``role_arn`` is the ARN of the role behind an assumed-role session; when absent it is derived from the
    session ARN (which carries no role path). ``values`` (the context with lower-cased keys and normalised
    values) is derived from ``context`` on first use: treat ``context`` as read-only once the Request is built.

    A plain slotted class with dataclass-like ``__eq__``/``__repr__`` over the constructor's fields, so that
    what is derived (``values``, ``role_arn``, the resource's account when ``make_request`` leaves it to be
    read from the ARN) costs nothing until an evaluation needs it: one Request is built per call.
    """

    __slots__ = (
        "_resource_account",
        "_role_arn",
        "action",
        "action_lower",
        "context",
        "lowered",
        "principal_account",
        "principal_arn",
        "principal_id",
        "principal_service",
        "principal_type",
        "resource",
    )

    principal_arn: str | None
    principal_account: str | None
    principal_type: str
    action: str
    resource: str
    _resource_account: str | _FromResource | None
    context: Mapping[str, ContextInput]
    principal_service: str | None
    principal_id: str | None
    _role_arn: str | _FromSession | None
    action_lower: str
    lowered: dict[str, ContextValue] | None

    def __init__(
        self,
        principal_arn: str | None,
        principal_account: str | None,
        principal_type: str,
        action: str,
        resource: str,
        resource_account: str | None = None,
        context: Mapping[str, ContextInput] | None = None,
        principal_service: str | None = None,
        role_arn: str | None = None,
        principal_id: str | None = None,
    ) -> None:
        if principal_type not in PRINCIPAL_TYPES:
            raise ValueError(f"unknown principal type {principal_type!r}")
        self.principal_arn = principal_arn
        self.principal_account = principal_account
        self.principal_type = principal_type
        self.action = action
        self.resource = resource
        self._resource_account = resource_account
        self.context = {} if context is None else context
        self.principal_service = principal_service
        self.principal_id = principal_id
        self._role_arn = FROM_SESSION if role_arn is None and principal_type == ASSUMED_ROLE else role_arn
        self.action_lower = action.lower()
        self.lowered = None

    @property
    def resource_account(self) -> str | None:
        """The account that owns the resource (None: unknown, treated as the caller's own)."""
        account = self._resource_account
        if account is FROM_RESOURCE:
            account = self._resource_account = account_of_arn(self.resource)
        return account

    @resource_account.setter
    def resource_account(self, account: str | None) -> None:
        self._resource_account = account

    @property
    def role_arn(self) -> str | None:
        """The role behind an assumed-role session (None for other callers, or when the ARN does not say)."""
        role = self._role_arn
        if role is FROM_SESSION:
            role = self._role_arn = role_arn_of_session(self.principal_arn) if self.principal_arn else None
        return role

    @role_arn.setter
    def role_arn(self, role: str | None) -> None:
        self._role_arn = role

    @property
    def service(self) -> str:
        """The action's service prefix, lower case."""
        return self.action_lower.partition(":")[0]

    @property
    def values(self) -> dict[str, ContextValue]:
        """The context with lower-cased keys; strings, or lists of strings for multivalued keys."""
        lowered = self.lowered
        if lowered is None:
            lowered = self.lowered = lower_context(self.context)
        return lowered

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _REQUEST_FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Request)
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value (as a dataclass would be)

    def __repr__(self) -> str:
        return f"Request({', '.join(f'{name}={getattr(self, name)!r}' for name in _REQUEST_FIELDS)})"


def account_of_arn(arn: str) -> str | None:
    """The account field of an ARN (None when empty or when ``arn`` is not an ARN)."""
    parts = arn.split(":", 5)
    return parts[4] or None if len(parts) == 6 and parts[0] == "arn" else None


def lower_context(context: Mapping[str, ContextInput]) -> dict[str, ContextValue]:
    """Lower-case the keys (the last spelling of a key wins) and normalise the values."""
    out: dict[str, ContextValue] = {}
    for key, value in context.items():
        out[key.lower()] = value if isinstance(value, str) else context_value(value)
    return out


def context_value(value: object) -> ContextValue:
    """Context values are strings or lists of strings; booleans and numbers become their policy spelling."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return [item if isinstance(item, str) else str(context_value(item)) for item in value]
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


@dataclass(slots=True, init=False)
class Decision:
    """The engine's answer. ``denied_by`` names the policy type that decided a denial (None for an Allow or
    for a denial by a built-in service rule, then explained by ``reason``). ``type_decisions`` holds the
    outcome of each policy type that took part (for the simulator's boundary/organisations decisions)."""

    effect: Outcome
    denied_by: PolicyType | None = None
    matched: list[MatchedStatement] = field(default_factory=list)
    missing_context_keys: list[str] = field(default_factory=list)
    type_decisions: Mapping[PolicyType, Outcome] = field(default_factory=dict)  # read-only (may be shared)
    reason: str | None = None

    def __init__(  # written out (not generated): one Decision per call
        self,
        effect: Outcome,
        denied_by: PolicyType | None = None,
        matched: list[MatchedStatement] | None = None,
        missing_context_keys: list[str] | None = None,
        type_decisions: Mapping[PolicyType, Outcome] | None = None,
        reason: str | None = None,
    ) -> None:
        self.effect = effect
        self.denied_by = denied_by
        self.matched = [] if matched is None else matched
        self.missing_context_keys = [] if missing_context_keys is None else missing_context_keys
        self.type_decisions = {} if type_decisions is None else type_decisions
        self.reason = reason

    @property
    def allowed(self) -> bool:
        return self.effect == ALLOW

    @property
    def boundary_decision(self) -> Outcome | None:
        return self.type_decisions.get(PolicyType.BOUNDARY)

    @property
    def organizations_decision(self) -> Outcome | None:
        return self.type_decisions.get(PolicyType.SCP)
