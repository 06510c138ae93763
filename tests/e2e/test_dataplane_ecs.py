"""ECS tasks run processes and blue/green moves live traffic (issue 13): test traffic reaches green before
production does, production shifts with zero failed requests under load (BLUE_GREEN, LINEAR, CANARY), a revision
that fails real health checks never serves production, a ``--task-command`` program runs, and kill -9 of a task
process stops its task, which the service replaces."""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server
from tests.e2e.dataplane_support import Load, dataplane, listener_address, request, wait_for
from tests.e2e.ecs_deploy_support import Setup, build, pause_hooks


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("dataplane-ecs") / "data", ["--time-scale", "100"]).start()
    yield server
    server.stop()


def _revision(answer: dict[str, Any]) -> str:
    return str(answer["taskDefinitionArn"])


def _register(setup: Setup, image: str, **environment: str) -> str:
    """A revision of the setup's family: one container ``web`` of ``image`` on port 80, with ``environment``."""
    container: dict[str, Any] = {"name": "web", "image": image, "essential": True,
                                 "portMappings": [{"containerPort": 80}],
                                 "environment": [{"name": k, "value": v} for k, v in environment.items()]}
    found = setup.ecs.register_task_definition(
        family=setup.name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[container])
    return str(found["taskDefinition"]["taskDefinitionArn"])


def _first(setup: Setup, config: dict[str, Any]) -> None:
    arn = str(setup.create_service(config)["currentServiceDeployment"])
    done = setup.wait_final(arn, timeout=120)
    assert done["status"] == "SUCCESSFUL", done.get("statusReason")


def _serving(address: tuple[str, int] | Callable[[], tuple[str, int]], revision: str, timeout: float = 60.0) -> None:
    """Wait until only ``revision`` answers at ``address`` (or at the address a callable gives at each try: after
    a restart, the state lists the listener from before the kill until the new primary has bound it, possibly on
    another port if its own was taken meanwhile)."""
    def only_revision() -> bool:
        try:
            where = address() if callable(address) else address
            answers = [request(where) for _ in range(10)]
        except ConnectionRefusedError:
            return False
        return all(a.status == 200 and _revision(a.json()) == revision for a in answers)
    wait_for(only_revision, timeout, f"{revision} serving")


