"""The clients of the ``mixed`` benchmark, each kind in its own process so that none slows another's clock:

* ``MixClients``: the closed-loop clients of a :class:`bench.mixplan.Plan`, one kept-alive connection each, driven
  from one epoll loop over raw sockets (the style of ``loadgen.py``): send a pre-signed request, read its answer
  by Content-Length, send the next. Every request completed in the measured window is recorded (label, status,
  send and completion times).
* ``Probes``: ``GET /_turnout/health`` every ``interval`` seconds, one probe on a kept-alive connection and one
  opening a fresh connection per request (``Connection: close``; its latency includes the connect), each in its
  own thread.
* ``heavy_loop``: one client repeating a pre-signed heavy call on its own connection (a thread of the caller).

Every time is ``time.monotonic_ns()``, one clock for all processes, so that requests can be matched to the heavy
calls they overlapped. Every loop is bounded by the window's end plus ``GRACE``.
"""

from __future__ import annotations

import multiprocessing
import select
import socket
import threading
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from .common import HOST, BenchError, connect, parse_head
from .mixplan import Plan

GRACE = 30.0  # seconds after the window for the answers in flight (a heavy call may take several seconds)
START_DELAY = 0.5  # seconds the processes get to start before the warmup begins


@dataclass
class Window:
    """Monotonic times (seconds): clients start at ``start``, are measured from ``warm_end`` to ``end``."""

    start: float
    warm_end: float
    end: float

    @classmethod
    def after(cls, warmup: float, duration: float) -> Window:
        start = time.monotonic() + START_DELAY
        return cls(start, start + warmup, start + warmup + duration)

    @property
    def ns(self) -> tuple[int, int]:
        return int(self.warm_end * 1e9), int(self.end * 1e9)


@dataclass
class Samples:
    """Completed requests: parallel arrays (label index, HTTP status or 0 for a socket error, sent, done in ns)."""

    labels: array = field(default_factory=lambda: array("h"))
    status: array = field(default_factory=lambda: array("h"))
    sent: array = field(default_factory=lambda: array("q"))
    done: array = field(default_factory=lambda: array("q"))

    def add(self, label: int, status: int, sent: int, done: int) -> None:
        self.labels.append(label)
        self.status.append(status)
        self.sent.append(sent)
        self.done.append(done)

    def pack(self) -> dict[str, bytes]:
        return {name: getattr(self, name).tobytes() for name in ("labels", "status", "sent", "done")}

    @classmethod
    def unpack(cls, data: dict[str, bytes]) -> Samples:
        samples = cls()
        for name in ("labels", "status", "sent", "done"):
            getattr(samples, name).frombytes(data[name])
        return samples

    def __len__(self) -> int:
        return len(self.labels)


def _sleep_until(moment: float) -> None:
    while (left := moment - time.monotonic()) > 0:
        time.sleep(min(left, 0.2))


class _Client:
    __slots__ = ("buf", "closing", "cycle", "label", "need", "pos", "sent_ns", "sock", "status", "write_pos",
                 "writes")

    def __init__(self, sock: socket.socket, cycle: list[int], writes: list[int]) -> None:
        self.sock = sock
        self.cycle, self.writes = cycle, writes
        self.pos = self.write_pos = 0
        self.buf = bytearray()
        self.need = -1
        self.status = 0
        self.closing = False
        self.label = -1
        self.sent_ns = 0


