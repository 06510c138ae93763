"""``elbv2_listeners``: the :class:`Listener` record, its lookups and writes.

Every listener has a default rule (``elbv2_rules.is_default``) whose actions are the listener's default actions:
:func:`add_listener` makes it, :func:`update_listener` keeps it equal, :func:`delete_listener` removes it with the
listener's other rules and the tags of all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ....store.codec import dumps, iso, loads, when
from ....store.db import Database, Row
from ..errors import listener_not_found
from .common import LISTENER_ARN, by_arn
from .rule_targets import index_default_rule, unindex

_COLUMNS = "account_id, region, arn, load_balancer_arn, port, protocol, default_actions, extra, created_at"


@dataclass(frozen=True, slots=True)
class Listener:
    account_id: str
    region: str
    arn: str
    load_balancer_arn: str
    port: int | None
    protocol: str | None
    default_actions: list[dict[str, Any]]  # Action structures, as DescribeListeners returns them
    # Certificates, SslPolicy, AlpnPolicy, MutualAuthentication (as returned), ExtraCertificates (ARNs) and
    # Attributes (the values set).
    extra: dict[str, Any]
    created_at: datetime


def _record(row: Row) -> Listener:
    return Listener(
        account_id=row["account_id"], region=row["region"], arn=row["arn"],
        load_balancer_arn=row["load_balancer_arn"], port=row["port"], protocol=row["protocol"],
        default_actions=loads(row["default_actions"]) or [], extra=loads(row["extra"]) or {},
        created_at=when(row["created_at"]))


def listener(db: Database, account: str, region: str, arn: str) -> Listener | None:
    """The listener ``arn`` of the account and region, if it exists (no check of the ARN's form)."""
    row = db.one(f"SELECT {_COLUMNS} FROM elbv2_listeners WHERE account_id = ? AND region = ? AND arn = ?",
                 (account, region, arn))
    return None if row is None else _record(row)


def get_listener(db: Database, account: str, region: str, arn: str) -> Listener:
    """The listener ``arn`` of the caller's account and region, or ListenerNotFound (ValidationError for a
    malformed ARN)."""
    found = by_arn(db, account, region, arn, LISTENER_ARN, "listener", listener)
    if found is None:
        raise listener_not_found()
    return found


def listeners_of(db: Database, account: str, region: str, lb_arn: str) -> list[Listener]:
    """The load balancer's listeners."""
    return [_record(row) for row in db.all(
        f"SELECT {_COLUMNS} FROM elbv2_listeners WHERE account_id = ? AND region = ? AND load_balancer_arn = ?",
        (account, region, lb_arn))]


def every_listener(db: Database) -> list[Listener]:
    """Every listener of every account and Region (the data plane serves them all: turnout.dataplane.snapshot)."""
    return [_record(row) for row in db.all(f"SELECT {_COLUMNS} FROM elbv2_listeners ORDER BY created_at, arn")]


def listener_arns(db: Database, account: str, region: str, lb_arn: str) -> list[str]:
    return [row["arn"] for row in db.all(
        "SELECT arn FROM elbv2_listeners WHERE account_id = ? AND region = ? AND load_balancer_arn = ?",
        (account, region, lb_arn))]


def listener_on_port(db: Database, account: str, region: str, lb_arn: str, port: int | None) -> Listener | None:
    row = db.one(f"SELECT {_COLUMNS} FROM elbv2_listeners WHERE account_id = ? AND region = ? "
                 "AND load_balancer_arn = ? AND port = ?", (account, region, lb_arn, port))
    return None if row is None else _record(row)


def count_listeners(db: Database, account: str, region: str, lb_arn: str) -> int:
    return int(db.scalar("SELECT COUNT(*) FROM elbv2_listeners WHERE account_id = ? AND region = ? "
                         "AND load_balancer_arn = ?", (account, region, lb_arn)))


def add_listener(db: Database, new: Listener, default_rule_arn: str) -> None:
    """Store a new listener and its default rule ``default_rule_arn`` (whose actions are its default actions)."""
    db.execute(
        f"INSERT INTO elbv2_listeners ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (new.account_id, new.region, new.arn, new.load_balancer_arn, new.port, new.protocol,
         dumps(new.default_actions), dumps(new.extra), iso(new.created_at)),
    )
    db.execute(
        "INSERT INTO elbv2_rules (account_id, region, arn, listener_arn, priority, is_default, conditions, "
        "actions, created_at) VALUES (?, ?, ?, ?, NULL, 1, '[]', ?, ?)",
        (new.account_id, new.region, default_rule_arn, new.arn, dumps(new.default_actions), iso(new.created_at)),
    )
    index_default_rule(db, new.account_id, new.region, new.arn)


def update_listener(db: Database, changed: Listener) -> None:
    """Write a listener's port, protocol, default actions (its default rule's too) and extra."""
    db.execute(
        "UPDATE elbv2_listeners SET port = ?, protocol = ?, default_actions = ?, extra = ? "
        "WHERE account_id = ? AND region = ? AND arn = ?",
        (changed.port, changed.protocol, dumps(changed.default_actions), dumps(changed.extra), changed.account_id,
         changed.region, changed.arn),
    )
    db.execute("UPDATE elbv2_rules SET actions = ? WHERE account_id = ? AND region = ? AND listener_arn = ? "
               "AND is_default = 1", (dumps(changed.default_actions), changed.account_id, changed.region, changed.arn))
    index_default_rule(db, changed.account_id, changed.region, changed.arn)


def update_listener_extra(db: Database, changed: Listener) -> None:
    """Write only a listener's extra (certificates, attributes)."""
    db.execute("UPDATE elbv2_listeners SET extra = ? WHERE account_id = ? AND region = ? AND arn = ?",
               (dumps(changed.extra), changed.account_id, changed.region, changed.arn))


def delete_listener(db: Database, account: str, region: str, arn: str) -> None:
    """Delete the listener with its rules (the default one included) and the tags of all of them."""
    from .tags import drop_tags

    rules = [row["arn"] for row in db.all("SELECT arn FROM elbv2_rules WHERE account_id = ? AND region = ? "
                                          "AND listener_arn = ?", (account, region, arn))]
    drop_tags(db, account, region, rules)
    db.execute("DELETE FROM elbv2_rules WHERE account_id = ? AND region = ? AND listener_arn = ?",
               (account, region, arn))
    unindex(db, account, region, listener_arn=arn)
    drop_tags(db, account, region, [arn])
    db.execute("DELETE FROM elbv2_listeners WHERE account_id = ? AND region = ? AND arn = ?", (account, region, arn))
