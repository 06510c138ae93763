"""``elbv2_rules``: the :class:`Rule` record, its lookups and writes (each write of a rule's actions keeps the
target group index of ``rule_targets.py``). A listener's default rule is written with the listener
(``listeners.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ....store.codec import dumps, iso, loads, when
from ....store.db import Database, Row
from ..errors import rule_not_found
from .common import RULE_ARN, by_arn
from .rule_targets import index_rule, unindex

_COLUMNS = "account_id, region, arn, listener_arn, priority, is_default, conditions, actions, created_at"


@dataclass(frozen=True, slots=True)
class Rule:
    account_id: str
    region: str
    arn: str
    listener_arn: str
    priority: int | None  # None for the default rule
    is_default: bool
    conditions: list[dict[str, Any]]  # RuleCondition structures, as DescribeRules returns them
    actions: list[dict[str, Any]]  # Action structures, as DescribeRules returns them
    created_at: datetime


def _record(row: Row) -> Rule:
    return Rule(
        account_id=row["account_id"], region=row["region"], arn=row["arn"], listener_arn=row["listener_arn"],
        priority=row["priority"], is_default=bool(row["is_default"]), conditions=loads(row["conditions"]) or [],
        actions=loads(row["actions"]) or [], created_at=when(row["created_at"]))


def rule(db: Database, account: str, region: str, arn: str) -> Rule | None:
    """The rule ``arn`` of the account and region, if it exists (no check of the ARN's form)."""
    row = db.one(f"SELECT {_COLUMNS} FROM elbv2_rules WHERE account_id = ? AND region = ? AND arn = ?",
                 (account, region, arn))
    return None if row is None else _record(row)


def get_rule(db: Database, account: str, region: str, arn: str) -> Rule:
    """The listener rule ``arn`` of the caller's account and region, or RuleNotFound (ValidationError for a
    malformed ARN)."""
    found = by_arn(db, account, region, arn, RULE_ARN, "rule", rule)
    if found is None:
        raise rule_not_found()
    return found


def rules_of(db: Database, account: str, region: str, listener_arn: str) -> list[Rule]:
    """The listener's rules, its default rule included."""
    return [_record(row) for row in db.all(
        f"SELECT {_COLUMNS} FROM elbv2_rules WHERE account_id = ? AND region = ? AND listener_arn = ?",
        (account, region, listener_arn))]


def every_rule(db: Database) -> list[Rule]:
    """Every rule of every listener, account and Region (turnout.dataplane.snapshot)."""
    return [_record(row) for row in db.all(f"SELECT {_COLUMNS} FROM elbv2_rules")]


def priority_taken(db: Database, account: str, region: str, listener_arn: str, priority: int) -> bool:
    return db.one("SELECT 1 FROM elbv2_rules WHERE account_id = ? AND region = ? AND listener_arn = ? "
                  "AND priority = ?", (account, region, listener_arn, priority)) is not None


def count_rules(db: Database, account: str, region: str, lb_arn: str) -> int:
    """The rules of the load balancer's listeners, default rules not counted."""
    return int(db.scalar(
        "SELECT COUNT(*) FROM elbv2_rules r JOIN elbv2_listeners l ON l.account_id = r.account_id "
        "AND l.region = r.region AND l.arn = r.listener_arn WHERE r.account_id = ? AND r.region = ? "
        "AND l.load_balancer_arn = ? AND r.is_default = 0", (account, region, lb_arn)))


def add_rule(db: Database, new: Rule) -> None:
    db.execute(
        f"INSERT INTO elbv2_rules ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (new.account_id, new.region, new.arn, new.listener_arn, new.priority, int(new.is_default),
         dumps(new.conditions), dumps(new.actions), iso(new.created_at)),
    )
    index_rule(db, new.account_id, new.region, new.arn)


def update_rule(db: Database, changed: Rule) -> None:
    """Write a rule's conditions and actions."""
    db.execute("UPDATE elbv2_rules SET conditions = ?, actions = ? WHERE account_id = ? AND region = ? AND arn = ?",
               (dumps(changed.conditions), dumps(changed.actions), changed.account_id, changed.region, changed.arn))
    index_rule(db, changed.account_id, changed.region, changed.arn)


def set_priority(db: Database, account: str, region: str, arn: str, priority: int) -> None:
    db.execute("UPDATE elbv2_rules SET priority = ? WHERE account_id = ? AND region = ? AND arn = ?",
               (priority, account, region, arn))


def delete_rule(db: Database, account: str, region: str, arn: str) -> None:
    """Delete a rule and its tags."""
    from .tags import drop_tags

    drop_tags(db, account, region, [arn])
    db.execute("DELETE FROM elbv2_rules WHERE account_id = ? AND region = ? AND arn = ?", (account, region, arn))
    unindex(db, account, region, rule_arn=arn)
