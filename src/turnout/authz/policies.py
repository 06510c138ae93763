"""The policies that apply to a caller, read from IAM (:class:`~turnout.authz.ports.PolicySource`), compiled once
and cached.

* An IAM user: its inline and attached policies, plus the inline and attached policies of its groups; its
  permissions boundary.
* A role session: the role's inline and attached policies and boundary (the role as it is now, found by its
  unique id: a role deleted and created again under the same name is another role); the session's own
  policies (``Policy`` and ``PolicyArns`` of AssumeRole) are session policies.
* A GetSessionToken session has its issuer's permissions (a user's policies; root stays root).
* Root and service principals carry no identity policies (root bypasses them; services are decided by
  the resource-based policy alone).

Compiled sets are cached per caller and tagged with their account's *generation*; every successful IAM write
in an account changes it, in the write's own transaction (:meth:`PolicyCache.invalidate`, through
:mod:`turnout.store.generations`), so a change takes effect on the very next request, whichever server process
answers it.
:func:`entity_policies` reads the same data for any user, group or role, uncached (the simulator APIs).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..core import arns
from ..core.principal import Principal, Session
from ..policy import Decision, Policy, PolicySyntaxError, compile_policy
from ..policy.variables import Var
from ..store import generations
from ..store.db import Database
from .ports import Identity, PolicySource

CACHE_SIZE = 10_000
GENERATION = "iam"  # the generations (turnout.store.generations) of an account's IAM state: "iam:<account>"
EVERYWHERE = f"{GENERATION}:*"  # an IAM write whose account is unknown (a service principal's)
SESSION_POLICY_ID = "session-policy"  # the inline session policy of AssumeRole; managed ones keep their ARN

ENTITY_KINDS = frozenset({"user", "group", "role"})


class NoSuchEntity(LookupError):
    """The user, group or role an ARN names does not exist."""


@dataclass(frozen=True, slots=True)
class EntityPolicies:
    """The identity-based policies of a user (with its groups'), a group or a role, and its boundary."""

    identity: list[Policy]
    boundary: Policy | None


@dataclass(slots=True)
class CallerPolicies:
    """What a caller brings to every evaluation: its policies and tags (``aws:PrincipalTag``), and what the
    authorizer derives from them once: the caller's global keys (``keys``), the condition keys its policies read
    (``referenced``, lower case, each paired in ``lookups`` with the global key's own spelling when it is one)
    and a cache of its decisions."""

    identity: tuple[Policy, ...] = ()
    boundary: Policy | None = None
    session: tuple[Policy, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    keys: dict[str, Any] = field(default_factory=dict)
    referenced: tuple[str, ...] = ()
    lookups: tuple[tuple[str, str | None, bool], ...] = ()  # (key, global key's spelling, set per request)
    decisions: dict[tuple[Any, ...], Decision] = field(default_factory=dict)
    generation: tuple[int, int] = (0, 0)

    @property
    def policies(self) -> tuple[Policy, ...]:
        return (*self.identity, *((self.boundary,) if self.boundary is not None else ()), *self.session)


def referenced_keys(policies: Iterable[Policy]) -> tuple[str, ...]:
    """Every request-context key (lower case) the policies can read: condition keys and policy variables.

    A decision on these policies depends on the request only through the action, the resource and these keys.
    """
    found: set[str] = set()
    for policy in policies:
        for statement in policy.statements:
            for clause in statement.conditions:
                found.add(clause.key_lower)
                for value in clause.values:
                    found.update(piece.key for piece in value.template if isinstance(piece, Var))
            for pattern in statement.resources or ():
                found.update(piece.key for piece in pattern.template if isinstance(piece, Var))
    return tuple(sorted(found))


def inline_policy_id(entity_arn: str, policy_name: str) -> str:
    """How an inline policy is named in decisions and diagnostics: ``<entity ARN>#<policy name>``."""
    return f"{entity_arn}#{policy_name}"


def compile_stored(text: str, policy_id: str) -> Policy | None:
    """A stored document, compiled (cached by text); None when it is not JSON (IAM validated it on write)."""
    try:
        return compile_policy(text, policy_id=policy_id)
    except PolicySyntaxError:
        return None


def managed_policy(identities: PolicySource, account: str, arn: str) -> Policy | None:
    """The default version of a managed policy (the account's own or AWS's), compiled; None if missing."""
    document = identities.managed_policy_document(account, arn)
    return None if document is None else compile_stored(document, arn)


def _own_policies(identities: PolicySource, account: str, entity: Identity) -> list[Policy]:
    """The inline and attached managed policies of one user, group or role."""
    found: list[Policy] = []
    for inline in identities.inline_policies(account, entity):
        policy = compile_stored(inline.document, inline_policy_id(entity.arn, inline.name))
        if policy is not None:
            found.append(policy)
    for arn in identities.attached_policies(account, entity):
        policy = managed_policy(identities, account, arn)
        if policy is not None:
            found.append(policy)
    return found


def _boundary(identities: PolicySource, account: str, arn: str | None) -> Policy | None:
    if not arn:
        return None
    policy = managed_policy(identities, account, arn)
    if policy is None:
        # A boundary whose policy is gone (IAM refuses to delete it while in use) allows nothing.
        return compile_policy('{"Version":"2012-10-17","Statement":[]}', policy_id=arn)
    return policy


def _user(identities: PolicySource, account: str, user: Identity) -> EntityPolicies:
    identity = _own_policies(identities, account, user)
    for group in identities.groups_of(account, user):
        identity.extend(_own_policies(identities, account, group))
    return EntityPolicies(identity, _boundary(identities, account, user.permissions_boundary))


def _role(identities: PolicySource, account: str, role: Identity) -> EntityPolicies:
    identity = _own_policies(identities, account, role)
    return EntityPolicies(identity, _boundary(identities, account, role.permissions_boundary))


def entity_policies(identities: PolicySource, account: str, entity_arn: str) -> EntityPolicies:
    """The identity-based policies and boundary of the user, group or role ``entity_arn`` names.

    A user's include its groups' policies; groups have no boundary. Raises :class:`NoSuchEntity`.
    """
    parsed = arns.parse(entity_arn)
    kind, _, rest = parsed.resource.partition("/") if parsed is not None else ("", "", "")
    if parsed is None or parsed.service != "iam" or parsed.account != account or kind not in ENTITY_KINDS:
        raise NoSuchEntity(entity_arn)
    name = rest.rsplit("/", 1)[-1]
    entity = identities.identity(account, kind, name)
    if entity is None or entity.arn != entity_arn:
        raise NoSuchEntity(entity_arn)
    if kind == "user":
        return _user(identities, account, entity)
    if kind == "role":
        return _role(identities, account, entity)
    return EntityPolicies(_own_policies(identities, account, entity), None)


def _session_policies(identities: PolicySource, account: str, session: Session) -> tuple[Policy, ...]:
    found: list[Policy] = []
    if session.policy is not None:
        policy = compile_stored(session.policy, SESSION_POLICY_ID)
        # A session policy that cannot be read allows nothing (AssumeRole validated it, so this is defensive).
        found.append(policy or compile_policy('{"Statement":[]}', policy_id=SESSION_POLICY_ID))
    for arn in session.policy_arns:
        managed = managed_policy(identities, account, arn)
        found.append(managed or compile_policy('{"Statement":[]}', policy_id=arn))
    return tuple(found)


def load_caller(identities: PolicySource, principal: Principal) -> CallerPolicies:
    """Read and compile everything that applies to ``principal`` (uncached)."""
    account = principal.account_id
    session = principal.session
    user_id = None
    if principal.type == "IAMUser":
        user_id = principal.principal_id  # a GetSessionToken session of a user has the user's permissions
    elif principal.type == "FederatedUser" and session is not None:
        user_id = session.issuer_id  # GetFederationToken: the issuing user's policies, within the session's
    if user_id is not None:
        user = identities.user_by_id(account, user_id)
        if user is None:
            return CallerPolicies()
        found = _user(identities, account, user)
        caller = CallerPolicies(tuple(found.identity), found.boundary)
        caller.tags = identities.tags(account, "user", user.name_lower)
        if principal.type == "FederatedUser" and session is not None:
            caller.session = _session_policies(identities, account, session)
        return caller
    if principal.type == "AssumedRole" and session is not None:
        role = identities.role_by_id(account, session.issuer_id)
        if role is None:
            return CallerPolicies(session=_session_policies(identities, account, session))  # the role is gone
        found = _role(identities, account, role)
        tags = identities.tags(account, "role", role.name_lower)
        return CallerPolicies(tuple(found.identity), found.boundary, _session_policies(identities, account, session),
                              tags)
    return CallerPolicies()  # Root and service principals


def cache_key(principal: Principal) -> tuple[Any, ...]:
    """Everything about a principal its policies depend on (a session's own policies are part of it)."""
    session = principal.session
    if session is None:
        return (principal.type, principal.account_id, principal.principal_id, principal.arn)
    return (
        principal.type, principal.account_id, principal.principal_id, principal.arn, session.issuer_id,
        session.policy, session.policy_arns, tuple(session.tags.items()), session.source_identity,
        session.mfa_authenticated, session.issued_at,
    )


class PolicyCache:
    """Compiled caller policies by principal, valid while their account's generation is unchanged."""

    def __init__(self, db: Database, identities: PolicySource, size: int = CACHE_SIZE,
                 prepare: Callable[[Principal, CallerPolicies], None] | None = None) -> None:
        self.db = db
        self.identities = identities
        self.size = size
        self._prepare = prepare
        self._entries: dict[tuple[Any, ...], CallerPolicies] = {}
        self._generations = generations.of(db)
        self._lock = threading.Lock()

    def generation(self, account: str) -> tuple[int, int]:
        """Changes whenever ``account``'s IAM state may have changed (an IAM write there, or one anywhere)."""
        return self._generations.tokens(f"{GENERATION}:{account}", EVERYWHERE)

    def invalidate(self, account: str | None = None) -> None:
        """An IAM write in ``account`` (None: anywhere) makes cached sets of that account stale; call it in the
        write's transaction (every process sees the change once it commits)."""
        self._generations.bump(EVERYWHERE if account is None else f"{GENERATION}:{account}")
        if account is None:
            with self._lock:
                self._entries.clear()

    def caller(self, principal: Principal) -> CallerPolicies:
        key = cache_key(principal)
        generation = self.generation(principal.account_id)
        entry = self._entries.get(key)
        if entry is not None and entry.generation == generation:
            return entry
        entry = load_caller(self.identities, principal)
        entry.generation = generation
        if self._prepare is not None:
            self._prepare(principal, entry)
        with self._lock:
            if len(self._entries) >= self.size:
                # Drop the oldest eighth: insertion order is age, and stale entries are replaced in place.
                for stale in list(self._entries)[: max(1, self.size // 8)]:
                    del self._entries[stale]
            self._entries[key] = entry
        return entry
