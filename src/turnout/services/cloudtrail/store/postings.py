"""The lookup index of the event store: posting lists per (account, region, lookup attribute, value).

A row of ``cloudtrail_lookup`` lists up to :data:`CAP` events having one value, as ``time:seq`` pairs in
(time, seq) order, each written as the difference from the previous one (``"1795820694:12,0:1,3:1"``). The
attribute ``""`` (:data:`ALL`) lists every event.

* Regular rows of a value never overlap: each begins after the previous one's last entry (``max_time``,
  ``last_seq``). A batch of events adds its entries to the value's newest regular row while it has room (one
  ``UPDATE``), then starts new rows: recording 500 calls of one caller costs a few statements per lookup value,
  not 500 index entries per value. A lookup seeks the newest regular row starting at or before its upper time
  bound and reads rows backwards until it has its page: a few rows whatever the depth of the page.
* Entries older than a value's newest regular row (the clock set back, events loaded out of order) cannot be
  added in order: they go to irregular rows, which a lookup reads whole within its time range. They are rare.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from operator import sub
from typing import Any

from ....store.db import Database

ALL = ""  # the attribute of the list of every event
CAP = 512  # entries per row
_FETCH = 16  # regular rows read at a time

Pair = tuple[int, int]  # (event time in epoch seconds, seq)
Scoped = dict[tuple[str, str], dict[tuple[str, str], list[Pair]]]  # (account, region) -> (attribute, value) -> pairs


_texts: dict[Pair, str] = {}  # the text of the differences seen (few: mostly "0:1")


def encode(entries: Sequence[Pair], after: Pair = (0, 0)) -> str:
    """``entries`` (ascending) as differences, the first from ``after``."""
    times = [time for time, _ in entries]
    seqs = [seq for _, seq in entries]
    out = []
    get = _texts.get
    for pair in zip(map(sub, times, [after[0], *times[:-1]]), map(sub, seqs, [after[1], *seqs[:-1]]), strict=True):
        text = get(pair)
        if text is None:
            text = f"{pair[0]}:{pair[1]}"
            if len(_texts) < 4096:
                _texts[pair] = text
        out.append(text)
    return ",".join(out)


class _Encoder:
    """:func:`encode` for one batch, reusing the text of a list equal to one already encoded (in a batch of
    repeated calls, every value's list is the list of all events)."""

    def __init__(self) -> None:
        self._done: dict[tuple[Pair, int, Pair, Pair], tuple[list[Pair], str]] = {}

    def __call__(self, entries: list[Pair], after: Pair = (0, 0)) -> str:
        key = (after, len(entries), entries[0], entries[-1])
        found = self._done.get(key)
        if found is not None and found[0] == entries:
            return found[1]
        text = encode(entries, after)
        self._done[key] = (entries, text)
        return text


def decode(text: str) -> list[Pair]:
    out = []
    time = seq = 0
    for part in text.split(","):
        dt, _, ds = part.partition(":")
        time += int(dt)
        seq += int(ds)
        out.append((time, seq))
    return out


_INSERT = (
    "INSERT INTO cloudtrail_lookup (id, account_id, region, attribute, value, regular, min_time, max_time, last_seq, "
    "entry_count, entries) VALUES"
)


@dataclass(frozen=True, slots=True)
class Plan:
    """What adding a batch's entries writes, worked out by reading alone (:func:`plan`): appends to the newest
    regular rows (``UPDATE``), and new rows. Valid while no other batch is indexed (the rows it read stay as they
    were): :func:`apply` it in the transaction that checks that."""

    appends: list[tuple[str, int, int, int, int]]  # (text, max_time, last_seq, entries, id)
    rows: list[tuple[Any, ...]]


def plan(db: Database, scoped: Scoped) -> Plan:
    """The writes that add a batch's entries (reads only)."""
    next_id = int(db.scalar("SELECT MAX(id) FROM cloudtrail_lookup") or 0) + 1
    rows: list[tuple[Any, ...]] = []
    appends: list[tuple[str, int, int, int, int]] = []
    encode = _Encoder()
    for (account, region), lists in scoped.items():
        for (attribute, value), entries in lists.items():
            entries.sort()
            key = (account, region, attribute, value)
            last = db.one(
                "SELECT id, max_time, last_seq, entry_count FROM cloudtrail_lookup WHERE account_id = ? AND "
                "region = ? AND attribute = ? AND value = ? AND regular = 1 ORDER BY min_time DESC, last_seq DESC "
                "LIMIT 1",
                key,
            )
            start = 0
            if last is not None:
                tail: Pair = (last["max_time"], last["last_seq"])
                while start < len(entries) and entries[start] <= tail:
                    start += 1
                for index in range(0, start, CAP):  # older than the newest regular row: irregular rows
                    chunk = entries[index:min(index + CAP, start)]
                    rows.append((next_id, *key, 0, chunk[0][0], chunk[-1][0], chunk[-1][1], len(chunk),
                                 encode(chunk)))
                    next_id += 1
                room = CAP - last["entry_count"]
                if room > 0 and start < len(entries):
                    chunk = entries[start:start + room]
                    appends.append((encode(chunk, tail), chunk[-1][0], chunk[-1][1], len(chunk), last["id"]))
                    start += len(chunk)
            for index in range(start, len(entries), CAP):
                chunk = entries[index:index + CAP]
                rows.append((next_id, *key, 1, chunk[0][0], chunk[-1][0], chunk[-1][1], len(chunk), encode(chunk)))
                next_id += 1
    return Plan(appends, rows)


def apply(db: Database, planned: Plan) -> None:
    """Write what :func:`plan` worked out (inside the caller's write transaction)."""
    if planned.appends:
        db.executemany(
            "UPDATE cloudtrail_lookup SET entries = entries || ',' || ?, max_time = ?, last_seq = ?, "
            "entry_count = entry_count + ? WHERE id = ?",
            planned.appends,
        )
    if planned.rows:
        db.insert_rows(_INSERT, planned.rows)


def write(db: Database, scoped: Scoped) -> None:
    """Add a batch's entries (inside the caller's transaction)."""
    apply(db, plan(db, scoped))


def _keep(best: list[Pair], pair: Pair, limit: int) -> None:
    if len(best) < limit:
        heapq.heappush(best, pair)
    elif pair > best[0]:
        heapq.heapreplace(best, pair)


def find(db: Database, account: str, region: str, attribute: str, value: str, start: int, end: int,
         before: Pair | None, limit: int) -> list[Pair]:
    """The newest ``limit`` (time, seq) of (account, region)'s events having ``attribute`` = ``value`` (``ALL``:
    every event) with ``start <= time <= end`` and, with ``before``, older than that pair; newest first."""
    upper = end if before is None else min(end, before[0])
    if upper < start or limit <= 0:
        return []
    key = (account, region, attribute, value)

    def wanted(pair: Pair) -> bool:
        return start <= pair[0] <= upper and (before is None or pair < before)

    best: list[Pair] = []  # a min-heap of the newest ``limit`` so far
    for (entries,) in db.all(
        "SELECT entries FROM cloudtrail_lookup WHERE account_id = ? AND region = ? AND attribute = ? AND value = ? "
        "AND regular = 0 AND min_time <= ? AND max_time >= ?",
        (*key, upper, start),
    ):
        for pair in decode(entries):
            if wanted(pair):
                _keep(best, pair, limit)
    cursor = db.execute(
        "SELECT max_time, last_seq, entries FROM cloudtrail_lookup WHERE account_id = ? AND region = ? AND "
        "attribute = ? AND value = ? AND regular = 1 AND min_time <= ? ORDER BY min_time DESC, last_seq DESC",
        (*key, upper),
    )
    try:
        while True:
            batch = cursor.fetchmany(_FETCH)
            for max_time, last_seq, entries in batch:
                if max_time < start or (len(best) >= limit and (max_time, last_seq) < best[0]):
                    return sorted(best, reverse=True)  # this row and every older one cannot add anything
                for pair in decode(entries):
                    if wanted(pair):
                        _keep(best, pair, limit)
            if len(batch) < _FETCH:
                return sorted(best, reverse=True)
    finally:
        cursor.close()
