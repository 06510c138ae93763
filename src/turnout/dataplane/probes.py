"""Real health checks of targets (issue 13): HTTP requests or TCP connects on the target group's settings.

:func:`check_once` sends one check and says whether it passed and, if not, AWS's reason for it;
:class:`Prober` checks many targets, each every interval, and reports each change of outcome. What a run of
outcomes makes of a target's state (thresholds, ``initial``/``healthy``/``unhealthy``) is its caller's business.

The AWS behaviour reproduced is in docs/dataplane.md, "Target health checks": an HTTP check is a ``GET`` of the
health check path, passing when the status is one the matcher (``HttpCode``) lists; it fails with
``Target.ResponseCodeMismatch`` ("Health checks failed with these codes: [<code>]"), ``Target.Timeout`` ("Request
timed out"), or ``Target.FailedHealthChecks`` (connection error or malformed response). A TCP check (Network Load
Balancer) passes when the connection opens; an NLB's only unhealthy reason is ``Target.FailedHealthChecks``.

Turnout's choices, where AWS is silent or Turnout cannot do as AWS does:

* An ``HTTPS`` check is sent as plain HTTP (targets here serve plain HTTP on loopback; no TLS yet).
* Other check protocols than HTTP/HTTPS (``TLS``, ``UDP``...) are checked with a TCP connect.
* However large ``--time-scale`` is, the interval is never below 0.5 s of real time (checks never spin: the
  target's state is counted on the simulated clock anyway, :mod:`.health`) and the timeout never below 1 s (a
  healthy program on a loaded machine may take more than a few milliseconds to answer; a timeout scaled to those
  would fail it).
* A target's first check is sent as soon as it is watched (not one interval later), then one every interval,
  start to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger(__name__)

USER_AGENT = "ELB-HealthChecker/2.0"
MIN_INTERVAL = 0.5  # the shortest interval between two checks of a target, in real seconds (Turnout's choice)
MIN_TIMEOUT = 1.0  # the shortest timeout, in real seconds (Turnout's choice)
HTTP_PROTOCOLS = ("HTTP", "HTTPS")
# Defaults when a member is missing (docs/dataplane.md, "Target health checks": ALB column).
DEFAULT_INTERVAL = 30
DEFAULT_TIMEOUT = 5
DEFAULT_MATCHER = "200"

TIMEOUT = "Target.Timeout"
MISMATCH = "Target.ResponseCodeMismatch"
FAILED = "Target.FailedHealthChecks"
TIMED_OUT = "Request timed out"
FAILED_DESCRIPTION = "Health checks failed"


def _aiohttp() -> ModuleType:
    """aiohttp, imported by the first HTTP check: a server with no target to check never pays for it (about a
    tenth of a second of every start on this project's machine, README "Speed")."""
    import aiohttp

    return aiohttp


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """One target group's health check, in real seconds."""

    protocol: str  # HTTP | HTTPS | TCP (HTTPS is checked with plain HTTP: Turnout's choice)
    path: str  # "/" by default
    port: int | None  # None: the traffic port (the target's own address port)
    matcher: str  # "200", "200-299", "200,202" (HttpCode)
    interval: float  # seconds, already scaled by --time-scale
    timeout: float  # seconds, already scaled (never below MIN_TIMEOUT)

    @classmethod
    def from_group(cls, health_check: Mapping[str, Any], time_scale: float) -> CheckSettings:
        """From the ``HealthCheck*`` members and ``Matcher`` as DescribeTargetGroups returns them; simulated
        seconds become real ones by dividing by ``time_scale``. Whether checks are enabled
        (``HealthCheckEnabled``) is the caller's business: a disabled check is not probed at all."""
        scale = time_scale if time_scale > 0 else 1.0
        protocol = str(health_check.get("HealthCheckProtocol") or "HTTP").upper()
        port_text = str(health_check.get("HealthCheckPort") or "traffic-port")
        port = int(port_text) if port_text.isdigit() and 1 <= int(port_text) <= 65535 else None
        matcher = health_check.get("Matcher")
        code = matcher.get("HttpCode") if isinstance(matcher, Mapping) else None
        return cls(
            protocol=protocol,
            path=str(health_check.get("HealthCheckPath") or "/"),
            port=port,
            matcher=str(code) if code else DEFAULT_MATCHER,
            interval=max(MIN_INTERVAL, _seconds(health_check.get("HealthCheckIntervalSeconds"), DEFAULT_INTERVAL)
                         / scale),
            timeout=max(MIN_TIMEOUT, _seconds(health_check.get("HealthCheckTimeoutSeconds"), DEFAULT_TIMEOUT)
                        / scale),
        )


def _seconds(value: Any, default: float) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if seconds > 0 else default


_CODES = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def matches(matcher: str, status: int) -> bool:
    """Whether ``status`` is one the matcher lists: codes and ranges, comma-separated ("200", "200-299",
    "200,202", "200,300-399"). A part that is neither matches nothing."""
    for part in matcher.split(","):
        found = _CODES.match(part)
        if found is None:
            continue
        low = int(found.group(1))
        high = int(found.group(2)) if found.group(2) is not None else low
        if low <= status <= high:
            return True
    return False


@dataclass(frozen=True, slots=True)
class Outcome:
    passing: bool
    reason: str | None  # None when passing; Target.Timeout | Target.ResponseCodeMismatch | Target.FailedHealthChecks
    description: str | None  # e.g. "Health checks failed with these codes: [503]", "Request timed out"


PASSED = Outcome(True, None, None)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


async def _check_http(host: str, port: int, settings: CheckSettings, session: aiohttp.ClientSession | None) -> Outcome:
    path = settings.path if settings.path.startswith("/") else f"/{settings.path}"
    url = f"http://{_url_host(host)}:{port}{path}"
    headers = {"User-Agent": USER_AGENT, "Connection": "close"}
    http = _aiohttp()
    timeout = http.ClientTimeout(total=settings.timeout)
    own = session is None
    client = session or http.ClientSession(connector=http.TCPConnector(force_close=True, limit=0))
    try:
        async with client.get(url, headers=headers, allow_redirects=False, timeout=timeout) as response:
            status = response.status
    finally:
        if own:
            await client.close()
    if matches(settings.matcher, status):
        return PASSED
    return Outcome(False, MISMATCH, f"Health checks failed with these codes: [{status}]")


async def _check_tcp(host: str, port: int, settings: CheckSettings) -> Outcome:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), settings.timeout)
    except TimeoutError:
        # An NLB's only unhealthy reason is Target.FailedHealthChecks (docs/dataplane.md, "Target health checks").
        return Outcome(False, FAILED, TIMED_OUT)
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), settings.timeout)
    return PASSED


