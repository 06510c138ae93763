"""AWS_LAMBDA lifecycle hooks through ``--lambda NAME=URL`` endpoints: a real local HTTP server stands in for
the functions; the event ECS sends and the result of every kind of answer."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from turnout.cli.main import build_parser
from turnout.dataplane import lambda_hooks
from turnout.dataplane.lambda_hooks import HookResult, function_name, invoke, payload

ACCOUNT = "123456789012"
FN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
DEPLOYMENT = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-deployment/demo/web/EZe5RNVLH6PPzHXINuP28"
SERVICE = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/demo/web"
GREEN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-revision/demo/web/4980306466373577095"
BLUE = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-revision/demo/web/1234567890123456789"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Functions:
    """A local HTTP server: path -> the reply it gives; every request it received."""

    base: str
    replies: dict[str, Reply] = field(default_factory=dict)
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def answer(self, name: str, reply: Reply | dict[str, Any]) -> str:
        """Make ``/<name>`` answer ``reply`` (a dict: its JSON with 200); the endpoint's URL."""
        if isinstance(reply, dict):
            reply = Reply(body=json.dumps(reply).encode())
        self.replies["/" + name] = reply
        return f"{self.base}/{name}"


@pytest.fixture(scope="module")
def functions() -> Iterator[Functions]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Functions(f"http://127.0.0.1:{server.server_address[1]}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append((self.path, dict(self.headers.items()), body))
            reply = state.replies.get(self.path, Reply(404, b"no such function"))
            if reply.delay:
                time.sleep(reply.delay)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def event(hook_details: Any = None) -> dict[str, Any]:
    return payload(
        execution_id="0f5e2a4c-1b7d-4f0e-9a51-6f0d2d3b9c11", stage="POST_TEST_TRAFFIC_SHIFT",
        deployment_arn=DEPLOYMENT, service_arn=SERVICE, target_revision_arn=GREEN,
        test_weights={}, production_weights={}, hook_details=hook_details,
    )


def call(endpoints: dict[str, str], arn: str, body: dict[str, Any] | None = None, timeout: float = 15.0
         ) -> HookResult:
    return asyncio.run(invoke(endpoints, arn, body if body is not None else event(), timeout=timeout))


# -- names and the event ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "name"), [
    ("arn:aws:lambda:us-east-1:123456789012:function:my-hook", "my-hook"),
    ("arn:aws:lambda:eu-west-3:123456789012:function:my_hook_2:live", "my_hook_2"),
    ("arn:aws:lambda:us-west-2:123456789012:function:hook:$LATEST", "hook"),
    ("arn:aws:lambda:us-west-2:123456789012:function:hook:7", "hook"),
    ("arn:aws-cn:lambda:cn-north-1:123456789012:function:hook", "hook"),
    ("my-hook", "my-hook"),
    ("a" * 64, "a" * 64),
])
def test_function_name_of_arns_and_bare_names(value: str, name: str) -> None:
    assert function_name(value) == name


@pytest.mark.parametrize("value", [
    "", "a" * 65, "my hook", "my.hook", "arn:aws:lambda:us-east-1:123456789012:layer:my-layer:1",
    "arn:aws:lambda:us-east-1:1234:function:hook", "arn:aws:s3:::bucket",
    "arn:aws:lambda:us-east-1:123456789012:function:",
    "arn:aws:lambda:us-east-1:123456789012:function:hook:a:b", "arn:aws:iam::123456789012:role/hook",
])
def test_function_name_refuses_other_strings(value: str) -> None:
    assert function_name(value) is None


def test_payload_has_aws_event_shape() -> None:
    body = payload(
        execution_id="e1", stage="PRODUCTION_TRAFFIC_SHIFT", deployment_arn=DEPLOYMENT, service_arn=SERVICE,
        target_revision_arn=GREEN, test_weights={}, production_weights={GREEN: 100.0, BLUE: 0.0},
        hook_details={"S3_BUCKET_NAME": "my-approval-bucket"},
    )
    assert body == {
        "executionId": "e1",
        "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT",
        "resourceArn": DEPLOYMENT,
        "executionDetails": {
            "serviceArn": SERVICE,
            "targetServiceRevisionArn": GREEN,
            "testTrafficWeights": {},
            "productionTrafficWeights": {GREEN: 100.0, BLUE: 0.0},
        },
        "hookDetails": {"S3_BUCKET_NAME": "my-approval-bucket"},
    }
    assert json.dumps(body["executionDetails"]["productionTrafficWeights"]) == f'{{"{GREEN}": 100, "{BLUE}": 0}}'
    assert json.loads(json.dumps(body)) == body


