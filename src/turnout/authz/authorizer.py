"""The gateway's authorize step with the IAM policy engine: every call is evaluated before it runs.

For each :class:`~turnout.authz.checks.Check` of a call (from :func:`turnout.authz.context.checks_for`) the
caller's policies (cached, see :mod:`turnout.authz.policies`), the check's resource-based or trust policy and the
global condition keys (:mod:`turnout.authz.globalkeys`) are evaluated by :func:`turnout.policy.evaluate`; the
first denied check ends the call with AWS's error (:func:`access_denied`).

* Root: the engine's ``Root`` type: identity policies are bypassed; explicit denies and resource-based policies
  still apply. A root user may not assume a role at all (:data:`ROOT_MAY_NOT_ASSUME_ROLES`, decided here).
* Service principals (``Principal.service(...)``, internal calls): decided by the resource-based policy alone
  (the trust policy for ``sts:AssumeRole``).
* A call whose resources could not be worked out (``Check.unresolved``: :func:`turnout.authz.context.checks_for`
  failed) is denied for everyone, root included, with AWS's AccessDenied of the protocol; the diagnostic is the
  denial's reason, shown by ``turnout explain``.
* ``sts:GetCallerIdentity`` and ``sts:GetSessionToken`` need no permission: the engine's built-in service rules
  allow them (:mod:`turnout.policy.servicerules`), whatever the caller's policies say.

The decisions of a call are kept in ``ctx.annotations["authz"]`` (:class:`Authorization`). As a recorder, the
authorizer also observes finished calls: a successful IAM write makes that account's cached policies stale, and
a denial is stored for :func:`turnout.authz.diagnostics.explain` once the call is over (a denial raised inside
a provider's transaction would otherwise be rolled back with it).

The step runs before dispatch, outside the dispatch transaction: it only reads (policies, from a cache that
IAM writes invalidate), and a denied call never opens a transaction. Requests are served one at a time, so
nothing can change the policies between the decision and the dispatch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from ..core.principal import Principal
from ..policy import IMPLICIT_DENY, Decision, Policy, PolicySet, PolicyType, Request, access_denied_message, evaluate
from ..policy.model import ResourceKind
from ..store.db import Database
from ..wire.errors import ServiceError
from . import diagnostics
from .checks import Check
from .globalkeys import REQUEST_KEY_NAMES, principal_keys, request_keys
from .policies import CallerPolicies, PolicyCache, compile_stored, load_caller, referenced_keys
from .ports import PolicySource

if TYPE_CHECKING:
    from ..core.context import RequestContext

log = logging.getLogger("turnout.authz")

ANNOTATION = "authz"
READ_PREFIXES = ("Get", "List", "Simulate", "Generate")  # IAM operations that change nothing
DECISIONS_PER_CALLER = 512
READ_CHECKS_KEPT = 4096

_ENGINE_TYPES = {
    "Root": "Root",
    "IAMUser": "IAMUser",
    "AssumedRole": "AssumedRole",
    "FederatedUser": "FederatedUser",
    "AWSService": "AWSService",
}

ChecksFor = Callable[["RequestContext"], list[Check]]

# AWS refuses sts:AssumeRole to the root user of any account, whatever the role's trust policy says (an explicit
# Allow of the account, of "*", or an explicit Deny alike) and before that policy is read, with this exact
# message (AccessDenied, 403: observed STS responses; IAM User Guide: "You cannot assume a role when you are
# signed in as the AWS account root user"). Whether a missing role gets it too AWS does not say: our reading is
# yes, since the rule is about the caller, not the role.
#
# Decided here rather than in the engine's built-in rules (turnout.policy.servicerules):
# * the message is STS's own fixed text, not an evaluation message: the engine only explains denials as
#   "User: ... is not authorized to perform ...", and this module is where a decision becomes AWS's error;
# * the simulator APIs can never present a root caller (SimulatePrincipalPolicy's PolicySourceArn is a user,
#   group or role; the CallerArn of both simulators may only be an IAM user), so no other user of the engine
#   could meet the rule, while every path of this authorizer (authorize, authorize_check, evaluate) does;
# * it must come before the trust policy is evaluated, which happens per check in ``_evaluate`` below.
ROOT_MAY_NOT_ASSUME_ROLES = "Roles may not be assumed by root accounts."
_ROOT_REFUSED_ACTIONS = frozenset({"sts:assumerole"})
# Denials whose ``Decision.reason`` is AWS's complete message (not a "User: ... is not authorized" one).
_FIXED_MESSAGES = frozenset({ROOT_MAY_NOT_ASSUME_ROLES})


def access_denied(protocol: str, message: str, request_id: str) -> ServiceError:
    """AWS's authorization failure for a protocol, with the engine's message.

    Query services (IAM, STS, ELB): ``AccessDenied``, 403. JSON services (ECS, CloudTrail):
    ``AccessDeniedException``, 400. EC2: ``UnauthorizedOperation``, 403, "You are not authorized to perform this
    operation." followed by the reason and an encoded message; AWS encodes the decision for
    sts:DecodeAuthorizationMessage, which Turnout does not offer, so the request id stands in for it
    (:func:`turnout.authz.diagnostics.explain` reads the decision back by it).
    """
    if protocol == "json":
        return ServiceError("AccessDeniedException", message, 400)
    if protocol == "ec2":
        return ServiceError(
            "UnauthorizedOperation",
            f"You are not authorized to perform this operation. {message}. "
            f"Encoded authorization failure message: {request_id}",
            403,
        )
    return ServiceError("AccessDenied", message, 403)


# Services whose denials name the wildcard resource ("... ecs:ListClusters on resource: * because ..."), where
# IAM's documented form and ELB, EC2 and CloudTrail leave "on resource" out (README, "Authorization").
WILDCARD_NAMED = frozenset({"ecs"})

# Creates name the new entity by its ARN; other IAM operations name an entity as "<kind> <path/name>".
_IAM_CREATES = {"CreateRole": "role", "CreateUser": "user", "CreateGroup": "group", "CreatePolicy": "policy",
                "CreateServiceLinkedRole": "role"}


def iam_resource_wording(resource: str, operation: str) -> str:
    """How IAM's own AccessDenied messages name an IAM resource.

    Observed IAM messages read "... iam:GetRole on resource: role <name> because ...", "... iam:UpdateRole on
    resource: role <name>", "... iam:ListAccessKeys on resource: user <name> ..." and "... on resource: policy
    <policy ARN>", while a create names the new entity's ARN ("iam:CreateRole on resource:
    arn:aws:iam::<account>:role/<name>"). AWS does not document the form; the path of a pathed entity is kept
    before its name (our reading of the examples: the text after ``role/`` in its ARN).
    """
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam":
        return resource
    kind, slash, rest = parts[5].partition("/")
    if kind == "policy" and slash and (not rest or rest.endswith("/")):
        # ListPolicies' path: observed "... iam:ListPolicies on resource: policy path /".
        return f"policy path /{rest}"
    # A path (``role/``, ``role/app/``: what ListRoles and the other path lists act on) is named by its ARN.
    if not rest or rest.endswith("/") or _IAM_CREATES.get(operation) == kind:
        return resource
    if kind in ("role", "user", "group"):
        return f"{kind} {rest}"
    if kind == "policy":
        return f"policy {resource}"
    return resource


@dataclass(slots=True)
class Evaluated:
    """One check, decided. The engine's ``request`` is built on first use (a cached decision needs none)."""

    check: Check
    decision: Decision
    principal: Principal
    per_request: dict[str, Any]  # the per-request global keys (the caller's own are in ``caller.keys``)
    caller: CallerPolicies
    resource: Policy | None = None
    _request: Request | None = None

    @property
    def request(self) -> Request:
        if self._request is None:
            self._request = _request(self.principal, self.check, self.caller, self.per_request)
        return self._request

    @property
    def policies(self) -> PolicySet:
        return _policy_set(self.caller, self.check, self.resource)

    def considered(self) -> dict[str, list[str]]:
        """The ids of the policies evaluated, by policy type (for the diagnostics of a denial)."""
        policies = self.policies
        found: dict[str, list[str]] = {}
        if self.principal.type not in ("Root", "AWSService"):
            found[str(PolicyType.IDENTITY)] = [p.policy_id for p in policies.identity]
            if policies.boundary is not None:
                found[str(PolicyType.BOUNDARY)] = [policies.boundary.policy_id]
            if policies.session:
                found[str(PolicyType.SESSION)] = [p.policy_id for p in policies.session]
        if policies.resource is not None:
            found[str(policies.resource_type)] = [policies.resource.policy_id]
        return found


