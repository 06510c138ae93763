"""``turnout demo``: real HTTP through the load balancer's listeners (issue 13).

What the demo needs of the data plane: where a listener is served (``GET /_turnout/dataplane``), the ``curl`` line a
person can paste, single requests that say which task definition revision answered (the built-in task app answers
every request with JSON naming its ``taskDefinitionArn``), and :class:`Traffic`, background clients that keep
sending requests through a listener and count the answers per revision and the failed requests.

Everything here uses the standard library (``urllib`` and ``http.client``), as a user's own client would, and every
network wait has a timeout. Background threads never print: the walkthrough reads their counts from its own thread,
so the progress output is never garbled.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .demo_progress import WAIT, DemoError, wait_for

DATAPLANE_PATH = "/_turnout/dataplane"
REQUEST_TIMEOUT = 10.0  # seconds, for every request through a listener
# Turnout's choice: each background client waits this long between two requests, enough traffic to see the shift
# (tens of requests a second) without loading the server the demo is showing.
PACE = 0.02
_REVISION = re.compile(r":(\d+)$")


def dataplane(endpoint: str) -> dict[str, Any] | None:
    """What ``GET /_turnout/dataplane`` answers, or None when the server has no data plane (``"enabled": false``,
    or 404 from a server older than issue 13). DemoError when the server cannot be read or answers nonsense."""
    url = endpoint.rstrip("/") + DATAPLANE_PATH
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise DemoError(f"GET {DATAPLANE_PATH} answered {error.code}") from None
    except (OSError, ValueError) as error:
        raise DemoError(f"GET {DATAPLANE_PATH} failed: {error}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("listeners", []), list):
        raise DemoError(f"GET {DATAPLANE_PATH} answered something other than the data plane's JSON object")
    return payload if payload.get("enabled") else None


def parse_address(text: str) -> tuple[str, int]:
    """``127.0.0.1:8080`` -> ``("127.0.0.1", 8080)``; DemoError when it is no host:port."""
    host, _, port = str(text).rpartition(":")
    if not host or not port.isdigit():
        raise DemoError(f"{DATAPLANE_PATH} lists a listener at {text!r}, which is not host:port")
    return host.strip("[]"), int(port)


def listener_address(endpoint: str, listener_arn: str, timeout: float = WAIT) -> tuple[str, int]:
    """Where the data plane serves ``listener_arn`` on this machine, once it is listed (a listener is served as soon
    as it is created; the wait is bounded all the same)."""
    def probe() -> tuple[str, int] | None:
        found = dataplane(endpoint)
        if found is None:
            raise DemoError(f"the data plane of {endpoint} went away")
        for item in found.get("listeners", []):
            if isinstance(item, dict) and item.get("listenerArn") == listener_arn:
                return parse_address(item.get("address", ""))
        return None

    return wait_for(f"listener {listener_arn} in {DATAPLANE_PATH}", probe, timeout)


def curl_command(dns_name: str, address: tuple[str, int], headers: dict[str, str] | None = None) -> str:
    """The command a person pastes: the load balancer's DNSName (``*.elb.localhost`` resolves to loopback in curl
    and browsers) with the local port the listener is served on."""
    flags = "".join(f"-H '{name}: {value}' " for name, value in (headers or {}).items())
    return f"curl {flags}http://{dns_name}:{address[1]}/"


def revision_label(task_definition_arn: str) -> str:
    """``arn:...:task-definition/web:2`` -> ``revision 2`` (the ARN itself when it has no revision number)."""
    match = _REVISION.search(task_definition_arn)
    return f"revision {match.group(1)}" if match else task_definition_arn


def _answer(status: int, body: bytes) -> dict[str, Any]:
    """The built-in app's JSON answer; ValueError for anything else (a failed request)."""
    if status != 200:
        raise ValueError(f"HTTP {status}: {body[:120]!r}")
    payload = json.loads(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("taskDefinitionArn"), str):
        raise ValueError(f"HTTP 200 without a taskDefinitionArn: {body[:120]!r}")
    return payload