def test_payload_without_hook_details_has_no_such_key_and_keeps_tenths() -> None:
    body = payload(
        execution_id="e2", stage="PRE_SCALE_UP", deployment_arn=DEPLOYMENT, service_arn=SERVICE,
        target_revision_arn=GREEN, test_weights={}, production_weights={}, hook_details=None,
    )
    assert "hookDetails" not in body
    assert body["executionDetails"] == {"serviceArn": SERVICE, "targetServiceRevisionArn": GREEN,
                                        "testTrafficWeights": {}, "productionTrafficWeights": {}}
    canary = payload(
        execution_id="e3", stage="PRODUCTION_TRAFFIC_SHIFT", deployment_arn=DEPLOYMENT, service_arn=SERVICE,
        target_revision_arn=GREEN, test_weights={}, production_weights={GREEN: 2.5, BLUE: 97.5}, hook_details={},
    )
    assert canary["executionDetails"]["productionTrafficWeights"] == {GREEN: 2.5, BLUE: 97.5}
    assert canary["hookDetails"] == {}


# -- invoking through an endpoint ----------------------------------------------------------------------------------


def test_succeeded_posts_the_event_as_json(functions: Functions) -> None:
    url = functions.answer("ok", {"hookStatus": "SUCCEEDED"})
    sent = event({"stage": "check"})
    result = call({"ok": url}, FN + "ok", sent)
    assert result == HookResult("SUCCEEDED", 0.0, None, None)
    path, headers, body = functions.received[-1]
    assert path == "/ok"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == sent


def test_qualified_arn_reaches_the_functions_endpoint(functions: Functions) -> None:
    url = functions.answer("qualified", {"hookStatus": "SUCCEEDED"})
    assert call({"qualified": url}, FN + "qualified:live").status == "SUCCEEDED"
    assert functions.received[-1][0] == "/qualified"


def test_failed_status(functions: Functions) -> None:
    url = functions.answer("no", {"hookStatus": "FAILED"})
    result = call({"no": url}, FN + "no")
    assert result.status == "FAILED"
    assert result.failure == f"Lifecycle hook target {FN}no returned FAILED status."


def test_in_progress_without_callback_delay_waits_30_seconds(functions: Functions) -> None:
    url = functions.answer("wait", {"hookStatus": "IN_PROGRESS"})
    assert call({"wait": url}, FN + "wait") == HookResult("IN_PROGRESS", 30.0, None, None)


def test_in_progress_with_callback_delay(functions: Functions) -> None:
    url = functions.answer("later", {"hookStatus": "IN_PROGRESS", "callBackDelay": 60})
    result = call({"later": url}, FN + "later")
    assert result == HookResult("IN_PROGRESS", 60.0, None, None)
    assert isinstance(result.callback_delay, float)


def test_hook_details_are_passed_back(functions: Functions) -> None:
    details = {"attempt": 2, "checks": ["a", "b"]}
    url = functions.answer("details", {"hookStatus": "IN_PROGRESS", "callBackDelay": 5, "hookDetails": details})
    assert call({"details": url}, FN + "details") == HookResult("IN_PROGRESS", 5.0, details, None)


def test_missing_hook_status_fails_with_aws_message(functions: Functions) -> None:
    url = functions.answer("empty", {"callBackDelay": 10})
    result = call({"empty": url}, FN + "empty")
    assert result.status == "FAILED"
    assert result.failure == f"ECS was unable to parse the response from {FN}empty due to HookStatus must not be null"


@pytest.mark.parametrize("body", [b"null", b"[]", b'"SUCCEEDED"', b"", b'{"hookStatus": null}'])
def test_answers_without_a_hook_status_fail_the_same_way(functions: Functions, body: bytes) -> None:
    url = functions.answer("odd", Reply(body=body))
    assert call({"odd": url}, FN + "odd").failure == (
        f"ECS was unable to parse the response from {FN}odd due to HookStatus must not be null"
    )


def test_unknown_hook_status_value_fails(functions: Functions) -> None:
    url = functions.answer("lower", {"hookStatus": "succeeded"})
    result = call({"lower": url}, FN + "lower")
    assert result.status == "FAILED"
    assert result.failure == (
        f"ECS was unable to parse the response from {FN}lower due to HookStatus must be one of "
        "SUCCEEDED, FAILED, IN_PROGRESS"
    )


@pytest.mark.parametrize("delay", [-1, "10", True, None])
def test_bad_callback_delay(functions: Functions, delay: Any) -> None:
    url = functions.answer("delay", {"hookStatus": "IN_PROGRESS", "callBackDelay": delay})
    result = call({"delay": url}, FN + "delay")
    if delay is None:
        assert result == HookResult("IN_PROGRESS", 30.0, None, None)
    else:
        assert result.status == "FAILED"
        assert result.failure == (
            f"ECS was unable to parse the response from {FN}delay due to CallBackDelay must be a non-negative number"
        )


def test_unknown_function_fails_like_lambda(functions: Functions) -> None:
    result = call({"other": functions.base + "/other"}, FN + "missing")
    assert result.status == "FAILED"
    assert result.failure == (
        f"ECS was unable to invoke hook target {FN}missing due to Function not found: {FN}missing"
    )
    bad = "arn:aws:iam::123456789012:role/not-a-function"
    assert call({}, bad).failure == f"ECS was unable to invoke hook target {bad} due to Function not found: {bad}"


def test_endpoint_down(functions: Functions) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        url = f"http://127.0.0.1:{port}/down"
        result = call({"down": url}, FN + "down")
    assert result.status == "FAILED"
    assert result.failure == (
        f"ECS was unable to invoke hook target {FN}down due to the endpoint {url} refused the connection"
    )