@dataclass(slots=True)
class Authorization:
    """The decisions of one call (``ctx.annotations["authz"]``): every check evaluated, and the denial if any."""

    evaluated: list[Evaluated] = field(default_factory=list)
    denied: Evaluated | None = None
    error: ServiceError | None = None
    recorded: bool = False

    @property
    def allowed(self) -> bool:
        return self.denied is None


def _account(arn: str) -> str | None:
    """The 12-digit account of an ARN (None for ``*``, AWS-owned resources and non-ARNs)."""
    if not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    account = parts[4] if len(parts) == 6 else ""
    return account if len(account) == 12 and account.isdigit() else None


def _request(principal: Principal, check: Check, caller: CallerPolicies, keys: dict[str, Any]) -> Request:
    context = {**caller.keys, **keys, **check.context}
    resource_account = check.resource_account or _account(check.resource)
    if principal.type == "AWSService":
        return Request(principal.arn, None, "AWSService", check.action, check.resource, resource_account, context,
                       principal_service=principal.arn)
    session = principal.session
    role_arn = session.issuer_arn if principal.type == "AssumedRole" and session is not None else None
    return Request(
        principal.arn, principal.account_id, _ENGINE_TYPES.get(principal.type, "IAMUser"), check.action,
        check.resource, resource_account, context, role_arn=role_arn, principal_id=_unique_id(principal),
    )


