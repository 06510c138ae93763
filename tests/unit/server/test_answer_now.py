"""``App.answer_now``: a call answered from the connection's callback, or handed back to the ASGI way."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from turnout import server
from turnout.edge.lanes import Lanes
from turnout.server import App, Settings, build_gateway


def _scope() -> tuple[dict[str, Any], bytes]:
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials("test", "test"), "sts", "us-east-1").add_auth(request)
    headers = [(b"host", b"127.0.0.1:4566"), *((k.lower().encode(), v.encode()) for k, v in request.headers.items())]
    scope = {"type": "http", "method": "POST", "path": "/", "raw_path": b"/", "query_string": b"",
             "headers": headers, "client": ("127.0.0.1", 5000)}
    return scope, body


@pytest.fixture
def app(tmp_path: Path) -> App:
    found = App(build_gateway(Settings(data_dir=tmp_path, cloudtrail=False, dataplane=False, guard="off")))
    found._lanes = Lanes(long_seconds=60.0)  # a cold first call is never taken for a long one here
    return found


def test_a_call_is_answered_now_within_a_slice_and_handed_back_once_the_slice_is_over(app: App) -> None:
    scope, body = _scope()

    async def run() -> None:
        app._new_slice()
        answer = app.answer_now(scope, body)
        assert answer is not None and answer[0] == 200 and b"<Account>000000000000</Account>" in answer[2]
        app._slice -= 2 * server.SLICE  # as if the loop had answered calls for longer than a slice
        assert app.answer_now(scope, body) is None  # the ASGI way first lets the loop look at its sockets...
        assert scope[server.YIELD_FIRST] is True  # ...whatever the slice by the time it runs the call
        del scope[server.YIELD_FIRST]
        await asyncio.sleep(0)  # the loop runs what it holds: a new slice begins
        assert app.answer_now(scope, body) is not None

    asyncio.run(run())


def test_a_long_call_is_handed_back_for_a_thread(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    scope, body = _scope()
    monkeypatch.setattr(app._lanes, "long", lambda key: key == ("sts", "GetCallerIdentity"))

    async def run() -> None:
        app._new_slice()
        assert app.answer_now(scope, body) is None

    asyncio.run(run())


def test_a_failure_after_the_call_ran_is_answered_500_in_the_service_shape_not_run_again(
        app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    scope, body = _scope()
    runs: list[str] = []
    finish = app.gateway.finish_http

    def counted(ctx: Any) -> Any:
        runs.append(ctx.request_id)
        return finish(ctx)

    def broken(ctx: Any) -> Any:
        raise RuntimeError("a bug in serialising")

    monkeypatch.setattr(app.gateway, "finish_http", counted)
    monkeypatch.setattr(server, "write", broken)

    async def run() -> None:
        app._new_slice()
        answer = app.answer_now(scope, body)
        assert answer is not None
        status, headers, text = answer
        assert status == 500 and (b"content-type", b"text/xml") in headers
        assert b"<Code>InternalFailure</Code>" in text

    asyncio.run(run())
    assert len(runs) == 1
