"""``turnout serve --workers N``: several processes over one database behave as one server.

Requests are sent on connections pinned to a chosen worker (a kept-alive connection stays with the worker that
accepted it; ``/_turnout/health`` names that worker), so that a write through one worker and its effect through
the other are seen deterministically.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import Server, allow, doc, free_port

ACCOUNT = "000000000000"


@pytest.fixture
def two(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path / "data", ["--workers", "2", "--time-scale", "100"]).start()
    yield server
    server.stop()


class Pinned:
    """A kept-alive connection to one worker, sending signed requests on it."""

    def __init__(self, server: Server, index: int) -> None:
        self.server = server
        # The kernel hands a new connection to whichever worker waits for one first: on a busy machine the same
        # worker may win many times in a row, so try for a while, pausing now and then to let the other wake up.
        deadline = time.monotonic() + 30
        attempt = 0
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
            health = self._health(conn)
            if health["worker"]["index"] == index:
                self.conn, self.pid = conn, int(health["worker"]["pid"])
                return
            conn.close()
            attempt += 1
            if attempt % 20 == 0:
                time.sleep(0.05)
        pytest.fail(f"no connection reached worker {index}")

    @staticmethod
    def _health(conn: http.client.HTTPConnection) -> dict[str, Any]:
        conn.request("GET", "/_turnout/health")
        response = conn.getresponse()
        found: dict[str, Any] = json.loads(response.read())
        return found

    def health(self) -> dict[str, Any]:
        return self._health(self.conn)

    def call(self, service: str, body: str, headers: dict[str, str], key: tuple[str, str] = ("test", "test"),
             region: str = "us-east-1") -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.server.port}/"
        request = AWSRequest(method="POST", url=url, data=body.encode(), headers=headers)
        SigV4Auth(Credentials(*key), service, region).add_auth(request)
        self.conn.request("POST", "/", body=body.encode(), headers=dict(request.headers.items()))
        response = self.conn.getresponse()
        return response.status, response.read().decode()

    def iam(self, action: str, key: tuple[str, str] = ("test", "test"), **params: str) -> tuple[int, str]:
        from urllib.parse import urlencode

        body = urlencode({"Action": action, "Version": "2010-05-08", **params})
        return self.call("iam", body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, key)

    def ecs(self, operation: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, text = self.call("ecs", json.dumps(params), {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AmazonEC2ContainerServiceV20141113.{operation}"})
        return status, json.loads(text)


def test_health_names_each_worker(two: Server) -> None:
    first, second = Pinned(two, 0), Pinned(two, 1)
    assert first.pid != second.pid
    for pinned in (first, second):
        health = pinned.health()
        assert health["workers"] == 2 and health["status"] == "ready"
        assert health["ecs"]["engine"] == "running"  # the background process's engine, seen from either worker
        # The background process (the engine, the data plane, CloudTrail's copies) is a third process, a child of
        # the same parent, that answers no connection.
        background = health["background"]
        assert background["index"] == 2
        assert background["pid"] not in (first.pid, second.pid)
        assert background["pid"] in _children(two)


def test_an_iam_change_through_one_worker_applies_at_once_through_the_other(two: Server) -> None:
    root = two.client("iam")
    root.create_user(UserName="wendy")
    created = root.create_access_key(UserName="wendy")["AccessKey"]
    key = (created["AccessKeyId"], created["SecretAccessKey"])
    writer, reader = Pinned(two, 0), Pinned(two, 1)
    assert reader.iam("ListRoles", key)[0] == 403  # caches the user's (empty) policies in worker 1
    for round_ in range(3):
        status, _ = writer.iam("PutUserPolicy", UserName="wendy", PolicyName="p",
                               PolicyDocument=doc(allow("iam:ListRoles")))
        assert status == 200
        assert reader.iam("ListRoles", key)[0] == 200, round_
        assert writer.iam("DeleteUserPolicy", UserName="wendy", PolicyName="p")[0] == 200
        assert reader.iam("ListRoles", key)[0] == 403, round_
        writer, reader = reader, writer  # and the other way round


def test_a_role_changed_through_one_worker_reads_changed_at_once_through_the_other(two: Server) -> None:
    """GetRole is answered from each worker's cache while the account's roles are unchanged: every kind of change,
    made through one worker (or by STS's bookkeeping of the role's use), is read at once through the other."""
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})
    writer, reader = Pinned(two, 0), Pinned(two, 1)
    assert writer.iam("CreateRole", RoleName="cached", AssumeRolePolicyDocument=trust)[0] == 200

    def read() -> str:
        status, text = reader.iam("GetRole", RoleName="cached")
        assert status == 200, text
        return text

    assert "<Description>" not in read()  # and now in the reader's cache
    changes: list[tuple[tuple[str, dict[str, str]], Callable[[str], bool]]] = [
        (("UpdateRoleDescription", {"Description": "second"}), lambda text: "<Description>second<" in text),
        (("TagRole", {"Tags.member.1.Key": "team", "Tags.member.1.Value": "blue"}),
         lambda text: "<Key>team</Key>" in text),
        (("UntagRole", {"TagKeys.member.1": "team"}), lambda text: "<Key>team</Key>" not in text),
        (("UpdateRole", {"MaxSessionDuration": "7200"}), lambda text: "<MaxSessionDuration>7200<" in text),
    ]
    for (action, params), shows in changes:
        assert writer.iam(action, RoleName="cached", **params)[0] == 200, action
        assert shows(read()), action
    root = two.client("iam")  # a user assumes it (root may not): STS notes the role's use
    root.create_user(UserName="ann")
    root.put_user_policy(UserName="ann", PolicyName="assume", PolicyDocument=doc(allow("sts:AssumeRole")))
    created = root.create_access_key(UserName="ann")["AccessKey"]
    status, text = writer.call("sts", "Action=AssumeRole&Version=2011-06-15&RoleSessionName=cache-test&RoleArn="
                               f"arn:aws:iam::{ACCOUNT}:role/cached",
                               {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                               (created["AccessKeyId"], created["SecretAccessKey"]))
    assert status == 200, text
    assert "<LastUsedDate>" in read()
    assert writer.iam("DeleteRole", RoleName="cached")[0] == 200
    status, text = reader.iam("GetRole", RoleName="cached")
    assert status == 404 and "NoSuchEntity" in text


def test_health_counts_every_workers_cloudtrail_events(two: Server) -> None:
    """Each worker records the events of the calls it answers; /_turnout/health sums them, whichever answers."""
    first, second = Pinned(two, 0), Pinned(two, 1)
    before = first.health()["cloudtrail"]["recorded"]
    for index in range(3):
        assert first.iam("GetUser")[0] == 200
        assert second.iam("GetAccountSummary")[0] == 200
        assert second.iam("GetUser", UserName=f"nobody-{index}")[0] == 404  # a failed call is recorded too
    for pinned in (first, second):
        counts = pinned.health()["cloudtrail"]
        assert counts["recorded"] - before == 9, counts
        assert counts["dropped"] == 0


def test_a_deployment_started_through_another_worker_wakes_the_engine(two: Server) -> None:
    """The engine runs in the background process; a service created through a worker reaches its steady state
    without waiting for the engine's idle timeout (an hour of simulated time, 36 s here)."""
    _deploys(Pinned(two, 1), "woken")


