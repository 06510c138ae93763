"""The CloudTrail store: the only code with SQL for CloudTrail's tables.

* :mod:`.events`: the recorded events (``cloudtrail_events``, ``cloudtrail_shapes``); its interface is exported
  here. :mod:`.postings`: their lookup index (``cloudtrail_lookup``).
* :mod:`.journal`: how far each event journal is copied (``cloudtrail_journal``).
* :mod:`.trails`: the trails (``cloudtrail_trails``), as frozen :class:`~.trails.Trail` records.

Interface for readers of the event stream (trail delivery, ``turnout trail``)::

    from turnout.services.cloudtrail.store import StoredEvent, events_after, flush

    flush(gateway)                       # write the recorder's pending events now (no-op without a recorder)
    last_seq(db)                         # the seq of the newest event written (0: none yet)
    batch = events_after(db, seq, 500)   # the next events after ``seq`` (0: from the start), in seq order,
                                         # across all accounts and regions
    for event in batch:                  # StoredEvent(seq, account_id, region, event_time, record, read_only)
        ...                              # record: the CloudTrail record (dict); event_time: aware UTC datetime
    seq = batch[-1].seq                  # remember it to continue

The recorder writes with :func:`write_events` and indexes with :func:`index_events` (called through this package,
so a benchmark can time them); LookupEvents reads with :func:`find`, :func:`by_event_id` and :func:`events`.
"""

from __future__ import annotations

from . import journal, postings
from .events import (
    ALL,
    LookupEvent,
    StoredEvent,
    append,
    by_event_id,
    event_ids,
    events,
    events_after,
    find,
    flush,
    index_events,
    indexed_seq,
    last_seq,
    seq_of,
    unindexed,
    write_events,
)

__all__ = [
    "ALL",
    "LookupEvent",
    "StoredEvent",
    "append",
    "by_event_id",
    "event_ids",
    "events",
    "events_after",
    "find",
    "flush",
    "index_events",
    "indexed_seq",
    "journal",
    "last_seq",
    "postings",
    "seq_of",
    "unindexed",
    "write_events",
]