def test_endpoint_too_slow(functions: Functions) -> None:
    url = functions.answer("slow", Reply(body=b'{"hookStatus": "SUCCEEDED"}', delay=1.0))
    result = call({"slow": url}, FN + "slow", timeout=0.2)
    assert result.status == "FAILED"
    assert result.failure == (
        f"ECS was unable to invoke hook target {FN}slow due to no answer from the endpoint {url} within 0.2 seconds"
    )


def test_non_json_body(functions: Functions) -> None:
    url = functions.answer("html", Reply(body=b"<html>ok</html>", headers={"Content-Type": "text/html"}))
    result = call({"html": url}, FN + "html")
    assert result.status == "FAILED"
    assert result.failure == f"ECS was unable to parse the response from {FN}html due to the response is not valid JSON"


def test_server_error(functions: Functions) -> None:
    url = functions.answer("boom", Reply(500, b'{"hookStatus": "SUCCEEDED"}'))
    result = call({"boom": url}, FN + "boom")
    assert result.status == "FAILED"
    assert result.failure == (
        f"ECS was unable to invoke hook target {FN}boom due to HTTP 500 Internal Server Error from the endpoint {url}"
    )


def test_function_error_header(functions: Functions) -> None:
    body = {"errorMessage": "division by zero", "errorType": "ZeroDivisionError", "stackTrace": []}
    reply = Reply(body=json.dumps(body).encode(), headers={"X-Amz-Function-Error": "Unhandled"})
    url = functions.answer("crash", reply)
    result = call({"crash": url}, FN + "crash")
    assert result.status == "FAILED"
    assert result.failure == (
        f"ECS was unable to invoke hook target {FN}crash due to a function error (Unhandled): division by zero"
    )


def test_function_error_body_without_header(functions: Functions) -> None:
    url = functions.answer("raised", {"errorMessage": "bad input", "errorType": "ValueError"})
    result = call({"raised": url}, FN + "raised")
    assert result.failure == (
        f"ECS was unable to invoke hook target {FN}raised due to a function error (Unhandled): bad input"
    )


def test_invoke_keeps_the_event_loop_free(functions: Functions) -> None:
    url = functions.answer("slow2", Reply(body=b'{"hookStatus": "SUCCEEDED"}', delay=0.3))

    async def scenario() -> tuple[HookResult, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.ensure_future(ticker())
        result = await invoke({"slow2": url}, FN + "slow2", event())
        task.cancel()
        return result, ticks

    result, ticks = asyncio.run(scenario())
    assert result.status == "SUCCEEDED"
    assert ticks > 0  # the loop ran other work while the endpoint answered


def test_interpret_is_what_invoke_applies() -> None:
    assert lambda_hooks.interpret(FN + "x", b'{"hookStatus": "SUCCEEDED", "hookDetails": {"a": 1}}') == HookResult(
        "SUCCEEDED", 0.0, {"a": 1}, None
    )


# -- the command line ----------------------------------------------------------------------------------------------


def test_serve_lambda_option_accepts_name_and_url() -> None:
    args = build_parser().parse_args(
        ["serve", "--lambda", "fn=http://127.0.0.1:9/x", "--lambda", "other_fn-2=https://hooks.example/a?b=1"]
    )
    assert args.lambdas == [("fn", "http://127.0.0.1:9/x"), ("other_fn-2", "https://hooks.example/a?b=1")]
    assert build_parser().parse_args(["serve"]).lambdas == []


@pytest.mark.parametrize("value", [
    "bad name=http://127.0.0.1:9/x", "fn", "=http://127.0.0.1:9/x", "fn=ftp://127.0.0.1/x", "fn=127.0.0.1:9",
    "f.n=http://127.0.0.1:9/", "a" * 65 + "=http://127.0.0.1:9/", "fn=http://127.0.0.1:99999/", "fn=http://",
])
def test_serve_lambda_option_refuses_bad_values(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["serve", "--lambda", value])
    assert info.value.code == 2
    assert "argument --lambda: " in capsys.readouterr().err


def test_serve_lambda_option_refuses_a_name_given_twice(capsys: pytest.CaptureFixture[str]) -> None:
    from turnout.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(["serve", "--lambda", "fn=http://127.0.0.1:9/a", "--lambda", "fn=http://127.0.0.1:9/b"])
    assert info.value.code == 2
    assert "argument --lambda: function 'fn' is given twice" in capsys.readouterr().err


def test_settings_reach_the_gateway(tmp_path: Any) -> None:
    from turnout.server import Settings, build_gateway

    gateway = build_gateway(Settings(data_dir=tmp_path, lambdas={"fn": "http://127.0.0.1:9/x"}))
    try:
        assert gateway.lambda_endpoints == {"fn": "http://127.0.0.1:9/x"}
    finally:
        gateway.db.close()


def test_turnout_serve_with_a_bad_lambda_exits_with_usage_error() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "turnout", "serve", "--lambda", "bad name=http://127.0.0.1:9/x"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "usage: turnout serve" in done.stderr
    assert "argument --lambda: 'bad name' is not a Lambda function name" in done.stderr
