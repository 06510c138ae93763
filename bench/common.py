"""Shared helpers for the benchmarks: server processes, readiness, SigV4 signing, raw HTTP, stats, results.

Everything here talks only to 127.0.0.1 and every loop is bounded in time.
"""

from __future__ import annotations

import json
import math
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HOST = "127.0.0.1"
REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"
BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
START_TIMEOUT = 60.0  # seconds a server may take to answer its first request before we give up


class BenchError(RuntimeError):
    """The benchmark cannot go on (a server did not start, answered wrongly...)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# -- raw HTTP/1.1 over one socket (no HTTP library, so that the bytes sent are exactly the ones signed) ---------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    head: bytes = b""  # the status line and header lines as received (names in their case)


def connect(port: int, timeout: float) -> socket.socket:
    """A TCP connection to 127.0.0.1:port, refusing a TCP self-connect (possible on an ephemeral port nobody
    listens on yet, which would look like a server that accepted the connection)."""
    sock = socket.create_connection((HOST, port), timeout=timeout)
    if sock.getsockname() == sock.getpeername():
        sock.close()
        raise ConnectionRefusedError(f"self-connect on port {port}")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def exchange(port: int, raw: bytes, timeout: float = 10.0) -> Response:
    """Send one request on a new connection and read its response (by Content-Length, else until close)."""
    with connect(port, timeout) as sock:
        sock.sendall(raw)
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no complete response head")
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed before the response head")
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        status, headers = parse_head(head)
        length = int(headers["content-length"]) if "content-length" in headers else None
        while (length is None or len(body) < length) and time.monotonic() <= deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        if length is not None and len(body) < length:
            raise ConnectionError("connection closed before the whole body")
        return Response(status, headers, body, head)


def get_request(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()


# -- SigV4 ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedRequest:
    """One signed request; ``raw`` is the exact bytes put on the wire, replayable for 15 minutes."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    signed_at: float = field(default_factory=time.time)

    @property
    def raw(self) -> bytes:
        head = f"{self.method} {self.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in self.headers)
        return head.encode("latin-1") + b"\r\n" + self.body


def sign_query(port: int, service: str, params: dict[str, str]) -> SignedRequest:
    """A POST of an AWS Query-protocol call (IAM, STS...) signed with botocore's SigV4 for 127.0.0.1:port."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    host = f"{HOST}:{port}"
    body = urlencode(params).encode()
    request = AWSRequest(
        method="POST", url=f"http://{host}/", data=body,
        headers={"Host": host, "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service, REGION).add_auth(request)
    headers = [(str(k), str(v)) for k, v in request.headers.items() if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    return SignedRequest("POST", "/", tuple(headers), body)


def boto_client(port: int, service: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service, endpoint_url=f"http://{HOST}:{port}", region_name=REGION,
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"max_attempts": 1}),
    )


# -- servers ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server: ``argv(port, workdir)``; ``ready_path`` answers 200 once it is up."""

    name: str
    argv: Callable[[int, Path], list[str]]
    ready_path: str
    env: tuple[tuple[str, str], ...] = ()  # extra environment, e.g. PYTHONPATH of another Turnout checkout

    @property
    def slug(self) -> str:
        return "-".join("".join(c if c.isalnum() else " " for c in self.name).split())


def turnout_argv(port: int, workdir: Path) -> list[str]:
    return [sys.executable, "-m", "turnout", "serve", "--port", str(port), "--data-dir", str(workdir / "data")]


def moto_argv(port: int, workdir: Path) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]


def profiled_turnout_argv(port: int, workdir: Path) -> list[str]:
    """Turnout run under cProfile by bench/profserve.py; stats land in workdir/turnout.prof on SIGTERM."""
    return [sys.executable, str(BENCH_DIR / "profserve.py"), str(workdir / "turnout.prof"),
            *turnout_argv(port, workdir)[3:]]


def with_server_args(spec: ServerSpec, extra: Sequence[str]) -> ServerSpec:
    """``spec`` with ``extra`` flags appended to its command line (``turnout serve --workers 1``...)."""
    base, flags = spec.argv, list(extra)
    return replace(spec, argv=lambda port, workdir: [*base(port, workdir), *flags])


TURNOUT = ServerSpec("turnout", turnout_argv, "/_turnout/health")


def turnout_source(src: Path | None) -> tuple[ServerSpec, dict[str, Any]]:
    """Turnout's spec and the source it runs (path, commit, uncommitted changes): this checkout's, or with ``src``
    (another checkout's root or its src/) that one's, through PYTHONPATH. SystemExit when ``src`` has none."""
    if src is None:
        return TURNOUT, git_state(REPO)
    src = src.resolve()
    src = src / "src" if (src / "src" / "turnout").is_dir() else src
    if not (src / "turnout" / "__init__.py").is_file():
        raise SystemExit(f"--turnout-src: no turnout package in {src}")
    source = git_state(src.parent)
    source["path"] = str(src)
    return replace(TURNOUT, env=(("PYTHONPATH", str(src)),)), source
MOTO = ServerSpec("moto", moto_argv, "/moto-api/")
PROFILED_TURNOUT = ServerSpec("turnout (cProfile)", profiled_turnout_argv, "/_turnout/health")
SERVERS = {"turnout": TURNOUT, "moto": MOTO}