def ask(address: tuple[str, int], headers: dict[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT) -> dict[str, Any]:
    """One ``GET /`` on a new connection; the app's JSON answer. DemoError naming the failure otherwise."""
    connection = http.client.HTTPConnection(*address, timeout=timeout)
    try:
        connection.request("GET", "/", headers=headers or {})
        response = connection.getresponse()
        return _answer(response.status, response.read())
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise DemoError(f"GET / through {address[0]}:{address[1]} failed: {error!r}") from None
    finally:
        connection.close()


def ask_until_answered(address: tuple[str, int], timeout: float = WAIT) -> dict[str, Any]:
    """The first successful answer of ``GET /``, retried every 0.25 s for at most ``timeout`` seconds (the targets
    of a deployment that just succeeded may still be passing their first health check)."""
    last: list[str] = []

    def probe() -> dict[str, Any] | None:
        try:
            return ask(address)
        except DemoError as error:
            last[:] = [str(error)]
            return None

    try:
        return wait_for(f"an answer through {address[0]}:{address[1]}", probe, timeout)
    except DemoError as error:
        raise DemoError(f"{error} (last: {last[0] if last else '-'})") from None


def tally(answers: list[dict[str, Any]]) -> Counter[str]:
    """How many of ``answers`` each revision gave."""
    return Counter(revision_label(a["taskDefinitionArn"]) for a in answers)


def describe_counts(counts: Counter[str]) -> str:
    """``revision 1: 120, revision 2: 80`` (revisions in order; ``none`` when empty)."""
    def order(label: str) -> tuple[int, str]:
        number = label.removeprefix("revision ")
        return (int(number), label) if number.isdigit() else (1 << 30, label)

    return ", ".join(f"{label}: {counts[label]}" for label in sorted(counts, key=order)) or "none"


@dataclass(frozen=True)
class Failure:
    """A request that got no successful answer: when (seconds since the traffic started) and what happened."""

    at: float
    what: str

    def __str__(self) -> str:
        return f"at {self.at:.2f}s: {self.what}"


class Traffic:
    """``clients`` background threads, each with one keep-alive ``http.client`` connection to ``address``, sending
    ``GET /`` every :data:`PACE` seconds until :meth:`stop`. An answer counts for the revision that gave it; anything
    else (a connection error, a timeout, a status other than 200, a body that is not the app's JSON) is a failure,
    and that client opens a new connection (Turnout's choice: the built-in app answers every request 200, so
    anything else came from the load balancer, e.g. a 502 or 503 of docs/dataplane.md, "The ALB's own error
    responses"). Thread-safe: read :meth:`counts` and :meth:`failures` at any time."""

    def __init__(self, address: tuple[str, int], clients: int = 2, pace: float = PACE) -> None:
        self.address = address
        self.clients = clients
        self.pace = pace
        self._counts: Counter[str] = Counter()
        self._failures: list[Failure] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = time.monotonic()

    def start(self) -> Traffic:
        self._started = time.monotonic()
        for index in range(self.clients):
            thread = threading.Thread(target=self._client, name=f"demo-traffic-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop every client (each finishes the request it is in, bounded by :data:`REQUEST_TIMEOUT`)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(REQUEST_TIMEOUT + 5)

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self._counts)

    def failures(self) -> list[Failure]:
        with self._lock:
            return list(self._failures)

    def line(self) -> str:
        """``revision 1: 120, revision 2: 80, failed requests: 0``."""
        with self._lock:
            counts, failed = Counter(self._counts), len(self._failures)
        return f"{describe_counts(counts)}, failed requests: {failed}"

    def _client(self) -> None:
        connection = http.client.HTTPConnection(*self.address, timeout=REQUEST_TIMEOUT)
        try:
            while not self._stop.is_set():
                try:
                    connection.request("GET", "/")
                    response = connection.getresponse()
                    answer = _answer(response.status, response.read())
                except Exception as error:  # every failure is counted and reported, none is fatal
                    with self._lock:
                        self._failures.append(Failure(time.monotonic() - self._started, repr(error)))
                    connection.close()
                    connection = http.client.HTTPConnection(*self.address, timeout=REQUEST_TIMEOUT)
                else:
                    with self._lock:
                        self._counts[revision_label(answer["taskDefinitionArn"])] += 1
                self._stop.wait(self.pace)
        finally:
            connection.close()