def _mix_worker(port: int, plan: Plan, window: Window, out: Connection) -> None:
    """One process: every client of ``plan`` on its own connection, one epoll loop."""
    samples = Samples()
    errors: Counter[str] = Counter()
    exhausted = 0  # writes wanted once a client's signed writes ran out (a read was sent instead)
    end_ns = window.ns[1]
    hard_stop = window.end + GRACE
    poller = select.epoll()
    clients: dict[int, _Client] = {}
    requests = plan.requests
    cpu_at_warm: float | None = None
    cpu_at_end: float | None = None

    def next_request(client: _Client) -> int:
        nonlocal exhausted
        while True:
            slot = client.cycle[client.pos % len(client.cycle)]
            client.pos += 1
            if slot >= 0:
                return slot
            if client.write_pos < len(client.writes):
                client.write_pos += 1
                return client.writes[client.write_pos - 1]
            exhausted += 1

    def send(client: _Client) -> bool:
        index = next_request(client)
        client.label, raw = requests[index]
        client.sent_ns = time.monotonic_ns()
        try:
            client.sock.sendall(raw)
            return True
        except OSError:
            errors["write"] += 1
            samples.add(client.label, 0, client.sent_ns, time.monotonic_ns())
            return False

    def drop(client: _Client) -> None:
        poller.unregister(client.sock.fileno())
        del clients[client.sock.fileno()]
        client.sock.close()

    def open_client(cycle: list[int], writes: list[int], old: _Client | None = None) -> None:
        """A connection for a client (a new one after an error: the plan goes on where it was)."""
        for _ in range(20):
            if time.monotonic() >= window.end:
                return
            try:
                sock = connect(port, 10.0)
            except OSError:
                errors["connect"] += 1
                time.sleep(0.05)
                continue
            sock.setblocking(True)
            client = _Client(sock, cycle, writes)
            if old is not None:
                client.pos, client.write_pos = old.pos, old.write_pos
            clients[sock.fileno()] = client
            poller.register(sock.fileno(), select.EPOLLIN)
            if not send(client):
                drop(client)
                continue
            return

    _sleep_until(window.start)
    for cycle, writes in zip(plan.cycles, plan.writes, strict=True):
        open_client(cycle, writes)
    while clients:
        now = time.monotonic()
        if cpu_at_warm is None and now >= window.warm_end:
            cpu_at_warm = time.process_time()
        if cpu_at_end is None and now >= window.end:
            cpu_at_end = time.process_time()
        if now >= hard_stop:
            errors["timeout"] += len(clients)
            break
        for fd, _event in poller.poll(0.05):
            client = clients.get(fd)
            if client is None:
                continue
            try:
                chunk = client.sock.recv(262144)
            except OSError:
                chunk = b""
            if not chunk:
                errors["read"] += 1
                done_ns = time.monotonic_ns()
                samples.add(client.label, 0, client.sent_ns, done_ns)
                drop(client)
                if done_ns < end_ns:
                    open_client(client.cycle, client.writes, client)
                continue
            client.buf += chunk
            if client.need < 0:
                head_end = client.buf.find(b"\r\n\r\n")
                if head_end < 0:
                    continue
                status, headers = parse_head(bytes(client.buf[:head_end]))
                client.status = status
                client.closing = headers.get("connection", "").lower() == "close"
                if "content-length" not in headers:
                    errors["no-content-length"] += 1
                    drop(client)
                    continue
                client.need = head_end + 4 + int(headers["content-length"])
            if len(client.buf) < client.need:
                continue
            done_ns = time.monotonic_ns()
            samples.add(client.label, client.status, client.sent_ns, done_ns)
            client.buf.clear()
            client.need = -1
            if done_ns >= end_ns:
                drop(client)
            elif client.closing or not send(client):  # go on with a new connection
                drop(client)
                open_client(client.cycle, client.writes, client)
    for client in list(clients.values()):
        drop(client)
    poller.close()
    cpu = (cpu_at_end or time.process_time()) - (cpu_at_warm or 0.0)
    out.send({"samples": samples.pack(), "errors": dict(errors), "exhausted": exhausted, "cpu": cpu})
    out.close()


# -- health probes -----------------------------------------------------------------------------------------------


