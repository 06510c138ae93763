"""The built-in task app, run as a real subprocess (``python -m turnout.dataplane.taskapp``) and asked over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from turnout.dataplane import taskapp
from turnout.dataplane.processes import TaskProcesses, builtin_command

T = TypeVar("T")
WAIT = 20.0  # generous bound against hangs
IDENTITY = {
    "TURNOUT_TASK_ARN": "arn:aws:ecs:us-east-1:123456789012:task/demo/0123456789abcdef",
    "TURNOUT_TASK_DEFINITION_ARN": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
    "TURNOUT_CONTAINER_NAME": "web",
    "TURNOUT_IMAGE": "public.ecr.aws/nginx/nginx:latest",
}


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, 60)

    return asyncio.run(bounded())


@asynccontextmanager
async def app(tmp_path: Path, env: Mapping[str, str], ports: int = 1) -> AsyncIterator[tuple[int, ...]]:
    procs = TaskProcesses(tmp_path)
    running = await procs.start("app", builtin_command(), {**IDENTITY, **env}, ports)
    try:
        assert await procs.wait_ready("app", WAIT), running.log_path.read_text()
        yield running.ports
    finally:
        await procs.stop_all(grace=WAIT)


async def ask(port: int, path: str = "/", method: str = "GET",
              headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
    timeout = aiohttp.ClientTimeout(total=WAIT)
    async with aiohttp.ClientSession(timeout=timeout) as session, \
            session.request(method, f"http://127.0.0.1:{port}{path}", headers=headers) as response:
        body = await response.read()
        return response.status, json.loads(body) if body else None


def test_every_request_is_answered_with_who_and_what(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with app(tmp_path, {}) as (port,):
            status, body = await ask(port, "/some/where?x=1&y=%20z", "POST", {"X-Probe": "yes"})
            assert status == 200
            assert body["taskArn"] == IDENTITY["TURNOUT_TASK_ARN"]
            assert body["taskDefinitionArn"] == IDENTITY["TURNOUT_TASK_DEFINITION_ARN"]
            assert body["containerName"] == "web"
            assert body["image"] == IDENTITY["TURNOUT_IMAGE"]
            assert body["method"] == "POST"
            assert body["path"] == "/some/where?x=1&y=%20z"
            assert body["headers"]["X-Probe"] == "yes"
            assert body["headers"]["Host"] == f"127.0.0.1:{port}"
            assert body["port"] == port
            status, body = await ask(port, "/", "PATCH")
            assert (status, body["method"], body["path"]) == (200, "PATCH", "/")

    run(scenario())


def test_health_fail_answers_503_on_health_checks_only(tmp_path: Path) -> None:
    async def scenario() -> None:
        env = {"TURNOUT_APP_HEALTH": "fail", "TURNOUT_HEALTH_CHECK_PATHS": "/healthz,/ready"}
        async with app(tmp_path, env) as (port,):
            assert await ask(port, "/healthz") == (503, {"status": "unhealthy"})
            assert await ask(port, "/ready?verbose=1") == (503, {"status": "unhealthy"})
            # What AWS's checks send, on any path
            assert (await ask(port, "/other", headers={"User-Agent": "ELB-HealthChecker/2.0"}))[0] == 503
            status, body = await ask(port, "/app")
            assert status == 200 and body["containerName"] == "web"

    run(scenario())


def test_health_checks_pass_by_default(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with app(tmp_path, {"TURNOUT_HEALTH_CHECK_PATHS": "/,/healthz"}) as (port,):
            assert await ask(port, "/healthz", headers={"User-Agent": "ELB-HealthChecker/2.0"}) == \
                (200, {"status": "healthy"})
            # Anyone else on a health check path (the default one is "/") gets the app's usual answer.
            status, body = await ask(port, "/")
            assert status == 200 and body["taskArn"] == IDENTITY["TURNOUT_TASK_ARN"] and body["path"] == "/"

    run(scenario())


def test_status_knob_sets_every_response_but_health_checks(tmp_path: Path) -> None:
    async def scenario() -> None:
        env = {"TURNOUT_APP_STATUS": "418", "TURNOUT_HEALTH_CHECK_PATHS": "/healthz"}
        async with app(tmp_path, env) as (port,):
            status, body = await ask(port, "/anything")
            assert status == 418 and body["taskArn"] == IDENTITY["TURNOUT_TASK_ARN"]
            assert (await ask(port, "/healthz"))[0] == 418  # not a health check: the usual answer
            assert await ask(port, "/healthz", headers={"User-Agent": "ELB-HealthChecker/2.0"}) == \
                (200, {"status": "healthy"})

    run(scenario())


def test_delay_knob_still_answers(tmp_path: Path) -> None:
    async def scenario() -> None:
        env = {"TURNOUT_APP_DELAY_MS": "300", "TURNOUT_HEALTH_CHECK_PATHS": "/healthz"}
        async with app(tmp_path, env) as (port,):
            status, body = await ask(port, "/slow")
            assert status == 200 and body["path"] == "/slow"
            assert await ask(port, "/healthz", headers={"User-Agent": "ELB-HealthChecker/2.0"}) == \
                (200, {"status": "healthy"})

    run(scenario())


def test_several_ports_each_say_which_one(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with app(tmp_path, {}, ports=3) as ports:
            for port in ports:
                status, body = await ask(port, "/")
                assert status == 200 and body["port"] == port

    run(scenario())


def test_bad_knobs_are_logged_and_ignored(tmp_path: Path) -> None:
    async def scenario() -> Path:
        env = {"TURNOUT_APP_STATUS": "999", "TURNOUT_APP_DELAY_MS": "soon"}
        async with app(tmp_path, env) as (port,):
            status, body = await ask(port, "/")
            assert status == 200 and body["method"] == "GET"
        return tmp_path / "app.log"

    text = run(scenario()).read_text()
    assert "TURNOUT_APP_STATUS='999'" in text
    assert "TURNOUT_APP_DELAY_MS='soon'" in text


def _spawn_env(port: int, extra: Mapping[str, str]) -> dict[str, str]:
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    return {**env, **IDENTITY, "TURNOUT_PORTS": str(port), "PORT": str(port), **extra}


async def _until_serving(port: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            assert loop.time() < deadline, "the task app never listened"
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return


def test_sigterm_finishes_the_request_in_flight_and_exits_0() -> None:
    from turnout.dataplane.processes import free_port

    async def scenario() -> None:
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            *builtin_command(), env=_spawn_env(port, {"TURNOUT_APP_DELAY_MS": "700"}),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        try:
            await _until_serving(port)
            in_flight = asyncio.ensure_future(ask(port, "/in-flight"))
            await asyncio.sleep(0.3)  # the request has reached the app and is being delayed
            process.send_signal(signal.SIGTERM)
            status, body = await in_flight
            assert status == 200 and body["path"] == "/in-flight"
            assert await asyncio.wait_for(process.wait(), WAIT) == 0
            with pytest.raises(OSError):  # no longer accepting
                await asyncio.open_connection("127.0.0.1", port)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

    run(scenario())


def test_no_port_exits_with_a_message() -> None:
    async def scenario() -> tuple[int, bytes]:
        env = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
        process = await asyncio.create_subprocess_exec(*builtin_command(), env=env,
                                                       stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(process.communicate(), WAIT)
        assert process.returncode is not None
        return process.returncode, err

    code, err = run(scenario())
    assert code == 2 and b"no port to serve" in err


# -- the configuration, read in this process ----------------------------------------------------------------------


@pytest.mark.parametrize(("status", "expected"), [
    ("418", 418), ("100", 100), ("599", 599), ("600", None), ("99", None), ("-200", None), ("ok", None), ("", None),
])
def test_status_knob_values(status: str, expected: int | None) -> None:
    config = taskapp.Config.from_env({"PORT": "8080", "TURNOUT_APP_STATUS": status})
    assert config.status == expected


@pytest.mark.parametrize(("delay", "expected"), [
    ("250", 0.25), ("0", 0.0), ("1.5", 0.0015), ("-1", 0.0), ("later", 0.0), ("nan", 0.0), ("inf", 0.0),
])
def test_delay_knob_values(delay: str, expected: float) -> None:
    assert taskapp.Config.from_env({"PORT": "8080", "TURNOUT_APP_DELAY_MS": delay}).delay == expected


def test_health_check_paths_are_compared_without_their_query() -> None:
    config = taskapp.Config.from_env({"PORT": "8080", "TURNOUT_HEALTH_CHECK_PATHS": " /a?x=1 ,, /b"})
    assert config.health_paths == frozenset({"/a", "/b"})


def test_ports_come_from_turnout_ports_then_port() -> None:
    assert taskapp.Config.from_env({"TURNOUT_PORTS": "81, 82,81", "PORT": "9"}).ports == (81, 82)
    assert taskapp.Config.from_env({"PORT": "9"}).ports == (9,)
    with pytest.raises(ValueError, match="not a port"):
        taskapp.Config.from_env({"TURNOUT_PORTS": "81,http"})
    with pytest.raises(ValueError, match="no port"):
        taskapp.Config.from_env({})


def test_the_app_module_imports_nothing_heavy() -> None:
    code = ("import sys, turnout.dataplane.taskapp; "
            "bad = [m for m in sys.modules if m.startswith(('botocore', 'boto3')) or "
            "(m.startswith('turnout') and m not in ('turnout', 'turnout.dataplane', 'turnout.dataplane.taskapp'))]; "
            "print(bad); sys.exit(1 if bad else 0)")

    async def scenario() -> tuple[int | None, bytes]:
        process = await asyncio.create_subprocess_exec(sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(process.communicate(), WAIT)
        return process.returncode, out

    code_, out = run(scenario())
    assert code_ == 0, out
