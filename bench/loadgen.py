"""Closed-loop HTTP load generators replaying one pre-signed request: ``wrk`` when installed, else raw sockets.

Both keep ``connections`` connections busy, one request in flight on each (no pipelining), for a warmup that
is not counted and then a measured window. Per request: latency from send to the last byte of the response.
Every response must be 200; anything else, and every socket error or timeout, is counted as an error.
A server that closes the connection after a response (moto's werkzeug does, every time) is reconnected to.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import select
import shutil
import socket
import subprocess
import tempfile
import time
from array import array
from collections import Counter
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .common import HOST, BenchError, ServerProcess, SignedRequest, connect, percentile

MAX_LATENCIES = 20_000_000  # per generator process: bounds memory whatever the duration
START_DELAY = 0.3  # seconds the generator processes get to start before the warmup begins
GRACE = 10.0  # seconds after the window for in-flight responses; then they count as timeouts


@dataclass
class LoadResult:
    generator: str
    connections: int
    generator_procs: int
    duration_s: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    error_detail: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    server_cpu_pct: float = 0.0
    generator_cpu_pct: float = 0.0
    other_cpu_pct: float = 0.0  # the rest of the machine's busy time: another load skews the numbers
    server_cpu_us_per_req: float = 0.0  # server CPU time per request: steadier than req/s on a busy machine
    # Each of the server's child processes' CPU % (turnout serve's workers and background process), busiest first:
    # shows connections shared out unevenly between the workers.
    server_processes_cpu_pct: list[float] = field(default_factory=list)

    def set_cpu(self, server: float, generator: float, machine: float) -> None:
        self.server_cpu_us_per_req = round(server / 100 / self.rps * 1e6, 1) if self.rps else 0.0
        self.server_cpu_pct = round(server, 1)
        self.generator_cpu_pct = round(generator, 1)
        self.other_cpu_pct = round(max(0.0, machine - server - generator), 1)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def run_load(
    server: ServerProcess, request: SignedRequest, connections: int, warmup: float, duration: float,
    generator: str = "auto", procs: int = 1,
) -> LoadResult:
    """Drive ``server`` with ``request`` on ``connections`` connections; ``generator`` is auto, wrk or python."""
    wrk = wrk_path()
    if generator == "wrk" and wrk is None:
        raise BenchError("--generator wrk asked for, but wrk is not installed (apt-get install wrk)")
    procs = max(1, min(procs, connections, os.cpu_count() or 1))
    if generator in ("auto", "wrk") and wrk is not None:
        return _run_wrk(wrk, server, request, connections, warmup, duration, procs)
    return _run_python(server, request, connections, warmup, duration, procs)


# -- wrk --------------------------------------------------------------------------------------------------------


def _lua_string(text: str | bytes) -> str:
    data = text.encode("latin-1") if isinstance(text, str) else text
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:03d}" for b in data) + '"'


def wrk_script(request: SignedRequest) -> str:
    """A wrk Lua script sending exactly ``request``'s method, path, headers and body, counting non-200s."""
    lines = [
        f"wrk.method = {_lua_string(request.method)}",
        f"wrk.path = {_lua_string(request.path)}",
        f"wrk.body = {_lua_string(request.body)}",
        "wrk.headers = {}",
    ]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in request.headers]
    lines += [
        "local threads = {}",
        "function setup(thread) table.insert(threads, thread) end",
        "function init(args) non200 = 0 end",
        "function response(status, headers, body) if status ~= 200 then non200 = non200 + 1 end end",
        "function done(summary, latency, requests)",
        "  local non200 = 0",
        "  for _, t in ipairs(threads) do non200 = non200 + t:get('non200') end",
        "  local e = summary.errors",
        "  io.write(string.format('BENCHJSON {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, "
        "\"p99_us\": %d, \"max_us\": %d, \"connect\": %d, \"read\": %d, \"write\": %d, \"status\": %d, "
        "\"timeout\": %d, \"non200\": %d}\\n', summary.requests, summary.duration, latency:percentile(50), "
        "latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout, non200))",
        "end",
    ]
    return "\n".join(lines) + "\n"