async def check_once(address: tuple[str, int], settings: CheckSettings,
                     session: aiohttp.ClientSession | None = None) -> Outcome:
    """One health check of the target at ``address`` (its traffic address: ``settings.port`` replaces the port when
    set). HTTP: ``GET`` of the path with ``User-Agent: ELB-HealthChecker/2.0``, redirects not followed, the
    connection closed after; TCP: a connect. Never raises: every error is an :class:`Outcome`. ``session``: a
    client session to send HTTP checks with (one is made for the check otherwise)."""
    host, traffic_port = address
    port = settings.port or traffic_port
    failures: tuple[type[Exception], ...] = (OSError, ValueError, RuntimeError)  # a check that failed, as expected
    try:
        if settings.protocol.upper() in HTTP_PROTOCOLS:
            failures += (_aiohttp().ClientError,)
            return await _check_http(host, port, settings, session)
        return await _check_tcp(host, port, settings)
    except TimeoutError:
        return Outcome(False, TIMEOUT, TIMED_OUT)
    except Exception as exc:
        if isinstance(exc, failures):
            log.debug("health check of %s:%s failed: %r", host, port, exc)
        else:
            log.exception("health check of %s:%s failed unexpectedly", host, port)
        return Outcome(False, FAILED, FAILED_DESCRIPTION)


@dataclass(slots=True)
class _Watch:
    address: tuple[str, int]
    settings: CheckSettings
    task: asyncio.Task[None] | None = None
    last: Outcome | None = field(default=None)


class Prober:
    """Runs checks of many targets, each every `interval`, and reports each change of outcome."""

    def __init__(self, on_change: Callable[[Hashable, Outcome], None]) -> None:
        """``on_change(key, outcome)`` is called on the event loop with a target's first outcome after each
        :meth:`watch` that (re)starts its checks, then each time its outcome changes."""
        self.on_change = on_change
        self._watches: dict[Hashable, _Watch] = {}
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # every check loop not yet finished, unwatched ones included

    def watch(self, key: Hashable, address: tuple[str, int], settings: CheckSettings) -> None:
        """Start checking ``key`` at ``address`` (call it on the event loop). Watching it again with another
        address or settings restarts its checks (and its first outcome is reported again); with the same ones it
        does nothing."""
        current = self._watches.get(key)
        if (current is not None and current.address == address and current.settings == settings
                and current.task is not None and not current.task.done()):
            return
        self.unwatch(key)
        watch = _Watch(address, settings)
        self._watches[key] = watch
        watch.task = asyncio.get_running_loop().create_task(self._run(key, watch), name=f"health checks {key!r}")
        self._tasks.add(watch.task)
        watch.task.add_done_callback(self._tasks.discard)

    def unwatch(self, key: Hashable) -> None:
        """Stop checking ``key``: nothing more is reported for it."""
        watch = self._watches.pop(key, None)
        if watch is not None and watch.task is not None:
            watch.task.cancel()

    def keys(self) -> set[Hashable]:
        return set(self._watches)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            http = _aiohttp()
            self._session = http.ClientSession(connector=http.TCPConnector(force_close=True, limit=0))
        return self._session

    async def _run(self, key: Hashable, watch: _Watch) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            outcome = await check_once(watch.address, watch.settings, self._client())
            if self._watches.get(key) is not watch:
                return
            if outcome != watch.last:
                watch.last = outcome
                try:
                    self.on_change(key, outcome)
                except Exception:
                    log.exception("on_change(%r, %r) failed", key, outcome)
            await asyncio.sleep(max(0.0, started + watch.settings.interval - loop.time()))

    async def close(self) -> None:
        """Stop every check and release the client session."""
        tasks = list(self._tasks)
        self._watches.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
        if self._session is not None:
            await self._session.close()
            self._session = None
