"""What ECS will do with a service's roles: the single list the deployment guard (:mod:`.guard`) and ``turnout
doctor`` check, built from the same names the engine calls with, so that it cannot drift from it.

For a service whose load balancers have ``advancedConfiguration`` (its infrastructure role, production and test
listener rules or listeners, primary and alternate target groups) and whose lifecycle hooks name roles:

* **trust**: ``ecs.amazonaws.com`` calls ``sts:AssumeRole`` on each role with ``aws:SourceAccount`` (the service's
  account) and ``aws:SourceArn`` (the service's ARN), as :meth:`turnout.deploy.acting.Acting.assume` sends them;
* **ELB calls** through the infrastructure role, each on the exact ARN the engine names:
  the ``ECSNetworkingWithELB`` session reads each rule with ``DescribeRules`` (a listener: ``DescribeListeners``)
  and rewrites it with ``ModifyRule`` (a default rule, which cannot be modified, and a listener:
  ``ModifyListener`` on the listener), as :mod:`turnout.deploy.traffic` does; the ``ecs-service-scheduler``
  session calls ``RegisterTargets``, ``DescribeTargetHealth`` and ``DeregisterTargets`` on both target groups, as
  :mod:`turnout.deploy.scheduler` does;
* **hooks**: ``lambda:InvokeFunction`` on each hook's function through the hook's role (session
  ``ECS-Lambda-Execution``, :mod:`turnout.deploy.hooks`).

The list follows the order a deployment makes the calls in, so the first need that fails is the first call that
would fail. Each need carries the IAM action and the resource IAM evaluates it on: the call's ARN, or ``*`` for an
action with no resource-level permissions in the authorization reference (ELB's Describe* actions).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..reference.authorization import catalog
from ..services.ecs.model import ECS_PRINCIPAL, NETWORKING_SESSION, SCHEDULER_SESSION
from . import scheduler, traffic
from .hooks import LAMBDA_SESSION

TRUST = "trust"
ELB = "elb"
INVOKE = "invoke"
ELB_PREFIX = "elasticloadbalancing"
INVOKE_ACTION = "lambda:InvokeFunction"
ASSUME_ACTION = "sts:AssumeRole"
# Every action ECS's sessions make (the ELB calls of traffic.py and scheduler.py, the hooks' invocation): a policy
# none of whose statements applies to one of them cannot change what a deployment can do.
SESSION_ACTIONS = (*(f"{ELB_PREFIX}:{op}" for op in (
    traffic.DESCRIBE_RULES, traffic.DESCRIBE_LISTENERS, traffic.MODIFY_RULE, traffic.MODIFY_LISTENER,
    scheduler.REGISTER_TARGETS, scheduler.DESCRIBE_TARGET_HEALTH, scheduler.DEREGISTER_TARGETS)), INVOKE_ACTION)
SOURCE_ACCOUNT = "aws:SourceAccount"  # the condition keys of the trust need (globalkeys sets them from annotations)
SOURCE_ARN = "aws:SourceArn"


@dataclass(frozen=True, slots=True)
class Hook:
    """A lifecycle hook that ECS invokes through a role."""

    role_arn: str
    function_arn: str
    stages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Setup:
    """What a service's deployments use: its scope, its load balancers in advanced configuration, its hooks."""

    account: str
    region: str
    service_arn: str
    pairs: tuple[traffic.Pair, ...]
    hooks: tuple[Hook, ...] = ()

    @property
    def roles(self) -> list[str]:
        """Every role ECS assumes for this service, in the order it first does."""
        return list(dict.fromkeys([p.role for p in self.pairs] + [h.role_arn for h in self.hooks]))


@dataclass(frozen=True, slots=True, eq=False)
class Need:
    """One thing ECS will do with a role: a call, with the IAM action and resource it is authorized on."""

    kind: str  # TRUST | ELB | INVOKE
    role_arn: str
    session: str  # the session name ECS uses ("" for the trust need: AssumeRole is made as ecs.amazonaws.com)
    service: str  # the botocore service name of the call (sts, elbv2, lambda)
    operation: str  # AssumeRole, ModifyRule, ... InvokeFunction
    action: str  # the IAM action: sts:AssumeRole, elasticloadbalancing:ModifyRule, lambda:InvokeFunction
    resource: str  # what IAM evaluates the action on (an ARN, or "*")
    target: str  # the ARN the call names (the role, the rule, the listener, the target group, the function)
    purpose: str  # what ECS does with it, in a few words
    params: dict[str, Any] = field(default_factory=dict)  # the call's parameters, as the engine sends them
    context: dict[str, str] = field(default_factory=dict)  # request keys ECS sets (the trust need's source keys)