def _unique_id(principal: Principal) -> str | None:
    """The IAM unique id a resource-based policy names the caller by: an IAM user's id, or the role's id behind
    an assumed-role session (``aws:userid`` is ``AROA...:session``). None for root and federated users."""
    if principal.type == "IAMUser":
        return principal.principal_id
    if principal.type == "AssumedRole":
        return principal.principal_id.partition(":")[0]
    return None


def _policy_set(caller: CallerPolicies, check: Check, resource: Policy | None) -> PolicySet:
    return PolicySet(
        identity=caller.identity,
        resource=resource,
        resource_kind=cast(ResourceKind, check.resource_policy_kind),
        boundary=caller.boundary,
        session=caller.session,
    )


def decision_key(caller: CallerPolicies, check: Check, keys: dict[str, Any]) -> tuple[Any, ...]:
    """What a decision on the caller's own policies depends on: action, resource and the keys they read
    (``keys``: the per-request global keys)."""
    own = caller.keys
    lookups = caller.lookups
    lowered = {k.lower(): v for k, v in check.context.items()} if check.context else {}
    values = [
        lowered[low] if low in lowered else (keys if per_request else own).get(name) if name else None
        for low, name, per_request in lookups
    ]
    return (check.action, check.resource, check.resource_account,
            *[tuple(v) if isinstance(v, list) else v for v in values])


def _iam_read_key(ctx: RequestContext) -> tuple[Any, ...] | None:
    """What the checks of an IAM read depend on besides IAM's state; None for other calls (and for reads with
    structured parameters, which are rare)."""
    service, operation, principal = ctx.service, ctx.operation, ctx.principal
    if service is None or service.name != "iam" or operation is None or principal is None or not principal.account_id:
        return None
    if not operation.name.startswith(READ_PREFIXES):
        return None
    params = ctx.params
    if any(not isinstance(value, str | int) for value in params.values()):
        return None
    return (operation.name, principal.arn, principal.account_id, ctx.region, tuple(sorted(params.items())))


