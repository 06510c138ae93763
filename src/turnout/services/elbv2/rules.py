"""Listener rules: CreateRule, DescribeRules, ModifyRule, DeleteRule and SetRulePriorities.

Rules other than the default one are for Application Load Balancer listeners only (Turnout does not support the
rules of dual-stack Network Load Balancers). The default rule of every listener (``is_default``, no priority) is
made and changed by the listener operations; the rule operations refuse to change or delete it. DescribeRules lists
rules by priority, the default rule last.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...core import arns, ids
from ...core.context import RequestContext
from ...store.db import Database
from ...wire.errors import ServiceError
from . import describe
from .actions import check_target_groups, normalise_actions, normalise_conditions
from .errors import error, invalid_config, validation
from .store import (
    Listener,
    LoadBalancer,
    Rule,
    add_rule,
    count_rules,
    delete_rule,
    get_listener,
    get_load_balancer,
    get_rule,
    priority_taken,
    rules_of,
    set_priority,
    update_rule,
)
from .tags import check_new_tags, put_tags

RULES_PER_LOAD_BALANCER = 100  # "rules-per-application-load-balancer" (default rules not counted)


def shape(rule: Rule) -> dict[str, Any]:
    """The ``Rule`` structure."""
    return {
        "RuleArn": rule.arn,
        "Priority": "default" if rule.is_default else str(rule.priority),
        "Conditions": rule.conditions,
        "Actions": rule.actions,
        "IsDefault": rule.is_default,
    }


def _order(rule: Rule) -> str:
    return f"{'99999' if rule.is_default else format(rule.priority, '05d')} {rule.arn}"


def _not_default(rule: Rule, verb: str) -> None:
    if rule.is_default:
        raise error("OperationNotPermitted", f"Default rule '{rule.arn}' cannot be {verb}")


def _no_transforms(req: dict[str, Any]) -> None:
    if req.get("Transforms"):
        raise invalid_config("Rule transforms (host header and URL rewrites) are not supported by Turnout")


def _in_use(priority: int) -> ServiceError:
    return error("PriorityInUse", f"Priority '{priority}' is currently in use")


class RuleOperations:
    """Mixed into :class:`Elbv2Provider`."""

    db: Database

    def _listener(self, ctx: RequestContext, arn: str) -> tuple[Listener, LoadBalancer]:
        listener = get_listener(self.db, ctx.account_id, ctx.region, arn)
        return listener, get_load_balancer(self.db, ctx.account_id, ctx.region, listener.load_balancer_arn)

    def create_rule(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        listener, lb = self._listener(ctx, req["ListenerArn"])
        if lb.type != "application":
            raise invalid_config(f"Rules are not supported for listeners of load balancers of type '{lb.type}' "
                                 "by Turnout; change the listener's default actions instead")
        _no_transforms(req)
        conditions = normalise_conditions(req.get("Conditions"))
        actions = normalise_actions(req.get("Actions"), lb.type)
        tags = req.get("Tags") or []
        check_new_tags(tags)
        priority = req["Priority"]
        if priority_taken(self.db, account, region, listener.arn, priority):
            raise _in_use(priority)
        if count_rules(self.db, account, region, lb.arn) >= RULES_PER_LOAD_BALANCER:
            raise error("TooManyRules", "You've reached the limit on the number of rules per load balancer.")
        check_target_groups(self.db, lb, listener.protocol, actions)
        arn = arns.elb_listener_rule(listener.arn, ids.hex_id(16))
        add_rule(self.db, Rule(account_id=account, region=region, arn=arn, listener_arn=listener.arn,
                               priority=priority, is_default=False, conditions=conditions, actions=actions,
                               created_at=ctx.received_at))
        put_tags(self.db, account, region, arn, tags)
        return {"Rules": [shape(get_rule(self.db, account, region, arn))]}

    def describe_rules(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        listener_arn = req.get("ListenerArn")
        rule_arns = req.get("RuleArns") or []
        if listener_arn and rule_arns:
            raise validation("Rule ARNs and a listener ARN cannot be specified at the same time")  # our wording
        if rule_arns:
            found = [get_rule(self.db, account, region, arn) for arn in dict.fromkeys(rule_arns)]
        elif listener_arn:
            listener = get_listener(self.db, account, region, listener_arn)
            found = rules_of(self.db, account, region, listener.arn)
        else:
            raise validation("You must specify either rule ARNs or a listener ARN")  # our wording
        result = describe.paged(found, _order, req, "Rules")
        result["Rules"] = [shape(rule) for rule in result["Rules"]]
        return result

    def modify_rule(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        rule = get_rule(self.db, account, region, req["RuleArn"])
        _not_default(rule, "modified")
        _no_transforms(req)
        listener, lb = self._listener(ctx, rule.listener_arn)
        given_conditions, given_actions = req.get("Conditions"), req.get("Actions")
        conditions = normalise_conditions(given_conditions) if given_conditions is not None else rule.conditions
        actions = normalise_actions(given_actions, lb.type) if given_actions is not None else rule.actions
        check_target_groups(self.db, lb, listener.protocol, actions)
        update_rule(self.db, replace(rule, conditions=conditions, actions=actions))
        return {"Rules": [shape(get_rule(self.db, account, region, rule.arn))]}

    def delete_rule(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        rule = get_rule(self.db, account, region, req["RuleArn"])
        _not_default(rule, "deleted")  # our wording, after ModifyRule's
        delete_rule(self.db, account, region, rule.arn)
        return {}

    def set_rule_priorities(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        """All the new priorities at once: a rule may take the priority another rule of the request gives up."""
        account, region = ctx.account_id, ctx.region
        wanted: dict[str, tuple[Rule, int]] = {}
        for pair in req["RulePriorities"]:
            arn, priority = pair.get("RuleArn"), pair.get("Priority")
            if not arn or priority is None:
                raise validation("A rule ARN and a priority must be specified for each rule")  # our wording
            if arn in wanted:
                raise validation(f"Rule '{arn}' is specified more than once")  # our wording
            rule = get_rule(self.db, account, region, arn)
            _not_default(rule, "modified")
            wanted[arn] = (rule, priority)
        taken: dict[tuple[str, int], str] = {}
        for arn, (rule, priority) in wanted.items():
            if (rule.listener_arn, priority) in taken:
                raise _in_use(priority)
            taken[(rule.listener_arn, priority)] = arn
        for listener in {rule.listener_arn for rule, _ in wanted.values()}:
            for other in rules_of(self.db, account, region, listener):
                if not other.is_default and other.arn not in wanted and (listener, other.priority) in taken:
                    raise _in_use(other.priority or 0)
        for arn, (_, priority) in wanted.items():
            set_priority(self.db, account, region, arn, priority)
        return {"Rules": [shape(get_rule(self.db, account, region, arn)) for arn in wanted]}
