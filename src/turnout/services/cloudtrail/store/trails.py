"""Trails in the database (``cloudtrail_trails``): the ``Trail`` record, its reads and writes.

A trail's settings, its logging state (``is_logging``, its logging periods) and its delivery state (the cursor:
the seq of the last event its delivery passed, and the times and error of the last delivery) are one row. JSON
columns (``extra``, the selectors, ``logging_windows``) are decoded here; instants are ``turnout.store.codec``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ....core import arns
from ....store.codec import dumps, iso, loads, when
from ....store.db import Database, Row
from . import trail_tags


@dataclass(frozen=True, slots=True)
class LoggingWindow:
    """A logging period: from StartLogging to StopLogging (``stop`` None: still logging)."""

    start: datetime
    stop: datetime | None = None


@dataclass(frozen=True, slots=True)
class Trail:
    arn: str
    account_id: str
    home_region: str
    name: str
    s3_bucket_name: str
    s3_key_prefix: str | None
    sns_topic_name: str | None
    include_global_service_events: bool
    is_multi_region: bool
    log_file_validation: bool
    cloud_watch_logs_log_group_arn: str | None
    cloud_watch_logs_role_arn: str | None
    kms_key_id: str | None
    is_organization_trail: bool
    extra: dict[str, Any]  # settings without a column of their own (RecursiveLogging)
    event_selectors: list[dict[str, Any]] | None
    advanced_event_selectors: list[dict[str, Any]] | None
    is_logging: bool
    start_logging_at: datetime | None
    stop_logging_at: datetime | None
    logging_windows: tuple[LoggingWindow, ...]  # the periods whose events are still to be delivered, oldest first
    cursor_seq: int
    last_pass_at: datetime | None
    latest_delivery_at: datetime | None
    latest_delivery_attempt_at: datetime | None
    latest_delivery_error: str | None
    created_at: datetime
    insight_selectors: list[dict[str, Any]] | None = None  # PutInsightSelectors; None: Insights not enabled

    @property
    def sns_topic_arn(self) -> str | None:
        topic = self.sns_topic_name
        if topic is None or topic.startswith("arn:"):
            return topic
        return arns.regional("sns", self.home_region, self.account_id, topic)

    @property
    def has_custom_event_selectors(self) -> bool:
        return self.event_selectors is not None or self.advanced_event_selectors is not None


def _windows(text: str) -> tuple[LoggingWindow, ...]:
    return tuple(LoggingWindow(when(str(start)), None if stop is None else when(str(stop)))
                 for start, stop in loads(text))


def _windows_text(windows: Sequence[LoggingWindow]) -> str:
    return dumps([[iso(w.start), None if w.stop is None else iso(w.stop)] for w in windows])


def _trail(row: Row) -> Trail:
    return Trail(
        arn=row["arn"], account_id=row["account_id"], home_region=row["home_region"], name=row["name"],
        s3_bucket_name=row["s3_bucket_name"], s3_key_prefix=row["s3_key_prefix"],
        sns_topic_name=row["sns_topic_name"],
        include_global_service_events=bool(row["include_global_service_events"]),
        is_multi_region=bool(row["is_multi_region"]), log_file_validation=bool(row["log_file_validation"]),
        cloud_watch_logs_log_group_arn=row["cloud_watch_logs_log_group_arn"],
        cloud_watch_logs_role_arn=row["cloud_watch_logs_role_arn"], kms_key_id=row["kms_key_id"],
        is_organization_trail=bool(row["is_organization_trail"]), extra=loads(row["extra"]),
        event_selectors=loads(row["event_selectors"]), advanced_event_selectors=loads(row["advanced_event_selectors"]),
        is_logging=bool(row["is_logging"]), start_logging_at=when(row["start_logging_at"]),
        stop_logging_at=when(row["stop_logging_at"]), logging_windows=_windows(row["logging_windows"]),
        cursor_seq=int(row["cursor_seq"]), last_pass_at=when(row["last_pass_at"]),
        latest_delivery_at=when(row["latest_delivery_at"]),
        latest_delivery_attempt_at=when(row["latest_delivery_attempt_at"]),
        latest_delivery_error=row["latest_delivery_error"], created_at=when(row["created_at"]),
        insight_selectors=loads(row["insight_selectors"]),
    )


# -- reads -------------------------------------------------------------------------------------------------


def by_arn(db: Database, arn: str) -> Trail | None:
    row = db.one("SELECT * FROM cloudtrail_trails WHERE arn = ?", (arn,))
    return None if row is None else _trail(row)


def by_name(db: Database, account: str, home_region: str, name: str) -> Trail | None:
    """The trail ``name`` whose home is ``home_region``."""
    row = db.one(
        "SELECT * FROM cloudtrail_trails WHERE account_id = ? AND home_region = ? AND name = ?",
        (account, home_region, name),
    )
    return None if row is None else _trail(row)


def named(db: Database, account: str, name: str) -> list[Trail]:
    """The account's trails called ``name``, in any home region."""
    rows = db.all("SELECT * FROM cloudtrail_trails WHERE account_id = ? AND name = ?", (account, name))
    return [_trail(r) for r in rows]


