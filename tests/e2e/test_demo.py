"""``turnout demo``: the seed's walkthrough run as a user runs it (a subprocess that starts its own server) with live
traffic through the listeners, the same against a server without a data plane (the traffic skipped), its clear
failures (no server, a server that already holds the demo's resources), and the traffic helpers it uses
(``turnout.cli.demo_traffic``) against stand-ins on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Server, free_port
from turnout.cli.demo import Walkthrough
from turnout.cli.demo_progress import DemoError
from turnout.cli.demo_traffic import (
    Traffic,
    ask,
    ask_until_answered,
    curl_command,
    dataplane,
    describe_counts,
    listener_address,
    revision_label,
    tally,
)

ACCOUNT = "000000000000"
TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Sid":"AllowAccessToECSForInfrastructureManagement","Effect":"Allow",'
    '"Principal":{"Service":"ecs.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
)


def demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    env["AWS_CONFIG_FILE"] = str(cwd / "no-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(cwd / "no-credentials")
    return subprocess.run([sys.executable, "-m", "turnout", "demo", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240)


def test_the_demo_runs_end_to_end(tmp_path: Path) -> None:
    done = demo(cwd=tmp_path)
    out = done.stdout
    # Steps 1 to 4: the role, the user, the load balancer, the cluster and task definitions.
    assert re.search(r"embedded server: http://127\.0\.0\.1:\d+ \(time scale 60, data in ", out)
    assert "[1/8] The ECS infrastructure role for load balancers (ecsInfrastructureRoleForLoadBalancers)" in out
    assert f"        {TRUST}\n" in out
    assert (f"file://ecs-infrastructure-trust-policy.json: arn:aws:iam::{ACCOUNT}:role/"
            "ecsInfrastructureRoleForLoadBalancers\n") in out
    assert ("iam attach-role-policy: ecsInfrastructureRoleForLoadBalancers has "
            "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers\n") in out
    assert re.search(rf"created user arn:aws:iam::{ACCOUNT}:user/demo-deployer with access key AKIA[A-Z0-9]{{16}}\n",
                     out)
    assert re.search(r"load balancer arn:aws:elasticloadbalancing:us-east-1:\d{12}:loadbalancer/app/demo-alb/", out)
    assert "rule path /* -> blue 100 / green 0: arn:aws:elasticloadbalancing:" in out
    assert "test listener :8080, rule X-Environment: test -> green: arn:aws:elasticloadbalancing:" in out
    assert f"cluster arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/demo\n" in out
    assert (f"task definition web:2 (public.ecr.aws/nginx/nginx:1.28): "
            f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/web:2\n") in out
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    # Step 5: PassRole denied, then allowed; the first deployment.
    assert ("without iam:PassRole, CreateService is denied: AccessDeniedException: User: "
            f"arn:aws:iam::{ACCOUNT}:user/demo-deployer is not authorized to perform: iam:PassRole on resource: "
            f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers") in out
    assert f"CreateService: arn:aws:ecs:us-east-1:{ACCOUNT}:service/demo/web (ACTIVE, desired 2)" in out
    assert "the first deployment is SUCCESSFUL: 2 of 2 tasks running" in out
    # Step 6: the blue/green deployment, its traffic shift on the production rule, live traffic through the
    # listeners: the curl lines, revision 1 before, test traffic on revision 2 at the pause while production stays on
    # revision 1, then production traffic answered by both revisions with no failed request.
    dns = r"demo-alb-[0-9a-f]+\.us-east-1\.elb\.localhost"
    production = re.search(rf"\n    production listener, served on 127\.0\.0\.1:(\d+): curl http://{dns}:(\d+)/\n",
                           out)
    assert production and production[1] == production[2]
    test = re.search(rf"\n    test listener, served on 127\.0\.0\.1:(\d+): curl -H 'X-Environment: test' "
                     rf"http://{dns}:(\d+)/\n", out)
    assert test and test[1] == test[2] and test[1] != production[1]
    assert re.search(rf"GET / through production: revision 1 answered \(task arn:aws:ecs:us-east-1:{ACCOUNT}:task/demo/"
                     r"[0-9a-f]{32}, image public\.ecr\.aws/nginx/nginx:1\.27\)\n", out)
    traffic = r" \| revision 1: \d+(, revision 2: \d+)?, failed requests: 0\n"
    assert re.search(r"s  IN_PROGRESS +POST_TEST_TRAFFIC_SHIFT +100% +0%  PAUSE:AWAITING_ACTION / blue=\d+ "
                     r"green=\d+ \| revision 1: \d+, failed requests: 0\n", out)
    assert "test traffic is on the new revision, production is not: test rule " in out
    assert "GET / through the test listener (X-Environment: test): revision 2: 5\n" in out
    assert re.search(r"GET / through production: revision 1: 5 \(background clients so far: revision 1: \d+, "
                     r"failed requests: 0\)\n", out)
    assert re.search(rf"s  IN_PROGRESS +BAKE_TIME +100% +100%  PAUSE:SUCCEEDED / blue=\d+ green=\d+{traffic}", out)
    assert re.search(rf"s  SUCCESSFUL +CLEAN_UP +100% +100%  PAUSE:SUCCEEDED / blue=\d+ green=\d+{traffic}", out)
    assert "the blue/green deployment to revision 2 is SUCCESSFUL: 2 of 2 tasks running" in out
    assert re.search(r"production rule now: (blue=0 green=100|blue=100 green=0)\n", out)
    shift = re.search(r"production traffic during the shift \(2 keep-alive clients, UpdateService to SUCCESSFUL\): "
                      r"revision 1: (\d+), revision 2: (\d+)\n    failed requests: 0\n", out)
    assert shift and int(shift[1]) > 0 and int(shift[2]) > 0
    assert (f"traffic through the production listener during the shift: revision 1: {shift[1]}, revision 2: "
            f"{shift[2]}, failed requests: 0\n") in out
    assert "no data plane" not in out
    # Step 7: ECS's calls in CloudTrail.
    assert re.search(r"  ModifyRule +ECSNetworkingWithELB  invokedBy ecs\.amazonaws\.com  -> test rule: "
                     r"blue=0 green=100\n", out)
    assert re.search(r"  ModifyRule +ECSNetworkingWithELB  invokedBy ecs\.amazonaws\.com  -> production rule: "
                     r"blue=0 green=100\n", out)
    # Step 8: the paused deployment, the broken trust policy, the rollback.
    assert re.search(r"paused: hook ecs-pause-\S+ is AWAITING_ACTION at POST_SCALE_UP\n", out)
    assert "ContinueServiceDeployment (CONTINUE)" in out
    assert re.search(r"status: ROLLBACK_(SUCCESSFUL|FAILED)\n", out)
    assert "statusReason: Service deployment rolled back because" in out
    assert "restored the role's trust policy (ecs.amazonaws.com)" in out
    assert "\nSummary\n" in out and "the demo took " in out


def test_the_demo_skips_traffic_without_a_data_plane(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", ["--no-dataplane", "--time-scale", "60"]).start()
    try:
        done = demo("--endpoint-url", server.endpoint, cwd=tmp_path)
    finally:
        server.stop()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    out = done.stdout
    assert out.count("no data plane") == 2  # the one line of step 6, and the summary's
    assert ("    the server has no data plane (GET /_turnout/dataplane: not enabled): no traffic through the "
            "listeners, skipped\n") in out
    assert "    traffic through the listeners: skipped (the server has no data plane)\n" in out
    assert "curl " not in out and "failed requests" not in out and "production traffic so far" not in out
    assert "the blue/green deployment to revision 2 is SUCCESSFUL: 2 of 2 tasks running" in out


def test_the_demo_fails_clearly_without_a_server(tmp_path: Path) -> None:
    port = free_port()
    done = demo("--endpoint-url", f"http://127.0.0.1:{port}", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(f"\nturnout demo: FAILED: cannot reach a Turnout server at http://127.0.0.1:{port} (")


def test_the_demo_needs_a_server_without_its_resources(fresh_server: Server, tmp_path: Path) -> None:
    fresh_server.client("iam").create_role(RoleName="ecsInfrastructureRoleForLoadBalancers",
                                           AssumeRolePolicyDocument=TRUST)
    done = demo("--endpoint-url", fresh_server.endpoint, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        "\nturnout demo: FAILED: CreateRole answered EntityAlreadyExists: Role with name "
        "ecsInfrastructureRoleForLoadBalancers already exists. (the demo needs a server without its resources: run it "
        "without --endpoint-url)\n"
    )
    assert "[1/8] The ECS infrastructure role for load balancers" in done.stdout


def test_demo_options(tmp_path: Path) -> None:
    from turnout.cli.main import build_parser

    args = build_parser().parse_args(["demo"])
    assert (args.endpoint_url, args.time_scale, args.data_dir) == (None, 60.0, None)
    args = build_parser().parse_args(["demo", "--endpoint-url", "http://127.0.0.1:4566", "--time-scale", "120",
                                      "--data-dir", str(tmp_path)])
    assert (args.endpoint_url, args.time_scale, args.data_dir) == ("http://127.0.0.1:4566", 120.0, tmp_path)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--time-scale", "0"])


# -- the traffic helpers (demo_traffic) against a stand-in of the built-in app on loopback ---------------------------


class App:
    """A loopback HTTP/1.1 server shaped like the built-in task app: every request answers 200 with JSON naming
    ``revision`` (a task definition ARN), or ``status`` with a plain body when it is not 200; it remembers the
    client ports it saw (one per connection) and how many requests came."""

    def __init__(self, revision: str = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1") -> None:
        self.revision = revision
        self.status = 200
        self.body: bytes | None = None  # answer this instead of the app's JSON
        self.peers: set[int] = set()
        self.requests = 0
        self.lock = threading.Lock()
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with app.lock:
                    app.peers.add(self.client_address[1])
                    app.requests += 1
                    status, revision, body = app.status, app.revision, app.body
                if body is None:
                    body = (json.dumps({"taskDefinitionArn": revision, "taskArn": "t", "path": self.path,
                                        "headers": dict(self.headers)}).encode() if status == 200 else b"down")
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.address = ("127.0.0.1", int(self.httpd.server_address[1]))
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def set(self, **changes: Any) -> None:
        with self.lock:
            for name, value in changes.items():
                setattr(self, name, value)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def app() -> Iterator[App]:
    stand_in = App()
    yield stand_in
    stand_in.close()


def until(probe: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, "not within the timeout"
        time.sleep(0.02)


REV = "arn:aws:ecs:us-east-1:000000000000:task-definition/web:"


def test_traffic_counts_answers_per_revision_over_two_keep_alive_connections(app: App) -> None:
    traffic = Traffic(app.address, clients=2, pace=0.001).start()
    try:
        until(lambda: traffic.counts()["revision 1"] >= 20)
        app.set(revision=REV + "2")
        until(lambda: traffic.counts()["revision 2"] >= 20)
    finally:
        traffic.stop()
    counts = traffic.counts()
    assert set(counts) == {"revision 1", "revision 2"}
    assert sum(counts.values()) == app.requests  # every request answered is counted once, for its revision
    assert traffic.failures() == []
    assert len(app.peers) == 2  # one keep-alive connection per client, reused for every request
    assert traffic.line() == (f"revision 1: {counts['revision 1']}, revision 2: {counts['revision 2']}, "
                              "failed requests: 0")
    stopped = app.requests
    time.sleep(0.2)
    assert app.requests == stopped  # stop() stopped the clients


@pytest.mark.parametrize(("status", "body", "seen"), [
    (502, None, "HTTP 502: b'down'"),
    (200, b"not json", "JSONDecodeError"),
    (200, b'{"taskArn": "t"}', "HTTP 200 without a taskDefinitionArn"),
])
def test_traffic_counts_every_other_answer_as_a_failure(app: App, status: int, body: bytes | None, seen: str) -> None:
    app.set(status=status, body=body)
    traffic = Traffic(app.address, clients=2, pace=0.001).start()
    try:
        until(lambda: len(traffic.failures()) >= 3)
    finally:
        traffic.stop()
    assert traffic.counts() == Counter()
    assert all(seen in failure.what for failure in traffic.failures())
    assert traffic.line().endswith(f"failed requests: {len(traffic.failures())}")


def test_traffic_counts_a_refused_connection_as_a_failure_and_reconnects(app: App) -> None:
    port = free_port()  # nothing listens there
    traffic = Traffic(("127.0.0.1", port), clients=1, pace=0.001).start()
    try:
        until(lambda: len(traffic.failures()) >= 2)
    finally:
        traffic.stop()
    assert "ConnectionRefusedError" in traffic.failures()[0].what
    assert traffic.counts() == Counter()


def test_a_failed_request_during_the_shift_fails_the_demo(app: App) -> None:
    walkthrough = Walkthrough("http://127.0.0.1:9", Path("."))
    walkthrough.revisions = [REV + "1", REV + "2"]
    traffic = Traffic(app.address, clients=1, pace=0.001).start()
    try:
        until(lambda: traffic.counts()["revision 1"] >= 3)
        app.set(revision=REV + "2")
        until(lambda: traffic.counts()["revision 2"] >= 3)
        app.set(status=503)
        until(lambda: len(traffic.failures()) >= 1)
    finally:
        traffic.stop()
    with pytest.raises(DemoError, match=r"^\d+ requests through the production listener failed during the shift "
                                        r"\(zero is the promise\): at \d+\.\d\ds: ValueError\(\"HTTP 503: b'down'\"\)"):
        walkthrough.report_traffic(traffic)
    assert walkthrough.summary == []


def test_the_shift_must_reach_both_revisions(app: App) -> None:
    walkthrough = Walkthrough("http://127.0.0.1:9", Path("."))
    walkthrough.revisions = [REV + "1", REV + "2"]
    traffic = Traffic(app.address, clients=1, pace=0.001).start()
    try:
        until(lambda: traffic.counts()["revision 1"] >= 3)
    finally:
        traffic.stop()
    with pytest.raises(DemoError, match="never reached revision 2"):
        walkthrough.report_traffic(traffic)


def test_ask_sends_headers_and_names_failures(app: App) -> None:
    answer = ask(app.address, {"X-Environment": "test"})
    assert answer["taskDefinitionArn"] == REV + "1"
    assert {k.lower(): v for k, v in answer["headers"].items()}["x-environment"] == "test"
    app.set(status=503)
    with pytest.raises(DemoError, match=rf"GET / through 127\.0\.0\.1:{app.address[1]} failed: .*HTTP 503"):
        ask(app.address)
    with pytest.raises(DemoError, match="ConnectionRefusedError"):
        ask(("127.0.0.1", free_port()))


def test_ask_until_answered_retries_then_gives_up(app: App) -> None:
    app.set(status=503)
    threading.Timer(0.5, lambda: app.set(status=200)).start()
    assert ask_until_answered(app.address, timeout=30)["taskDefinitionArn"] == REV + "1"
    app.set(status=503)
    with pytest.raises(DemoError, match=r"timed out after 0\.5 s .* \(last: GET / through .*HTTP 503"):
        ask_until_answered(app.address, timeout=0.5)


class Plane:
    """A loopback server answering ``/_turnout/dataplane`` with ``status`` and ``body``."""

    def __init__(self, status: int, body: bytes) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(status if self.path == "/_turnout/dataplane" else 404)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


LISTENER = "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/demo-alb/1/2"
PLANE = {"enabled": True, "listeners": [{"listenerArn": LISTENER, "loadBalancerArn": "lb", "port": 80,
                                         "address": "127.0.0.1:8085"}], "targets": [], "tasks": []}


@pytest.mark.parametrize(("status", "body"), [
    (200, json.dumps({"enabled": False, "listeners": [], "targets": [], "tasks": []}).encode()),
    (404, b"Not Found"),  # a server older than the data plane
])
def test_no_data_plane_is_none(status: int, body: bytes) -> None:
    plane = Plane(status, body)
    try:
        assert dataplane(plane.endpoint) is None
    finally:
        plane.close()


def test_the_data_plane_gives_listener_addresses() -> None:
    plane = Plane(200, json.dumps(PLANE).encode())
    try:
        assert dataplane(plane.endpoint + "/") == PLANE
        assert listener_address(plane.endpoint, LISTENER) == ("127.0.0.1", 8085)
        with pytest.raises(DemoError, match=r"timed out after 0\.3 s waiting for listener other"):
            listener_address(plane.endpoint, "other", timeout=0.3)
    finally:
        plane.close()


@pytest.mark.parametrize(("status", "body", "message"), [
    (500, b"boom", "GET /_turnout/dataplane answered 500"),
    (200, b"<html>", "GET /_turnout/dataplane failed: "),
    (200, b"[1, 2]", "other than the data plane's JSON object"),
    (200, json.dumps({**PLANE, "listeners": [{"listenerArn": LISTENER, "address": "nowhere"}]}).encode(),
     "which is not host:port"),
])
def test_a_data_plane_answering_nonsense_is_a_demo_error(status: int, body: bytes, message: str) -> None:
    plane = Plane(status, body)
    try:
        with pytest.raises(DemoError, match=re.escape(message)):
            listener_address(plane.endpoint, LISTENER, timeout=1)
    finally:
        plane.close()
    with pytest.raises(DemoError, match="GET /_turnout/dataplane failed: "):
        dataplane(f"http://127.0.0.1:{free_port()}")


def test_curl_commands() -> None:
    dns = "demo-alb-1a.us-east-1.elb.localhost"
    assert curl_command(dns, ("127.0.0.1", 8080)) == f"curl http://{dns}:8080/"
    assert curl_command(dns, ("127.0.0.1", 8081), {"X-Environment": "test"}) == \
        f"curl -H 'X-Environment: test' http://{dns}:8081/"


@given(st.dictionaries(st.integers(1, 100_000), st.integers(1, 10**6), max_size=6))
def test_counts_are_described_per_revision_in_order(counts: dict[int, int]) -> None:
    labelled = Counter({revision_label(f"{REV}{number}"): n for number, n in counts.items()})
    text = describe_counts(labelled)
    if not counts:
        assert text == "none"
        return
    parsed = [re.fullmatch(r"revision (\d+): (\d+)", part) for part in text.split(", ")]
    assert all(parsed)
    pairs = [(int(m[1]), int(m[2])) for m in parsed if m]
    assert pairs == sorted(counts.items())
    assert tally([{"taskDefinitionArn": f"{REV}{n}"} for n in (1, 2, 2)]) == Counter({"revision 1": 1,
                                                                                       "revision 2": 2})
