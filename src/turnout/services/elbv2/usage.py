"""Which load balancers use a target group, read from the listeners' and rules' actions.

The listener and rule operations store actions as JSON text in botocore's shape (a list of ``Action``): a
``forward`` action names its target groups in ``TargetGroupArn`` and/or ``ForwardConfig.TargetGroups[].
TargetGroupArn``. ``elbv2_listeners.default_actions`` and ``elbv2_rules.actions`` are both scanned, so a target
group used only by a listener rule (or only with weight 0 in a weighted forward) still counts as in use, as on AWS.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...store.db import Database
from .store import loads


def action_target_groups(actions: Any) -> list[str]:
    """Target group ARNs named by a list of actions (order kept, no duplicates)."""
    found: list[str] = []
    for action in actions if isinstance(actions, list) else ():
        if not isinstance(action, dict):
            continue
        arn = action.get("TargetGroupArn")
        if isinstance(arn, str):
            found.append(arn)
        forward = action.get("ForwardConfig")
        groups = forward.get("TargetGroups") if isinstance(forward, dict) else None
        for group in groups if isinstance(groups, list) else ():
            if isinstance(group, dict) and isinstance(group.get("TargetGroupArn"), str):
                found.append(group["TargetGroupArn"])
    return list(dict.fromkeys(found))


def _pattern(tg_arn: str) -> str:
    return "%" + tg_arn.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def load_balancers_using(db: Database, account: str, region: str, tg_arn: str) -> list[str]:
    """ARNs of the load balancers whose listeners (default actions) or rules forward to ``tg_arn``, sorted."""
    like = _pattern(tg_arn)
    found: set[str] = set()
    for row in db.all(
        "SELECT load_balancer_arn, default_actions FROM elbv2_listeners WHERE account_id = ? AND region = ? "
        "AND default_actions LIKE ? ESCAPE '\\'",
        (account, region, like),
    ):
        if tg_arn in action_target_groups(loads(row["default_actions"])):
            found.add(row["load_balancer_arn"])
    for row in db.all(
        "SELECT l.load_balancer_arn, r.actions FROM elbv2_rules r JOIN elbv2_listeners l "
        "ON l.account_id = r.account_id AND l.region = r.region AND l.arn = r.listener_arn "
        "WHERE r.account_id = ? AND r.region = ? AND r.actions LIKE ? ESCAPE '\\'",
        (account, region, like),
    ):
        if tg_arn in action_target_groups(loads(row["actions"])):
            found.add(row["load_balancer_arn"])
    return sorted(found)


def in_use(db: Database, account: str, region: str, tg_arn: str) -> bool:
    return bool(load_balancers_using(db, account, region, tg_arn))


def target_groups_of(db: Database, account: str, region: str, lb_arn: str) -> list[str]:
    """Target group ARNs the load balancer's listeners and rules forward to."""
    found: list[str] = []
    listeners = db.all(
        "SELECT arn, default_actions FROM elbv2_listeners WHERE account_id = ? AND region = ? "
        "AND load_balancer_arn = ?",
        (account, region, lb_arn),
    )
    for listener in listeners:
        found.extend(action_target_groups(loads(listener["default_actions"])))
        rules: Iterable[Any] = db.all(
            "SELECT actions FROM elbv2_rules WHERE account_id = ? AND region = ? AND listener_arn = ?",
            (account, region, listener["arn"]),
        )
        for rule in rules:
            found.extend(action_target_groups(loads(rule["actions"])))
    return list(dict.fromkeys(found))