def setup_of(account: str, region: str, service_arn: str, config: Mapping[str, Any],
             deployment_config: Mapping[str, Any] | None = None) -> Setup:
    """A service's :class:`Setup` from its configuration in botocore's names (as stored, or as DescribeServices
    gives it): ``loadBalancers`` and ``deploymentConfiguration.lifecycleHooks`` (``deployment_config``: a
    deployment's own configuration instead)."""
    deployment = deployment_config if deployment_config is not None else config.get("deploymentConfiguration")
    hooks = []
    for hook in (deployment or {}).get("lifecycleHooks") or []:
        if hook.get("roleArn") and hook.get("hookTargetArn"):
            hooks.append(Hook(str(hook["roleArn"]), str(hook["hookTargetArn"]),
                              tuple(hook.get("lifecycleStages") or ())))
    return Setup(account, region, service_arn, tuple(traffic.pairs(list(config.get("loadBalancers") or []))),
                 tuple(hooks))


def resource_for(action: str, arn: str) -> str:
    """The resource IAM evaluates ``action`` on for a call naming ``arn``: ``*`` when the authorization reference
    gives the action no resource types (ELB's Describe* actions), else the ARN itself."""
    found = catalog().action_named(action)
    if found is not None and not found.resource_types:
        return "*"
    return arn


def _elb(role: str, session: str, operation: str, params: dict[str, Any], target: str, purpose: str) -> Need:
    action = f"{ELB_PREFIX}:{operation}"
    return Need(ELB, role, session, "elbv2", operation, action, resource_for(action, target), target, purpose,
                params)


def _rule_needs(pair: traffic.Pair, named: str, which: str, defaults: Collection[str]) -> tuple[Need, Need]:
    """Reading and rewriting the ``which`` ("production"/"test") rule or listener ``named``."""
    operation, params = traffic.read_call(named)
    read = _elb(pair.role, NETWORKING_SESSION, operation, params, named, f"read the {which} listener rule")
    if ":listener-rule/" in named and named not in defaults:
        kind, arn = "rule", named
    else:
        kind, arn = "listener", traffic.listener_of(named) if ":listener-rule/" in named else named
    actions = traffic.weighted([], {pair.primary: 100, pair.alternate: 0})
    operation, params = traffic.write_call(kind, arn, actions)
    write = _elb(pair.role, NETWORKING_SESSION, operation, params, arn, f"shift {which} traffic")
    return read, write


def _target_needs(pair: traffic.Pair, operations: tuple[str, ...]) -> list[Need]:
    """The scheduler's ``operations`` on the alternate (green) group, then on the primary."""
    found: list[Need] = []
    target = [{"Id": "10.0.0.1", "Port": pair.port or 80}]
    purposes = {scheduler.REGISTER_TARGETS: "register tasks in the {} target group",
                scheduler.DESCRIBE_TARGET_HEALTH: "watch the health of the {} target group",
                scheduler.DEREGISTER_TARGETS: "deregister tasks from the {} target group"}
    for group, side in ((pair.alternate, "alternate"), (pair.primary, "primary")):
        for operation in operations:
            params: dict[str, Any] = {"TargetGroupArn": group}
            if operation != scheduler.DESCRIBE_TARGET_HEALTH:
                params["Targets"] = target
            found.append(_elb(pair.role, SCHEDULER_SESSION, operation, params, group,
                              purposes[operation].format(side)))
    return found


def trust_need(setup: Setup, role: str) -> Need:
    return Need(TRUST, role, "", "sts", "AssumeRole", ASSUME_ACTION, role, role,
                f"assume the role as {ECS_PRINCIPAL}",
                {"RoleArn": role, "RoleSessionName": NETWORKING_SESSION},
                {SOURCE_ACCOUNT: setup.account, SOURCE_ARN: setup.service_arn})


def needs_of(setup: Setup, *, defaults: Collection[str] = (), roles: Collection[str] | None = None) -> list[Need]:
    """Everything ECS will do with the roles of ``setup``, in the order a deployment does it. ``defaults``: the
    rule ARNs known to be their listener's default rule (rewritten through ModifyListener); ``roles``: only the
    needs of these roles."""
    found: list[Need] = [trust_need(setup, role) for role in setup.roles]
    for pair in setup.pairs:
        reads, writes = [], []
        for named, which in ((pair.production, "production"), (pair.test, "test")):
            if named:
                read, write = _rule_needs(pair, named, which, defaults)
                reads.append(read)
                writes.append(write)
        found += [*reads, *_target_needs(pair, (scheduler.REGISTER_TARGETS, scheduler.DESCRIBE_TARGET_HEALTH)),
                  *reversed(writes),  # test traffic moves first
                  *_target_needs(pair, (scheduler.DEREGISTER_TARGETS,))]
    for hook in setup.hooks:
        found.append(Need(INVOKE, hook.role_arn, LAMBDA_SESSION, "lambda", "InvokeFunction", INVOKE_ACTION,
                          hook.function_arn, hook.function_arn, "invoke the lifecycle hook"))
    if roles is not None:
        wanted = set(roles)
        found = [need for need in found if need.role_arn in wanted]
    return found