def _deploys(through: Pinned, name: str) -> None:
    """A service created through ``through`` reaches its steady state within 20 s."""
    status, _ = through.ecs("CreateCluster", {"clusterName": name})
    assert status == 200
    status, _ = through.ecs("RegisterTaskDefinition", {
        "family": name, "containerDefinitions": [{"name": "app", "image": "nginx", "memory": 128}]})
    assert status == 200
    started = time.monotonic()
    status, created = through.ecs("CreateService", {
        "cluster": name, "serviceName": "svc", "taskDefinition": name, "desiredCount": 1})
    assert status == 200, created
    while time.monotonic() - started < 20:
        status, found = through.ecs("DescribeServices", {"cluster": name, "services": ["svc"]})
        service = found["services"][0]
        if service["runningCount"] == 1 and service["deployments"][0]["rolloutState"] == "COMPLETED":
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the deployment did not finish: {service}")


def test_concurrent_writes_through_both_workers_all_land_with_their_events(two: Server) -> None:
    errors: list[BaseException] = []

    def create(thread: int) -> None:
        try:
            iam = two.client("iam")  # a client (and connections) of its own: the writes spread over the workers
            for index in range(15):
                iam.create_user(UserName=f"many-{thread}-{index}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    users = [u["UserName"] for page in two.client("iam").get_paginator("list_users").paginate() for u in page["Users"]]
    assert sorted(users) == sorted(f"many-{t}-{i}" for t in range(8) for i in range(15))
    trail = two.client("cloudtrail")
    names = set()
    for page in trail.get_paginator("lookup_events").paginate(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}]):
        names.update(r["ResourceName"] for e in page["Events"] for r in e.get("Resources", []))
    assert names == set(users)


