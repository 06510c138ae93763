"""Log file delivery: a logging trail's events, written as CloudTrail log files, objects of the trail's S3 bucket::

    s3://<bucket>/<prefix/>AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/
        <account>_CloudTrail_<region>_<yyyymmddTHHMMZ>_<16 alphanumerics>.json.gz

Each file is gzip JSON ``{"Records": [...]}``, the records of one region exactly as recorded. A trail is delivered
every ``INTERVAL`` simulated seconds of the clock (``--time-scale`` makes them pass faster) or sooner once
``THRESHOLD`` events are pending; a multi-region trail gets every region's events (one file per region), a
single-region trail its own region's, plus the global services' (IAM, STS: logged in us-east-1) when it includes
global service events. Only events of the trail's logging periods (StartLogging to StopLogging) that its event
selectors keep are written.

Each trail keeps a cursor (the sequence number of the last event it has passed) in ``cloudtrail_trails``, committed
in the same transaction as the objects, so a restart neither loses nor re-delivers events. A file's date and time
are those of its first event and its 16-character suffix is derived from the trail, region and that event. A
bucket that is gone, or whose policy no longer lets CloudTrail write, fails the delivery (``NoSuchBucket``,
``AccessDenied`` in GetTrailStatus's ``LatestDeliveryError``); the events stay pending until it can deliver.

``start(gateway)`` runs the timer (the CloudTrail provider calls it from ``startup()``); ``deliver_now(gateway)``
delivers everything pending at once (tests).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ...core import ids
from ...store.db import Database, DatabaseClosed
from ...wire.models import SERVICES
from ..s3 import service_access
from . import store
from .selectors import matches
from .store import trails as trail_store
from .store.trails import LoggingWindow, Trail

if TYPE_CHECKING:
    from ...gateway.gateway import Gateway

log = logging.getLogger("turnout.cloudtrail.delivery")

INTERVAL = 300.0  # simulated seconds between two deliveries of a trail (AWS: "about every 5 minutes")
TICK = 30.0  # simulated seconds between two looks at the trails
THRESHOLD = 1000  # pending events that make a trail deliver before its interval is up
BATCH = 1000  # events read at a time
BATCHES_PER_PASS = 10  # a timed pass reads at most this many batches per trail (the event loop is not held up)
MAX_RECORDS_PER_FILE = 1000
GRACE = timedelta(seconds=10)  # how long a closed logging period waits for its last events before it is dropped
GLOBAL_SOURCES = frozenset(spec.event_source for spec in SERVICES.values() if spec.is_global)
GLOBAL_REGION = "us-east-1"

_tasks: dict[int, asyncio.Task[None]] = {}


# -- where ---------------------------------------------------------------------------------------------------


def object_key(trail: Trail, region: str, when: datetime, first_seq: int) -> str:
    """``<prefix/>AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<file name>``."""
    return (f"{service_access.log_key_prefix(trail.s3_key_prefix, trail.account_id)}CloudTrail/{region}/"
            f"{when:%Y}/{when:%m}/{when:%d}/{file_name(trail, region, when, first_seq)}")


def file_name(trail: Trail, region: str, when: datetime, first_seq: int) -> str:
    suffix = ids.log_file_suffix(f"{trail.arn}|{region}|{first_seq}")
    return f"{trail.account_id}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_{suffix}.json.gz"


# -- the stream ----------------------------------------------------------------------------------------------


def head_seq(db: Database) -> int:
    """The sequence number of the newest recorded event (0 when none): where a trail starting to log begins."""
    return int(store.last_seq(db))


def _event_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    text = str(value)
    parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _windows(trail: Trail) -> list[tuple[datetime, datetime | None]]:
    # records carry whole seconds
    return [(window.start.replace(microsecond=0), window.stop) for window in trail.logging_windows]


def _region_kept(trail: Trail, region: str, record: dict[str, Any]) -> bool:
    if trail.is_multi_region:
        return True
    if region == GLOBAL_REGION and record.get("eventSource") in GLOBAL_SOURCES:
        return trail.include_global_service_events
    return region == trail.home_region


def kept(trail: Trail, event: Any, windows: Sequence[tuple[datetime, datetime | None]]) -> bool:
    """Whether ``event`` (a stored event) goes into the trail's log files."""
    if event.account_id != trail.account_id or not _region_kept(trail, event.region, event.record):
        return False
    when = _event_time(event.event_time)
    if not any(start <= when and (stop is None or when <= stop) for start, stop in windows):
        return False
    return matches(trail, event.record, bool(event.read_only))


# -- delivering ----------------------------------------------------------------------------------------------


def deliver_now(gateway: Gateway) -> int:
    """Deliver every trail's pending events now; the number of files written."""
    return _deliver(gateway, force=True, batches=None)[0]


def deliver_due(gateway: Gateway) -> int:
    """Deliver the trails whose interval is up or whose pending events reached the threshold (a long backlog over
    several passes: what is left is still at the threshold, so the next pass goes on with it)."""
    return _deliver(gateway, force=False, batches=BATCHES_PER_PASS)[0]


def _deliver(gateway: Gateway, *, force: bool, batches: int | None) -> tuple[int, bool]:
    """Files written, and whether a trail stopped short of the newest event (its pass ran out of batches)."""
    db = gateway.db
    # Idle trails (never started, or everything of their logging periods delivered) are skipped; with none left,
    # nothing is copied either: a pass comes every TICK simulated seconds (10 ms of real time at --time-scale 3000),
    # and copying the journals for no trail took a fifth of the engine's process in the deployments benchmark.
    trails = [trail for trail in trail_store.every(db) if trail.logging_windows]
    if not trails:
        return 0, False
    store.flush(gateway)
    written, behind = 0, False
    for trail in trails:
        files, short = _deliver_trail(gateway, trail, force, batches)
        written, behind = written + files, behind or short
    return written, behind


