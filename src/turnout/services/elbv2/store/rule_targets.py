"""``elbv2_rule_targets`` (and ``elbv2_rule_targets_state``): which target groups each rule forwards to.

A listener's default actions are its default rule's, so every write of a rule's actions is indexed here
(:func:`index_rule`), and "which load balancers use this target group" is an index lookup. Derived data: built from
``elbv2_rules`` on first use for a database made before the index existed (:func:`_ready`).
"""

from __future__ import annotations

import weakref
from typing import Any

from ....store.codec import loads
from ....store.db import Database

# Databases whose index is known to be built (tests forget one to see it rebuilt).
BUILT: weakref.WeakSet[Database] = weakref.WeakSet()


def action_target_groups(actions: Any) -> list[str]:
    """Target group ARNs named by a list of actions (order kept, no duplicates): a ``forward`` action names them in
    ``TargetGroupArn`` and/or ``ForwardConfig.TargetGroups[].TargetGroupArn``."""
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


def _ready(db: Database) -> None:
    """Build the rule -> target group index once, for a database made before it existed."""
    if db in BUILT:
        return
    with db.transaction():
        if db.one("SELECT built FROM elbv2_rule_targets_state") is None:
            db.execute("DELETE FROM elbv2_rule_targets")
            for row in db.all("SELECT account_id, region, arn FROM elbv2_rules"):
                index_rule(db, row["account_id"], row["region"], row["arn"])
            db.execute("INSERT INTO elbv2_rule_targets_state (built) VALUES (1)")
    BUILT.add(db)


def index_rule(db: Database, account: str, region: str, rule_arn: str) -> None:
    """Record which target groups a rule forwards to (after any write of its actions)."""
    db.execute("DELETE FROM elbv2_rule_targets WHERE account_id = ? AND region = ? AND rule_arn = ?",
               (account, region, rule_arn))
    row = db.one("SELECT r.actions, r.listener_arn, l.load_balancer_arn FROM elbv2_rules r JOIN elbv2_listeners l "
                 "ON l.account_id = r.account_id AND l.region = r.region AND l.arn = r.listener_arn "
                 "WHERE r.account_id = ? AND r.region = ? AND r.arn = ?", (account, region, rule_arn))
    if row is None:
        return
    db.executemany(
        "INSERT INTO elbv2_rule_targets (account_id, region, rule_arn, listener_arn, load_balancer_arn, "
        "target_group_arn) VALUES (?, ?, ?, ?, ?, ?)",
        [(account, region, rule_arn, row["listener_arn"], row["load_balancer_arn"], tg)
         for tg in action_target_groups(loads(row["actions"]))],
    )


def index_default_rule(db: Database, account: str, region: str, listener_arn: str) -> None:
    """After a listener's default actions (its default rule's) were written."""
    for row in db.all("SELECT arn FROM elbv2_rules WHERE account_id = ? AND region = ? AND listener_arn = ? "
                      "AND is_default = 1", (account, region, listener_arn)):
        index_rule(db, account, region, row["arn"])


def unindex(db: Database, account: str, region: str, *, rule_arn: str | None = None,
            listener_arn: str | None = None) -> None:
    """Forget a deleted rule, or every rule of a deleted listener."""
    column, value = ("rule_arn", rule_arn) if rule_arn is not None else ("listener_arn", listener_arn)
    db.execute(f"DELETE FROM elbv2_rule_targets WHERE account_id = ? AND region = ? AND {column} = ?",
               (account, region, value))


def load_balancers_using(db: Database, account: str, region: str, tg_arn: str) -> list[str]:
    """ARNs of the load balancers whose listeners (default actions) or rules forward to ``tg_arn``, sorted."""
    _ready(db)
    rows = db.all("SELECT load_balancer_arn FROM elbv2_rule_targets WHERE account_id = ? AND region = ? "
                  "AND target_group_arn = ?", (account, region, tg_arn))  # deduplicated and sorted here, so that
    return sorted({row["load_balancer_arn"] for row in rows})  # SQLite searches by the group's index


def in_use(db: Database, account: str, region: str, tg_arn: str) -> bool:
    return bool(load_balancers_using(db, account, region, tg_arn))


def target_groups_of(db: Database, account: str, region: str, lb_arn: str) -> list[str]:
    """Target group ARNs the load balancer's listeners and rules forward to."""
    found: list[str] = []
    listeners = db.all("SELECT arn, default_actions FROM elbv2_listeners WHERE account_id = ? AND region = ? "
                       "AND load_balancer_arn = ?", (account, region, lb_arn))
    for listener in listeners:
        found.extend(action_target_groups(loads(listener["default_actions"])))
        for rule in db.all("SELECT actions FROM elbv2_rules WHERE account_id = ? AND region = ? AND listener_arn = ?",
                           (account, region, listener["arn"])):
            found.extend(action_target_groups(loads(rule["actions"])))
    return list(dict.fromkeys(found))
