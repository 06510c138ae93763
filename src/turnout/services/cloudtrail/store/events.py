"""The CloudTrail event store: every recorded event, per account and region, and its lookup index (the
interface is re-exported by the package: see :mod:`turnout.services.cloudtrail.store`).

``seq`` only grows; an event is never changed once written. A call recorded in two accounts (cross-account
AssumeRole) is two events, one per account (``recipientAccountId``), with one ``sharedEventID``.

Tables (migration ``0008_cloudtrail_events.sql``):

* ``cloudtrail_events``: one row per event, keyed by ``seq``, with the values ``LookupEvents`` returns (event
  id, name, source, read-only, user name, access key, resources) and the record: its JSON text, or, for calls
  repeated with the same caller, parameters and outcome (reads, mostly), a reference to their shared text in
  ``cloudtrail_shapes`` (the record without its eventTime, requestID and eventID, kept by content hash). A
  repeated call then writes ~150 bytes instead of ~1 KB: recording costs a few microseconds a call.
* ``cloudtrail_lookup``: the lookup index, as posting lists per (account, region, lookup attribute, value)
  (:mod:`.postings`): recording a batch costs a few statements per distinct value instead of one index entry
  per event and attribute, and a lookup reads a few rows of one index range, newest first, then the events by
  primary key. ``EventId`` needs no index: an event's id encodes its ``seq`` (:func:`event_ids`).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ....core import ids
from ....store.db import Database, Row
from ..records import Draft, assemble, lookup_pairs
from . import postings

if TYPE_CHECKING:
    from ....gateway.gateway import Gateway

ALL = postings.ALL

# eventID: a UUID whose last 48 bits are the event's seq, scrambled by an invertible affine map (so ids look as
# random as AWS's and still lead straight to the row).
_BITS = 48
_MASK = (1 << _BITS) - 1
_MULTIPLIER = 0x5DEECE66D  # odd, so invertible modulo 2**48
_INVERSE = pow(_MULTIPLIER, -1, 1 << _BITS)
_OFFSET = 0x2545F4914F6C
_random = random.Random().getrandbits
_EVENT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-([0-9a-f]{12})")


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    account_id: str
    region: str
    event_time: datetime
    record: dict[str, Any]
    read_only: bool


@dataclass(frozen=True, slots=True)
class LookupEvent:
    """An event as LookupEvents answers it: the values it is found by, and its record as JSON text."""

    seq: int
    event_id: str
    event_time: int  # epoch seconds
    event_name: str
    event_source: str
    read_only: bool
    username: str | None
    access_key_id: str | None
    resources: tuple[tuple[str, str], ...]  # (type, name)
    record_text: str


def event_ids(first: int, count: int) -> list[str]:
    """Fresh eventIDs for the events ``first``, ``first + 1``... (``count`` of them): version-4 UUIDs, random but
    for their last 48 bits, which encode the seq (:func:`seq_of`); one random number serves them all."""
    text = f"{_random(80 * count):0{20 * count}x}" if count > 0 else ""  # not a secret: the seq makes ids unique
    return [ids.uuid4_text(f"{text[20 * n:20 * n + 20]}{(((first + n) * _MULTIPLIER + _OFFSET) & _MASK):012x}")
            for n in range(count)]


def seq_of(event_id: str) -> int | None:
    """The seq an eventID was made for, or None when it is not one of ours."""
    match = _EVENT_ID.fullmatch(event_id)
    if match is None:
        return None
    return ((int(match.group(1), 16) - _OFFSET) * _INVERSE) & _MASK


# -- writing ------------------------------------------------------------------------------------------------


def last_seq(db: Database) -> int:
    """The seq of the newest event written (0 when none)."""
    return int(db.scalar("SELECT MAX(seq) FROM cloudtrail_events") or 0)


def append(db: Database, drafts: Iterable[Draft]) -> int:
    """Write events and their lookup entries (in one transaction), giving each its seq and eventID; returns how
    many were written (bulk loads; the recorder writes with :func:`write_events`, then indexes with
    :func:`index_events`). Events written before them without their entries are indexed first."""
    with db.transaction():
        if indexed_seq(db) < last_seq(db):  # the index covers a prefix of the events: theirs first
            index_events(db, limit=-1)
        written, scoped = _insert(db, drafts, index=True)
        postings.write(db, scoped)
        if written:
            _indexed_up_to(db, last_seq(db))
        return written


def write_events(db: Database, drafts: Iterable[Draft]) -> int:
    """Write events (in one transaction) without their lookup entries, which :func:`index_events` adds later;
    returns how many were written. The recorder's durable write: a few small rows per event, whatever the size
    of the posting lists (rewriting those for every lone call would cost more than the call)."""
    with db.transaction():
        return _insert(db, drafts, index=False)[0]


def indexed_seq(db: Database) -> int:
    """The seq up to which every event has its lookup entries, and after which none has (each batch is indexed
    whole, in seq order, moving it in the same transaction: migration ``0040_cloudtrail_indexed.sql``)."""
    return int(db.scalar("SELECT seq FROM cloudtrail_indexed WHERE id = 1") or 0)


def _indexed_up_to(db: Database, seq: int) -> None:
    db.execute("INSERT INTO cloudtrail_indexed (id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seq = "
               "excluded.seq", (seq,))


def unindexed(db: Database) -> int:
    """How many events are written without their lookup entries yet (the ones :func:`find` reads directly)."""
    return max(0, last_seq(db) - indexed_seq(db))


def index_events(db: Database, limit: int = 50_000) -> int:
    """Add the lookup entries of the events written without them (:func:`write_events`; after a crash, those
    written before it), oldest first, up to ``limit`` events (-1: all); returns how many were indexed.

    Outside a transaction, the events are read and what their lists need written is worked out from a snapshot
    first (:func:`postings.plan`), and the writer lock is taken only to write it: every write of every process
    waits while the lock is held, and that reading and working out took most of the time (README, CloudTrail).
    Should another process have indexed meanwhile, the work is done again under the lock."""
    if not db.in_transaction:
        with db.transaction(write=False):
            start = indexed_seq(db)
            rows = _unindexed_rows(db, start, limit)
            # Only indexing changes the posting lists, and it moves the indexed seq: while that stays, so do they.
            planned = postings.plan(db, _lookup_lists(rows)) if rows else None
        if planned is None:
            return 0
        with db.transaction():
            if indexed_seq(db) == start:
                postings.apply(db, planned)
                _indexed_up_to(db, rows[-1][0])
                return len(rows)
    with db.transaction():
        rows = _unindexed_rows(db, indexed_seq(db), limit)
        postings.write(db, _lookup_lists(rows))
        if rows:
            _indexed_up_to(db, rows[-1][0])
        return len(rows)


def _unindexed_rows(db: Database, after: int, limit: int) -> list[Row]:
    return db.all(
        "SELECT seq, account_id, region, event_time, event_name, event_source, read_only, username, access_key_id, "
        "resources FROM cloudtrail_events WHERE seq > ? ORDER BY seq LIMIT ?",
        (after, limit),
    )


def _lookup_lists(rows: list[Row]) -> postings.Scoped:
    """The posting-list entries of events' rows (as :func:`_unindexed_rows` reads them)."""
    # Events grouped by what they are found by (repeated calls share it): their lookup pairs are worked out once per
    # group, and each group's entries added to its lists in one step (postings.write sorts them).
    grouped: dict[tuple[Any, ...], list[postings.Pair]] = {}
    for seq, account, region, event_time, name, source, read, user, key, resources in rows:
        where = (account, region, name, source, read, user, key, resources)
        group = grouped.get(where)
        if group is None:
            grouped[where] = [(event_time, seq)]
        else:
            group.append((event_time, seq))
    scoped: postings.Scoped = {}
    for (account, region, name, source, read, user, key, resources), pairs in grouped.items():
        found_as = tuple((str(kind), str(rname)) for kind, rname in json.loads(resources or "[]"))
        lists = scoped.setdefault((account, region), {})
        for lookup in lookup_pairs(name, source, bool(read), user, key, found_as):
            found = lists.get(lookup)
            if found is None:
                lists[lookup] = list(pairs)
            else:
                found.extend(pairs)
    return scoped


