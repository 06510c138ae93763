"""CloudTrail's event journals: an answered call's event made durable by one ``write`` to a file, not a commit.

Each server process appends the events of its calls to a file of its own in ``<data-dir>/cloudtrail-journal/``
(``<pid>-<nanoseconds>.events``), one ``os.write`` per call, before the call is answered. Written bytes belong to
the kernel once ``write`` returns, so a ``kill -9`` of the process loses none of them; like SQLite's WAL at
``synchronous=NORMAL`` (:mod:`turnout.store.db`), a power cut is not covered. The recorder copies the journals'
events into the event store in batches, off the answers (:meth:`~.recorder.CloudTrailRecorder.flush`): a call
then costs a few microseconds of recording instead of a transaction, and the processes stop changing the database
under each other's reads at every call.

* **A frame per write:** its payload's length and CRC-32 (8 bytes, little-endian), then the payload: the time it
  was written (nanoseconds) and the call's :class:`~.records.Draft` tuples, ``marshal``-ed; or, for a repeated call
  whose record shape the file already holds in full, only the shape's id, the eventTime and the request id
  (:class:`Encoder`, :class:`Decoder`). A reader stops at a frame not yet whole (a write in progress in another
  process); a frame whose CRC does not match ends the file's usable part (it is logged).
* **In the order the calls were made:** one copy takes the new frames of every journal and writes their events in
  the order of their times, so the store numbers events (``seq``, which orders ``LookupEvents``) as they happened,
  whichever process answered them.
* **Copied exactly once:** how far a journal has been copied is stored in the transaction that writes the copied
  events (:mod:`.store.journal`), so any process may copy any journal, and two copying at once take turns.
* **Ownership:** the process writing a journal holds an ``flock`` on it; a file created under a temporary name is
  locked before it is named ``.events``. A journal nobody holds (its process stopped, or crashed) is copied and
  deleted by the next process to look; any torn frame at its end was never acknowledged.
* **Rotation:** a journal past :data:`ROTATE_AT` bytes is closed and a new one opened, so that files stay small.
"""

from __future__ import annotations

import fcntl
import logging
import marshal
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from .records import Draft

log = logging.getLogger("turnout.cloudtrail")

DIRECTORY = "cloudtrail-journal"
SUFFIX = ".events"
ROTATE_AT = 4 * 1024 * 1024  # bytes
_HEADER = struct.Struct("<II")  # payload length, CRC-32 of the payload
_MARSHAL_VERSION = 4


Frame = tuple[int, list[Draft]]  # (written at, in nanoseconds since the epoch; the drafts)

_FULL, _SHORT = 0, 1  # a payload's first byte: drafts marshal-ed whole, or repeats of drafts written before
_KIND = struct.Struct("<B")
_SHORT_HEAD = struct.Struct("<Bq")  # _SHORT, written at
_REPEAT = struct.Struct("<qqB")  # shape id, eventTime (epoch seconds), length of the request id (ASCII)
_ONE_REPEAT = struct.Struct("<Bq" + "qqB")  # a short payload of one repeat (_SHORT_HEAD then _REPEAT, packed at once)


_make = Draft._make


def _same_shape(draft: Draft, template: Draft) -> bool:
    """Whether ``draft`` is ``template`` but for its eventTime and request id. Drafts of one cached shape share its
    text (``parts``, made once per shape) and every other field: then nothing more is compared."""
    if draft.parts is template.parts and draft.shape_id == template.shape_id:
        return True
    return draft[:2] == template[:2] and draft[3:11] == template[3:11] and draft[12] == template[12]


