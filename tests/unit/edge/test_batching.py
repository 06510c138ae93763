"""Group commit's trigger: a call answered on the event loop shares its CloudTrail commit whenever other requests
are in hand, including those whose data has arrived but whose tasks have not begun to run."""

from __future__ import annotations

import asyncio
from pathlib import Path

from turnout.edge.protocol import TurnoutHttpProtocol
from turnout.server import App, Settings, build_gateway


def _app(tmp_path: Path, *, cloudtrail: bool = True) -> App:
    return App(build_gateway(Settings(data_dir=tmp_path, cloudtrail=cloudtrail)))


def test_requests_waiting_to_run_make_a_call_share_its_commit(tmp_path: Path) -> None:
    app = _app(tmp_path)
    app.requests_started = {"this call", "another, not begun"}  # type: ignore[assignment]
    app._active = 1  # only this call has begun
    assert app.batched()


def test_a_lone_call_commits_by_itself(tmp_path: Path) -> None:
    app = _app(tmp_path)
    app.requests_started = {"this call"}  # type: ignore[assignment]
    app._active = 1
    assert not app.batched()


def test_nothing_is_batched_without_recording(tmp_path: Path) -> None:
    app = _app(tmp_path, cloudtrail=False)
    app.requests_started = {"this call", "another"}  # type: ignore[assignment]
    app._active = 2
    assert not app.batched()


def test_the_connection_hands_the_app_its_servers_tasks(tmp_path: Path) -> None:
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    app = _app(tmp_path)
    state = ServerState()
    loop = asyncio.new_event_loop()
    try:
        TurnoutHttpProtocol(config=Config(app, proxy_headers=False), server_state=state, app_state={}, _loop=loop)
    finally:
        loop.close()
    assert app.requests_started is state.tasks
