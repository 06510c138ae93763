"""The checks of ``turnout doctor`` (:mod:`turnout.cli.doctor`): a service's blue/green setup, looked at through
read-only calls and the IAM policy simulator, before a deployment finds what is wrong.

What ECS will do is :mod:`turnout.deploy.needs`' list (the one the deployment guard checks): trust, every ELB call
on its exact ARN, each hook's ``lambda:InvokeFunction``. Each check gives, when it fails, what is missing or which
statement denies, and the smallest fix as a policy document (:mod:`turnout.policy.fixes`).

* Trust: the role's trust policy (GetRole) evaluated with Turnout's policy engine, as STS evaluates it, for
  ``ecs.amazonaws.com`` with ``aws:SourceAccount`` and ``aws:SourceArn`` set as ECS sets them.
* Permissions and hooks: SimulatePrincipalPolicy on the role, with the resource's tags (DescribeTags) as
  ``aws:ResourceTag/*`` and ``elasticloadbalancing:ResourceTag/*`` context entries.
* PassRole: SimulatePrincipalPolicy on the caller (GetCallerIdentity; an assumed-role session is simulated as its
  role) with ``iam:PassedToService`` = ``ecs.amazonaws.com``. The root user may pass any role.
* Topology (DescribeRules, DescribeListeners, DescribeTargetGroups): the rules sit on the service's load balancer,
  both target groups are attached to it, the target type suits the network mode (awsvpc: ``ip``; otherwise
  ``instance``; a service with ``networkConfiguration.awsvpcConfiguration`` uses awsvpc), the production rule
  serves from exactly one of the two groups (ECS's own check, :func:`turnout.deploy.traffic.sides`), and no other
  rule forwards to the alternate group: the one not serving production now, which the next deployment fills (the
  configured ``alternateTargetGroupArn`` until a deployment has moved production to it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..deploy import needs as needs_of
from ..deploy import traffic
from ..deploy.needs import Need, Setup
from ..policy import PolicySet, compile_policy, evaluate, make_request
from ..policy.fixes import allow_statement, policy_document, trust_statement
from ..services.ecs.model import ECS_PRINCIPAL

PASS_ROLE = "iam:PassRole"


@dataclass(slots=True)
class Result:
    """One line of the checklist."""

    group: str  # trust | permissions | passrole | topology | hooks
    title: str
    ok: bool
    detail: str = ""  # what is missing, or the statement that denies
    fix_for: str = ""  # where the fix goes ("the trust policy of role X", "an identity policy of role X")
    fix: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"group": self.group, "check": self.title, "ok": self.ok}
        if self.detail:
            found["detail"] = self.detail
        if self.fix is not None:
            found["fixFor"], found["fix"] = self.fix_for, self.fix
        return found


@dataclass(slots=True)
class Facts:
    """What the read-only calls found, for the checks to judge."""

    setup: Setup
    caller_arn: str
    network_awsvpc: bool | None  # None: not known (before CreateService)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule ARN -> DescribeRules' rule
    listeners: dict[str, dict[str, Any]] = field(default_factory=dict)  # listener ARN -> DescribeListeners'
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # target group ARN -> DescribeTargetGroups'
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # ELB ARN -> tags
    trust: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # role ARN -> trust policy (None: no role)
    lb_rules: list[dict[str, Any]] = field(default_factory=list)  # every rule of the load balancer's listeners


def _role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


# -- trust --------------------------------------------------------------------------------------------------------


def _corrected_trust(document: dict[str, Any], denied: set[int], statement: dict[str, Any]) -> dict[str, Any]:
    """The role's trust policy with the Deny statements that refused ECS left out and ``statement`` added: a whole
    document for UpdateAssumeRolePolicy, which replaces the policy (the other principals' statements are kept)."""
    found = document.get("Statement")
    listed = found if isinstance(found, list) else [found] if found else []
    kept = [item for index, item in enumerate(listed) if index not in denied]
    return policy_document([*kept, statement])


def check_trust(facts: Facts) -> list[Result]:
    setup = facts.setup
    out = []
    for role in setup.roles:
        title = f"{ECS_PRINCIPAL} may assume {_role_name(role)} (aws:SourceAccount, aws:SourceArn as ECS sends them)"
        fix = policy_document([trust_statement(ECS_PRINCIPAL, source_account=setup.account,
                                               source_arn=setup.service_arn)])
        document = facts.trust.get(role)
        if document is None:
            out.append(Result("trust", title, False, f"the role {role} does not exist (GetRole: NoSuchEntity)",
                              f"the trust policy of a new role named {_role_name(role)}", fix))
            continue
        need = needs_of.trust_need(setup, role)
        policy = compile_policy(json.dumps(document), policy_id=f"{role}#trust")
        request = make_request(ECS_PRINCIPAL, need.action, role, context=dict(need.context))
        decision = evaluate(request, PolicySet(resource=policy, resource_kind="trust"))
        if decision.allowed:
            out.append(Result("trust", title, True))
            continue
        denies = [m for m in decision.matched if m.effect == "Deny"]
        if denies:
            named = ", ".join(f"statement {m.statement_index + 1}" + (f" (Sid {m.sid})" if m.sid else "")
                              for m in denies)
            detail = f"the trust policy denies it: {named}; the fix leaves that Deny out and allows ECS"
        else:
            detail = ("no statement of the trust policy allows sts:AssumeRole by Service ecs.amazonaws.com with "
                      f"aws:SourceAccount={setup.account} and aws:SourceArn={setup.service_arn}")
        corrected = _corrected_trust(document, {m.statement_index for m in denies}, fix["Statement"][0])
        out.append(Result("trust", title, False, detail, f"the whole trust policy of role {_role_name(role)}, "
                          "corrected (aws iam update-assume-role-policy)", corrected))
    return out


# -- permissions (simulator) -----------------------------------------------------------------------------------


def context_entries(tags: Mapping[str, str], extra: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    entries = [{"ContextKeyName": name, "ContextKeyValues": [value], "ContextKeyType": "string"}
               for name, value in (extra or {}).items()]
    for key, value in tags.items():
        for prefix in ("aws:ResourceTag/", "elasticloadbalancing:ResourceTag/"):
            entries.append({"ContextKeyName": f"{prefix}{key}", "ContextKeyValues": [value],
                            "ContextKeyType": "string"})
    return entries


def simulate(iam: Any, source: str, action: str, resource: str,
             entries: Sequence[dict[str, Any]]) -> tuple[bool, str]:
    """SimulatePrincipalPolicy of one action on one resource: (allowed, why not)."""
    request: dict[str, Any] = {"PolicySourceArn": source, "ActionNames": [action]}
    if resource != "*":
        request["ResourceArns"] = [resource]
    if entries:
        request["ContextEntries"] = list(entries)
    result = iam.simulate_principal_policy(**request)["EvaluationResults"][0]
    decision = result["EvalDecision"]
    if decision == "allowed":
        return True, ""
    if decision == "explicitDeny":
        statements = ", ".join(
            f"{m.get('SourcePolicyId', '?')} (line {m.get('StartPosition', {}).get('Line', '?')})"
            for m in result.get("MatchedStatements") or [])
        return False, f"{action} on {resource} is denied by an explicit Deny in {statements or 'a policy'}"
    missing = result.get("MissingContextValues") or []
    tail = f" (the policies read context keys the simulation could not set: {', '.join(missing)})" if missing else ""
    return False, f"no policy of the role allows {action} on {resource}{tail}"


def check_permissions(iam: Any, facts: Facts, kind: str, group: str) -> list[Result]:
    """The role's permissions for the needs of ``kind`` (ELB calls, or hook invocations), one line per need, and
    one fix per role gathering every missing permission."""
    out: list[Result] = []
    missing: dict[str, dict[str, list[str]]] = {}  # role -> action -> resources
    for need in needs_of.needs_of(facts.setup, defaults=_defaults(facts)):
        if need.kind != kind or facts.trust.get(need.role_arn) is None:
            continue
        title = (f"{_role_name(need.role_arn)} may {need.action} on {need.resource}"
                 f" ({need.purpose}{'' if need.resource == need.target else ': ' + need.target})")
        allowed, why = simulate(iam, need.role_arn, need.action, need.resource,
                                context_entries(facts.tags.get(need.target, {})))
        result = Result(group, title, allowed, why)
        if not allowed:
            missing.setdefault(need.role_arn, {}).setdefault(need.action, []).append(need.resource)
        out.append(result)
    for role, actions in missing.items():
        by_resources: dict[tuple[str, ...], list[str]] = {}
        for action, resources in actions.items():
            by_resources.setdefault(tuple(dict.fromkeys(resources)), []).append(action)
        fix = policy_document([allow_statement(acts, list(res)) for res, acts in by_resources.items()])
        last = next(r for r in reversed(out) if not r.ok and _role_name(role) in r.title)
        last.fix_for = f"an identity policy of role {_role_name(role)} (aws iam put-role-policy)"
        last.fix = fix
    return out


def _defaults(facts: Facts) -> set[str]:
    return {arn for arn, rule in facts.rules.items() if rule.get("IsDefault")}


# -- PassRole -----------------------------------------------------------------------------------------------------


def passrole_source(iam: Any, caller_arn: str) -> str | None:
    """The IAM entity whose policies decide the caller's calls (None: the root user, who needs none)."""
    parts = caller_arn.split(":", 5)
    resource = parts[5] if len(parts) == 6 else ""
    if resource == "root":
        return None
    if resource.startswith("assumed-role/"):
        role = resource.split("/")[1]
        return str(iam.get_role(RoleName=role)["Role"]["Arn"])
    return caller_arn


def check_passrole(iam: Any, facts: Facts) -> list[Result]:
    roles = facts.setup.roles
    source = passrole_source(iam, facts.caller_arn)
    out = []
    for role in roles:
        title = f"the caller may iam:PassRole {_role_name(role)} with iam:PassedToService={ECS_PRINCIPAL}"
        if source is None:
            out.append(Result("passrole", title, True, "the caller is the account's root user"))
            continue
        allowed, why = simulate(iam, source, PASS_ROLE, role, context_entries(
            {}, {"iam:PassedToService": ECS_PRINCIPAL}))
        result = Result("passrole", title, allowed, why)
        if not allowed:
            result.fix_for = f"an identity policy of {source}"
            result.fix = policy_document([allow_statement(
                [PASS_ROLE], [role], {"StringEquals": {"iam:PassedToService": ECS_PRINCIPAL}})])
        out.append(result)
    return out


# -- topology -----------------------------------------------------------------------------------------------------


def _lb_of_rule(facts: Facts, named: str) -> str | None:
    listener = traffic.listener_of(named) if ":listener-rule/" in named else named
    found = facts.listeners.get(listener)
    return None if found is None else found.get("LoadBalancerArn")


def _forwards(actions: Sequence[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for action in actions:
        if action.get("Type") != "forward":
            continue
        if action.get("TargetGroupArn"):
            out.add(action["TargetGroupArn"])
        for group in (action.get("ForwardConfig") or {}).get("TargetGroups") or []:
            out.add(group["TargetGroupArn"])
    return out


def _actions_of(facts: Facts, named: str) -> list[dict[str, Any]]:
    if ":listener-rule/" in named:
        return list((facts.rules.get(named) or {}).get("Actions") or [])
    return list((facts.listeners.get(named) or {}).get("DefaultActions") or [])


def check_topology(facts: Facts) -> list[Result]:
    out: list[Result] = []
    for pair in facts.setup.pairs:
        groups = {arn: facts.groups.get(arn) for arn in (pair.primary, pair.alternate)}
        lbs = {lb for g in groups.values() if g for lb in g.get("LoadBalancerArns") or []}
        service_lb = _lb_of_rule(facts, pair.production)
        named = [(pair.production, "production"), *([(pair.test, "test")] if pair.test else [])]
        for arn, which in named:
            lb = _lb_of_rule(facts, arn)
            ok = lb is not None and lb == service_lb and (not lbs or lb in lbs)
            detail = "" if ok else (f"the {which} rule {arn} was not found" if lb is None else
                                    f"the {which} rule is on {lb}, not on the service's load balancer "
                                    f"{service_lb}")
            out.append(Result("topology", f"the {which} listener rule sits on the service's load balancer", ok,
                              detail))
        for arn, group in groups.items():
            attached = bool(group) and service_lb in (group or {}).get("LoadBalancerArns", [])
            detail = "" if attached else (f"target group {arn} does not exist" if not group else
                                          f"target group {arn} is not attached to {service_lb} (a listener rule "
                                          "must forward to it)")
            out.append(Result("topology", f"target group {arn.split('/')[-2]} is attached to the load balancer",
                              attached, detail))
            if group and facts.network_awsvpc is not None:
                wanted = "ip" if facts.network_awsvpc else "instance"
                ok = group.get("TargetType") == wanted
                out.append(Result(
                    "topology", f"target group {arn.split('/')[-2]} has target type {wanted} "
                    f"({'awsvpc' if facts.network_awsvpc else 'bridge/host'} network mode)", ok,
                    "" if ok else f"its target type is {group.get('TargetType')}; create it again with "
                    f"TargetType={wanted}"))
        production = traffic.Forward(pair.production, "rule", pair.production,
                                     tuple(_actions_of(facts, pair.production)))
        weights_title = "the production rule serves from exactly one of the two target groups"
        idle = pair.alternate
        try:
            idle = traffic.sides(pair, production)[1]
            if pair.test:
                traffic.check_test(pair, traffic.Forward(pair.test, "rule", pair.test,
                                                         tuple(_actions_of(facts, pair.test))))
            out.append(Result("topology", weights_title, True))
        except traffic.NetworkInvalid as exc:
            out.append(Result("topology", weights_title, False, exc.message))
        # The group the next deployment moves production to (the alternate group until a deployment has made it
        # the serving one): a rule besides the production and test rules that forwards to it would send traffic
        # to new tasks before any shift.
        others = [rule["RuleArn"] for rule in facts.lb_rules
                  if rule["RuleArn"] not in (pair.production, pair.test)
                  and idle in _forwards(rule.get("Actions") or [])]
        out.append(Result("topology", "no other rule forwards to the group the next deployment shifts to",
                          not others, f"these rules forward to {idle} too: {', '.join(others)}" if others else ""))
    return out


def run_checks(iam: Any, facts: Facts) -> list[Result]:
    """Every check, in the checklist's order."""
    return [*check_trust(facts), *check_permissions(iam, facts, needs_of.ELB, "permissions"),
            *check_passrole(iam, facts), *check_topology(facts),
            *check_permissions(iam, facts, needs_of.INVOKE, "hooks")]


__all__ = ["Facts", "Need", "Result", "run_checks"]
