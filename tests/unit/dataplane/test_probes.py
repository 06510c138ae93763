"""Health checks: the matcher, one check against tiny real aiohttp servers, and the prober's reports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.dataplane.waiting import until
from turnout.dataplane.probes import CheckSettings, Outcome, Prober, check_once, matches
from turnout.dataplane.processes import free_port

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, 60)

    return asyncio.run(bounded())


def http(path: str = "/health", matcher: str = "200", timeout: float = 5.0, interval: float = 0.05,
         port: int | None = None, protocol: str = "HTTP") -> CheckSettings:
    return CheckSettings(protocol=protocol, path=path, port=port, matcher=matcher, interval=interval, timeout=timeout)


@dataclass
class Target:
    """A tiny server: answers ``status`` after ``delay`` seconds; records what it was sent."""

    status: int = 200
    delay: float = 0.0
    seen: list[tuple[str, str, str, str]] = field(default_factory=list)  # method, path_qs, user agent, connection

    def app(self) -> web.Application:
        async def handler(request: web.Request) -> web.Response:
            self.seen.append((request.method, request.path_qs, request.headers.get("User-Agent", ""),
                              request.headers.get("Connection", "")))
            if self.delay:
                await asyncio.sleep(self.delay)
            if 300 <= self.status < 400:
                return web.Response(status=self.status, headers={"Location": "/elsewhere"})
            return web.Response(status=self.status, text="ok")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        return app


@asynccontextmanager
async def serving(target: Target) -> AsyncIterator[tuple[str, int]]:
    runner = web.AppRunner(target.app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield ("127.0.0.1", port)
    finally:
        await runner.cleanup()


# -- matcher -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("matcher", "status", "expected"), [
    ("200", 200, True), ("200", 201, False),
    ("200-299", 200, True), ("200-299", 299, True), ("200-299", 300, False), ("200-299", 199, False),
    ("200,202", 202, True), ("200,202", 201, False),
    ("200,300-399", 302, True), ("200,300-399", 404, False),
    (" 200 , 202 ", 202, True), ("200-", 200, False), ("abc", 200, False), ("", 200, False),
])
def test_matcher_forms(matcher: str, status: int, expected: bool) -> None:
    assert matches(matcher, status) is expected


@given(st.integers(100, 599), st.integers(100, 599), st.integers(100, 599))
def test_a_range_matches_exactly_its_codes(low: int, high: int, status: int) -> None:
    assert matches(f"{low}-{high}", status) == (low <= status <= high)
    assert matches(str(low), status) == (status == low)


@given(st.lists(st.integers(100, 599), min_size=1, max_size=5), st.integers(100, 599))
def test_a_list_matches_any_of_its_codes(codes: list[int], status: int) -> None:
    assert matches(",".join(map(str, codes)), status) == (status in codes)


# -- settings ----------------------------------------------------------------------------------------------------


def test_settings_from_a_described_group_scale_to_real_seconds() -> None:
    described = {"HealthCheckProtocol": "HTTP", "HealthCheckPort": "traffic-port", "HealthCheckEnabled": True,
                 "HealthCheckIntervalSeconds": 30, "HealthCheckTimeoutSeconds": 6, "HealthyThresholdCount": 5,
                 "UnhealthyThresholdCount": 2, "HealthCheckPath": "/ping", "Matcher": {"HttpCode": "200-299"}}
    settings = CheckSettings.from_group(described, 2.0)
    assert settings == CheckSettings("HTTP", "/ping", None, "200-299", 15.0, 3.0)
    assert CheckSettings.from_group({**described, "HealthCheckPort": "8081"}, 1.0).port == 8081
    fast = CheckSettings.from_group({**described, "HealthCheckTimeoutSeconds": 2}, 1000.0)
    assert (fast.interval, fast.timeout) == (0.5, 1.0)  # the floors: checks never spin, a slow answer still counts


def test_settings_defaults_when_members_are_missing() -> None:
    settings = CheckSettings.from_group({"HealthCheckProtocol": "TCP"}, 1.0)
    assert settings == CheckSettings("TCP", "/", None, "200", 30.0, 5.0)


# -- one check ---------------------------------------------------------------------------------------------------


def test_http_check_passes_on_a_matching_status_and_sends_what_elb_sends() -> None:
    target = Target(status=200)

    async def scenario() -> Outcome:
        async with serving(target) as address:
            return await check_once(address, http("/health?deep=1"))

    assert run(scenario()) == Outcome(True, None, None)
    assert target.seen == [("GET", "/health?deep=1", "ELB-HealthChecker/2.0", "close")]


def test_http_check_with_a_caller_session() -> None:
    target = Target(status=202)

    async def scenario() -> tuple[Outcome, Outcome]:
        async with serving(target) as address, aiohttp.ClientSession() as session:
            return (await check_once(address, http(matcher="200-299"), session),
                    await check_once(address, http(matcher="200"), session))

    passing, failing = run(scenario())
    assert passing.passing and not failing.passing
    assert failing.description == "Health checks failed with these codes: [202]"


def test_http_check_503_is_a_response_code_mismatch() -> None:
    async def scenario() -> Outcome:
        async with serving(Target(status=503)) as address:
            return await check_once(address, http())

    assert run(scenario()) == Outcome(False, "Target.ResponseCodeMismatch",
                                      "Health checks failed with these codes: [503]")


def test_http_check_does_not_follow_redirects() -> None:
    target = Target(status=302)

    async def scenario() -> Outcome:
        async with serving(target) as address:
            return await check_once(address, http())

    assert run(scenario()) == Outcome(False, "Target.ResponseCodeMismatch",
                                      "Health checks failed with these codes: [302]")
    assert len(target.seen) == 1


def test_https_is_checked_with_plain_http() -> None:
    async def scenario() -> Outcome:
        async with serving(Target()) as address:
            return await check_once(address, http(protocol="HTTPS"))

    assert run(scenario()).passing


def test_a_slow_answer_is_a_timeout() -> None:
    async def scenario() -> Outcome:
        async with serving(Target(delay=3.0)) as address:
            return await check_once(address, http(timeout=0.2))

    assert run(scenario()) == Outcome(False, "Target.Timeout", "Request timed out")


def test_nothing_listening_is_failed_health_checks() -> None:
    async def scenario() -> Outcome:
        return await check_once(("127.0.0.1", free_port()), http())

    assert run(scenario()) == Outcome(False, "Target.FailedHealthChecks", "Health checks failed")


def test_a_malformed_answer_is_failed_health_checks() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"this is not HTTP\r\n\r\n")
        await writer.drain()
        writer.close()

    async def scenario() -> Outcome:
        server = await asyncio.start_server(garbage, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await check_once(("127.0.0.1", port), http())

    assert run(scenario()) == Outcome(False, "Target.FailedHealthChecks", "Health checks failed")


def test_the_check_port_overrides_the_traffic_port() -> None:
    async def scenario() -> Outcome:
        async with serving(Target()) as (host, port):
            return await check_once((host, free_port()), http(port=port))

    assert run(scenario()).passing


def test_tcp_check_passes_when_the_port_accepts_and_fails_otherwise() -> None:
    async def scenario() -> tuple[Outcome, Outcome]:
        async with serving(Target()) as address:
            open_ = await check_once(address, http(protocol="TCP"))
        closed = await check_once(("127.0.0.1", free_port()), http(protocol="TCP"))
        return open_, closed

    open_, closed = run(scenario())
    assert open_ == Outcome(True, None, None)
    assert closed == Outcome(False, "Target.FailedHealthChecks", "Health checks failed")


def test_check_once_never_raises_on_bad_settings() -> None:
    async def scenario() -> Outcome:
        return await check_once(("127.0.0.1", 1), http(path="/bad path\n"))

    assert not run(scenario()).passing


# -- the prober --------------------------------------------------------------------------------------------------


def test_prober_reports_the_first_outcome_then_changes_only() -> None:
    target = Target(status=200)
    reports: list[tuple[Hashable, Outcome]] = []

    async def scenario() -> None:
        prober = Prober(lambda key, outcome: reports.append((key, outcome)))
        try:
            async with serving(target) as address:
                prober.watch("t1", address, http(interval=0.05))
                await until(lambda: len(reports) == 1)
                await until(lambda: len(target.seen) >= 4)  # several passing checks: still one report
                assert len(reports) == 1
                target.status = 503
                await until(lambda: len(reports) == 2)
                checks = len(target.seen)
                await until(lambda: len(target.seen) >= checks + 3)
                assert len(reports) == 2
                target.status = 200
                await until(lambda: len(reports) == 3)
                assert prober.keys() == {"t1"}
        finally:
            await prober.close()
        assert prober.keys() == set()

    run(scenario())
    assert reports == [
        ("t1", Outcome(True, None, None)),
        ("t1", Outcome(False, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [503]")),
        ("t1", Outcome(True, None, None)),
    ]


def test_prober_watch_is_idempotent_and_restarts_on_a_change() -> None:
    target = Target(status=200)
    reports: list[tuple[Hashable, Outcome]] = []

    async def scenario() -> None:
        prober = Prober(lambda key, outcome: reports.append((key, outcome)))
        try:
            async with serving(target) as address:
                settings = http(interval=0.05)
                prober.watch("t", address, settings)
                await until(lambda: len(reports) == 1)
                prober.watch("t", address, settings)  # nothing changed: no restart, no new report
                checks = len(target.seen)
                await until(lambda: len(target.seen) >= checks + 3)
                assert len(reports) == 1
                prober.watch("t", address, http(interval=0.05, matcher="300"))  # changed: restarted
                await until(lambda: len(reports) == 2)
                assert reports[1] == ("t", Outcome(False, "Target.ResponseCodeMismatch",
                                                   "Health checks failed with these codes: [200]"))
        finally:
            await prober.close()

    run(scenario())


def test_prober_unwatch_stops_checks_and_reports() -> None:
    target = Target(status=200)
    reports: list[tuple[Hashable, Outcome]] = []

    async def scenario() -> None:
        prober = Prober(lambda key, outcome: reports.append((key, outcome)))
        try:
            async with serving(target) as address:
                prober.watch("a", address, http(interval=0.05))
                prober.watch("b", ("127.0.0.1", free_port()), http(interval=0.05))
                await until(lambda: len(reports) == 2)
                assert prober.keys() == {"a", "b"}
                prober.unwatch("a")
                prober.unwatch("missing")  # nothing to do
                assert prober.keys() == {"b"}
                await asyncio.sleep(0.1)
                checks = len(target.seen)
                await asyncio.sleep(0.3)  # several intervals: no check of "a" is sent any more
                assert len(target.seen) == checks
        finally:
            await prober.close()

    run(scenario())
    assert len(reports) == 2 and {key for key, _ in reports} == {"a", "b"}
    assert dict(reports)["b"].reason == "Target.FailedHealthChecks"


def test_a_failing_callback_does_not_stop_the_checks() -> None:
    target = Target(status=200)
    calls: list[Outcome] = []

    def on_change(key: Hashable, outcome: Outcome) -> None:
        calls.append(outcome)
        raise RuntimeError("owner bug")

    async def scenario() -> None:
        prober = Prober(on_change)
        try:
            async with serving(target) as address:
                prober.watch("t", address, http(interval=0.05))
                await until(lambda: len(calls) == 1)
                target.status = 500
                await until(lambda: len(calls) == 2)
        finally:
            await prober.close()

    run(scenario())