class Encoder:
    """Frames for one journal file. A draft of a cached shape (a repeated call: ``Draft.shape_id``) whose shape
    this file already holds in full is written as its shape id, eventTime and request id (some 60 bytes instead of
    a kilobyte): the reader takes the rest from the draft written in full (:class:`Decoder`)."""

    def __init__(self) -> None:
        self.templates: dict[int, Draft] = {}

    def frame(self, drafts: Sequence[Draft], written_at: int | None = None) -> bytes:
        """One frame holding ``drafts``, written now (or at ``written_at``, nanoseconds)."""
        at = time.time_ns() if written_at is None else written_at
        templates = self.templates
        if len(drafts) == 1:  # a call's one event, mostly a repeat: packed in one step
            draft = drafts[0]
            template = templates.get(draft.shape_id) if draft.shape_id is not None else None
            request = draft.request_id
            if template is not None and request.isascii() and len(request) <= 255 and _same_shape(draft, template):
                return _one_repeat(at, draft.shape_id, draft.event_time, request)
        repeats: list[bytes] = []
        for draft in drafts:
            shape = draft.shape_id
            template = templates.get(shape) if shape is not None else None
            request = draft.request_id
            if template is None or not request.isascii() or len(request) > 255 or not _same_shape(draft, template):
                break
            encoded = request.encode("ascii")
            repeats.append(_REPEAT.pack(shape, draft.event_time, len(encoded)) + encoded)
        else:
            return _framed(_SHORT_HEAD.pack(_SHORT, at) + b"".join(repeats))
        for draft in drafts:
            if draft.shape_id is not None:
                templates[draft.shape_id] = draft
        return _framed(_KIND.pack(_FULL) + marshal.dumps((at, [tuple(draft) for draft in drafts]), _MARSHAL_VERSION))

    def repeat(self, shape_id: int, parts: tuple[str, str, str, str], event_time: int, request_id: str) -> bytes | None:
        """The frame of one draft of a cached shape (:class:`~.records.Shape`) written now, made from the shape's id
        and text alone; None unless this file holds that shape in full (its text the very same object) and the
        request id fits a repeat: then the draft goes through :meth:`frame`."""
        template = self.templates.get(shape_id)
        if template is None or template.parts is not parts or not request_id.isascii() or len(request_id) > 255:
            return None
        return _one_repeat(time.time_ns(), shape_id, event_time, request_id)


def _one_repeat(at: int, shape_id: int | None, event_time: int, request_id: str) -> bytes:
    encoded = request_id.encode("ascii")
    return _framed(_ONE_REPEAT.pack(_SHORT, at, shape_id, event_time, len(encoded)) + encoded)