def _read_answer(sock: socket.socket, deadline: float) -> tuple[int, bool]:
    """(status, whether the server will close) of one answer read whole by Content-Length."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the answer")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    status, headers = parse_head(head)
    need = int(headers.get("content-length", "0"))
    while len(body) < need:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the whole body")
        body += chunk
    return status, headers.get("connection", "").lower() == "close"


def _probe(port: int, fresh: bool, interval: float, window: Window, samples: Samples, errors: Counter[str]) -> None:
    raw = (f"GET /_turnout/health HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
           f"{'Connection: close' if fresh else 'Connection: keep-alive'}\r\n\r\n").encode()
    sock: socket.socket | None = None
    tick = window.start
    hard_stop = window.end + GRACE
    while tick < window.end:
        _sleep_until(tick)
        sent = time.monotonic_ns()  # a fresh probe's latency includes its connect
        try:
            if sock is None:
                sock = connect(port, 10.0)
            sock.sendall(raw)
            status, closing = _read_answer(sock, hard_stop)
        except OSError as exc:
            errors[type(exc).__name__] += 1
            status, closing = 0, True
        samples.add(1 if fresh else 0, status, sent, time.monotonic_ns())
        if (closing or fresh) and sock is not None:
            sock.close()
            sock = None
        tick += interval
        if tick < time.monotonic():  # a stalled probe: go on from now, without a burst of catch-up probes
            tick = time.monotonic()
    if sock is not None:
        sock.close()


def _probes_worker(port: int, interval: float, window: Window, out: Connection) -> None:
    own = [(Samples(), Counter[str]()) for _ in range(2)]  # one per thread: Samples.add is not atomic
    threads = [threading.Thread(target=_probe, args=(port, fresh, interval, window, *own[fresh]), daemon=True)
               for fresh in (False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(window.end - time.monotonic() + GRACE + 5)
    samples, errors = Samples(), Counter[str]()
    for part, part_errors in own:
        for name in ("labels", "status", "sent", "done"):
            getattr(samples, name).extend(getattr(part, name))
        errors.update(part_errors)
    out.send({"samples": samples.pack(), "errors": dict(errors), "cpu": time.process_time()})
    out.close()


PROBE_LABELS = ("health (kept-alive connection)", "health (new connection each)")


# -- processes ---------------------------------------------------------------------------------------------------


class Worker:
    """A forked process running ``target(*args, window, pipe)``; ``result()`` waits for what it sends."""

    def __init__(self, target: Any, *args: Any) -> None:
        ctx = multiprocessing.get_context("fork")
        self.receiver, sender = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=target, args=(*args, sender), daemon=True)
        self.process.start()
        sender.close()

    def result(self, window: Window) -> dict[str, Any]:
        wait = max(1.0, window.end - time.monotonic()) + GRACE + 10
        if not self.receiver.poll(wait):
            self.process.kill()
            raise BenchError("a client process gave no result")
        data: dict[str, Any] = self.receiver.recv()
        self.process.join(10)
        return data


def start_mix(port: int, plan: Plan, window: Window) -> Worker:
    return Worker(_mix_worker, port, plan, window)


def start_probes(port: int, interval: float, window: Window) -> Worker:
    return Worker(_probes_worker, port, interval, window)


# -- the heavy client --------------------------------------------------------------------------------------------


@dataclass
class HeavyCalls:
    """The heavy calls made: (sent, done) in ns, status, response bytes; socket errors."""

    calls: list[tuple[int, int, int, int]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


def heavy_loop(port: int, raw: bytes, window: Window, result: HeavyCalls) -> None:
    """Send ``raw`` again and again on one kept-alive connection from the window's start to its end."""
    sock: socket.socket | None = None
    hard_stop = window.end + GRACE
    _sleep_until(window.start)
    while time.monotonic() < window.end:
        sent = time.monotonic_ns()
        try:
            if sock is None:
                sock = connect(port, 10.0)
            sock.sendall(raw)
            status, size = _read_sized(sock, hard_stop)
        except OSError as exc:
            result.errors[type(exc).__name__] += 1
            if sock is not None:
                sock.close()
                sock = None
            time.sleep(0.05)
            continue
        result.calls.append((sent, time.monotonic_ns(), status, size))
    if sock is not None:
        sock.close()


def _read_sized(sock: socket.socket, deadline: float) -> tuple[int, int]:
    buf = bytearray()
    while (at := buf.find(b"\r\n\r\n")) < 0:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(262144)
        if not chunk:
            raise ConnectionError("closed before the answer")
        buf += chunk
    status, headers = parse_head(bytes(buf[:at]))
    need = at + 4 + int(headers.get("content-length", "0"))
    while len(buf) < need:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(262144)
        if not chunk:
            raise ConnectionError("closed before the whole body")
        buf += chunk
    return status, need - at - 4