def _insert(db: Database, drafts: Iterable[Draft], *, index: bool) -> tuple[int, postings.Scoped]:
    """Insert events' rows (inside the caller's transaction); with ``index``, also their lookup entries, grouped
    by list, for :func:`postings.write`."""
    seq = last_seq(db) + 1
    drafts = list(drafts)
    eids = iter(event_ids(seq, len(drafts)))
    rows = []
    shapes: dict[int, tuple[str, str, str, str]] = {}
    # Events grouped by where they are listed: drafts of one shape share their lookups tuple.
    grouped: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[tuple[int, int]]] = {}
    for draft in drafts:
        eid = next(eids)
        shape_id = draft.shape_id
        if shape_id is None:
            record, request_id = draft.text(eid), None
        else:
            record, request_id = None, draft.request_id
            shapes[shape_id] = draft.parts
        rows.append((seq, eid, draft.account_id, draft.region, draft.event_time, draft.event_name,
                     draft.event_source, 1 if draft.read_only else 0, draft.username, draft.access_key_id,
                     draft.resources, shape_id, request_id, record))
        if index:
            where = (draft.account_id, draft.region, draft.lookups)
            group = grouped.get(where)
            if group is None:
                grouped[where] = [(draft.event_time, seq)]
            else:
                group.append((draft.event_time, seq))
        seq += 1
    scoped: postings.Scoped = {}
    if not rows:
        return 0, scoped
    for (account, region, lookups), pairs in grouped.items():
        lists = scoped.setdefault((account, region), {})
        for lookup in lookups:
            found = lists.get(lookup)
            if found is None:
                lists[lookup] = list(pairs)
            else:
                found.extend(pairs)
    if shapes:
        db.insert_rows(
            "INSERT INTO cloudtrail_shapes (id, before_time, before_request, before_event, tail) VALUES",
            [(shape_id, *parts) for shape_id, parts in shapes.items()], "ON CONFLICT (id) DO NOTHING",
        )
    db.insert_rows(
        "INSERT INTO cloudtrail_events (seq, event_id, account_id, region, event_time, event_name, event_source, "
        "read_only, username, access_key_id, resources, shape_id, request_id, record) VALUES",
        rows,
    )
    return len(rows), scoped