_CLOCK_TICK = os.sysconf("SC_CLK_TCK")


class ServerProcess:
    """One server subprocess on a free loopback port, logging to workdir/server.log."""

    def __init__(self, spec: ServerSpec, workdir: Path) -> None:
        self.spec = spec
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.log_path = workdir / f"{spec.slug}-{self.port}.log"

    def start(self) -> ServerProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child holds it; closed when we stop
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **dict(self.spec.env)}
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            self.spec.argv(self.port, self.workdir), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir,
        )
        log.close()
        return self

    def wait_for(self, raw: Callable[[], bytes], what: str) -> float:
        """Seconds from process start until ``raw()`` is first answered 200 (polled every 2 ms)."""
        assert self.process is not None
        deadline = self.started_at + START_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.spec.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                response = exchange(self.port, raw(), timeout=5.0)
                if response.status == 200:
                    return time.monotonic() - self.started_at
                last = f"HTTP {response.status}: {response.body[:200]!r}"
            except OSError as exc:
                last = repr(exc)
            time.sleep(0.002)
        raise BenchError(f"{self.spec.name} did not answer {what} within {START_TIMEOUT:.0f}s ({last})")

    def wait_ready(self) -> float:
        return self.wait_for(lambda: get_request(self.port, self.spec.ready_path), self.spec.ready_path)

    def cpu_seconds(self) -> float:
        """user+system CPU the server has used so far: its process (all threads) and every process below it
        (worker processes of ``turnout serve --workers N``), live ones read from /proc, ended and reaped ones
        through the parent's ``cutime``/``cstime``. A worker that ended but is not reaped yet is not counted."""
        assert self.process is not None
        return process_tree_cpu(self.process.pid)

    def cpu_window(self) -> CpuWindow:
        return CpuWindow(self)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (field 3, the state, is [0]); None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children() -> dict[int, list[int]]:
    """Every live process's children, by parent pid (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _cpu_seconds(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICK  # utime + stime


def process_tree_cpu(root: int) -> float:
    """CPU seconds (user+system) of ``root``, its live descendants, and its reaped children (cutime+cstime)."""
    children = _children()
    seconds, stack, first = 0.0, [root], True
    while stack:
        pid = stack.pop()
        fields = _stat_fields(pid)
        if fields is None:
            continue
        seconds += _cpu_seconds(fields)
        if first:  # the root's reaped children (not its descendants' reaped ones: workers start no processes)
            seconds += (int(fields[13]) + int(fields[14])) / _CLOCK_TICK
            first = False
        stack.extend(children.get(pid, []))
    return seconds


def process_cpu(root: int) -> dict[int, float]:
    """CPU seconds (user+system) of ``root``'s live child processes, by pid (turnout serve's workers and
    background process; empty for a server that starts none)."""
    found: dict[int, float] = {}
    for pid in _children().get(root, []):
        fields = _stat_fields(pid)
        if fields is not None:
            found[pid] = _cpu_seconds(fields)
    return found


def machine_busy_seconds() -> float:
    """CPU seconds all cores of the machine have spent not idle, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / _CLOCK_TICK


class CpuWindow:
    """CPU used over a window: by the server process, and by the whole machine (to show other load)."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.wall = time.monotonic()
        self.server_cpu = server.cpu_seconds()
        self.machine = machine_busy_seconds()
        self.children = process_cpu(server.process.pid) if server.process is not None else {}
        self.children_pct: list[float] = []  # once closed: each child process's CPU %, busiest first

    def close(self) -> tuple[float, float, float]:
        """(seconds, server CPU %, machine CPU %) since the window opened; 100% is one core."""
        seconds = time.monotonic() - self.wall
        server = 100 * (self.server.cpu_seconds() - self.server_cpu) / seconds
        machine = 100 * (machine_busy_seconds() - self.machine) / seconds
        if self.server.process is not None:
            now = process_cpu(self.server.process.pid)
            self.children_pct = sorted((round(100 * (cpu - self.children.get(pid, 0.0)) / seconds, 1)
                                        for pid, cpu in now.items()), reverse=True)
        return seconds, server, machine


# -- stats, tables, results -------------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (0 when empty): the smallest value with at least
    ``pct`` percent of the values at or below it, the ``ceil(pct/100 * n)``-th (p99 of 100 values is the 99th)."""
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), math.ceil(pct * len(ordered) / 100)))
    return float(ordered[rank - 1])


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return percentile(ordered, 50)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def version_of(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "versions": {p: version_of(p) for p in ("turnout", "moto", "botocore", "uvicorn", "werkzeug")},
    }


def git_state(checkout: Path) -> dict[str, Any]:
    """Commit and dirtiness of a checkout (read-only git commands), so results say what code they measured."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(checkout), *args], capture_output=True, text=True, timeout=30,
                              check=False)
        return done.stdout.strip() if done.returncode == 0 else ""
    commit = git("rev-parse", "HEAD")
    if not commit:
        return {"path": str(checkout), "commit": None}
    changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]
    return {"path": str(checkout), "commit": commit, "dirty": bool(changed), "changed": changed[:50]}


def write_results(name: str, payload: dict[str, Any], out_dir: Path = RESULTS_DIR) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"{stamp}-{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    return path
