"""The simulated task lifecycle (dataplane/task_lifecycle.py) on a ManualClock and a real database."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from turnout.core.clock import ManualClock
from turnout.core.principal import Principal
from turnout.dataplane import task_lifecycle as life
from turnout.gateway.gateway import Gateway
from turnout.server import Settings, build_gateway
from turnout.services.ec2 import network
from turnout.services.ecs import task_states as states
from turnout.services.ecs.store import task_definitions as td_store
from turnout.services.ecs.store.task_definitions import TaskDefinition
from turnout.services.ecs.store.tasks import Task

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROOT = Principal.root(ACCOUNT)


@dataclass
class Env:
    gateway: Gateway
    clock: ManualClock

    def call(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        ctx = self.gateway.invoke(service, operation, params, ROOT, region=REGION)
        assert ctx.error is None, ctx.error
        assert ctx.result is not None
        return ctx.result

    def task_definition(self, family: str, **container: Any) -> TaskDefinition:
        arn = self.call("ecs", "RegisterTaskDefinition", {
            "family": family, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256",
            "memory": "512", "containerDefinitions": [{"name": "web", "image": "nginx:1.27", "essential": True,
                                                       "portMappings": [{"containerPort": 80}], **container}],
        })["taskDefinition"]["taskDefinitionArn"]
        found = td_store.task_definition(self.gateway.db, ACCOUNT, REGION, arn)
        assert found is not None
        return found

    def subnets(self) -> list[str]:
        db = self.gateway.db
        with db.transaction():
            vpc = network.default_vpc(db, ACCOUNT, REGION, self.clock.now())
            assert vpc is not None
            return [s.subnet_id for s in network.vpc_subnets(db, ACCOUNT, REGION, vpc.vpc_id)][:2]

    def launch(self, td: TaskDefinition, count: int = 1, subnets: list[str] | None = None, **kwargs: Any) -> list[Task]:
        db = self.gateway.db
        with db.transaction():
            return states.launch(db, account=ACCOUNT, region=REGION, cluster="c1", task_definition=td, count=count,
                                 now=self.clock.now(), network={"subnets": subnets or self.subnets(),
                                                                "securityGroups": [], "assignPublicIp": "DISABLED"},
                                 **kwargs)

    def due(self) -> list[life.Transition]:
        with self.gateway.db.transaction():
            return life.due(self.gateway.db, self.clock)

    def task(self, arn: str) -> Task:
        row = states.find(self.gateway.db, arn)
        assert row is not None
        return row


def make_env(tmp_path: Path) -> Env:
    clock = ManualClock()
    gateway = build_gateway(Settings(data_dir=tmp_path, enforce_iam=False, cloudtrail=False), clock=clock)
    env = Env(gateway, clock)
    env.call("ecs", "CreateCluster", {"clusterName": "c1"})
    return env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    made = make_env(tmp_path)
    yield made
    made.gateway.db.close()


def steps(transitions: list[life.Transition]) -> list[tuple[str, str]]:
    return [(t.previous, t.status) for t in transitions]


def test_launch_inserts_provisioning_tasks_spread_over_subnets(env: Env) -> None:
    td = env.task_definition("web")
    subnets = env.subnets()
    tasks = env.launch(td, count=3, subnets=subnets)
    assert [t.last_status for t in tasks] == ["PROVISIONING"] * 3
    assert [t.desired_status for t in tasks] == ["RUNNING"] * 3
    assert [t.subnet_id for t in tasks] == [subnets[0], subnets[1], subnets[0]]
    found = {s.subnet_id: s for s in network.subnets(env.gateway.db, ACCOUNT, REGION, subnets)}
    for task in tasks:
        subnet = found[task.subnet_id]
        assert task.availability_zone == subnet.availability_zone
        net = ipaddress.IPv4Network(subnet.cidr_block)
        assert ipaddress.IPv4Address(task.private_ip) in net
        assert task.private_ip == str(net.network_address + 4) or task.subnet_id == subnets[0]
        assert task.eni_id.startswith("eni-") and len(task.eni_id) == 21
        assert len(task.id) == 32
        assert task.arn == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/c1/{task.id}"
        assert task.group_name == "family:web"
        assert task.platform_version == "1.4.0"
        assert task.health_status == "UNKNOWN"
        assert task.version == 1
    first_subnet = [t.private_ip for t in tasks if t.subnet_id == subnets[0]]
    base = ipaddress.IPv4Network(found[subnets[0]].cidr_block).network_address
    assert first_subnet == [str(base + 4), str(base + 5)]


def test_service_task_group_and_ids(env: Env) -> None:
    td = env.task_definition("api")
    service = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/c1/api-svc"
    [task] = env.launch(td, service_arn=service, revision_arn="rev", deployment_arn="dep",
                        started_by="ecs-svc/1234567890123456789")
    assert task.group_name == "service:api-svc"
    assert (task.service_arn, task.revision_arn, task.deployment_arn, task.started_by) == \
        (service, "rev", "dep", "ecs-svc/1234567890123456789")


def test_addresses_skip_reserved_and_reuse_after_stop(env: Env) -> None:
    vpc = env.call("ec2", "CreateVpc", {"CidrBlock": "10.9.0.0/16"})["Vpc"]["VpcId"]
    subnet = env.call("ec2", "CreateSubnet", {"VpcId": vpc, "CidrBlock": "10.9.0.0/28"})["Subnet"]["SubnetId"]
    td = env.task_definition("small")
    tasks = env.launch(td, count=11, subnets=[subnet])
    assert [t.private_ip for t in tasks] == [f"10.9.0.{n}" for n in range(4, 15)]
    with pytest.raises(states.LaunchError):
        env.launch(td, subnets=[subnet])
    db = env.gateway.db
    with db.transaction():
        states.request_stop(db, tasks[2].arn, stop_code="UserInitiated", reason="r", now=env.clock.now())
    env.clock.advance(10)
    env.due()
    assert env.task(tasks[2].arn).last_status == "STOPPED"
    [again] = env.launch(td, subnets=[subnet])
    assert again.private_ip == "10.9.0.6"


def test_a_released_address_is_not_handed_out_again_at_once(env: Env) -> None:
    """Next fit: placement continues after the last address it gave, so a replacement does not take the address
    its stopped predecessor has just released (a load balancer target is named by that address)."""
    vpc = env.call("ec2", "CreateVpc", {"CidrBlock": "10.8.0.0/16"})["Vpc"]["VpcId"]
    subnet = env.call("ec2", "CreateSubnet", {"VpcId": vpc, "CidrBlock": "10.8.0.0/24"})["Subnet"]["SubnetId"]
    td = env.task_definition("nextfit")
    tasks = env.launch(td, count=3, subnets=[subnet])
    assert [t.private_ip for t in tasks] == ["10.8.0.4", "10.8.0.5", "10.8.0.6"]
    db = env.gateway.db
    with db.transaction():
        states.request_stop(db, tasks[0].arn, stop_code="UserInitiated", reason="r", now=env.clock.now())
    env.clock.advance(10)
    env.due()
    assert env.task(tasks[0].arn).last_status == "STOPPED"
    [replacement] = env.launch(td, subnets=[subnet])
    assert replacement.private_ip == "10.8.0.7"


def test_launch_into_missing_subnets_fails(env: Env) -> None:
    td = env.task_definition("nosub")
    with pytest.raises(states.LaunchError):
        env.launch(td, subnets=["subnet-0123456789abcdef0"])


def test_start_path_durations_and_timestamps(env: Env) -> None:
    td = env.task_definition("start")
    [task] = env.launch(td)
    start = env.clock.now()
    assert env.due() == []
    assert life.next_due(env.gateway.db, env.clock) == 2.0
    env.clock.advance(1.5)
    assert env.due() == [] and life.next_due(env.gateway.db, env.clock) == 0.5
    env.clock.advance(0.5)
    [t] = env.due()
    assert (t.previous, t.status) == ("PROVISIONING", "PENDING")
    assert t.task.pull_started_at == t.task.connectivity_at == t.task.status_since
    assert t.task.pull_started_at - start == (env.clock.now() - start)
    env.clock.advance(100)  # several steps in one call, each at the instant it was due
    moved = env.due()
    assert steps(moved) == [("PENDING", "ACTIVATING"), ("ACTIVATING", "RUNNING")]
    row = env.task(task.arn)
    offsets = {c: (getattr(row, c) - start).total_seconds()
               for c in ("created_at", "pull_started_at", "pull_stopped_at", "started_at")}
    assert offsets == {"created_at": 0, "pull_started_at": 2, "pull_stopped_at": 6, "started_at": 7}
    assert row.last_status == "RUNNING" and row.version == 4
    assert row.health_status == "UNKNOWN"  # no container health check
    assert life.next_due(env.gateway.db, env.clock) is None
    assert env.due() == []


def test_stop_running_registered_task_drains(env: Env) -> None:
    td = env.task_definition("drain")
    [task] = env.launch(td)
    env.clock.advance(7)
    env.due()
    db = env.gateway.db
    regs = [{"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/tg/1", "id": "x",
             "port": 80}]
    with db.transaction():
        states.set_registrations(db, task.arn, regs)
        stopped = states.request_stop(db, task.arn, stop_code="ServiceSchedulerInitiated", reason="scale in",
                                      now=env.clock.now(), drain_seconds=30)
        assert stopped is not None
        again = states.request_stop(db, task.arn, stop_code="UserInitiated", reason="later", now=env.clock.now())
    assert again is not None
    assert (again.last_status, again.desired_status) == ("DEACTIVATING", "STOPPED")
    assert (again.stop_code, again.stopped_reason) == ("ServiceSchedulerInitiated", "scale in")
    assert again.stopping_at == env.clock.now()
    assert again.version == 5
    assert life.next_due(db, env.clock) == 30
    with db.transaction():  # the engine keeps the list after deregistering; the drain stays recorded
        states.set_registrations(db, task.arn, regs)
    assert life.next_due(db, env.clock) == 30
    env.clock.advance(29)
    assert env.due() == []
    env.clock.advance(1)
    assert steps(env.due()) == [("DEACTIVATING", "STOPPING")]
    env.clock.advance(3)
    moved = env.due()
    assert steps(moved) == [("STOPPING", "DEPROVISIONING"), ("DEPROVISIONING", "STOPPED")]
    row = moved[-1].task
    stop = row.stopping_at
    assert (row.execution_stopped_at - stop).total_seconds() == 32
    assert (row.stopped_at - stop).total_seconds() == 33
    assert life.next_due(db, env.clock) is None


def test_stop_unregistered_and_provisioning_tasks_skip_deactivating(env: Env) -> None:
    td = env.task_definition("quick")
    running, fresh = env.launch(td, count=2)
    env.clock.advance(7)
    env.due()
    [late] = env.launch(td)
    db = env.gateway.db
    with db.transaction():
        a = states.request_stop(db, running.arn, stop_code="UserInitiated", reason="x", now=env.clock.now())
        b = states.request_stop(db, late.arn, stop_code="UserInitiated", reason="x", now=env.clock.now())
        assert states.request_stop(db, running.arn + "0", stop_code="UserInitiated", reason="x",
                                   now=env.clock.now()) is None
    assert a is not None and b is not None
    assert a.last_status == b.last_status == "STOPPING"
    env.clock.advance(3)
    moved = env.due()
    assert {(t.task.arn, t.status) for t in moved} >= {(running.arn, "STOPPED"), (late.arn, "STOPPED")}
    assert env.task(late.arn).started_at is None
    assert env.task(fresh.arn).last_status == "RUNNING"


def test_exit_after_label(env: Env) -> None:
    td = env.task_definition("exits", dockerLabels={"turnout.exit-after": "5"})
    [task] = env.launch(td)
    env.clock.advance(7)
    env.due()
    assert life.next_due(env.gateway.db, env.clock) == 5
    env.clock.advance(5)
    moved = env.due()
    assert steps(moved) == [("RUNNING", "STOPPING")]
    row = moved[0].task
    assert row.arn == task.arn
    assert (row.desired_status, row.stop_code, row.stopped_reason) == \
        ("STOPPED", "EssentialContainerExited", "Essential container in task exited")


def test_exit_of_registered_task_drains_for_target_group_delay(env: Env) -> None:
    td = env.task_definition("exitreg", dockerLabels={"turnout.exit-after": "1"})
    [task] = env.launch(td)
    env.clock.advance(7)
    env.due()
    db = env.gateway.db
    with db.transaction():  # a target group no load balancer uses: ELB does not drain it
        states.set_registrations(db, task.arn, [{"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:"
                                                    "000000000000:targetgroup/none/0123456789abcdef", "id": "x",
                                                    "port": 80}])
    env.clock.advance(1)
    assert steps(env.due()) == [("RUNNING", "DEACTIVATING"), ("DEACTIVATING", "STOPPING")]


def test_health(env: Env) -> None:
    check = {"command": ["CMD-SHELL", "true"]}
    plain = env.task_definition("plain")
    bad = env.task_definition("bad", dockerLabels={"turnout.health": "unhealthy"})
    checked_bad = env.task_definition("cbad", dockerLabels={"turnout.health": "unhealthy"}, healthCheck=check)
    checked = env.task_definition("cgood", healthCheck=check)
    assert life.health(None, plain) == "healthy"
    assert life.health(None, bad) == "unhealthy"
    tasks = [env.launch(td)[0] for td in (plain, bad, checked_bad, checked)]
    env.clock.advance(7)
    env.due()
    assert [env.task(t.arn).health_status for t in tasks] == ["UNKNOWN", "UNKNOWN", "UNHEALTHY", "HEALTHY"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(advances=st.lists(st.floats(min_value=0, max_value=6, allow_nan=False), min_size=1, max_size=25),
       stop_at=st.integers(min_value=0, max_value=24), drain=st.sampled_from([0.0, 2.5, 10.0]),
       exit_after=st.sampled_from([None, "3"]))
@example(advances=[0.0, 0.0, 0.0, 0.0, 6.0, 0.0], stop_at=5, drain=0.0, exit_after=None)  # stopped while ACTIVATING
def test_statuses_only_move_forward(tmp_path_factory: pytest.TempPathFactory, advances: list[float], stop_at: int,
                                    drain: float, exit_after: str | None) -> None:
    env = make_env(tmp_path_factory.mktemp("prop"))
    try:
        labels = {"dockerLabels": {"turnout.exit-after": exit_after}} if exit_after else {}
        td = env.task_definition("prop", **labels)
        [task] = env.launch(td)
        db = env.gateway.db
        seen = [task.last_status]
        stamps: dict[str, datetime] = {}
        for index, seconds in enumerate(advances):
            env.clock.advance(seconds)
            if index == stop_at:
                with db.transaction():
                    if env.task(task.arn).last_status == "ACTIVATING":
                        states.set_registrations(db, task.arn, [{"targetGroupArn": "tg", "id": "x", "port": 1}])
                    states.request_stop(db, task.arn, stop_code="UserInitiated", reason="r", now=env.clock.now(),
                                        drain_seconds=drain)
                stopping = env.task(task.arn).last_status  # a stop moves the task at once, not through due()
                if stopping != seen[-1]:
                    assert states.ORDER.index(stopping) > states.ORDER.index(seen[-1])
                    seen.append(stopping)
            for t in env.due():
                assert t.previous == seen[-1]
                assert states.ORDER.index(t.status) > states.ORDER.index(t.previous)
                seen.append(t.status)
            row = env.task(task.arn)
            if row.last_status != seen[-1]:
                assert states.ORDER.index(row.last_status) > states.ORDER.index(seen[-1])
                seen.append(row.last_status)
            for column in ("created_at", "pull_started_at", "pull_stopped_at", "started_at", "stopping_at",
                           "execution_stopped_at", "stopped_at", "status_since"):
                if getattr(row, column) is not None:
                    if column in stamps and column != "status_since":
                        assert getattr(row, column) == stamps[column]  # set once
                    assert getattr(row, column) >= stamps.get(column,
                                                                         getattr(row, column))
                    stamps[column] = getattr(row, column)
                    assert getattr(row, column) <= env.clock.now()
        assert [states.ORDER.index(s) for s in seen] == sorted(states.ORDER.index(s) for s in seen)
        columns = ("created_at", "pull_started_at", "pull_stopped_at", "started_at", "execution_stopped_at",
                   "stopped_at")
        filled = [getattr(row, c) for c in columns if getattr(row, c) is not None]
        assert filled == sorted(filled)
    finally:
        env.gateway.db.close()
