"""The CloudTrail recorder: the gateway's :class:`~turnout.gateway.gateway.Recorder` that records every call.

Recording never fails the call it records. ``record`` builds the call's record (a few microseconds: records of
repeated calls are made from a cached shape, :mod:`.records`) and appends it to an in-memory queue.

Durability: a call made over HTTP is answered only once its event is committed. The event of a write that
succeeded is written in the write's own transaction (the gateway records it before committing: one commit for the
change and its event); any other call's event (a read, a failure, a refusal) is written in a transaction of its
own right after the call, before its answer is serialised; or, for a call answered on the event loop while other
requests are in hand (``HttpRequest.batched``), in one transaction shared with theirs (group commit: the server
awaits :meth:`CloudTrailRecorder.committed` before answering; one commit per batch, not per call). So an
acknowledged call's event survives a ``kill -9``
(SQLite WAL, see :mod:`turnout.store.db`). Calls made internally (ECS's calls through the gateway) wait for
nothing: their events are written with the next HTTP call's, or by the background task every
:data:`FLUSH_SECONDS`, whatever becomes of the transaction they were made in. Without a server loop (a gateway used
in process, as tests do) they are written at once. ``LookupEvents`` flushes first, so a call is found as soon as
it has been answered.

The durable write adds the events' rows only; their lookup entries (the posting lists of :mod:`.store.postings`, whose
rows a lone event would rewrite whole) are added by every :meth:`~CloudTrailRecorder.flush`: the background task's,
``LookupEvents``'s, and the one at shutdown. After a crash, the events written but not yet indexed are indexed by
the first flush (:func:`.store.index_events` resumes after :func:`.store.indexed_seq`).

A batch whose write fails is written again event by event, an event the database refuses (text with a lone
surrogate) with that text escaped (:meth:`.records.Draft.escaped`): one event never costs another.
When the recorder is behind (more than :data:`MAX_PENDING` calls waiting) or broken (a record cannot be built,
an event cannot be written even escaped), calls still get their answers: the events are dropped, counted, and
logged (at most once every :data:`LOG_EVERY` seconds). The counters are served in ``/_turnout/health``
under ``"cloudtrail"``.

A graceful stop (SIGTERM/SIGINT) writes every pending event before the database closes; ``kill -9`` can lose
only the events of internal calls of the last :data:`FLUSH_SECONDS`, never an acknowledged call's.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...store.db import Database
from . import store
from .records import Draft, drafts

if TYPE_CHECKING:
    from ...core.context import RequestContext
    from ...gateway.gateway import Gateway

log = logging.getLogger("turnout.cloudtrail")

FLUSH_SECONDS = 0.1
MAX_PENDING = 100_000
LOG_EVERY = 10.0
INDEX_BATCH = 50_000  # events indexed per transaction


class CloudTrailRecorder:
    def __init__(self, db: Database, *, max_pending: int = MAX_PENDING) -> None:
        self.db = db
        self.max_pending = max_pending
        self.recorded = 0  # events written
        self.dropped = 0  # events lost (a call whose record could not be built counts one)
        self.auto_flush = True  # write at once (no server loop); the server's flusher task turns this off
        self._pending: deque[Draft] = deque()
        self._task: asyncio.Task[None] | None = None
        self._counting = threading.Lock()  # calls are recorded from the server's request threads
        self._queue = threading.Lock()  # held while the queue's events are taken and written (_write)
        self._batch: asyncio.Future[None] | None = None  # resolved once the events queued so far are written
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
            built = drafts(ctx)
        except Exception:
            self._lose(1, "could not build the record of %s", ctx.request_id, exc_info=True)
            return
        http = ctx.http
        try:
            if http is not None and self.db.in_transaction:
                self._store(built)  # a write's event, in the write's own transaction (the gateway records it there)
                return
            if http is not None and not http.batched:
                self._write(built)  # with the events queued before it, in a transaction of its own
                return
        except Exception:  # _store and _write count their own failures; the call is answered whatever happens
            log.exception("CloudTrail write failed")
            return
        self._pending.extend(built)  # a batched call's (see committed), or an internal call's
        if http is None and self.auto_flush and not self.db.in_transaction:
            # In process, an internal call is written at once unless a transaction is open (a call made inside
            # another call's dispatch): the outer call's own record writes both once that transaction is over.
            self.flush()

    # -- group commit ---------------------------------------------------------------------------------------

    def committed(self) -> asyncio.Future[None] | None:
        """A future resolved once every event queued so far is written (None: nothing is waiting to be).

        Called by the server, on its event loop, right after the gateway handled a batched call
        (``HttpRequest.batched``), with no ``await`` in between, so that the call's event is among those queued.
        The first caller schedules the write; the callers until it runs share it (one transaction for all their
        events). Await it shielded: it is shared.
        """
        if not self._pending and not self._queue.locked():
            return None  # nothing queued, and no write in progress that could hold this call's event
        # Queued events, or a write under way in another thread (the background flush) that may have taken this
        # call's event from the queue: the batch resolves once that write is committed too (_write waits for it).
        batch = self._batch
        if batch is None:
            loop = asyncio.get_running_loop()
            batch = self._batch = loop.create_future()
            loop.call_soon(self._commit)
        return batch

    def _commit(self) -> None:
        batch, self._batch = self._batch, None
        try:
            self._write()  # not indexed: the background task (or the next LookupEvents) does that off the answer
        except Exception:  # _write counts its own failures; the callers are answered whatever happens
            log.exception("CloudTrail flush failed")
        finally:
            if batch is not None and not batch.done():
                batch.set_result(None)

    # -- writing --------------------------------------------------------------------------------------------

    def flush(self) -> int:
        """Write every pending event now, and index every event written so far; returns the number written."""
        written = self._write()
        self._index()
        return written

    def write_pending(self) -> int:
        """Write the events waiting (internal calls'), without their lookup entries; returns how many."""
        if not self._pending:
            return 0
        try:
            return self._write()
        except Exception:  # _write counts its own failures
            log.exception("CloudTrail write failed")
            return 0

    def _write(self, extra: list[Draft] | None = None) -> int:
        """Write every pending event, and ``extra`` (durably, without their lookup entries); returns how many.

        Holds the queue's lock while it writes, so that a batch (:meth:`_commit`) that finds the queue empty
        because another thread took its events resolves only once they are committed. Never called inside a
        transaction (the lock is taken before the database's writer lock, never after)."""
        with self._queue:
            built = []
            pending = self._pending
            while pending:
                built.append(pending.popleft())
            built.extend(extra or ())
            return self._store(built)

    def _store(self, built: list[Draft]) -> int:
        if not built:
            return 0
        try:
            written = store.write_events(self.db, built)
        except Exception:
            # The batch's transaction is rolled back: write its events one by one, so that one event that cannot
            # be written (a hostile request's text) never takes the others with it.
            log.warning("CloudTrail: a batch of %d events failed; writing them one by one", len(built),
                        exc_info=True)
            written = sum(self._append_one(draft) for draft in built)
        with self._counting:
            self.recorded += written
            if self.share is not None:
                self.share("recorded", written)
        return written

    def _index(self) -> None:
        """Add the lookup entries of the events written without them (by :meth:`_write`, or before a crash)."""
        try:
            while store.index_events(self.db, INDEX_BATCH) == INDEX_BATCH:
                pass
        except Exception:  # the events are written; their lookup entries are tried again at the next flush
            log.exception("CloudTrail: could not index written events")

    def _append_one(self, draft: Draft) -> int:
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

    def start(self) -> None:
        """Write from a task of the running event loop from now on (the server's)."""
        if self._task is not None:
            return
        self.auto_flush = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                # In a thread: indexing a tenth of a second of calls takes milliseconds the loop owes to requests.
                await asyncio.to_thread(self.flush)
            except Exception:  # flush counts its own failures; never let the task die
                log.exception("CloudTrail flush failed")

    def close(self) -> None:
        """Stop the task and write what is pending (server shutdown, before the database closes)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.auto_flush = True
        self.flush()


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
