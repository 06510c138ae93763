"""Listener rules: CreateRule, DescribeRules, ModifyRule, DeleteRule and SetRulePriorities.

Rules other than the default one are for Application Load Balancer listeners only (Turnout does not support the
rules of dual-stack Network Load Balancers). The default rule of every listener (``is_default``, no priority) is
made and changed by the listener operations; the rule operations refuse to change or delete it. DescribeRules lists
rules by priority, the default rule last.
"""

from __future__ import annotations

from typing import Any

from ... import arns, ids
from ...gateway.context import RequestContext
from ...store.db import Database, Row
from ...wire.errors import ServiceError
from . import describe
from .actions import check_target_groups, normalise_actions, normalise_conditions
from .errors import error, invalid_config, validation
from .store import dumps, iso, lb_row, listener_row, loads, rule_row
from .tags import check_new_tags, drop_tags, put_tags
from .usage import index_rule, unindex

RULES_PER_LOAD_BALANCER = 100  # "rules-per-application-load-balancer" (default rules not counted)


def shape(row: Row) -> dict[str, Any]:
    """The ``Rule`` structure."""
    return {
        "RuleArn": row["arn"],
        "Priority": "default" if row["is_default"] else str(row["priority"]),
        "Conditions": loads(row["conditions"]),
        "Actions": loads(row["actions"]),
        "IsDefault": bool(row["is_default"]),
    }


def _order(row: Row) -> str:
    return f"{'99999' if row['is_default'] else format(row['priority'], '05d')} {row['arn']}"


def _not_default(row: Row, verb: str) -> None:
    if row["is_default"]:
        raise error("OperationNotPermitted", f"Default rule '{row['arn']}' cannot be {verb}")


def _no_transforms(req: dict[str, Any]) -> None:
    if req.get("Transforms"):
        raise invalid_config("Rule transforms (host header and URL rewrites) are not supported by Turnout")


def _in_use(priority: int) -> ServiceError:
    return error("PriorityInUse", f"Priority '{priority}' is currently in use")