def _wait(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _children(server: Server) -> set[int]:
    """The pids of the server's processes (the parent's children: workers and the background process)."""
    assert server.process is not None
    pid = server.process.pid
    listed = Path(f"/proc/{pid}/task/{pid}/children")
    if not listed.exists():
        pytest.skip("reads the server's children from /proc (Linux)")
    return {int(child) for child in listed.read_text().split()}


def _pids(server: Server) -> dict[int, int]:
    """Process index -> pid, read through fresh connections: the two workers' and the background process's
    (index 2) once it has its engine running."""
    found: dict[int, int] = {}
    deadline = time.monotonic() + 20
    while len(found) < 3 and time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            health = Pinned._health(conn)
            conn.close()
        except OSError:
            time.sleep(0.05)
            continue
        found[health["worker"]["index"]] = health["worker"]["pid"]
        if health["background"]["pid"]:
            found[health["background"]["index"]] = health["background"]["pid"]
    return found


@pytest.mark.parametrize("index", [0, 1, 2])
def test_a_process_that_dies_is_replaced(two: Server, index: int) -> None:
    """A worker (0, 1) or the background process (2) killed with kill -9 comes back with its index; the background
    process's engine runs again and moves deployments."""
    before = _pids(two)
    assert sorted(before) == [0, 1, 2] and set(before.values()) == _children(two)
    os.kill(before[index], signal.SIGKILL)
    _wait(lambda: _pids(two).get(index) not in (None, before[index]), f"a new process {index}")
    after = _pids(two)
    assert [after[other] for other in before if other != index] == \
        [before[other] for other in before if other != index]  # the others went on
    assert two.client("iam").create_user(UserName=f"after-{index}")["User"]["UserName"] == f"after-{index}"
    _wait(lambda: Pinned(two, 1).health()["ecs"]["engine"] == "running", "the engine to run again")
    _deploys(Pinned(two, index % 2), f"after-{index}")
    assert two.process is not None and two.process.poll() is None  # the parent did not go down


def test_killing_the_parent_takes_the_workers_with_it(two: Server) -> None:
    workers = _pids(two)
    assert len(workers) == 3  # the background process too
    two.kill()  # kill -9 of `turnout serve`
    _wait(lambda: not any(_alive(pid) for pid in workers.values()), "the workers to exit")
    two.start()  # the same port and data directory: nothing is left holding them
    assert two.client("iam").list_users()["Users"] == []


def test_a_graceful_stop_stops_every_worker(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", ["--workers", "2"]).start()
    workers = _pids(server)
    assert len(workers) == 3  # the background process too
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(20) == 0
    assert not any(_alive(pid) for pid in workers.values())


@pytest.mark.parametrize("value", ["0", "65", "two"])
def test_a_bad_worker_count_is_refused(value: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "turnout", "serve", "--port", str(free_port()), "--data-dir", str(tmp_path),
         "--workers", value], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "argument --workers" in result.stderr


# Enough roles that GetAccountAuthorizationDetails over them is a long call (turnout.edge.lanes.LONG_SECONDS: 8 ms
# of CPU) on a fast machine too: over 1,000 roles it takes 11 to 15 ms of CPU in a server on this project's machine.
ROLES_FOR_A_LONG_CALL = 1000


def test_a_long_call_does_not_hold_up_its_worker(tmp_path: Path) -> None:
    """Connections to one worker: while long calls (GetAccountAuthorizationDetails over many roles) run in its
    request threads, the worker's event loop answers health and a short call on another connection. Four long
    calls at once, one per request thread, so that they outlast the short call by far even on a busy machine."""
    server = Server(tmp_path / "data", ["--workers", "1"]).start()
    try:
        iam = server.client("iam")
        trust = doc({"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"})

        def create(first: int) -> None:
            client = server.client("iam")
            for index in range(first, ROLES_FOR_A_LONG_CALL, 4):
                client.create_role(RoleName=f"long-{index}", AssumeRolePolicyDocument=trust,
                                   Tags=[{"Key": "k", "Value": str(index)}])

        threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        iam.get_account_authorization_details(MaxItems=1000)  # long: from now on, such calls run in a thread
        long_calls, other = [Pinned(server, 0) for _ in range(4)], Pinned(server, 0)
        from urllib.parse import urlencode

        body = urlencode({"Action": "GetAccountAuthorizationDetails", "Version": "2010-05-08", "MaxItems": "1000"})
        for long_call in long_calls:
            request = AWSRequest(method="POST", url=f"http://127.0.0.1:{server.port}/", data=body.encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
            SigV4Auth(Credentials("test", "test"), "iam", "us-east-1").add_auth(request)
            long_call.conn.request("POST", "/", body=body.encode(), headers=dict(request.headers.items()))
        order: list[str] = []
        lock = threading.Lock()

        def finish_long(pinned: Pinned) -> None:
            response = pinned.conn.getresponse()
            response.read()
            with lock:
                order.append(f"long {response.status}")

        waiting = [threading.Thread(target=finish_long, args=(pinned,)) for pinned in long_calls]
        for thread in waiting:
            thread.start()
        assert other.health()["status"] == "ready"
        with lock:
            order.append("health")
        assert other.iam("GetRole", RoleName="long-7")[0] == 200
        with lock:
            order.append("short")
        for thread in waiting:
            thread.join(60)
        # The short answers came before the last long one: the loop was not held up by the long calls.
        assert sorted(order) == sorted(["health", "short", *["long 200"] * 4]), order
        assert order.index("short") < max(i for i, entry in enumerate(order) if entry.startswith("long")), order
    finally:
        server.stop()


def test_new_connections_are_shared_out_across_the_workers(two: Server) -> None:
    """Each new connection goes to the worker holding fewer (turnout.edge.accept): kept-alive connections opened one
    after another end up half on each worker, whichever worker the kernel wakes first."""
    connections = []
    workers: dict[int, int] = {0: 0, 1: 0}
    try:
        for _ in range(8):
            conn = http.client.HTTPConnection("127.0.0.1", two.port, timeout=20)
            workers[Pinned._health(conn)["worker"]["index"]] += 1
            connections.append(conn)
    finally:
        for conn in connections:
            conn.close()
    assert workers == {0: 4, 1: 4}  # and none to the background process (index 2)


def test_a_quiet_kept_alive_connection_does_not_push_busy_ones_onto_one_worker(two: Server) -> None:
    """An SDK keeps idle connections open: once one has been quiet for a second, its worker counts it apart
    (``/_turnout/health``'s ``connections``), and the next two connections go one to each worker, where counting
    it like a busy one could send both to the same worker."""
    quiet = http.client.HTTPConnection("127.0.0.1", two.port, timeout=20)
    holder = Pinned._health(quiet)["worker"]["index"]
    deadline = time.monotonic() + 4  # before the server's 5 s idle timeout closes it
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        probe = http.client.HTTPConnection("127.0.0.1", two.port, timeout=20)
        seen = Pinned._health(probe)["connections"]
        probe.close()
        if seen["quiet"][holder] == 1 and sum(seen["open"]) == 2:  # the quiet one, and the probe itself
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the kept-alive connection never counted as quiet: {seen}")
    time.sleep(0.1)  # the probe's end is counted
    busy: list[tuple[http.client.HTTPConnection, int, dict[str, Any]]] = []
    try:
        for _ in range(2):
            conn = http.client.HTTPConnection("127.0.0.1", two.port, timeout=20)
            answer = Pinned._health(conn)
            busy.append((conn, answer["worker"]["index"], answer["connections"]))
        assert sorted(index for _, index, _ in busy) == [0, 1], (holder, seen, busy)
        assert busy[0][1] != holder, (holder, seen, busy)  # the first goes to the worker holding only the quiet one
    finally:
        quiet.close()
        for conn, _, _ in busy:
            conn.close()
