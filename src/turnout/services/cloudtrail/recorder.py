"""The CloudTrail recorder: the gateway's :class:`~turnout.gateway.gateway.Recorder` that records every call.

Recording never fails the call it records. ``record`` builds the call's record (a few microseconds: records of
repeated calls are made from a cached shape, :mod:`.records`) and makes it durable before the call is answered:

* **In a server:** its event is appended to this process's journal (:mod:`.journal`), one ``write`` to a file,
  which survives a ``kill -9``: a write's inside its transaction, before the commit (a write that committed always
  has its event), any other call's after it, an internal call's (ECS's calls through the gateway) whatever becomes
  of the transaction it was made in. :meth:`CloudTrailRecorder.flush` copies every journal into the event store, in
  the order the calls were made: the background process's task every :data:`FLUSH_SECONDS`, or as soon as
  :data:`COPY_AT_BYTES` of journal wait (one process, so that copies never race for the writer lock),
  ``LookupEvents`` in any process (so that a call is found as soon as it has been answered, whichever process
  answered it), and every process when it stops. The first copy also takes what a stopped or crashed process left.
* **Without a server** (a gateway used in process, as tests do): a write's event is written in the write's own
  transaction (one commit for the change and its event); any other call's in a transaction of its own, before its
  answer; an internal call's at once, or after the transaction it was made in.

The durable write adds the events' rows only; their lookup entries (the posting lists of :mod:`.store.postings`,
whose rows a lone event would rewrite whole) are added by the background process once every
:data:`FLUSH_SECONDS` and by every other :meth:`~CloudTrailRecorder.flush` but ``LookupEvents``' (which finds the
events not indexed yet by reading them, :func:`.store.find`). After a crash,
the events written but not yet indexed are indexed by the first flush (:func:`.store.index_events` resumes after
:func:`.store.indexed_seq`).

A batch whose write fails is written again event by event, an event the database refuses (text with a lone
surrogate) with that text escaped (:meth:`.records.Draft.escaped`): one event never costs another.
When the recorder is behind (more than :data:`MAX_PENDING` calls waiting) or broken (a record cannot be built,
an event cannot be written even escaped), calls still get their answers: the events are dropped, counted, and
logged (at most once every :data:`LOG_EVERY` seconds). The counters are served in ``/_turnout/health``
under ``"cloudtrail"``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...store.db import Database
from . import store
from .journal import Journal
from .records import Draft, drafts, shapes

if TYPE_CHECKING:
    from ...core.context import RequestContext
    from ...gateway.gateway import Gateway

log = logging.getLogger("turnout.cloudtrail")

# The background process indexes every FLUSH_SECONDS (an indexing pass costs much the same whatever the number of
# events: it rewrites the posting list of every value they carry; README, CloudTrail), and copies at least as often.
FLUSH_SECONDS = 1.0
# A copy holds the writer lock while it runs, and every write of every worker waits for it: the background process
# copies as soon as this many bytes of journal wait (a few hundred calls' events), looking every LOOK_SECONDS, so
# that no copy holds the lock for long under load.
COPY_AT_BYTES = 64 * 1024
LOOK_SECONDS = 0.05
MAX_PENDING = 100_000
LOG_EVERY = 10.0
INDEX_BATCH = 50_000  # events indexed per transaction
# LookupEvents reads the events not indexed yet row by row (store.find): beyond this many it indexes them first.
UNINDEXED_AT_MOST = 5_000


class CloudTrailRecorder:
    def __init__(self, db: Database, *, max_pending: int = MAX_PENDING, journal_dir: Path | None = None) -> None:
        self.db = db
        self.max_pending = max_pending
        self.journal_dir = journal_dir  # where start() opens this process's journal (None: no journal)
        self.journal: Journal | None = None
        self.recorded = 0  # events made durable
        self.dropped = 0  # events lost (a call whose record could not be built counts one)
        self.auto_flush = True  # write at once (no server loop); the server's flusher task turns this off
        self._pending: deque[Draft] = deque()
        self._task: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None  # the background flush's (one thread: one connection)
        self._counting = threading.Lock()  # calls are recorded from the server's request threads
        self._queue = threading.Lock()  # held while the queue's events are taken and written (_write)
        self._copied: dict[str, int] = {}  # journal -> the position this process last saw it copied up to
        self._last_warning = 0.0
        # Adds to counters that all worker processes share ("recorded", "dropped"), and reads their totals
        # (turnout.workers.Tally): /_turnout/health then reports every worker's events, whichever answers.
        self.share: Callable[[str, int], None] | None = None
        self.totals: Callable[[], dict[str, int]] | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def stats(self) -> dict[str, int]:
        """Events recorded and dropped (by every worker, when they share counters), and waiting (here)."""
        counts = self.totals() if self.totals is not None else {"recorded": self.recorded, "dropped": self.dropped}
        return {"recorded": counts["recorded"], "dropped": counts["dropped"], "pending": len(self._pending)}

    # -- the Recorder protocol ----------------------------------------------------------------------------

    def record(self, ctx: RequestContext) -> None:
        if ctx.principal is None or ctx.operation is None:
            return  # unauthenticated or unknown calls are not recorded
        if len(self._pending) >= self.max_pending:
            self._lose(1, "the recorder is behind (%d events waiting)", len(self._pending))
            return
        try:
            found = shapes(ctx)
        except Exception:
            self._lose(1, "could not build the record of %s", ctx.request_id, exc_info=True)
            return
        if not found:
            return  # not recorded (S3 data events, a call with no account to record it in)
        journal = self.journal
        shape_id = found[0].shape_id if len(found) == 1 else None
        if journal is not None and shape_id is not None:
            try:  # a repeated call, as most are: its shape's id, time and request id are all it writes
                second = int(ctx.received_at.timestamp())
                if journal.append_repeat(shape_id, found[0].parts, second, ctx.request_id):
                    self._count(1)
                    return
            except OSError:
                pass  # the way below meets it again, says so, and writes the event to the database
        built = drafts(ctx, found)
        http = ctx.http
        try:
            if self.journal is not None and self._journal(built):
                return
            if http is not None and self.db.in_transaction:
                self._count(self._insert(built))  # a write's event, in the write's own transaction
                return
            if http is not None:
                self._write(built)  # no journal: with the events queued before it, in a transaction of its own
                return
        except Exception:  # _insert and _write count their own failures; the call is answered whatever happens
            log.exception("CloudTrail write failed")
            return
        self._pending.extend(built)  # an internal call's, without a journal
        if self.auto_flush and not self.db.in_transaction:
            # In process, an internal call is written at once unless a transaction is open (a call made inside
            # another call's dispatch): the outer call's own record writes both once that transaction is over.
            self.flush()

    def _journal(self, built: list[Draft]) -> bool:
        """Append to this process's journal; False when it cannot be written (the caller writes another way)."""
        journal = self.journal
        if journal is None:
            return False
        try:
            journal.append(built)
        except OSError:
            now = time.monotonic()
            if now - self._last_warning >= LOG_EVERY:
                self._last_warning = now
                log.warning("CloudTrail: the journal %s cannot be written; writing events to the database",
                            journal.directory, exc_info=True)
            return False
        self._count(len(built))
        return True

    # -- writing --------------------------------------------------------------------------------------------

    def flush(self, *, index: bool = True) -> int:
        """Copy every journal into the store, write the events waiting here, and index every event written so far;
        returns the number of events written. ``index=False`` (``LookupEvents``, which finds the events not indexed
        yet without the index, and the background process between its indexing passes) leaves the indexing to the
        background process's next pass, unless more than :data:`UNINDEXED_AT_MOST` events wait for it (no
        background process: a gateway used in process)."""
        try:
            copied = self._copy_journals()
        except Exception:  # rolled back: the journals are copied again at the next flush, nothing is lost
            log.exception("CloudTrail: could not copy the journals")
            copied = 0
        written = copied + self._write()
        if index or store.unindexed(self.db) > UNINDEXED_AT_MOST:
            self._index()
        return written

    def write_pending(self) -> int:
        """Write the events waiting (internal calls' without a journal), without their lookup entries."""
        if not self._pending:
            return 0
        try:
            return self._write()
        except Exception:  # _write counts its own failures
            log.exception("CloudTrail write failed")
            return 0

    def _write(self, extra: list[Draft] | None = None) -> int:
        """Write every pending event, and ``extra``, in one transaction, without their lookup entries; returns how
        many. Never called inside a transaction (the queue's lock is taken before the writer lock, never after)."""
        with self._queue:
            built = []
            pending = self._pending
            while pending:
                built.append(pending.popleft())
            built.extend(extra or ())
            written = self._insert(built)
            self._count(written)
            return written

    def _count(self, written: int) -> None:
        with self._counting:
            self.recorded += written
            if self.share is not None:
                self.share("recorded", written)

    def _insert(self, built: list[Draft]) -> int:
        """Write events in one transaction (a savepoint of the caller's, if one is open), without their lookup
        entries; returns how many."""
        if not built:
            return 0
        try:
            return store.write_events(self.db, built)
        except Exception:
            # The batch's savepoint is rolled back: write its events one by one, so that one event that cannot
            # be written (a hostile request's text) never takes the others with it.
            log.warning("CloudTrail: a batch of %d events failed; writing them one by one", len(built),
                        exc_info=True)
            return sum(self._insert_one(draft) for draft in built)

    def _insert_one(self, draft: Draft) -> int:
        """Write one event; one the database refuses is written again with its unencodable text escaped
        (:meth:`Draft.escaped`); lost (counted, logged) only if that fails too."""
        try:
            return store.write_events(self.db, [draft])
        except Exception:
            pass
        try:
            return store.write_events(self.db, [draft.escaped()])
        except Exception:
            self._lose(1, "could not write the event of %s", draft.request_id, exc_info=True)
            return 0

    def _index(self) -> None:
        """Add the lookup entries of the events written without them (by :meth:`_write`, or before a crash)."""
        try:
            self._index_all()
        except Exception:  # the events are written; their lookup entries are tried again at the next flush
            log.exception("CloudTrail: could not index written events")

    def _index_all(self) -> None:
        while store.index_events(self.db, INDEX_BATCH) == INDEX_BATCH:
            pass

    # -- copying the journals ---------------------------------------------------------------------------------

    def _copy_journals(self) -> int:
        """Copy the new frames of every journal into the store, in one transaction, events in the order their
        frames were written, without their lookup entries (:meth:`_index` adds them after, in transactions that
        take the writer lock only to write them); delete the journals nobody writes any more once copied. Returns
        the events written."""
        journal = self.journal
        if journal is None:
            if self.journal_dir is None or not self.journal_dir.is_dir():
                return 0
            journal = Journal.reader(self.journal_dir)  # none of our own (stopped): still copy what others left
        names = journal.names()
        if not names:
            return 0
        with ExitStack() as holding:
            sizes = {name: journal.size(name) for name in names}
            gone = {name for name in names if holding.enter_context(journal.abandoned(name))}
            due = [name for name in names
                   if sizes[name] is not None and (name in gone or (sizes[name] or 0) > self._copied.get(name, 0))]
            if not due:
                return 0  # nothing new since this process last copied (another may have since: no harm)
            # Copied by another process meanwhile (the background one copies every few hundred calls)? Then nothing
            # waits, and the writer lock, which every write of every worker waits for, is not taken for nothing.
            with self.db.transaction(write=False):
                stored = {name: store.journal.position(self.db, name) for name in due}
            for name, at in stored.items():
                self._copied[name] = max(self._copied.get(name, 0), at)
            due = [name for name in due if name in gone or (sizes[name] or 0) > stored[name]]
            if not due:
                return 0
            with self.db.transaction():
                frames: list[tuple[int, int, list[Draft]]] = []
                moved: dict[str, tuple[int, int]] = {}
                for order, name in enumerate(due):
                    start = store.journal.position(self.db, name)
                    found = journal.read(name, start)
                    if found is None:
                        continue
                    read, end, damaged = found
                    if damaged:
                        size = journal.size(name) or end
                        log.error("CloudTrail: the journal %s is damaged after byte %d; its remaining %d bytes are "
                                  "skipped", name, end, max(0, size - end))
                        end = max(end, size)
                    frames.extend((written_at, order, drafts) for written_at, drafts in read)
                    moved[name] = (start, end)
                frames.sort(key=lambda frame: (frame[0], frame[1]))  # stable: a journal's frames keep their order
                written = self._insert([draft for _, _, drafts in frames for draft in drafts])
                for name, (start, end) in moved.items():
                    if name in gone:
                        store.journal.forget(self.db, name)
                        journal.delete(name)  # under the writer lock: no process reads it after this commit
                    elif end != start:
                        store.journal.advance(self.db, name, end)
            for name, (_, end) in moved.items():
                if name in gone:
                    self._copied.pop(name, None)
                else:
                    self._copied[name] = end
            return written

    def _lose(self, count: int, message: str, *args: Any, exc_info: bool = False) -> None:
        with self._counting:
            self.dropped += count
            if self.share is not None:
                self.share("dropped", count)
        now = time.monotonic()
        if now - self._last_warning >= LOG_EVERY or exc_info:
            self._last_warning = now
            log.warning("CloudTrail: events lost (%d so far): " + message, self.dropped, *args, exc_info=exc_info)

    # -- the background flusher ----------------------------------------------------------------------------

    def start(self, *, copies: bool = True) -> None:
        """Write from a task of the running event loop from now on (the server's), through a journal of this
        process's when the recorder has a directory for it; ``copies``: this process copies the journals in the
        background (the background process; the workers write theirs only)."""
        if self._task is not None:
            return
        self.auto_flush = False
        if self.journal_dir is not None and self.journal is None:
            self.journal = Journal(self.journal_dir)
        if copies or self.journal is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="turnout-cloudtrail")
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        indexed_at = -FLUSH_SECONDS
        while True:
            index = time.monotonic() - indexed_at >= FLUSH_SECONDS
            try:
                # In a thread: copying and indexing a second of calls takes milliseconds the loop owes
                # to requests. Always the same thread, so the same database connection, whose page and statement
                # caches stay warm. The first run copies what stopped or crashed processes left.
                await loop.run_in_executor(self._thread, partial(self.flush, index=index))
            except Exception:  # flush counts its own failures; never let the task die
                log.exception("CloudTrail flush failed")
            if index:
                indexed_at = time.monotonic()
            while time.monotonic() - indexed_at < FLUSH_SECONDS and self._waiting_bytes() < COPY_AT_BYTES:
                await asyncio.sleep(LOOK_SECONDS)

    def _waiting_bytes(self) -> int:
        """Bytes of journal written since this process last copied them (or saw them copied)."""
        journal = self.journal
        if journal is None:
            return 0
        copied = self._copied
        total = 0
        for name in journal.names():
            total += max(0, (journal.size(name) or 0) - copied.get(name, 0))
        return total

    def close(self) -> None:
        """Stop the task and write what is pending (server shutdown, before the database closes): this process's
        journal is closed, copied and deleted."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._thread is not None:
            self._thread.shutdown(wait=True)  # a flush under way ends before this one
            self._thread = None
        self.auto_flush = True
        if self.journal is not None:
            self.journal.close()
        self.flush()
        self.journal = None


def recorder_of(gateway: Gateway) -> CloudTrailRecorder | None:
    for recorder in gateway.recorders:
        if isinstance(recorder, CloudTrailRecorder):
            return recorder
    return None


def health(gateway: Gateway) -> dict[str, Any]:
    """``/_turnout/health``'s ``"cloudtrail"``: the recorder's counters (``enabled`` false without recording)."""
    recorder = recorder_of(gateway)
    if recorder is None:
        return {"enabled": False, "recorded": 0, "dropped": 0, "pending": 0}
    return {"enabled": True, **recorder.stats()}