# -- reading ------------------------------------------------------------------------------------------------

_SELECT = (
    "SELECT e.seq, e.event_id, e.account_id, e.region, e.event_time, e.event_name, e.event_source, e.read_only, "
    "e.username, e.access_key_id, e.resources, e.request_id, e.record, s.before_time, s.before_request, "
    "s.before_event, s.tail FROM cloudtrail_events e LEFT JOIN cloudtrail_shapes s ON s.id = e.shape_id"
)


def _record_text(row: Row) -> str:
    """The record of an event row (of a query on ``_SELECT``) as JSON text."""
    text: str | None = row["record"]
    if text is not None:
        return text
    parts = (row["before_time"] or "", row["before_request"] or "", row["before_event"] or "", row["tail"] or "")
    return assemble(parts, row["event_time"], row["request_id"] or "", row["event_id"])


def events_after(db: Database, seq: int, limit: int) -> list[StoredEvent]:
    """Up to ``limit`` events with a seq above ``seq``, in seq order, across all accounts and regions."""
    rows = db.all(f"{_SELECT} WHERE e.seq > ? ORDER BY e.seq LIMIT ?", (seq, limit))
    return [
        StoredEvent(row["seq"], row["account_id"], row["region"], datetime.fromtimestamp(row["event_time"], UTC),
                    json.loads(_record_text(row)), bool(row["read_only"]))
        for row in rows
    ]


def flush(gateway: Gateway) -> None:
    """Write the recorder's pending events now (a no-op when the gateway records nothing)."""
    from ..recorder import recorder_of

    recorder = recorder_of(gateway)
    if recorder is not None:
        recorder.flush()