def test_the_built_in_app_answers_through_the_listener(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    _first(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    address = listener_address(fast, setup.prod_listener)
    answer = request(address, "/hello?x=1", headers={"X-Probe": "yes"})
    assert answer.status == 200
    body = answer.json()
    tasks = {t["taskArn"] for t in setup.tasks()}
    assert body["taskArn"] in tasks
    assert body["taskDefinitionArn"] == setup.revisions[0]
    assert body["containerName"] == "web" and body["image"] == "public.ecr.aws/nginx/nginx:1.27"
    assert body["method"] == "GET" and body["path"] == "/hello?x=1"
    assert {k.lower(): v for k, v in body["headers"].items()}["x-probe"] == "yes"
    # Every task's target is listed with its local address and task.
    listed = {t["taskArn"] for t in dataplane(fast)["targets"] if t.get("taskArn") in tasks}
    assert listed == tasks
    with urllib.request.urlopen(fast.endpoint + "/_turnout/health", timeout=5) as response:
        health = json.loads(response.read())["dataplane"]
    assert health["enabled"] is True and health["listeners"] >= 2 and health["task_processes"] >= 2


@pytest.mark.parametrize("strategy", ["BLUE_GREEN", "LINEAR", "CANARY"])
def test_traffic_shifts_with_no_failed_request(fast: Server, unique: Callable[[str], str], strategy: str) -> None:
    setup = build(fast, unique)
    _first(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    prod = listener_address(fast, setup.prod_listener)
    test = listener_address(fast, setup.test_listener)
    _serving(prod, setup.revisions[0])
    load = Load(prod, key=_revision, clients=2).start()
    try:
        config: dict[str, Any] = {"strategy": strategy, "bakeTimeInMinutes": 0,
                                  "lifecycleHooks": pause_hooks(["POST_TEST_TRAFFIC_SHIFT"])}
        if strategy == "LINEAR":
            config["linearConfiguration"] = {"stepPercent": 50.0, "stepBakeTimeInMinutes": 1}
        if strategy == "CANARY":
            config["canaryConfiguration"] = {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": 1}
        arn = setup.deploy(2, config)
        _, hook = setup.wait_hook(arn, "POST_TEST_TRAFFIC_SHIFT", timeout=120)
        # Test traffic reaches green; production has seen only blue so far.
        on_test = [request(test).json() for _ in range(10)]
        assert {_revision(a) for a in on_test} == {setup.revisions[1]}
        assert set(load.snapshot()) == {setup.revisions[0]}
        setup.proceed(arn, hook)
        done = setup.wait_final(arn, timeout=120)
        assert done["status"] == "SUCCESSFUL", done.get("statusReason")
        _serving(prod, setup.revisions[1])
        time.sleep(0.5)
    finally:
        load.stop()
    assert load.failures == []
    seen = load.snapshot()
    assert seen[setup.revisions[0]] > 0 and seen[setup.revisions[1]] > 0


def test_a_revision_failing_health_checks_never_serves_production(fast: Server,
                                                                   unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    # Revision 2's app answers its health checks with 503 (the built-in app's knob, set in the container).
    setup.revisions[1] = _register(setup, "public.ecr.aws/nginx/nginx:1.28", TURNOUT_APP_HEALTH="fail")
    _first(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    prod = listener_address(fast, setup.prod_listener)
    _serving(prod, setup.revisions[0])
    load = Load(prod, key=_revision, clients=2).start()
    try:
        arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                               "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
        done = setup.wait_final(arn, timeout=180)
    finally:
        load.stop()
    assert done["status"] == "ROLLBACK_SUCCESSFUL", done.get("statusReason")
    assert set(load.snapshot()) == {setup.revisions[0]}  # production never saw revision 2
    assert load.failures == []


SCRIPT = textwrap.dedent("""
    import http.server, json, os

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"custom": os.environ.get("GREETING"), "taskDefinitionArn": "custom"}).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            print("request", self.path, flush=True)

    print("listening on", os.environ["PORT"], flush=True)
    http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
""")


def test_task_command_runs_the_users_program_and_kill_9_replaces_the_task(tmp_path: Path,
                                                                           unique: Callable[[str], str]) -> None:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    server = Server(tmp_path / "data", ["--time-scale", "100", "--task-command",
                                        f"example.com/custom:*={sys.executable} {script}"]).start()
    try:
        setup = build(server, unique)
        ecs = setup.ecs
        setup.revisions[0] = _register(setup, "example.com/custom:1", GREETING="hi")
        _first(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
        prod = listener_address(server, setup.prod_listener)
        assert request(prod).json()["custom"] == "hi"
        tasks = dataplane(server)["tasks"]
        first = tasks[0]
        log = Path(first["log"]).read_text()
        assert "listening on" in log

        os.kill(int(first["pid"]), signal.SIGKILL)

        def stopped() -> dict[str, Any] | None:
            found = ecs.describe_tasks(cluster=setup.cluster, tasks=[first["taskArn"]])["tasks"][0]
            return found if found["lastStatus"] == "STOPPED" else None
        task = wait_for(stopped, 60, "the killed task stopped")
        assert task["stopCode"] == "EssentialContainerExited"
        assert task["containers"][0]["exitCode"] == 137
        # The service scheduler replaces it: two tasks run again, the killed one not among them.
        running = wait_for(lambda: len(r := setup.tasks()) == 2 and all(t["lastStatus"] == "RUNNING" for t in r)
                           and r, 60, "a replacement task")
        assert first["taskArn"] not in {t["taskArn"] for t in running}
        wait_for(lambda: all(request(prod).status == 200 for _ in range(5)), 60, "served again")
    finally:
        server.stop()


def test_a_task_command_that_cannot_start_stops_its_task(tmp_path: Path, unique: Callable[[str], str]) -> None:
    server = Server(tmp_path / "data", ["--time-scale", "100", "--task-command",
                                        "example.com/broken:*=/nonexistent/program --flag"]).start()
    try:
        setup = build(server, unique)
        ecs = setup.ecs
        broken = _register(setup, "example.com/broken:1")
        task_arn = ecs.run_task(
            cluster=setup.cluster, taskDefinition=broken, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": setup.subnets}})["tasks"][0]["taskArn"]

        def stopped() -> dict[str, Any] | None:
            found = ecs.describe_tasks(cluster=setup.cluster, tasks=[task_arn])["tasks"][0]
            return found if found["lastStatus"] == "STOPPED" else None
        task = wait_for(stopped, 60, "the task that cannot start stopped")
        assert task["stopCode"] == "TaskFailedToStart"
        assert task["stoppedReason"].startswith("CannotStartContainerError")
        assert "/nonexistent/program" in task["stoppedReason"]
        assert server.client("sts").get_caller_identity()["Account"] == "000000000000"  # the server still answers
    finally:
        server.stop()


def _gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie waiting for its new parent to reap it counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_the_server_takes_its_task_processes_and_a_restart_serves_again(
        tmp_path: Path, unique: Callable[[str], str]) -> None:
    server = Server(tmp_path / "data", ["--time-scale", "100"]).start()
    try:
        setup = build(server, unique)
        _first(setup, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
        pids = [int(t["pid"]) for t in dataplane(server)["tasks"]]
        assert len(pids) == 2
        server.kill()
        wait_for(lambda: all(_gone(pid) for pid in pids), 10, "task processes gone with the server")
        server.start()
        # The tasks are still RUNNING in the state: their processes run again, and production answers.
        _serving(lambda: listener_address(server, setup.prod_listener), setup.revisions[0])
        assert {int(t["pid"]) for t in dataplane(server)["tasks"]}.isdisjoint(pids)
    finally:
        server.stop()
