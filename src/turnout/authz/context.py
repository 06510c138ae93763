"""The request context AWS evaluates for a call: its action, resources and request-specific condition keys.

:func:`checks_for` turns a parsed request into :class:`~turnout.authz.checks.Check` objects. What each operation
needs is data: the reference (``catalog.py``) says which resource types and condition keys an action has, and the
per-service tables (``resources_*.py``) say where their values come from in the request. A *plan* per operation is
built once from both (which resolvers to run, which keys apply to which resource type) and then run per request.

Registries filled by ``Gateway.register`` from what each provider declares (``Provider.tag_lookups``,
``Provider.name_resolvers``):

* ``resource_tag_lookups[prefix](db, account, region, arn) -> {key: value}``: a resource's stored tags, for
  ``aws:ResourceTag/*`` and ``<service>:ResourceTag/*`` (the ELB, ECS and EC2 providers declare theirs;
  IAM's come from the gateway's identities, :mod:`turnout.authz.ports`).
* ``name_resolvers["<prefix>:<resource type>"](db, account, region, name) -> arn | None``: resources a request
  names in a form that needs the provider to resolve (an ECS task definition family without a revision, an EC2
  security group by name).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..reference.authorization import Action, ResourceType, ServiceReference, catalog
from .checks import Check, ContextValue
from .resources_base import (
    Env,
    Extra,
    KeyValue,
    NameResolver,
    RequestExtractor,
    Resolver,
    ResourceExtractor,
    ServiceRules,
    Spec,
    TagLookup,
    Target,
    account_of,
    name_resolvers,
    reads_any,
    request_tag_extractors,
    resource_tag_lookups,
)
from .resources_iam import iam_tags

if TYPE_CHECKING:
    from ..core.context import RequestContext

__all__ = ["NameResolver", "Plan", "TagLookup", "build_plan", "checks_for", "name_resolvers",
           "resource_tag_lookups"]

log = logging.getLogger("turnout.authz")

_TAG_SUFFIX = "${TagKey}"
# Accounts that own resources no customer account owns (AWS managed policies): not a cross-account resource.
_AWS_OWNED = frozenset({"aws", ""})


def checks_for(ctx: RequestContext) -> list[Check]:
    """The checks AWS makes for ``ctx``'s call, in the order it makes them. Never raises: when they cannot be
    derived (a bug, a parameter no resolver expected), the call gets one check marked ``unresolved``, which the
    authorizer denies (fail closed), with the diagnostic logged here and kept in the denial for ``turnout
    explain``."""
    service, operation = ctx.service, ctx.operation
    if service is None or operation is None:
        return []
    try:
        plan = _PLANS.get((service.name, operation.name))
        if plan is None:
            plan = _plan_for(service.name, service.signing_name, operation.name, _members(operation))
        return plan.run(ctx)
    except Exception as exc:
        log.exception("could not derive the resources of %s.%s (request %s): the call is denied",
                      service.name, operation.name, getattr(ctx, "request_id", "-"))
        diagnostic = (f"Turnout could not work out the resources of {service.name}:{operation.name} "
                      f"({type(exc).__name__}: {exc}); the call is denied rather than checked on \"*\"")
        action = f"{service.signing_name}:{_action_or_operation(service.signing_name, operation.name)}"
        return [Check(action, "*", unresolved=diagnostic)]


# -- plans -----------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Plan:
    action: str  # "iam:GetRole"
    resolvers: tuple[Resolver, ...]
    types: tuple[ResourceType, ...]  # for classifying ARNs given as they are
    type_keys: Mapping[str, frozenset[str]]  # resource type -> condition keys (families) that apply
    action_keys: frozenset[str]  # the keys for "*" and for a resource of no known type
    request: tuple[tuple[str, RequestExtractor], ...]
    resource: tuple[tuple[str, ResourceExtractor], ...]
    tag_families: tuple[tuple[str, str], ...]  # ("aws:ResourceTag/${TagKey}", "aws:ResourceTag/")
    trust: bool
    extras: tuple[tuple[Extra, Plan], ...] = ()
    resource_policies: bool = False
    constants: tuple[tuple[str, KeyValue], ...] = ()

    def run(self, ctx: RequestContext) -> list[Check]:
        principal = ctx.principal  # None for an unsigned call (AssumeRoleWithWebIdentity): no caller account
        account = principal.account_id if principal is not None else ""
        env = Env(ctx, ctx.gateway.db, account, ctx.region, ctx.params, ctx.operation_name)
        targets = self.resolve(env)
        checks = self.checks(env, targets)
        for extra, plan in self.extras:
            if extra.when(env.params):
                checks.extend(plan.checks(env, targets if extra.same_targets else plan.resolve(env)))
        return checks

    def resolve(self, env: Env) -> list[Target]:
        targets: list[Target] = []
        for resolve in self.resolvers:
            targets.extend(resolve(env))
        return targets

    def checks(self, env: Env, targets: list[Target]) -> list[Check]:
        values: list[tuple[str, KeyValue]] = list(self.constants)
        for family, extract in self.request:
            value = extract(env)
            if value is not None:
                values.append((family, value))
        if not targets:
            return [Check(self.action, "*", None, self._context(env, Target("*"), self.action_keys, values))]
        out: list[Check] = []
        seen: set[str] = set()
        for target in targets:
            if target.arn in seen:
                continue
            seen.add(target.arn)
            allowed = self._keys_of(target)
            account = target.account or account_of(target.arn)
            policy = target.policy if self.trust or self.resource_policies else None
            out.append(Check(
                self.action,
                target.arn,
                None if account in _AWS_OWNED else account,
                self._context(env, target, allowed, values),
                policy,
                target.arn if self.trust and target.exists else None,
                "trust" if self.trust else "resource",
            ))
        return out

    def _keys_of(self, target: Target) -> frozenset[str]:
        name = target.resource_type
        if name is None or name not in self.type_keys:
            name = next((t.name for t in self.types if t.matches(target.arn)), None)
        if name is None:
            return self.action_keys
        return self.type_keys[name]

    def _context(self, env: Env, target: Target, allowed: frozenset[str],
                 values: list[tuple[str, KeyValue]]) -> dict[str, ContextValue]:
        context: dict[str, ContextValue] = {}
        if self.tag_families and target.arn != "*":
            tags = target.tags
            for family, prefix in self.tag_families:
                if family not in allowed:
                    continue
                if tags is None:
                    tags = _lookup_tags(env, target.arn)
                for key, value in tags.items():
                    context[prefix + key] = value
        for family, fact in target.facts.items():
            if family in allowed:
                context[family] = fact
        for family, extract in self.resource:
            if family in allowed:
                _put(context, family, extract(env, target))
        for family, found in values:
            if family in allowed:
                _put(context, family, found)
        return context


def _put(context: dict[str, ContextValue], family: str, value: KeyValue) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        context.update(value)
    elif isinstance(value, list):
        context[family] = list(dict.fromkeys(value))  # a multivalued key is a set of values
    else:
        context[family] = value


def _lookup_tags(env: Env, arn: str) -> dict[str, str]:
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return {}
    if parts[2] == "iam":  # IAM's state comes through the identities it implements (authz/ports.py)
        return iam_tags(env, parts[4] or env.account, arn)
    lookup = resource_tag_lookups.get(parts[2])
    if lookup is None:
        return {}
    return lookup(env.db, parts[4] or env.account, parts[3] or env.region, arn)


# -- building plans ----------------------------------------------------------------------------------------------

_PLANS: dict[tuple[str, str], Plan] = {}
_plans_lock = threading.Lock()


def _members(operation: object) -> tuple[str, ...]:
    shape = getattr(operation, "input_shape", None)
    return tuple(shape.members) if shape is not None else ()


def _plan_for(service: str, prefix: str, operation: str, members: tuple[str, ...]) -> Plan:
    with _plans_lock:
        plan = _PLANS.get((service, operation))
        if plan is None:
            plan = build_plan(prefix, operation, members)
            _PLANS[(service, operation)] = plan
        return plan


def rules_for(prefix: str) -> ServiceRules:
    from .resources_cloudtrail import RULES as CLOUDTRAIL
    from .resources_ec2 import RULES as EC2
    from .resources_ecs import RULES as ECS
    from .resources_elbv2 import RULES as ELB
    from .resources_iam import RULES as IAM
    from .resources_s3 import RULES as S3
    from .resources_sts import RULES as STS

    table = {r.prefix: r for r in (IAM, STS, ELB, EC2, ECS, CLOUDTRAIL, S3)}
    return table[prefix]


def action_name(rules: ServiceRules, operation: str) -> str:
    """The IAM action an operation is authorized as (its own name unless the rules map it)."""
    return rules.actions.get(operation, operation)


def _action_or_operation(prefix: str, operation: str) -> str:
    try:
        return action_name(rules_for(prefix), operation)
    except Exception:
        return operation


def build_plan(prefix: str, operation: str, members: tuple[str, ...], *, action: str | None = None,
               specs: tuple[Spec, ...] | None = None, constants: Mapping[str, str] | None = None) -> Plan:
    """The plan of ``operation`` (input members ``members``) of the service with IAM prefix ``prefix``."""
    rules = rules_for(prefix)
    reference = catalog().service(prefix)
    assert reference is not None, prefix
    name = action or action_name(rules, operation)
    found = reference.action(name)
    chosen = _specs(rules, reference, operation, found, members, specs)
    types, type_keys, action_keys = _key_sets(reference, found, chosen)
    every_key = action_keys.union(*type_keys.values()) if type_keys else action_keys
    candidates: dict[str, RequestExtractor] = dict(request_tag_extractors(members))
    candidates.update(rules.request_keys)
    candidates.update(rules.op_keys.get(operation, {}))
    plan = Plan(
        action=f"{prefix}:{found.name if found is not None else name}",
        resolvers=tuple(spec.bind(reference) for spec in chosen),
        types=types,
        type_keys=type_keys,
        action_keys=action_keys,
        request=tuple((f, fn) for f, fn in candidates.items() if f in every_key and reads_any(fn, members)),
        resource=tuple((f, fn) for f, fn in rules.resource_keys.items() if f in every_key),
        tag_families=tuple(
            (f, f[: -len(_TAG_SUFFIX)]) for f in sorted(every_key)
            if f.endswith(":ResourceTag/" + _TAG_SUFFIX)
        ),
        trust=operation in rules.trust_ops,
        constants=tuple((constants or {}).items()),
        resource_policies=rules.resource_policies,
    )
    if action is None:
        extras = tuple(rules.extras.get(operation, ()))
        if rules.extra_rule is not None:
            extras += rules.extra_rule(operation, members)
        plan.extras = tuple(
            (extra, build_plan(prefix, operation, members, action=extra.action,
                               specs=extra.specs, constants=extra.keys))
            for extra in extras
        )
    return plan


def _specs(rules: ServiceRules, reference: ServiceReference, operation: str, action: Action | None,
           members: tuple[str, ...], override: tuple[Spec, ...] | None) -> list[Spec]:
    if override is not None:
        candidates: tuple[Spec, ...] = override
    elif operation in rules.ops:
        candidates = rules.ops[operation]
    elif action is not None:
        found: list[Spec] = []
        for type_name in action.resource_types:
            defaults = rules.defaults.get(type_name)
            if defaults is None and rules.infer is not None:
                defaults = rules.infer(reference.resource_types[type_name])
            found.extend(defaults or ())
        candidates = tuple(found)
    else:
        candidates = ()
    chosen: list[Spec] = []
    present = set(members)
    for spec in candidates:
        if spec in chosen:
            continue
        if all(any(name in present for name in group) for group in spec.needs):
            chosen.append(spec)
    return chosen


def _key_sets(reference: ServiceReference, action: Action | None, specs: list[Spec]
              ) -> tuple[tuple[ResourceType, ...], dict[str, frozenset[str]], frozenset[str]]:
    """Which condition keys apply to each resource type of the action: the action's own keys, plus the keys of
    its row for the type when the reference lists some there, else the resource type's keys."""
    action_keys = frozenset(action.condition_keys) if action is not None else frozenset()
    type_keys: dict[str, frozenset[str]] = {}
    if action is not None:
        for row in action.resources:
            rtype = reference.resource_types[row.resource_type]
            type_keys[row.resource_type] = action_keys | frozenset(row.condition_keys or rtype.condition_keys)
    for spec in specs:  # types an uncatalogued action's table names
        for type_name in spec.types:
            if type_name not in type_keys and type_name in reference.resource_types:
                type_keys[type_name] = action_keys | frozenset(reference.resource_types[type_name].condition_keys)
    types = tuple(reference.resource_types[name] for name in type_keys)
    return types, type_keys, action_keys
