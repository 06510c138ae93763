"""Rows of the ELB tables (migration 0007) and the lookups every operation module shares.

Nested structures (availability zones, security groups, attributes, health checks, actions) are JSON text.
Timestamps are ISO 8601 text in UTC.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from ...store.db import Database, Row
from .errors import invalid_arn, lb_not_found, listener_not_found, rule_not_found, tg_not_found

_ARN = r"arn:aws[a-z-]*:elasticloadbalancing:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
LB_ARN = re.compile(_ARN + r"loadbalancer/(?P<kind>app|net|gwy)/(?P<name>[A-Za-z0-9-]{1,32})/(?P<id>[0-9a-f]{16})$")
TG_ARN = re.compile(_ARN + r"targetgroup/(?P<name>[A-Za-z0-9-]{1,32})/(?P<id>[0-9a-f]{16})$")
LISTENER_ARN = re.compile(_ARN + r"listener/(app|net|gwy)/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}/[0-9a-f]{16}$")
RULE_ARN = re.compile(_ARN + r"listener-rule/(app|net)/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}/[0-9a-f]{16}/[0-9a-f]{16}$")
TRUST_STORE_ARN = re.compile(_ARN + r"truststore/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$")

KINDS = {"application": "app", "network": "net", "gateway": "gwy"}


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _owned(match: re.Match[str] | None, account: str, region: str) -> bool:
    return match is not None and match["account"] == account and match["region"] == region


def lb_row(db: Database, account: str, region: str, arn: str) -> Row:
    """The load balancer ``arn`` of the caller's account and region, or LoadBalancerNotFound."""
    match = LB_ARN.match(arn)
    if match is None:
        raise invalid_arn(arn, "load balancer")
    row = db.one("SELECT * FROM elbv2_load_balancers WHERE account_id = ? AND region = ? AND arn = ?",
                 (account, region, arn)) if _owned(match, account, region) else None
    if row is None:
        raise lb_not_found()
    return row


def tg_row(db: Database, account: str, region: str, arn: str) -> Row:
    """The target group ``arn`` of the caller's account and region, or TargetGroupNotFound."""
    match = TG_ARN.match(arn)
    if match is None:
        raise invalid_arn(arn, "target group")
    row = db.one("SELECT * FROM elbv2_target_groups WHERE account_id = ? AND region = ? AND arn = ?",
                 (account, region, arn)) if _owned(match, account, region) else None
    if row is None:
        raise tg_not_found()
    return row


def find_tg(db: Database, account: str, region: str, arn: str) -> Row | None:
    """The target group ``arn`` if it is the caller's and exists (no error), for deletes that succeed anyway."""
    match = TG_ARN.match(arn)
    if match is None:
        raise invalid_arn(arn, "target group")
    if not _owned(match, account, region):
        return None
    return db.one("SELECT * FROM elbv2_target_groups WHERE account_id = ? AND region = ? AND arn = ?",
                  (account, region, arn))


def find_lb(db: Database, account: str, region: str, arn: str) -> Row | None:
    match = LB_ARN.match(arn)
    if match is None:
        raise invalid_arn(arn, "load balancer")
    if not _owned(match, account, region):
        return None
    return db.one("SELECT * FROM elbv2_load_balancers WHERE account_id = ? AND region = ? AND arn = ?",
                  (account, region, arn))


def listener_row(db: Database, account: str, region: str, arn: str) -> Row:
    """The listener ``arn`` of the caller's account and region, or ListenerNotFound."""
    match = LISTENER_ARN.match(arn)
    if match is None:
        raise invalid_arn(arn, "listener")
    row = db.one("SELECT * FROM elbv2_listeners WHERE account_id = ? AND region = ? AND arn = ?",
                 (account, region, arn)) if _owned(match, account, region) else None
    if row is None:
        raise listener_not_found()
    return row


def rule_row(db: Database, account: str, region: str, arn: str) -> Row:
    """The listener rule ``arn`` of the caller's account and region, or RuleNotFound."""
    match = RULE_ARN.match(arn)
    if match is None:
        raise invalid_arn(arn, "rule")
    row = db.one("SELECT * FROM elbv2_rules WHERE account_id = ? AND region = ? AND arn = ?",
                 (account, region, arn)) if _owned(match, account, region) else None
    if row is None:
        raise rule_not_found()
    return row
