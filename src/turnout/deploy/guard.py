"""The deployment guard (issue 14, ``turnout serve --guard {off,warn,block}``, default ``warn``): an IAM write that
would leave a role ECS depends on unable to do what ECS will do with it is caught before it commits.

Guarded writes: on a role, UpdateAssumeRolePolicy, DeleteRole, AttachRolePolicy, DetachRolePolicy, PutRolePolicy,
DeleteRolePolicy, Put/DeleteRolePermissionsBoundary; on a managed policy, CreatePolicyVersion (made the default)
and SetDefaultPolicyVersion, for every role the policy is attached to or bounds. The affected services are the
live services that name the role as an infrastructure role or a lifecycle-hook role (found through the ECS store's
role index, :func:`turnout.services.ecs.store.services.services_using_roles`): services with a deployment in
flight, judged with that deployment's configuration, and ACTIVE services, for their next deployment.

The guard runs inside the write's transaction, twice: before the handler (:attr:`Gateway.before_write`) and after
it, before the commit (:attr:`Gateway.on_write`). Each time it evaluates every need of :mod:`.needs` on the role
(``ecs.amazonaws.com`` assuming it with the source keys ECS sends, each ELB call on its exact ARN, each hook's
``lambda:InvokeFunction``) with the authorizer's own checks (:meth:`PolicyAuthorizer.checks_for`, resource tags
included) and the role's policies read afresh from the transaction, that is the state the write produces. Only a
need that passed before the write and fails after it counts: a write that does not make things worse (a fix to a
role already broken) is never refused.

What a write can change narrows what is judged: a trust policy only the AssumeRole; a role's policies, boundary
or a managed policy's default version only what the role's sessions may do; a deleted role everything. A role
policy put, deleted, attached or detached none of whose statements applies to an action ECS's sessions make
cannot change any of their decisions and is not judged at all. A write's two passes share what does not depend on
IAM (the services' deployments and needs, the ELB calls' checks).

* ``block``: the write fails with IAM's ``DeleteConflict`` (409, IAM's nearest code) naming each service
  deployment (or service) that would break and the first call that would be denied; the transaction rolls back.
* ``warn``: the write commits; each affected service gets a service event (our wording: AWS has no such guard)
  and the server logs it.
* ``off``: not installed; IAM behaves exactly as AWS.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..authz.checks import Check
from ..authz.globalkeys import SOURCE_ACCOUNT, SOURCE_ARN
from ..authz.policies import CallerPolicies
from ..authz.ports import PassedRole
from ..core import arns
from ..core.context import RequestContext
from ..core.principal import Principal, Session
from ..policy import PolicySyntaxError, access_denied_message, compile_policy
from ..services.ecs import events
from ..services.ecs.model import ACTIVE, ECS_PRINCIPAL
from ..services.ecs.store import deployments as deployment_store
from ..services.ecs.store import services as service_store
from ..services.ecs.store.deployments import ServiceDeployment
from ..services.ecs.store.services import Service
from ..services.elbv2.store import rules as rule_store
from ..services.iam.common import delete_conflict
from ..services.iam.store import attachments
from ..wire.models import SERVICES
from . import needs as needs_of
from .needs import Need

if TYPE_CHECKING:
    from ..authz.authorizer import PolicyAuthorizer
    from ..gateway.gateway import Gateway

log = logging.getLogger("turnout.guard")

OFF, WARN, BLOCK = "off", "warn", "block"
MODES = (OFF, WARN, BLOCK)
ROLE_WRITES = frozenset({"UpdateAssumeRolePolicy", "DeleteRole", "AttachRolePolicy", "DetachRolePolicy",
                         "PutRolePolicy", "DeleteRolePolicy", "PutRolePermissionsBoundary",
                         "DeleteRolePermissionsBoundary"})
POLICY_WRITES = frozenset({"CreatePolicyVersion", "SetDefaultPolicyVersion"})
ANNOTATION = "deploy.guard"
REQUEST_ID = "turnout-deployment-guard"  # the request id of the guard's own evaluations (never recorded)
ALL_KINDS = frozenset({needs_of.TRUST, needs_of.ELB, needs_of.INVOKE})
PERMISSIONS = frozenset({needs_of.ELB, needs_of.INVOKE})
# What a write can change: a trust policy decides only the AssumeRole; a role's policies and boundary (and a
# managed policy's default version) only what its sessions may do; a deleted role, everything.
KINDS = {"UpdateAssumeRolePolicy": frozenset({needs_of.TRUST}), "DeleteRole": ALL_KINDS,
         **{op: PERMISSIONS for op in ("AttachRolePolicy", "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy",
                                       "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary",
                                       "CreatePolicyVersion", "SetDefaultPolicyVersion")}}
ROLES_PER_POLICY = 1000  # the roles of one managed policy the guard looks at


@dataclass(frozen=True, slots=True)
class Finding:
    """A need of a service that the write makes fail."""

    service: Service
    deployment: ServiceDeployment | None
    need: Need
    message: str

    @property
    def subject(self) -> str:
        if self.deployment is not None:
            return f"service deployment {self.deployment.arn}"
        return f"service {self.service.arn}"

    def describe(self) -> str:
        need = self.need
        where = "" if need.resource == need.target else f" (on {need.target})"
        return f"ECS could not {need.purpose}: {need.action}{where} would be denied: {self.message}"


Key = tuple[str, str, str, str]  # (service ARN, role, operation, target)
POLICY_SWAPS = frozenset({"PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy"})


def _applies(document: str | None) -> bool:
    """Whether a statement of the identity policy ``document`` applies to an action ECS's sessions make (a
    document that cannot be read: assumed so)."""
    if document is None:
        return True
    try:
        policy = compile_policy(document, policy_id="guard")
    except PolicySyntaxError:
        return True
    for statement in policy.statements:
        for action in needs_of.SESSION_ACTIONS:
            service = action.split(":", 1)[0]
            if statement.actions.matches(service, action.lower()) != statement.not_action:
                return True
    return False


def _key(finding: Finding) -> Key:
    return finding.service.arn, finding.need.role_arn, finding.need.operation, finding.need.target


def _is_named(role_arn: str, account: str, names: tuple[str, ...]) -> bool:
    """Whether ``role_arn`` is the ARN of a role of ``account`` whose lowercased name is in ``names``."""
    name = arns.role_name(role_arn)
    return name is not None and name.lower() in names and arns.account_of(role_arn) == account


class Guard:
    """Installed on the gateway by :meth:`install`; ``authorizer`` decides (the server's, or one of its own)."""

    def __init__(self, gateway: Gateway, mode: str, authorizer: PolicyAuthorizer) -> None:
        if mode not in MODES:
            raise ValueError(f"guard mode must be one of {', '.join(MODES)}")
        self.gateway, self.db, self.mode, self.authorizer = gateway, gateway.db, mode, authorizer

    def install(self) -> None:
        if self.mode == OFF:
            return
        self.gateway.before_write.append(self.before)
        self.gateway.on_write.append(self.after)

    # -- the two hooks -----------------------------------------------------------------------------------

    def before(self, ctx: RequestContext) -> None:
        ctx.annotations.pop(ANNOTATION, None)
        try:
            self._before(ctx)
        except Exception:  # the guard never fails the write it watches (a bug here is logged, not a 500)
            ctx.annotations.pop(ANNOTATION, None)
            log.exception("deployment guard: could not judge %s", ctx.operation_name)

    def after(self, ctx: RequestContext) -> None:
        try:
            found = self._after(ctx)
        except Exception:
            log.exception("deployment guard: could not judge %s", ctx.operation_name)
            return
        if not found:
            return
        operation = ctx.operation_name
        if self.mode == BLOCK:
            named = "; ".join(f"{f.subject}: {f.describe()}" for f in found)
            raise delete_conflict(f"Cannot {operation}: Turnout's deployment guard (--guard block) found that it "
                                  f"would break {named}")
        now = self.gateway.clock.now()
        for finding in found:
            text = self.event_text(operation, finding)
            events.add(self.db, finding.service.account_id, finding.service.region, finding.service.arn, text, now)
            log.warning("deployment guard: %s", text)

    def _before(self, ctx: RequestContext) -> None:
        target = self._target(ctx)
        if target is None:
            return
        account, names = target
        if not self._may_matter(ctx, account, names[0]):
            return
        services = service_store.services_using_roles(self.db, account, names)
        if not services:
            return
        kinds = KINDS.get(ctx.operation_name, ALL_KINDS)
        memo = Memo()
        before = {_key(f) for f in self.findings(services, account, names, kinds, memo)}
        ctx.annotations[ANNOTATION] = (account, names, [s.arn for s in services], before, kinds, memo)

    def _after(self, ctx: RequestContext) -> list[Finding]:
        """The first need each affected service loses through the write (none: the write breaks nothing)."""
        saved = ctx.annotations.pop(ANNOTATION, None)
        if saved is None:
            return []
        account, names, service_arns, before, kinds, memo = saved
        services = service_store.live_services(self.db, service_arns)
        first: dict[str, Finding] = {}
        for finding in self.findings(services, account, names, kinds, memo, skip=before):
            first.setdefault(finding.service.arn, finding)
        return list(first.values())

    @staticmethod
    def event_text(operation: str, finding: Finding) -> str:
        """A service event in AWS's "(service X) (deployment Y) ..." form; the wording is ours."""
        service, dep = finding.service, finding.deployment
        head = f"(service {service.name})" + (f" (deployment {dep.legacy_id})" if dep is not None else "")
        what = "the deployment in progress will fail" if dep is not None else "the next deployment will fail"
        return (f"{head} IAM {operation} on role {arns.role_name(finding.need.role_arn)}: {what}. "
                f"{finding.describe()}")

    def _may_matter(self, ctx: RequestContext, account: str, role_name: str) -> bool:
        """False when the write adds, replaces or removes only an identity policy none of whose statements applies
        to an action ECS's sessions make: it cannot change any of their decisions (only statements whose Action
        applies take part in a decision). A boundary, a trust policy or a deleted role always matters."""
        operation, params = ctx.operation_name, ctx.params
        if operation not in POLICY_SWAPS:
            return True
        documents: list[str | None] = []
        identities = self.gateway.identities
        if identities is None:
            return True
        if operation in ("PutRolePolicy", "DeleteRolePolicy"):
            if operation == "PutRolePolicy":
                documents.append(str(params.get("PolicyDocument") or ""))
            role = identities.identity(account, "role", role_name)
            if role is not None:
                documents += [p.document for p in identities.inline_policies(account, role)
                              if p.name == params.get("PolicyName")]
        else:
            documents.append(identities.managed_policy_document(account, str(params.get("PolicyArn") or "")))
        return any(_applies(document) for document in documents)

    # -- which roles a write touches --------------------------------------------------------------------------

    def _target(self, ctx: RequestContext) -> tuple[str, tuple[str, ...]] | None:
        """(account, lower-case role names) a guarded IAM write changes; None for any other call."""
        if ctx.service is None or ctx.service.name != "iam" or ctx.principal is None:
            return None
        operation, params = ctx.operation_name, ctx.params
        account = ctx.principal.account_id
        if operation in ROLE_WRITES:
            name = params.get("RoleName")
            return (account, (str(name).lower(),)) if name else None
        if operation in POLICY_WRITES:
            if operation == "CreatePolicyVersion" and not params.get("SetAsDefault"):
                return None
            arn = str(params.get("PolicyArn") or "")
            found = attachments.entities_for_policy(self.db, account, "role", arn, "/", None, ROLES_PER_POLICY,
                                                    attached=True, bounded=True)
            names = tuple(entity.name.lower() for entity in found)
            return (account, names) if names else None
        return None

    # -- evaluating ------------------------------------------------------------------------------------------

    def findings(self, services: list[Service], account: str, names: tuple[str, ...], kinds: frozenset[str],
                 memo: Memo, skip: set[Key] | None = None) -> list[Finding]:
        """The needs of ``kinds`` of ``services`` on the roles ``names`` of ``account`` that fail now, in order
        (``skip``: needs known to fail already, not evaluated again)."""
        out: list[Finding] = []
        phase = Phase(self)
        for service in services:
            planned = memo.plans.get(service.arn)
            if planned is None:
                planned = memo.plans[service.arn] = self._plan(service, account, names)
            deployment, setup, found = planned
            broken: set[str] = set()
            for need in found:
                if need.role_arn in broken or need.kind not in kinds:
                    continue
                key = (service.arn, need.role_arn, need.operation, need.target)
                if skip is not None and key in skip:
                    continue
                message = phase.denied(need, setup.region, memo, service.arn)
                if message is not None:
                    out.append(Finding(service, deployment, need, message))
                    if need.kind == needs_of.TRUST:
                        broken.add(need.role_arn)  # nothing else can be done with a role ECS cannot assume
        return out

    def _plan(self, service: Service, account: str, names: tuple[str, ...]
              ) -> tuple[ServiceDeployment | None, needs_of.Setup, list[Need]]:
        """A service's deployment in flight, its setup, and its needs on the roles ``names`` (ECS's and ELB's
        state: the same on both sides of an IAM write)."""
        deployment = self._in_flight(service)
        setup = needs_of.setup_of(service.account_id, service.region, service.arn, service.config,
                                  deployment.config if deployment is not None else None)
        roles = [r for r in setup.roles if _is_named(r, account, names)]
        found = needs_of.needs_of(setup, defaults=self._defaults(setup), roles=roles) if roles else []
        return deployment, setup, found

    def _in_flight(self, service: Service) -> ServiceDeployment | None:
        arns_found = deployment_store.arns_of_service(self.db, service.account_id, service.region, service.arn,
                                                      ACTIVE)
        found = [deployment_store.deployment(self.db, service.account_id, service.region, arn) for arn in arns_found]
        live = sorted((d for d in found if d is not None), key=lambda d: d.created_at)
        return live[-1] if live else None

    def _defaults(self, setup: needs_of.Setup) -> set[str]:
        """The rules of ``setup`` that are their listener's default rule (rewritten with ModifyListener)."""
        out = set()
        for pair in setup.pairs:
            for named in (pair.production, pair.test):
                if named and ":listener-rule/" in named:
                    rule = rule_store.rule(self.db, setup.account, setup.region, named)
                    if rule is not None and rule.is_default:
                        out.add(named)
        return out

    def context(self, service: str, operation: str, principal: Principal, region: str,
                params: dict[str, Any]) -> RequestContext:
        spec = SERVICES.get(service)
        ctx = RequestContext(self.gateway, REQUEST_ID, self.gateway.clock.now(), service=spec, region=region)
        if spec is not None:
            ctx.operation = spec.operation(operation)
        ctx.principal = principal
        ctx.params = params
        ctx.invoked_by = ECS_PRINCIPAL
        return ctx

    def role(self, role_arn: str) -> PassedRole | None:
        identities = self.gateway.identities
        account, name = arns.account_of(role_arn), arns.role_name(role_arn)
        if identities is None or account is None or name is None:
            return None
        role = identities.role_to_pass(account, name)
        return role if role is not None and role.arn == role_arn else None


@dataclass(slots=True)
class Memo:
    """What one guarded write's two passes share: the authorizer's checks of each ELB call, which depend on the
    call and on ELB's state (resource tags), not on IAM's; each service's deployment, setup and needs."""

    checks: dict[tuple[str, str, str, str], list[Check]] = field(default_factory=dict)
    plans: dict[str, tuple[ServiceDeployment | None, needs_of.Setup, list[Need]]] = field(default_factory=dict)


class Phase:
    """One pass of the guard over IAM's state as it is: each role read once, each ECS session's policies once."""

    def __init__(self, guard: Guard) -> None:
        self.guard, self.authorizer = guard, guard.authorizer
        self.roles: dict[str, PassedRole | None] = {}
        self.loaded: dict[str, CallerPolicies] = {}
        self.sessions: dict[tuple[str, str], tuple[RequestContext, CallerPolicies] | None] = {}
        self.service_caller: CallerPolicies | None = None
        self.keys: dict[int, dict[str, Any]] = {}  # id(context) -> its per-request keys

    def role(self, role_arn: str) -> PassedRole | None:
        if role_arn not in self.roles:
            self.roles[role_arn] = self.guard.role(role_arn)
        return self.roles[role_arn]

    def denied(self, need: Need, region: str, memo: Memo, service_arn: str) -> str | None:
        """None when ``need`` is allowed in the current state; else why not (AWS's AccessDenied message)."""
        if self.role(need.role_arn) is None:
            return f"the role {need.role_arn} does not exist"
        authorizer = self.authorizer
        if need.kind == needs_of.TRUST:
            service = Principal.service(ECS_PRINCIPAL)
            ctx = self.guard.context("sts", "AssumeRole", service, region, need.params)
            ctx.annotations.update({SOURCE_ACCOUNT: need.context[needs_of.SOURCE_ACCOUNT],
                                    SOURCE_ARN: need.context[needs_of.SOURCE_ARN]})
            if self.service_caller is None:
                self.service_caller = authorizer.fresh_caller(service)
            return self._first_denial(ctx, self.service_caller, authorizer.checks_for(ctx))
        session = self._session(need, region)
        if session is None:
            return f"the role {need.role_arn} does not exist"
        ctx, caller = session
        if need.kind == needs_of.INVOKE:
            return self._first_denial(ctx, caller, [Check(need.action, need.resource,
                                                          arns.account_of(need.resource), {})])
        key = (service_arn, need.session, need.operation, need.target)
        checks = memo.checks.get(key)
        if checks is None:
            ctx.service = SERVICES[need.service]
            ctx.operation = ctx.service.operation(need.operation)
            ctx.params = need.params
            checks = memo.checks[key] = authorizer.checks_for(ctx)
        return self._first_denial(ctx, caller, checks)

    def _first_denial(self, ctx: RequestContext, caller: CallerPolicies, checks: list[Check]) -> str | None:
        keys = self.keys.get(id(ctx))
        if keys is None or ctx.annotations:
            keys = self.authorizer.request_keys(ctx)
            if not ctx.annotations:
                self.keys[id(ctx)] = keys
        for evaluated in self.authorizer.evaluate_with(ctx, caller, checks, keys):
            if not evaluated.decision.allowed:
                if evaluated.check.unresolved is not None:
                    return evaluated.check.unresolved
                return access_denied_message(evaluated.request, evaluated.decision)
        return None

    def _session(self, need: Need, region: str) -> tuple[RequestContext, CallerPolicies] | None:
        """The session ECS would get from assuming ``need``'s role (a principal as STS makes it), with the role's
        policies as they are now."""
        key = (need.role_arn, need.session)
        if key in self.sessions:
            return self.sessions[key]
        role = self.role(need.role_arn)
        found: tuple[RequestContext, CallerPolicies] | None = None
        if role is not None:
            now = self.guard.gateway.clock.now()
            session = Session(issuer_type="Role", issuer_arn=role.arn, issuer_id=role.role_id,
                              issuer_name=role.name, session_name=need.session, issued_at=now.isoformat(),
                              expires_at=(now + timedelta(hours=1)).isoformat(), invoked_by=ECS_PRINCIPAL)
            principal = Principal(role.account_id, "AssumedRole",
                                  arns.assumed_role(role.account_id, role.name, need.session),
                                  f"{role.role_id}:{need.session}", need.session, None, session)
            caller = self.authorizer.fresh_caller(principal, self.loaded.get(need.role_arn))
            self.loaded.setdefault(need.role_arn, caller)
            found = (self.guard.context(need.service, need.operation, principal, region, {}), caller)
        self.sessions[key] = found
        return found