def _wrk_once(wrk: str, script: Path, port: int, connections: int, threads: int, seconds: float) -> dict[str, Any]:
    argv = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
            "--timeout", f"{int(GRACE)}s", "-s", str(script), f"http://{HOST}:{port}/"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            data: dict[str, Any] = json.loads(line[len("BENCHJSON "):])
            return data
    raise BenchError(f"wrk gave no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


def _run_wrk(
    wrk: str, server: ServerProcess, request: SignedRequest, connections: int, warmup: float, duration: float,
    threads: int,
) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="turnout-bench-") as tmp:
        script = Path(tmp) / "request.lua"
        script.write_text(wrk_script(request))
        if warmup > 0:
            _wrk_once(wrk, script, server.port, connections, threads, warmup)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        window = server.cpu_window()
        data = _wrk_once(wrk, script, server.port, connections, threads, duration)
        wall, server_cpu, machine_cpu = window.close()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        processes = window.children_pct
    seconds = data["duration_us"] / 1e6
    detail = {k: int(data[k]) for k in ("connect", "read", "write", "timeout", "non200") if data[k]}
    # wrk's "status" errors are responses >= 400: already among the non-200s counted by the script.
    errors = sum(detail.values())
    gen_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    result = LoadResult(
        generator="wrk", connections=connections, generator_procs=threads, duration_s=round(seconds, 3),
        requests=int(data["requests"]), rps=data["requests"] / seconds if seconds else 0.0,
        p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000, max_ms=data["max_us"] / 1000,
        errors=errors, error_detail=detail,
    )
    result.set_cpu(server_cpu, 100 * gen_cpu / wall, machine_cpu)
    result.server_processes_cpu_pct = processes
    return result


# -- the Python generator ---------------------------------------------------------------------------------------


class _Conn:
    __slots__ = ("buf", "head_end", "need", "sent_ns", "sock", "status", "want_close")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.head_end = -1
        self.need = -1
        self.status = 0
        self.sent_ns = 0
        self.want_close = False


def _worker(
    port: int, raw: bytes, connections: int, start: float, warm_end: float, end: float, out: Connection,
) -> None:
    """One generator process: ``connections`` keep-alive connections driven from one epoll loop."""
    errors: Counter[str] = Counter()
    latencies = array("q")
    reconnects = 0
    poller = select.epoll()
    conns: dict[int, _Conn] = {}
    warm_ns, end_ns = int(warm_end * 1e9), int(end * 1e9)
    hard_stop = end + GRACE
    cpu_at_warm: float | None = None
    cpu_at_end: float | None = None

    def open_conn() -> _Conn | None:
        for _ in range(100):  # bounded retries, and never past the hard stop
            left = hard_stop - time.monotonic()
            if left <= 0:
                return None
            try:
                conn = _Conn(connect(port, min(GRACE, left)))
            except OSError:
                errors["connect"] += 1
                time.sleep(0.01)
                continue
            conns[conn.sock.fileno()] = conn
            poller.register(conn.sock.fileno(), select.EPOLLIN)
            return conn
        return None

    def drop(conn: _Conn) -> None:
        fd = conn.sock.fileno()
        poller.unregister(fd)
        del conns[fd]
        conn.sock.close()

    def send(conn: _Conn) -> bool:
        conn.sent_ns = time.monotonic_ns()
        try:
            conn.sock.sendall(raw)
            return True
        except OSError:
            errors["write"] += 1
            return False

    def fire(conn: _Conn | None) -> None:
        """Send the next request on ``conn``; on failure reconnect and retry once on a new connection."""
        for _ in range(2):
            if conn is None:
                return
            if send(conn):
                return
            drop(conn)
            conn = open_conn()

    while time.monotonic() < start:
        time.sleep(min(0.01, max(0.0, start - time.monotonic())))
    for _ in range(connections):
        fire(open_conn())

    while conns:
        now = time.monotonic()
        if cpu_at_warm is None and now >= warm_end:
            cpu_at_warm = time.process_time()
        if now >= hard_stop:
            errors["timeout"] += len(conns)
            break
        for fd, _event in poller.poll(0.05):
            conn = conns.get(fd)
            if conn is None:
                continue
            try:
                chunk = conn.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                errors["read"] += 1
                drop(conn)
                if time.monotonic() < end:
                    reconnects += 1
                    fire(open_conn())
                continue
            conn.buf += chunk
            if conn.head_end < 0:
                head_end = conn.buf.find(b"\r\n\r\n")
                if head_end < 0:
                    continue
                head = bytes(conn.buf[:head_end]).lower()
                conn.status = int(head[9:12])
                at = head.find(b"\r\ncontent-length:")
                if at < 0:
                    errors["no-content-length"] += 1
                    drop(conn)
                    continue
                stop = head.find(b"\r\n", at + 2)
                conn.need = head_end + 4 + int(head[at + 17: stop if stop >= 0 else len(head)])
                conn.head_end = head_end
                conn.want_close = b"\r\nconnection: close" in head
            if len(conn.buf) < conn.need:
                continue
            done_ns = time.monotonic_ns()
            if warm_ns <= done_ns < end_ns:
                if conn.status != 200:
                    errors[f"http-{conn.status}"] += 1
                if len(latencies) < MAX_LATENCIES:
                    latencies.append(done_ns - conn.sent_ns)
            if len(conn.buf) > conn.need:
                errors["extra-bytes"] += 1
                conn.want_close = True
            conn.buf.clear()
            conn.head_end = conn.need = -1
            if conn.want_close:
                drop(conn)
                if done_ns < end_ns:
                    reconnects += 1
                    fire(open_conn())
            elif done_ns < end_ns:
                fire(conn)
            else:
                drop(conn)
        if cpu_at_end is None and time.monotonic() >= end:
            cpu_at_end = time.process_time()
    for conn in list(conns.values()):
        drop(conn)
    poller.close()
    cpu = (cpu_at_end or time.process_time()) - (cpu_at_warm or 0.0)
    out.send({"latencies": latencies.tobytes(), "errors": dict(errors), "reconnects": reconnects, "cpu": cpu})
    out.close()


