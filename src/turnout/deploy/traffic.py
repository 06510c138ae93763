"""The load-balancer side of a traffic deployment, through the infrastructure role's ``ECSNetworkingWithELB``
session: reading the production and test listener rules, checking them (AWS's asynchronous validation, aws-facts
2.11), and rewriting their forward actions into weighted forwards over blue and green.

An ALB rule is changed with ``ModifyRule``; a default rule cannot be ("Default rule '<arn>' cannot be modified"),
so a default rule, like an NLB listener, is changed through its listener's ``ModifyListener(DefaultActions)``. The
forward action becomes ``ForwardConfig.TargetGroups = [{blue, w_b}, {green, w_g}]`` (the scalar TargetGroupArn
disappears), as real ECS does; the stickiness settings and any other actions of the rule are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.principal import Principal
from ..services.elbv2.actions import weights
from .acting import Acting, Scope

# The Elastic Load Balancing calls this module makes through the ``ECSNetworkingWithELB`` session (read with
# DescribeRules/DescribeListeners, written with ModifyRule/ModifyListener); :mod:`turnout.deploy.needs` lists them
# from these names, so that what the guard and ``turnout doctor`` check is what the engine calls.
DESCRIBE_RULES = "DescribeRules"
DESCRIBE_LISTENERS = "DescribeListeners"
MODIFY_RULE = "ModifyRule"
MODIFY_LISTENER = "ModifyListener"


class NetworkInvalid(Exception):
    """The rules are not as a blue/green deployment needs them; ``message`` is AWS's statusReason detail."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Pair:
    """One load balancer of the service with ``advancedConfiguration``."""

    primary: str
    alternate: str
    production: str
    test: str | None
    role: str
    container: str
    port: int


def pairs(load_balancers: list[dict[str, Any]]) -> list[Pair]:
    out = []
    for lb in load_balancers:
        advanced = lb.get("advancedConfiguration")
        if not advanced or not lb.get("targetGroupArn"):
            continue
        out.append(Pair(lb["targetGroupArn"], advanced["alternateTargetGroupArn"], advanced["productionListenerRule"],
                        advanced.get("testListenerRule"), advanced["roleArn"], lb.get("containerName", ""),
                        int(lb.get("containerPort") or 0)))
    return out


def is_nlb(pair: Pair) -> bool:
    return ":listener/net/" in pair.production


@dataclass(frozen=True, slots=True)
class Forward:
    """Where a rule's (or listener's) actions live and how to change them."""

    named: str  # the ARN the service names (rule or listener)
    kind: str  # "rule" | "listener"
    arn: str  # what ModifyRule/ModifyListener takes
    actions: tuple[dict[str, Any], ...]


def listener_of(rule_arn: str) -> str:
    head, _, _rule_id = rule_arn.rpartition("/")
    return head.replace(":listener-rule/", ":listener/", 1)


def read_call(named: str) -> tuple[str, dict[str, Any]]:
    """The call that reads a production or test rule (or listener) ``named``: (operation, parameters)."""
    if ":listener-rule/" in named:
        return DESCRIBE_RULES, {"RuleArns": [named]}
    return DESCRIBE_LISTENERS, {"ListenerArns": [named]}


def write_call(kind: str, arn: str, actions: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The call that rewrites the actions of a rule (``kind`` ``rule``) or a listener: (operation, parameters)."""
    if kind == "rule":
        return MODIFY_RULE, {"RuleArn": arn, "Actions": actions}
    return MODIFY_LISTENER, {"ListenerArn": arn, "DefaultActions": actions}


def read(acting: Acting, principal: Principal, scope: Scope, named: str) -> Forward:
    if ":listener-rule/" in named:
        rules = acting.call(principal, scope, *read_call(named)).get("Rules") or []
        rule = rules[0]
        if rule.get("IsDefault"):
            return Forward(named, "listener", listener_of(named), tuple(rule.get("Actions") or ()))
        return Forward(named, "rule", named, tuple(rule.get("Actions") or ()))
    listeners = acting.call(principal, scope, *read_call(named)).get("Listeners") or []
    return Forward(named, "listener", named, tuple(listeners[0].get("DefaultActions") or ()))


def sides(pair: Pair, production: Forward) -> tuple[str, str]:
    """(blue, green): blue is the target group serving production traffic now. AWS's asynchronous checks."""
    current = weights(production.actions)
    for tg in current:
        if tg not in (pair.primary, pair.alternate):
            raise NetworkInvalid(
                f"Production listener rule is forwarding traffic to unexpected target group {tg}. Expected traffic "
                f"to be forwarded to either targetGroupArn: {pair.primary} or alternateTargetGroupArn: "
                f"{pair.alternate}")
    serving = [tg for tg, weight in current.items() if weight > 0]
    if len(serving) != 1:
        raise NetworkInvalid(
            f"productionListenerRule {pair.production} should have exactly one target group serving traffic but "
            f"found {len(serving)} target groups which are serving traffic")
    blue = serving[0]
    return blue, pair.alternate if blue == pair.primary else pair.primary


def check_test(pair: Pair, test: Forward) -> None:
    for tg in weights(test.actions):
        if tg not in (pair.primary, pair.alternate):
            raise NetworkInvalid(f"Target group {tg} is not associated with either productionListenerRule or "
                                 "testListenerRule.")


def weighted(actions: tuple[dict[str, Any], ...] | list[dict[str, Any]], shares: dict[str, int]
             ) -> list[dict[str, Any]]:
    """``actions`` with the forward action made a weighted forward over ``shares`` (kept in their order)."""
    out: list[dict[str, Any]] = []
    replaced = False
    for action in actions:
        if action.get("Type") != "forward" or replaced:
            out.append(_input_action(action))
            continue
        stickiness = (action.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig") or {"Enabled": False}
        forward: dict[str, Any] = {"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": tg, "Weight": w} for tg, w in shares.items()],
            "TargetGroupStickinessConfig": stickiness}}
        if action.get("Order") is not None:
            forward["Order"] = action["Order"]
        out.append(forward)
        replaced = True
    if not replaced:
        out.append({"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": tg, "Weight": w} for tg, w in shares.items()]}})
    return out


def _input_action(action: dict[str, Any]) -> dict[str, Any]:
    """A described action as ModifyRule/ModifyListener take it back (a forward keeps one of its two forms)."""
    if action.get("Type") == "forward" and action.get("ForwardConfig") and action.get("TargetGroupArn"):
        return {k: v for k, v in action.items() if k != "TargetGroupArn"}
    return dict(action)


def write(acting: Acting, principal: Principal, scope: Scope, forward: Forward, actions: list[dict[str, Any]]
          ) -> None:
    acting.call(principal, scope, *write_call(forward.kind, forward.arn, actions))


def serves_only(actions: tuple[dict[str, Any], ...] | list[dict[str, Any]], target_group: str) -> bool:
    """The forward action sends every request to ``target_group`` (weight > 0 there, 0 everywhere else)."""
    found = weights(actions)
    return found.get(target_group, 0) > 0 and all(w == 0 for tg, w in found.items() if tg != target_group)


def restore(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Snapshot actions (as described) in input form, to put a rule back as it was."""
    return [_input_action(a) for a in actions]