# What an event not indexed yet must have to be found by a lookup attribute: the same test as the value
# records.lookup_pairs lists it under (a user name or access key only when there is one).
_UNINDEXED_WHERE = {
    ALL: "",
    "EventName": " AND event_name = ?",
    "EventSource": " AND event_source = ?",
    "ReadOnly": " AND read_only = ?",
    "Username": " AND username = ?",
    "AccessKeyId": " AND access_key_id = ?",
    "ResourceType": " AND EXISTS (SELECT 1 FROM json_each(resources) WHERE json_extract(value, '$[0]') = ?)",
    "ResourceName": " AND EXISTS (SELECT 1 FROM json_each(resources) WHERE json_extract(value, '$[1]') = ?)",
}


def find(db: Database, account: str, region: str, attribute: str, value: str, start: int, end: int,
         before: tuple[int, int] | None, limit: int) -> list[tuple[int, int]]:
    """The newest ``limit`` (time, seq) of (account, region)'s events having ``attribute`` = ``value``
    (:data:`ALL`: every event), ``start <= time <= end``, older than ``before`` if given; newest first.

    The events up to :func:`indexed_seq` are found through their posting lists (:mod:`.postings`); the ones
    written after it (what LookupEvents copied from the journals just before, which the background process
    indexes within a second) by reading their rows. The indexed seq is read first: an index written meanwhile only
    makes the two overlap, and an event found both ways is counted once."""
    indexed = indexed_seq(db)
    found = postings.find(db, account, region, attribute, value, start, end, before, limit)
    recent = _find_unindexed(db, indexed, account, region, attribute, value, start, end, before, limit)
    if not recent:
        return found
    return sorted(set(found).union(recent), reverse=True)[:limit]


def _find_unindexed(db: Database, indexed: int, account: str, region: str, attribute: str, value: str, start: int,
                    end: int, before: tuple[int, int] | None, limit: int) -> list[tuple[int, int]]:
    """:func:`find` among the events after seq ``indexed``."""
    where = _UNINDEXED_WHERE.get(attribute)
    if where is None or limit <= 0:
        return []  # an attribute no event is listed under
    sql = ("SELECT event_time, seq FROM cloudtrail_events WHERE seq > ? AND account_id = ? AND region = ? AND "
           "event_time >= ? AND event_time <= ?")
    params: list[Any] = [indexed, account, region, start, end]
    if before is not None:
        sql += " AND (event_time, seq) < (?, ?)"
        params += before
    if attribute != ALL:
        if attribute == "ReadOnly":
            if value not in ("true", "false"):
                return []
            params.append(1 if value == "true" else 0)
        elif not value and attribute in ("Username", "AccessKeyId"):
            return []  # listed only when there is one
        else:
            params.append(value)
        sql += where
    params.append(limit)
    return [(int(time), int(seq)) for time, seq in db.all(f"{sql} ORDER BY event_time DESC, seq DESC LIMIT ?",
                                                          params)]


def events(db: Database, seqs: Sequence[int]) -> dict[int, LookupEvent]:
    """The events ``seqs`` by seq (those that exist)."""
    if not seqs:
        return {}
    marks = ", ".join("?" for _ in seqs)
    rows = db.all(f"{_SELECT} WHERE e.seq IN ({marks})", list(seqs))
    return {
        row["seq"]: LookupEvent(
            seq=row["seq"], event_id=row["event_id"], event_time=row["event_time"], event_name=row["event_name"],
            event_source=row["event_source"], read_only=bool(row["read_only"]), username=row["username"],
            access_key_id=row["access_key_id"],
            resources=tuple((str(kind), str(name)) for kind, name in json.loads(row["resources"] or "[]")),
            record_text=_record_text(row),
        )
        for row in rows
    }


def by_event_id(db: Database, account: str, region: str, eid: str) -> postings.Pair | None:
    """The (time, seq) of (account, region)'s event ``eid``, or None when there is none."""
    seq = seq_of(eid)
    if seq is None:
        return None
    row = db.one(
        "SELECT seq, event_id, account_id, region, event_time FROM cloudtrail_events WHERE seq = ?", (seq,)
    )
    if row is None or row["event_id"] != eid or row["account_id"] != account or row["region"] != region:
        return None
    return (int(row["event_time"]), int(row["seq"]))