class PolicyAuthorizer:
    """The gateway's :class:`Authorizer` (and a :class:`Recorder`) backed by the policy engine."""

    def __init__(self, db: Database, identities: PolicySource, *, checks: ChecksFor | None = None,
                 keep: int = diagnostics.KEEP) -> None:
        self.db = db
        self.keep = keep
        self.cache = PolicyCache(db, identities, prepare=self._prepare)
        self._checks = checks
        self._read_checks: dict[tuple[Any, ...], tuple[tuple[int, int], list[Check]]] = {}

    @staticmethod
    def _prepare(principal: Principal, caller: CallerPolicies) -> None:
        caller.keys = principal_keys(principal, caller.tags)
        canon = {name.lower(): name for name in (*caller.keys, *REQUEST_KEY_NAMES)}
        caller.referenced = referenced_keys(caller.policies)
        caller.lookups = tuple(
            (key, canon.get(key), canon.get(key) in REQUEST_KEY_NAMES) for key in caller.referenced
        )

    def checks_for(self, ctx: RequestContext) -> list[Check]:
        """The call's checks. Those of IAM reads are remembered until the account's next IAM write: they depend
        only on the request and on the account's IAM entities (ARNs with paths, tags, boundaries)."""
        checks = self._checks
        if checks is None:
            from .context import checks_for  # imported on first use: the request-context module is separate

            checks = self._checks = checks_for
        key = _iam_read_key(ctx)
        if key is None:
            return checks(ctx)
        generation = self.cache.generation(ctx.account_id)
        found = self._read_checks.get(key)
        if found is not None and found[0] == generation:
            return found[1]
        result = checks(ctx)
        if any(check.unresolved is not None for check in result):
            return result  # a failure is not remembered: the next call derives its checks afresh
        if len(self._read_checks) >= READ_CHECKS_KEPT:
            self._read_checks.clear()
        self._read_checks[key] = (generation, result)
        return result

    # -- the authorize step ----------------------------------------------------------------------------

    def authorize(self, ctx: RequestContext) -> None:
        assert ctx.principal is not None and ctx.service is not None and ctx.operation is not None
        authorization = self.annotation(ctx)
        checks = self.checks_for(ctx)
        caller = self.cache.caller(ctx.principal)
        keys = request_keys(ctx)
        for check in checks:
            evaluated = self._evaluate(ctx.principal, caller, check, keys)
            authorization.evaluated.append(evaluated)
            if not evaluated.decision.allowed:
                raise self.deny(ctx, evaluated)

    def authorize_check(self, ctx: RequestContext, check: Check) -> Evaluated:
        """Evaluate one more check for a call already under way (PassRole); raises AWS's error when denied."""
        assert ctx.principal is not None
        caller = self.cache.caller(ctx.principal)
        evaluated = self._evaluate(ctx.principal, caller, check, request_keys(ctx))
        self.annotation(ctx).evaluated.append(evaluated)
        if not evaluated.decision.allowed:
            raise self.deny(ctx, evaluated)
        return evaluated

    def evaluate(self, ctx: RequestContext, check: Check) -> Evaluated:
        """Decide ``check`` for the caller of ``ctx`` without raising or recording (previews, tests)."""
        assert ctx.principal is not None
        caller = self.cache.caller(ctx.principal)
        return self._evaluate(ctx.principal, caller, check, request_keys(ctx))

    def fresh_caller(self, principal: Principal, like: CallerPolicies | None = None) -> CallerPolicies:
        """The policies of ``principal`` read afresh, not from the cache: IAM's state as the current transaction
        sees it (the deployment guard previews an IAM write before it commits). ``like``: policies already read
        for another session of the same role, reused for this one."""
        if like is None:
            caller = load_caller(self.cache.identities, principal)
        else:
            caller = CallerPolicies(like.identity, like.boundary, like.session, dict(like.tags))
        self._prepare(principal, caller)
        return caller

    def evaluate_with(self, ctx: RequestContext, caller: CallerPolicies, checks: list[Check],
                      keys: dict[str, Any] | None = None) -> list[Evaluated]:
        """Decide ``checks`` for the caller of ``ctx`` with ``caller``'s policies (:meth:`fresh_caller`), without
        raising or recording; ``keys``: the context's per-request keys when already worked out."""
        assert ctx.principal is not None
        if keys is None:
            keys = request_keys(ctx)
        return [self._evaluate(ctx.principal, caller, check, keys) for check in checks]

    @staticmethod
    def request_keys(ctx: RequestContext) -> dict[str, Any]:
        """The per-request global condition keys of ``ctx`` (for :meth:`evaluate_with`)."""
        return request_keys(ctx)

    @staticmethod
    def annotation(ctx: RequestContext) -> Authorization:
        found = ctx.annotations.get(ANNOTATION)
        if not isinstance(found, Authorization):
            found = ctx.annotations[ANNOTATION] = Authorization()
        return found

    def _evaluate(self, principal: Principal, caller: CallerPolicies, check: Check, keys: dict[str, Any]) -> Evaluated:
        if check.unresolved is not None:
            # Fail closed: a call whose resources could not be worked out (authz/context.py) is denied, whoever
            # asks and whatever the policies say; the diagnostic is the denial's reason (``turnout explain``).
            return Evaluated(check, Decision(IMPLICIT_DENY, reason=check.unresolved), principal, keys, caller)
        if principal.type == "Root" and check.action.lower() in _ROOT_REFUSED_ACTIONS:
            # Before the trust policy is read (see ROOT_MAY_NOT_ASSUME_ROLES): no policy is evaluated.
            return Evaluated(check, Decision(IMPLICIT_DENY, reason=ROOT_MAY_NOT_ASSUME_ROLES), principal, keys, caller)
        if check.resource_policy is None:
            # Decided by the caller's policies alone: the same inputs give the same decision until an IAM
            # write replaces the caller's entry (its generation changes).
            key = decision_key(caller, check, keys)
            decision = caller.decisions.get(key)
            if decision is None:
                evaluated = self._run(principal, caller, check, keys, None)
                if len(caller.decisions) >= DECISIONS_PER_CALLER:
                    caller.decisions.clear()
                caller.decisions[key] = evaluated.decision
                return evaluated
            return Evaluated(check, decision, principal, keys, caller)
        policy_id = check.resource_policy_id or f"{check.resource}#{check.resource_policy_kind}"
        return self._run(principal, caller, check, keys, compile_stored(check.resource_policy, policy_id))

    @staticmethod
    def _run(principal: Principal, caller: CallerPolicies, check: Check, keys: dict[str, Any],
             resource: Policy | None) -> Evaluated:
        request = _request(principal, check, caller, keys)
        decision = evaluate(request, _policy_set(caller, check, resource))
        return Evaluated(check, decision, principal, keys, caller, resource, request)

    def deny(self, ctx: RequestContext, evaluated: Evaluated) -> ServiceError:
        """The error for a denied check; the denial is kept on the context until the call is recorded."""
        request = evaluated.request
        decision = evaluated.decision
        if decision.denied_by is None and decision.reason in _FIXED_MESSAGES:
            message = decision.reason
        else:
            message = access_denied_message(request, decision)
        if ctx.service is not None and ctx.service.name == "iam" and request.resource != "*":
            wording = iam_resource_wording(request.resource, ctx.operation_name)
            message = message.replace(f" on resource: {request.resource}", f" on resource: {wording}", 1)
        elif ctx.service is not None and ctx.service.name in WILDCARD_NAMED and request.resource == "*":
            action = evaluated.check.action
            if message.endswith(f"to perform: {action}"):  # a denial without a reason clause (fail closed)
                message += " on resource: *"
            else:
                message = message.replace(f"to perform: {action} ", f"to perform: {action} on resource: * ", 1)
        error = access_denied(ctx.protocol, message, ctx.request_id)
        authorization = self.annotation(ctx)
        authorization.denied = evaluated
        authorization.error = error
        return error

    # -- the recorder ----------------------------------------------------------------------------------

    def wrote(self, ctx: RequestContext) -> None:
        """The gateway's ``on_write`` hook, in the transaction of a call that succeeded: an IAM write makes the
        account's cached policies stale, in this process and in every other one over the same database."""
        service, operation = ctx.service, ctx.operation
        if service is not None and service.name == "iam" and operation is not None \
                and not operation.name.startswith(READ_PREFIXES):
            principal = ctx.principal
            self.cache.invalidate(principal.account_id if principal is not None and principal.account_id else None)

    def record(self, ctx: RequestContext) -> None:
        authorization = ctx.annotations.get(ANNOTATION)
        if isinstance(authorization, Authorization) and authorization.denied is not None and not authorization.recorded:
            authorization.recorded = True
            self._save(ctx, authorization)

    def _save(self, ctx: RequestContext, authorization: Authorization) -> None:
        denied, error = authorization.denied, authorization.error
        assert denied is not None and error is not None
        request = denied.request
        account = request.principal_account or request.resource_account or ""
        service = ctx.service.name if ctx.service is not None else ""
        denial = diagnostics.denial_of(
            ctx.request_id, account, ctx.received_at, request, denied.decision,
            error_code=error.code, message=error.message, operation=f"{service}:{ctx.operation_name}",
            considered=denied.considered(),
        )
        try:
            diagnostics.save(self.db, denial, self.keep)
        except Exception:  # the denial stands even if its explanation cannot be stored
            log.exception("could not store the denial of request %s", ctx.request_id)