def _framed(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def encode(drafts: Sequence[Draft], written_at: int | None = None) -> bytes:
    """One self-contained frame holding ``drafts`` (every draft written in full)."""
    return Encoder().frame(drafts, written_at)


class Decoder:
    """Reads one journal file's frames, keeping the drafts written in full as the templates of later repeats."""

    def __init__(self) -> None:
        self.templates: dict[int, Draft] = {}
        self.learned = 0  # the position up to which the file's templates are known

    def learn(self, data: bytes, start: int) -> None:
        """Take the templates of the frames in ``data`` (the file from byte ``start``), without keeping their
        drafts: a reader that begins in the middle of a file first reads the part before for them."""
        self.decode(data, start, keep=False)

    def decode(self, data: bytes, start: int, *, keep: bool = True) -> tuple[list[Frame], int, bool]:
        """The whole frames at the start of ``data`` (the file from byte ``start``), the number of bytes they
        take, and whether a damaged frame (its CRC does not match, its payload does not load, or it repeats a shape
        the file never held) ended the reading."""
        frames: list[Frame] = []
        templates = self.templates
        at, size = 0, len(data)
        while size - at >= _HEADER.size:
            length, crc = _HEADER.unpack_from(data, at)
            end = at + _HEADER.size + length
            if end > size:
                break  # being written: read it next time
            payload = data[at + _HEADER.size:end]
            if zlib.crc32(payload) != crc or not payload:
                return frames, at, True
            try:
                if payload[0] == _SHORT:
                    _, written_at = _SHORT_HEAD.unpack_from(payload)
                    drafts = []
                    offset = _SHORT_HEAD.size
                    while offset < len(payload):
                        shape, event_time, length = _REPEAT.unpack_from(payload, offset)
                        offset += _REPEAT.size
                        request = payload[offset:offset + length].decode("ascii")
                        offset += length
                        t = templates[shape]  # the template with this call's eventTime and request id
                        drafts.append(_make((t[0], t[1], event_time, t[3], t[4], t[5], t[6], t[7], t[8], t[9],
                                             t[10], request, t[12])))
                else:
                    written_at, tuples = marshal.loads(payload[1:])
                    drafts = [Draft._make(fields) for fields in tuples]
                    for draft in drafts:
                        if draft.shape_id is not None:
                            templates[draft.shape_id] = draft
            except (ValueError, EOFError, TypeError, KeyError, struct.error, UnicodeDecodeError):
                return frames, at, True
            if keep:
                frames.append((int(written_at), drafts))
            at = end
        self.learned = max(self.learned, start + at)
        return frames, at, False


def decode(data: bytes) -> tuple[list[Frame], int, bool]:
    """The whole frames at the start of ``data`` (a file from its start)."""
    return Decoder().decode(data, 0)


class Journal:
    """This process's journal file (appended to) and every process's (listed, read, claimed once abandoned)."""

    def __init__(self, directory: Path, *, rotate_at: int = ROTATE_AT, writing: bool = True) -> None:
        self.directory = directory
        self.rotate_at = rotate_at
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._name = ""
        self._size = 0
        self._encoder = Encoder()  # this process's file's
        self._decoders: dict[str, Decoder] = {}  # every file read so far's
        if writing:
            directory.mkdir(parents=True, exist_ok=True)
            self._open()

    @classmethod
    def reader(cls, directory: Path) -> Journal:
        """The journals of ``directory``, for a process that writes none (it copies those others left)."""
        return cls(directory, writing=False)

    @property
    def name(self) -> str:
        """The name of the file this process appends to ("" once closed)."""
        return self._name

    def _open(self) -> None:
        """Start a new file: created under a temporary name, locked, then named (never seen unlocked)."""
        name = f"{os.getpid()}-{time.time_ns()}{SUFFIX}"
        temporary = self.directory / f".{name}.new"
        fd = os.open(temporary, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(temporary, self.directory / name)
        previous, self._fd, self._name, self._size = self._fd, fd, name, 0
        self._encoder = Encoder()  # a file holds the templates of its own repeats
        if previous is not None:
            os.close(previous)  # unlocked: copied and deleted once its events are in the store

    def append(self, drafts: Sequence[Draft]) -> None:
        """Write ``drafts`` as one frame; raises OSError when the file cannot be written (closed, disk full)."""
        with self._lock:
            self._write(self._encoder.frame(drafts), self._ready())

    def append_repeat(self, shape_id: int, parts: tuple[str, str, str, str], event_time: int,
                      request_id: str) -> bool:
        """Write one draft of a cached shape as a repeat (:meth:`Encoder.repeat`), without making the draft: a
        repeated call's whole recording on the request path. False, with nothing written, when the file does not
        hold the shape in full (:meth:`append` the draft instead); raises OSError as :meth:`append` does."""
        with self._lock:
            fd = self._ready()
            frame = self._encoder.repeat(shape_id, parts, event_time, request_id)
            if frame is None:
                return False
            self._write(frame, fd)
            return True

    def _ready(self) -> int:
        """The file to append to (a new one past :data:`ROTATE_AT`), under the lock."""
        if self._fd is None:
            raise OSError("the CloudTrail journal is closed")
        if self._size >= self.rotate_at:
            self._open()
        assert self._fd is not None
        return self._fd

    def _write(self, frame: bytes, fd: int) -> None:
        written = os.write(fd, frame)
        if written != len(frame):  # a short write (a full disk's last bytes): the rest, or the error
            view = memoryview(frame)[written:]
            while view:
                view = view[os.write(fd, view):]
        self._size += len(frame)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
            self._fd, self._name = None, ""

    # -- every process's files ---------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """The journals in the directory, oldest first (by their creation time, then process)."""
        try:
            found = [entry.name for entry in os.scandir(self.directory) if entry.name.endswith(SUFFIX)]
        except FileNotFoundError:
            return []
        return sorted(found, key=_created)

    def size(self, name: str) -> int | None:
        try:
            return os.stat(self.directory / name).st_size
        except FileNotFoundError:
            return None

    def read(self, name: str, start: int) -> tuple[list[Frame], int, bool] | None:
        """The whole frames of ``name`` after byte ``start``, the position after them, and whether a damaged frame
        stopped the reading; None when the file is gone. Called under the database's writer lock (a copy's
        transaction), so one thread at a time."""
        decoder = self._decoders.get(name)
        if decoder is None:
            decoder = self._decoders[name] = Decoder()
        try:
            with open(self.directory / name, "rb") as file:
                if decoder.learned < start:  # the repeats after ``start`` may need templates written before it
                    file.seek(decoder.learned)
                    decoder.learn(file.read(start - decoder.learned), decoder.learned)
                file.seek(start)
                data = file.read()
        except FileNotFoundError:
            self._decoders.pop(name, None)
            return None
        frames, used, damaged = decoder.decode(data, start)
        return frames, start + used, damaged

    @contextmanager
    def abandoned(self, name: str) -> Iterator[bool]:
        """Whether no process holds ``name`` any more (its writer closed it, or died); while True, the caller
        holds it, so that it can delete it."""
        if name == self._name:
            yield False
            return
        try:
            fd = os.open(self.directory / name, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            yield False
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def delete(self, name: str) -> None:
        self._decoders.pop(name, None)
        with suppress(FileNotFoundError):
            os.unlink(self.directory / name)


def _created(name: str) -> tuple[int, int]:
    pid, _, rest = name.partition("-")
    try:
        return int(rest.removesuffix(SUFFIX)), int(pid)
    except ValueError:
        return 0, 0