def _run_python(
    server: ServerProcess, request: SignedRequest, connections: int, warmup: float, duration: float, procs: int,
) -> LoadResult:
    ctx = multiprocessing.get_context("fork")
    start = time.monotonic() + START_DELAY
    warm_end = start + warmup
    end = warm_end + duration
    shares = [connections // procs + (1 if i < connections % procs else 0) for i in range(procs)]
    workers = []
    for share in shares:
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(server.port, request.raw, share, start, warm_end, end, sender))
        proc.start()
        sender.close()
        workers.append((proc, receiver))
    _sleep_until(warm_end)
    window = server.cpu_window()
    _sleep_until(end)
    _wall, server_cpu, machine_cpu = window.close()
    latencies = array("q")
    errors: Counter[str] = Counter()
    reconnects = 0
    gen_cpu = 0.0
    for proc, receiver in workers:
        if not receiver.poll(GRACE + 30):
            proc.kill()
            raise BenchError("a generator process gave no result")
        data = receiver.recv()
        proc.join(10)
        chunk = array("q")
        chunk.frombytes(data["latencies"])
        latencies.extend(chunk)
        errors.update(data["errors"])
        reconnects += data["reconnects"]
        gen_cpu += data["cpu"]
    ordered = sorted(latencies)
    count = len(ordered)
    # Reconnects are how moto's server works (it closes after each response): not errors in themselves.
    result = LoadResult(
        generator="python", connections=connections, generator_procs=procs, duration_s=duration,
        requests=count, rps=count / duration, p50_ms=percentile(ordered, 50) / 1e6,
        p99_ms=percentile(ordered, 99) / 1e6, max_ms=(ordered[-1] / 1e6 if ordered else 0.0),
        errors=sum(errors.values()), error_detail=dict(errors), reconnects=reconnects,
    )
    result.set_cpu(server_cpu, 100 * gen_cpu / duration, machine_cpu)
    result.server_processes_cpu_pct = window.children_pct
    return result


def _sleep_until(moment: float) -> None:
    while (left := moment - time.monotonic()) > 0:
        time.sleep(min(left, 0.5))

