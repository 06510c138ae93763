"""Plain HTTP against the data plane (issue 13): the listener addresses a server publishes, requests through them,
stand-in targets on loopback, and load that counts what answered."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.conftest import Server


def dataplane(server: Server) -> dict[str, Any]:
    with urllib.request.urlopen(server.endpoint + "/_turnout/dataplane", timeout=5) as response:
        found: dict[str, Any] = json.loads(response.read())
        return found


def wait_for(what: Callable[[], Any], timeout: float = 30.0, message: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = what()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {message} (last: {last!r})")


def listener_address(server: Server, listener_arn: str, timeout: float = 30.0) -> tuple[str, int]:
    """Where ``listener_arn`` is served, once it is."""
    def served() -> tuple[str, int] | None:
        for item in dataplane(server)["listeners"]:
            if item["listenerArn"] == listener_arn:
                host, _, port = item["address"].rpartition(":")
                return host, int(port)
        return None
    found: tuple[str, int] = wait_for(served, timeout, f"listener {listener_arn} served")
    return found


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # the last value of each (lower-case) name
    body: bytes
    lines: list[tuple[str, str]] = field(default_factory=list)  # every header line, in order

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.lines if key.lower() == name]

    def json(self) -> Any:
        return json.loads(self.body)


def request(address: tuple[str, int], path: str = "/", *, method: str = "GET", headers: dict[str, str] | None = None,
            body: bytes | None = None, timeout: float = 10.0) -> Answer:
    connection = http.client.HTTPConnection(*address, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        lines = response.getheaders()
        return Answer(response.status, {k.lower(): v for k, v in lines}, response.read(), lines)
    finally:
        connection.close()


class StandIn:
    """A loopback HTTP target: answers JSON naming itself and echoing the request; ``healthy`` toggles its health
    path (``/health``) between 200 and 503; ``/slow`` answers after ``slow`` seconds."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.healthy = True
        self.slow = 0.5
        self.hits = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # the head and body leave in one send (two would wait on Nagle and a delayed ACK)

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path == "/health":
                    status = 200 if stand_in.healthy else 503
                    payload = b"{}"
                else:
                    stand_in.hits += 1
                    if self.path.startswith("/slow"):
                        time.sleep(stand_in.slow)
                    status = 200
                    payload = json.dumps({"name": stand_in.name, "method": self.command, "path": self.path,
                                          "headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": len(body)}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Load:
    """Clients sending requests through a listener on keep-alive connections until stopped; counts answers by
    what answered them (``key`` of the JSON body) and failures (no answer, or a status of 500 and above)."""

    address: tuple[str, int]
    key: Callable[[dict[str, Any]], str]
    clients: int = 2
    path: str = "/"
    answered: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Load:
        for _ in range(self.clients):
            thread = threading.Thread(target=self._run, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _run(self) -> None:
        connection = http.client.HTTPConnection(*self.address, timeout=10)
        while not self._stop.is_set():
            try:
                connection.request("GET", self.path)
                response = connection.getresponse()
                body = response.read()
                if response.status >= 500:
                    with self._lock:
                        self.failures.append(f"{response.status} {body[:200]!r}")
                    continue
                with self._lock:
                    self.answered[self.key(json.loads(body))] += 1
            except Exception as exc:  # a failed request: counted, then a new connection
                with self._lock:
                    self.failures.append(repr(exc))
                connection.close()
                connection = http.client.HTTPConnection(*self.address, timeout=10)
        connection.close()

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.answered)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(15)