class RuleOperations:
    """Mixed into :class:`Elbv2Provider`."""

    db: Database

    def _listener(self, ctx: RequestContext, arn: str) -> tuple[Row, Row]:
        listener = listener_row(self.db, ctx.account_id, ctx.region, arn)
        return listener, lb_row(self.db, ctx.account_id, ctx.region, listener["load_balancer_arn"])

    def create_rule(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        listener, lb = self._listener(ctx, req["ListenerArn"])
        if lb["type"] != "application":
            raise invalid_config(f"Rules are not supported for listeners of load balancers of type '{lb['type']}' "
                                 "by Turnout; change the listener's default actions instead")
        _no_transforms(req)
        conditions = normalise_conditions(req.get("Conditions"))
        actions = normalise_actions(req.get("Actions"), lb["type"])
        tags = req.get("Tags") or []
        check_new_tags(tags)
        priority = req["Priority"]
        if self.db.one("SELECT 1 FROM elbv2_rules WHERE account_id = ? AND region = ? AND listener_arn = ? "
                       "AND priority = ?", (account, region, listener["arn"], priority)) is not None:
            raise _in_use(priority)
        count = self.db.scalar(
            "SELECT COUNT(*) FROM elbv2_rules r JOIN elbv2_listeners l ON l.account_id = r.account_id "
            "AND l.region = r.region AND l.arn = r.listener_arn WHERE r.account_id = ? AND r.region = ? "
            "AND l.load_balancer_arn = ? AND r.is_default = 0", (account, region, lb["arn"]))
        if count >= RULES_PER_LOAD_BALANCER:
            raise error("TooManyRules", "You've reached the limit on the number of rules per load balancer.")
        check_target_groups(self.db, lb, listener["protocol"], actions)
        arn = arns.elb_listener_rule(listener["arn"], ids.hex_id(16))
        self.db.execute(
            "INSERT INTO elbv2_rules (account_id, region, arn, listener_arn, priority, is_default, conditions, "
            "actions, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
            (account, region, arn, listener["arn"], priority, dumps(conditions), dumps(actions),
             iso(ctx.received_at)),
        )
        index_rule(self.db, account, region, arn)
        put_tags(self.db, account, region, arn, tags)
        return {"Rules": [shape(rule_row(self.db, account, region, arn))]}

    def describe_rules(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        listener_arn = req.get("ListenerArn")
        rule_arns = req.get("RuleArns") or []
        if listener_arn and rule_arns:
            raise validation("Rule ARNs and a listener ARN cannot be specified at the same time")  # our wording
        if rule_arns:
            rows = [rule_row(self.db, account, region, arn) for arn in dict.fromkeys(rule_arns)]
        elif listener_arn:
            listener = listener_row(self.db, account, region, listener_arn)
            rows = self.db.all("SELECT * FROM elbv2_rules WHERE account_id = ? AND region = ? AND listener_arn = ?",
                               (account, region, listener["arn"]))
        else:
            raise validation("You must specify either rule ARNs or a listener ARN")  # our wording
        result = describe.paged(rows, _order, req, "Rules")
        result["Rules"] = [shape(row) for row in result["Rules"]]
        return result

    def modify_rule(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        row = rule_row(self.db, account, region, req["RuleArn"])
        _not_default(row, "modified")
        _no_transforms(req)
        listener, lb = self._listener(ctx, row["listener_arn"])
        given_conditions, given_actions = req.get("Conditions"), req.get("Actions")
        conditions = normalise_conditions(given_conditions) if given_conditions is not None \
            else loads(row["conditions"])
        actions = normalise_actions(given_actions, lb["type"]) if given_actions is not None else loads(row["actions"])
        check_target_groups(self.db, lb, listener["protocol"], actions)
        self.db.execute("UPDATE elbv2_rules SET conditions = ?, actions = ? WHERE account_id = ? AND region = ? "
                        "AND arn = ?", (dumps(conditions), dumps(actions), account, region, row["arn"]))
        index_rule(self.db, account, region, row["arn"])
        return {"Rules": [shape(rule_row(self.db, account, region, row["arn"]))]}

    def delete_rule(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        row = rule_row(self.db, account, region, req["RuleArn"])
        _not_default(row, "deleted")  # our wording, after ModifyRule's
        drop_tags(self.db, account, region, [row["arn"]])
        self.db.execute("DELETE FROM elbv2_rules WHERE account_id = ? AND region = ? AND arn = ?",
                        (account, region, row["arn"]))
        unindex(self.db, account, region, rule_arn=row["arn"])
        return {}

    def set_rule_priorities(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        """All the new priorities at once: a rule may take the priority another rule of the request gives up."""
        account, region = ctx.account_id, ctx.region
        wanted: dict[str, tuple[Row, int]] = {}
        for pair in req["RulePriorities"]:
            arn, priority = pair.get("RuleArn"), pair.get("Priority")
            if not arn or priority is None:
                raise validation("A rule ARN and a priority must be specified for each rule")  # our wording
            if arn in wanted:
                raise validation(f"Rule '{arn}' is specified more than once")  # our wording
            row = rule_row(self.db, account, region, arn)
            _not_default(row, "modified")
            wanted[arn] = (row, priority)
        taken: dict[tuple[str, int], str] = {}
        for arn, (row, priority) in wanted.items():
            if (row["listener_arn"], priority) in taken:
                raise _in_use(priority)
            taken[(row["listener_arn"], priority)] = arn
        for listener in {row["listener_arn"] for row, _ in wanted.values()}:
            for other in self.db.all("SELECT arn, priority FROM elbv2_rules WHERE account_id = ? AND region = ? "
                                     "AND listener_arn = ? AND is_default = 0", (account, region, listener)):
                if other["arn"] not in wanted and (listener, other["priority"]) in taken:
                    raise _in_use(other["priority"])
        for arn, (_, priority) in wanted.items():
            self.db.execute("UPDATE elbv2_rules SET priority = ? WHERE account_id = ? AND region = ? AND arn = ?",
                            (priority, account, region, arn))
        return {"Rules": [shape(rule_row(self.db, account, region, arn)) for arn in wanted]}
