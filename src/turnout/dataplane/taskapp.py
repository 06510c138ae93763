"""The built-in task app: what a container runs when no ``--task-command`` rule matches its image (issue 13).

``python -m turnout.dataplane.taskapp`` serves HTTP on ``127.0.0.1`` at every port of ``TURNOUT_PORTS``
(comma-separated; ``PORT`` alone when it is unset), the stand-in for a container image. Every request, any method and
any path, is answered 200 with a JSON body that says who answered (``taskArn``, ``taskDefinitionArn``,
``containerName``, ``image`` from ``TURNOUT_TASK_ARN``, ``TURNOUT_TASK_DEFINITION_ARN``, ``TURNOUT_CONTAINER_NAME``,
``TURNOUT_IMAGE``) and what it was asked (``method``, ``path`` with its query as sent, ``headers``, and ``port``, the
local port the request came in on), so that a test or a person can see which task a load balancer chose.

A request from the load balancer's health checks (its ``User-Agent`` starts with ``ELB-HealthChecker/``, which is
what they send: docs/dataplane.md, "Target health checks") is answered 200 ``{"status": "healthy"}``, whatever
``TURNOUT_APP_STATUS`` says. Knobs, read once at start from the environment:

* ``TURNOUT_APP_HEALTH=fail``: health checks answer 503 ``{"status": "unhealthy"}``, and so does any request on a
  health check path (``TURNOUT_HEALTH_CHECK_PATHS``, comma-separated, compared without the query), so that a
  person curling the path sees what the checks see; without the knob those requests get the usual answer (the
  default health check path is ``/``, every page of the app);
* ``TURNOUT_APP_STATUS=<100-599>``: the status of every other response;
* ``TURNOUT_APP_DELAY_MS=<n>``: wait n milliseconds before every response, health checks included.

A knob with a bad value is reported with one line on stderr and ignored. SIGTERM (or SIGINT) stops accepting
connections, lets the requests in flight finish for at most about 5 seconds, and exits 0.

The module imports only the standard library and aiohttp (nothing else of Turnout), so a task starts fast.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

HOST = "127.0.0.1"
HEALTH_AGENT = "ELB-HealthChecker/"
GRACE_SECONDS = 5.0  # how long SIGTERM lets requests in flight finish
_BODYLESS = (204, 304)


def _log(message: str) -> None:
    print(f"taskapp: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Config:
    """What the environment asks of the app, validated."""

    ports: tuple[int, ...]
    identity: Mapping[str, str]  # taskArn, taskDefinitionArn, containerName, image
    health_paths: frozenset[str]
    health_fails: bool
    status: int | None  # TURNOUT_APP_STATUS, None: 200
    delay: float  # seconds

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        """Read the environment; bad knob values are logged to stderr and ignored. Raises ValueError when there is
        no valid port to serve (nothing useful can run then)."""
        return cls(
            ports=_ports(env),
            identity={
                "taskArn": env.get("TURNOUT_TASK_ARN", ""),
                "taskDefinitionArn": env.get("TURNOUT_TASK_DEFINITION_ARN", ""),
                "containerName": env.get("TURNOUT_CONTAINER_NAME", ""),
                "image": env.get("TURNOUT_IMAGE", ""),
            },
            health_paths=_health_paths(env.get("TURNOUT_HEALTH_CHECK_PATHS", "")),
            health_fails=env.get("TURNOUT_APP_HEALTH", "").strip().lower() == "fail",
            status=_status(env.get("TURNOUT_APP_STATUS")),
            delay=_delay(env.get("TURNOUT_APP_DELAY_MS")),
        )


def _ports(env: Mapping[str, str]) -> tuple[int, ...]:
    text = env.get("TURNOUT_PORTS") or env.get("PORT") or ""
    ports: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 65535:
            raise ValueError(f"not a port: {part!r} (TURNOUT_PORTS={text!r})")
        if int(part) not in ports:
            ports.append(int(part))
    if not ports:
        raise ValueError("no port to serve: set TURNOUT_PORTS (comma-separated) or PORT")
    return tuple(ports)


def _health_paths(text: str) -> frozenset[str]:
    """The health check paths, compared without their query (a check path may carry one)."""
    return frozenset(part.strip().partition("?")[0] for part in text.split(",") if part.strip())


def _status(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    value = text.strip()
    if value.isdigit() and 100 <= int(value) <= 599:
        return int(value)
    _log(f"ignoring TURNOUT_APP_STATUS={text!r}: not a status code from 100 to 599")
    return None


def _delay(text: str | None) -> float:
    if text is None or not text.strip():
        return 0.0
    try:
        millis = float(text.strip())
    except ValueError:
        millis = float("nan")
    if not 0 <= millis < 86_400_000:  # also rejects nan and inf
        _log(f"ignoring TURNOUT_APP_DELAY_MS={text!r}: not a number of milliseconds")
        return 0.0
    return millis / 1000


def is_checker(request: web.BaseRequest) -> bool:
    """Whether the request comes from the load balancer's health checks."""
    return request.headers.get("User-Agent", "").startswith(HEALTH_AGENT)


def _local_port(request: web.BaseRequest) -> int | None:
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if isinstance(sockname, tuple) and len(sockname) >= 2 and isinstance(sockname[1], int):
        return sockname[1]
    return None


def _headers(request: web.BaseRequest) -> dict[str, str]:
    """The request's headers as an object; a repeated header's values are joined with ", " (Turnout's choice)."""
    out: dict[str, str] = {}
    for name, value in request.headers.items():
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _json(status: int, payload: Mapping[str, object]) -> web.Response:
    if status < 200 or status in _BODYLESS:  # these statuses carry no body (RFC 9110)
        return web.Response(status=status)
    body = json.dumps(payload).encode()
    return web.Response(status=status, body=body, content_type="application/json")


def make_app(config: Config) -> web.Application:
    async def answer(request: web.Request) -> web.StreamResponse:
        if config.delay:
            await asyncio.sleep(config.delay)
        if config.health_fails and (is_checker(request) or request.path in config.health_paths):
            return _json(503, {"status": "unhealthy"})
        if is_checker(request):
            return _json(200, {"status": "healthy"})
        payload = {**config.identity, "method": request.method, "path": request.raw_path,
                   "headers": _headers(request), "port": _local_port(request)}
        return _json(config.status or 200, payload)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


async def serve(config: Config) -> int:
    """Serve until SIGTERM/SIGINT; the exit code (0, or 1 when a port cannot be bound)."""
    runner = web.AppRunner(make_app(config), access_log=None, shutdown_timeout=GRACE_SECONDS)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    code = 0
    try:
        for port in config.ports:
            await web.TCPSite(runner, HOST, port).start()
        print(f"taskapp: serving on {', '.join(f'{HOST}:{p}' for p in config.ports)}", flush=True)
        await stop.wait()
        print("taskapp: stopping", flush=True)
    except OSError as exc:
        _log(f"cannot serve: {exc}")
        code = 1
    finally:
        try:
            await asyncio.wait_for(runner.cleanup(), GRACE_SECONDS + 2)
        except TimeoutError:
            _log("requests still in flight after the grace period: exiting anyway")
    return code


def main() -> int:
    try:
        config = Config.from_env(os.environ)
    except ValueError as exc:
        _log(str(exc))
        return 2
    return asyncio.run(serve(config))


if __name__ == "__main__":
    sys.exit(main())