def in_account(db: Database, account: str) -> list[Trail]:
    """The account's trails, by home region, then name."""
    rows = db.all("SELECT * FROM cloudtrail_trails WHERE account_id = ? ORDER BY home_region, name", (account,))
    return [_trail(r) for r in rows]


def visible(db: Database, account: str, region: str) -> list[Trail]:
    """The trails of ``region``: those whose home it is, then the multi-region trails of other regions (shadows),
    each by name."""
    rows = db.all(
        "SELECT * FROM cloudtrail_trails WHERE account_id = ? AND (home_region = ? OR is_multi_region = 1) "
        "ORDER BY name",
        (account, region),
    )
    trails = [_trail(r) for r in rows]
    return [t for t in trails if t.home_region == region] + [t for t in trails if t.home_region != region]


def every(db: Database) -> list[Trail]:
    """Every trail of every account, by ARN (delivery's pass)."""
    return [_trail(r) for r in db.all("SELECT * FROM cloudtrail_trails ORDER BY arn")]


# -- writes ------------------------------------------------------------------------------------------------

_COLUMNS = (
    "arn", "account_id", "home_region", "name", "s3_bucket_name", "s3_key_prefix", "sns_topic_name",
    "include_global_service_events", "is_multi_region", "log_file_validation", "cloud_watch_logs_log_group_arn",
    "cloud_watch_logs_role_arn", "kms_key_id", "is_organization_trail", "extra", "event_selectors",
    "advanced_event_selectors", "is_logging", "start_logging_at", "stop_logging_at", "logging_windows",
    "cursor_seq", "last_pass_at", "latest_delivery_at", "latest_delivery_attempt_at", "latest_delivery_error",
    "created_at", "insight_selectors",
)
_SAVE = (
    f"INSERT INTO cloudtrail_trails ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    f"ON CONFLICT (arn) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _COLUMNS if c != 'arn')}"
)


def _values(trail: Trail) -> tuple[Any, ...]:
    def opt(value: datetime | None) -> str | None:
        return None if value is None else iso(value)

    def js(value: Any) -> str | None:
        return None if value is None else dumps(value)

    return (
        trail.arn, trail.account_id, trail.home_region, trail.name, trail.s3_bucket_name, trail.s3_key_prefix,
        trail.sns_topic_name, int(trail.include_global_service_events), int(trail.is_multi_region),
        int(trail.log_file_validation), trail.cloud_watch_logs_log_group_arn, trail.cloud_watch_logs_role_arn,
        trail.kms_key_id, int(trail.is_organization_trail), dumps(trail.extra), js(trail.event_selectors),
        js(trail.advanced_event_selectors), int(trail.is_logging), opt(trail.start_logging_at),
        opt(trail.stop_logging_at), _windows_text(trail.logging_windows), trail.cursor_seq, opt(trail.last_pass_at),
        opt(trail.latest_delivery_at), opt(trail.latest_delivery_attempt_at), trail.latest_delivery_error,
        iso(trail.created_at), js(trail.insight_selectors),
    )


def save(db: Database, trail: Trail) -> None:
    """Insert the trail, or replace its whole row."""
    db.execute(_SAVE, _values(trail))


def record_pass(db: Database, arn: str, *, cursor_seq: int, windows: Sequence[LoggingWindow], now: datetime,
                delivered: datetime | None, attempted: datetime | None, error: str | None) -> None:
    """A delivery pass over the trail: its cursor, the logging periods left, when it passed; the times of its
    last delivery and attempt when given (None keeps the stored ones), and its error (None: it succeeded)."""
    db.execute(
        "UPDATE cloudtrail_trails SET cursor_seq = ?, logging_windows = ?, last_pass_at = ?, "
        "latest_delivery_at = COALESCE(?, latest_delivery_at), "
        "latest_delivery_attempt_at = COALESCE(?, latest_delivery_attempt_at), latest_delivery_error = ? "
        "WHERE arn = ?",
        (cursor_seq, _windows_text(windows), iso(now), None if delivered is None else iso(delivered),
         None if attempted is None else iso(attempted), error, arn),
    )


def delete(db: Database, arn: str) -> None:
    """The trail and its tags."""
    trail_tags.drop_all(db, arn)
    db.execute("DELETE FROM cloudtrail_trails WHERE arn = ?", (arn,))