def _due(gateway: Gateway, trail: Trail, pending: int) -> bool:
    if pending >= THRESHOLD:
        return True
    since = trail.logging_windows[0].start
    if trail.last_pass_at is not None:
        since = max(since, trail.last_pass_at)
    return gateway.clock.sim_elapsed(since) >= INTERVAL


def _deliver_trail(gateway: Gateway, trail: Trail, force: bool, batches: int | None) -> tuple[int, bool]:
    db = gateway.db
    batch = store.events_after(db, trail.cursor_seq, BATCH)
    now = gateway.clock.now()
    if not batch:
        if force or _due(gateway, trail, 0):
            _save(db, trail, _prune(trail, now), now, None, None)
        return 0, False
    if not force and not _due(gateway, trail, len(batch)):
        return 0, False
    windows = _windows(trail)
    written = 0
    while batch:
        by_region: dict[str, list[Any]] = {}
        for event in batch:
            if kept(trail, event, windows):
                by_region.setdefault(event.region, []).append(event)
        attempted = now if by_region else None
        files = [_log_file(trail, region, events[start:start + MAX_RECORDS_PER_FILE])
                 for region, events in sorted(by_region.items())
                 for start in range(0, len(events), MAX_RECORDS_PER_FILE)]
        problem = _bucket_problem(db, trail) if files else None
        if problem is not None:
            log.warning("delivery of trail %s to %s failed: %s", trail.arn, trail.s3_bucket_name, problem)
            _save(db, trail, trail.logging_windows, now, None, now, error=problem)
            return written, False
        trail = replace(trail, cursor_seq=int(batch[-1].seq))
        caught_up = len(batch) < BATCH
        windows_left = _prune(trail, now) if caught_up else trail.logging_windows
        with db.transaction():  # the objects and the cursor that passes their events, together
            for key, body in files:
                service_access.put_log_file(db, trail.s3_bucket_name, key, body, now)
            trail = _save(db, trail, windows_left, now, attempted, attempted)
        written += len(files)
        if batches is not None:
            batches -= 1
        if caught_up:
            return written, False
        if batches == 0:
            return written, True
        batch = store.events_after(db, trail.cursor_seq, BATCH)
    return written, False


def _prune(trail: Trail, now: datetime) -> tuple[LoggingWindow, ...]:
    """The logging periods still open, or closed too recently for their last events to be certainly stored."""
    return tuple(w for w in trail.logging_windows if w.stop is None or w.stop + GRACE > now)


def _save(
    db: Database, trail: Trail, windows: tuple[LoggingWindow, ...], now: datetime,
    delivered: datetime | None, attempted: datetime | None, *, error: str | None = None,
) -> Trail:
    """Store the pass over the trail; the trail as it now is."""
    with db.transaction():
        trail_store.record_pass(db, trail.arn, cursor_seq=trail.cursor_seq, windows=windows, now=now,
                                delivered=delivered, attempted=attempted, error=error)
    return replace(trail, logging_windows=windows, last_pass_at=now,
                   latest_delivery_at=trail.latest_delivery_at if delivered is None else delivered,
                   latest_delivery_attempt_at=trail.latest_delivery_attempt_at if attempted is None else attempted,
                   latest_delivery_error=error)


def _bucket_problem(db: Database, trail: Trail) -> str | None:
    """The delivery error AWS reports when the trail's bucket cannot take its logs (LatestDeliveryError)."""
    problem = service_access.cloudtrail_problem(db, trail.s3_bucket_name, trail.s3_key_prefix, trail.account_id,
                                                trail.home_region, trail.arn)
    if problem is service_access.BucketProblem.MISSING:
        return "NoSuchBucket"
    if problem is service_access.BucketProblem.POLICY:
        return "AccessDenied"
    return None


def _log_file(trail: Trail, region: str, events: list[Any]) -> tuple[str, bytes]:
    first = events[0]
    when = _event_time(first.event_time)
    body = json.dumps({"Records": [e.record for e in events]}, separators=(",", ":")).encode()
    return object_key(trail, region, when, int(first.seq)), gzip.compress(body, mtime=0)


# -- the timer -----------------------------------------------------------------------------------------------


def start(gateway: Gateway) -> None:
    """Run delivery on the clock in the running event loop (once per gateway); a no-op without a loop."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        log.warning("no running event loop: CloudTrail log files are delivered only by deliver_now()")
        return
    task = _tasks.get(id(gateway))
    if task is not None and not task.done():
        return
    _tasks[id(gateway)] = loop.create_task(_run(gateway))


async def _run(gateway: Gateway) -> None:
    behind = False
    while True:
        if behind:
            await asyncio.sleep(0.01)  # a backlog: go on with it soon, letting requests in between passes
        else:
            await gateway.clock.sleep(TICK)
        try:
            behind = _deliver(gateway, force=False, batches=BATCHES_PER_PASS)[1]
        except DatabaseClosed:
            return  # the database was closed: the server is shutting down
        except Exception:  # delivery never takes the server down; the next tick tries again
            log.exception("CloudTrail delivery failed")
            behind = False
