"""ListTasks, DescribeTasks and StopTask through the gateway, on tasks launched with task_states.launch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.model import ListShape, Shape, StructureShape

from turnout.core.clock import ManualClock
from turnout.core.context import RequestContext
from turnout.core.principal import Principal
from turnout.dataplane import task_lifecycle as life
from turnout.server import Settings, build_gateway
from turnout.services.ec2 import network
from turnout.services.ecs import task_states as states
from turnout.services.ecs.store import task_definitions as td_store
from turnout.services.ecs.store.task_definitions import TaskDefinition
from turnout.services.ecs.store.tasks import Task
from turnout.services.ecs.task_views import container_id, mac_address

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROOT = Principal.root(ACCOUNT)
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/c1"
MODEL = botocore.session.get_session().get_service_model("ecs")


def check_shape(value: Any, shape: Shape, path: str = "") -> None:
    """Every member of ``value`` is one of the botocore shape's, recursively, with the right kind of value."""
    if isinstance(shape, StructureShape):
        assert isinstance(value, dict), path
        for key, item in value.items():
            assert key in shape.members, f"{path}.{key} is not a member of {shape.name}"
            check_shape(item, shape.members[key], f"{path}.{key}")
    elif isinstance(shape, ListShape):
        assert isinstance(value, list), path
        for index, item in enumerate(value):
            check_shape(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "string":
        assert isinstance(value, str), path
        if shape.enum:
            assert value in shape.enum, path
    elif shape.type_name == "timestamp":
        assert isinstance(value, datetime) and value.tzinfo is not None, path
    elif shape.type_name in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), path
    elif shape.type_name == "boolean":
        assert isinstance(value, bool), path


class Env:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = ManualClock()
        self.gateway = build_gateway(Settings(data_dir=tmp_path, enforce_iam=False, cloudtrail=False),
                                     clock=self.clock)
        self.wakes = 0
        engine = self.gateway.providers["ecs"].engine  # type: ignore[attr-defined]

        def wake() -> None:
            self.wakes += 1
        engine.wake = wake

    def invoke(self, operation: str, params: dict[str, Any], service: str = "ecs") -> RequestContext:
        return self.gateway.invoke(service, operation, params, ROOT, region=REGION)

    def call(self, operation: str, params: dict[str, Any], service: str = "ecs") -> dict[str, Any]:
        ctx = self.invoke(operation, params, service)
        assert ctx.error is None, ctx.error
        assert ctx.result is not None
        return ctx.result

    def error(self, operation: str, params: dict[str, Any]) -> tuple[str, str]:
        ctx = self.invoke(operation, params)
        assert ctx.error is not None
        return ctx.error.code, ctx.error.message

    def task_definition(self, family: str, **container: Any) -> TaskDefinition:
        arn = self.call("RegisterTaskDefinition", {
            "family": family, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256",
            "memory": "512", "containerDefinitions": [
                {"name": "web", "image": "nginx:1.27", "essential": True, "memory": 256,
                 "portMappings": [{"containerPort": 80}], **container},
                {"name": "sidecar", "image": "busybox", "essential": False},
            ],
        })["taskDefinition"]["taskDefinitionArn"]
        found = td_store.task_definition(self.gateway.db, ACCOUNT, REGION, arn)
        assert found is not None
        return found

    def subnet(self) -> str:
        db = self.gateway.db
        with db.transaction():
            vpc = network.default_vpc(db, ACCOUNT, REGION, self.clock.now())
            assert vpc is not None
            return network.vpc_subnets(db, ACCOUNT, REGION, vpc.vpc_id)[0].subnet_id

    def launch(self, td: TaskDefinition, count: int = 1, cluster: str = "c1", **kwargs: Any) -> list[Task]:
        db = self.gateway.db
        with db.transaction():
            return states.launch(db, account=ACCOUNT, region=REGION, cluster=cluster, task_definition=td, count=count,
                                 now=self.clock.now(), network={"subnets": [self.subnet()], "securityGroups": [],
                                                                "assignPublicIp": "DISABLED"}, **kwargs)

    def run(self, seconds: float) -> None:
        self.clock.advance(seconds)
        with self.gateway.db.transaction():
            life.due(self.gateway.db, self.clock)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    made = Env(tmp_path)
    made.call("CreateCluster", {"clusterName": "c1"})
    yield made
    made.gateway.db.close()


def test_describe_running_task_shape(env: Env) -> None:
    td = env.task_definition("web", healthCheck={"command": ["CMD-SHELL", "true"]})
    [task] = env.launch(td)
    start = env.clock.now()
    env.run(7)
    tid = task.id
    result = env.call("DescribeTasks", {"cluster": "c1", "tasks": [tid], "include": ["TAGS"]})
    check_shape(result, MODEL.operation_model("DescribeTasks").output_shape)
    assert result["failures"] == []
    [out] = result["tasks"]
    attachment = str(uuid.uuid5(uuid.UUID("6f1c3f52-2a4e-4d51-9a8e-0d7c6b1f2e10"), f"{tid}/eni"))
    ip = task.private_ip
    dns = "ip-" + ip.replace(".", "-") + ".ec2.internal"
    digest = out["containers"][0]["imageDigest"]
    assert out == {
        "attachments": [{"id": attachment, "type": "ElasticNetworkInterface", "status": "ATTACHED", "details": [
            {"name": "subnetId", "value": task.subnet_id},
            {"name": "networkInterfaceId", "value": task.eni_id},
            {"name": "macAddress", "value": mac_address(task.eni_id)},
            {"name": "privateDnsName", "value": dns},
            {"name": "privateIPv4Address", "value": ip},
        ]}],
        "attributes": [{"name": "ecs.cpu-architecture", "value": "x86_64"}],
        "availabilityZone": task.availability_zone,
        "clusterArn": CLUSTER_ARN,
        "connectivity": "CONNECTED",
        "connectivityAt": start + timedelta(seconds=2),
        "containers": [
            {"containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/c1/{tid}/{container_id(tid, 'web')}",
             "taskArn": task.arn, "name": "web", "image": "nginx:1.27", "imageDigest": digest,
             "lastStatus": "RUNNING", "networkBindings": [],
             "networkInterfaces": [{"attachmentId": attachment, "privateIpv4Address": ip}],
             "healthStatus": "HEALTHY", "cpu": "0", "memory": "256"},
            {"containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/c1/{tid}/{container_id(tid, 'sidecar')}",
             "taskArn": task.arn, "name": "sidecar", "image": "busybox",
             "imageDigest": out["containers"][1]["imageDigest"], "lastStatus": "RUNNING", "networkBindings": [],
             "networkInterfaces": [{"attachmentId": attachment, "privateIpv4Address": ip}],
             "healthStatus": "UNKNOWN", "cpu": "0"},
        ],
        "cpu": "256",
        "createdAt": start,
        "desiredStatus": "RUNNING",
        "enableExecuteCommand": False,
        "ephemeralStorage": {"sizeInGiB": 20},
        "group": "family:web",
        "healthStatus": "HEALTHY",
        "lastStatus": "RUNNING",
        "launchType": "FARGATE",
        "memory": "512",
        "overrides": {"containerOverrides": [{"name": "web"}, {"name": "sidecar"}],
                      "inferenceAcceleratorOverrides": []},
        "platformFamily": "Linux",
        "platformVersion": "1.4.0",
        "pullStartedAt": start + timedelta(seconds=2),
        "pullStoppedAt": start + timedelta(seconds=6),
        "startedAt": start + timedelta(seconds=7),
        "tags": [],
        "taskArn": task.arn,
        "taskDefinitionArn": td.arn,
        "version": 4,
    }
    assert digest.startswith("sha256:") and len(digest) == 71
    assert container_id(tid, "web") == container_id(tid, "web") != container_id(tid, "sidecar")


def test_describe_provisioning_task_and_failures(env: Env) -> None:
    td = env.task_definition("prov")
    [task] = env.launch(td, started_by="me")
    other = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/c1/{'0' * 32}"
    result = env.call("DescribeTasks", {"cluster": CLUSTER_ARN, "tasks": [task.arn, "abc", other, task.id]})
    check_shape(result, MODEL.operation_model("DescribeTasks").output_shape)
    assert result["failures"] == [{"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/c1/abc", "reason": "MISSING"},
                                  {"arn": other, "reason": "MISSING"}]
    [out] = result["tasks"]
    assert out["lastStatus"] == "PROVISIONING" and out["startedBy"] == "me"
    assert out["attachments"] == [{"id": out["attachments"][0]["id"], "type": "ElasticNetworkInterface",
                                   "status": "PRECREATED", "details": [{"name": "subnetId",
                                                                        "value": task.subnet_id}]}]
    assert [c["lastStatus"] for c in out["containers"]] == ["PENDING", "PENDING"]
    assert [c["networkInterfaces"] for c in out["containers"]] == [[], []]
    for absent in ("connectivity", "pullStartedAt", "startedAt", "stopCode", "stoppedAt", "tags"):
        assert absent not in out
    assert "imageDigest" not in out["containers"][0]


def test_describe_errors(env: Env) -> None:
    assert env.error("DescribeTasks", {"cluster": "c1", "tasks": []}) == \
        ("InvalidParameterException", "Tasks cannot be empty.")
    assert env.error("DescribeTasks", {"cluster": "c1", "tasks": ["x"] * 101}) == \
        ("InvalidParameterException", "Tasks cannot have more than 100 entries.")
    assert env.error("DescribeTasks", {"cluster": "nope", "tasks": ["x"]}) == \
        ("ClusterNotFoundException", "Cluster not found.")
    assert env.error("ListTasks", {"cluster": "nope"}) == ("ClusterNotFoundException", "Cluster not found.")
    assert env.error("StopTask", {"cluster": "nope", "task": "x"}) == ("ClusterNotFoundException",
                                                                       "Cluster not found.")


def test_list_tasks_filters_and_paging(env: Env) -> None:
    web = env.task_definition("web")
    api = env.task_definition("api")
    service_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/c1/svc"
    env.gateway.db.execute(
        "INSERT INTO ecs_services (account_id, region, cluster, name, arn, status, config, created_at, updated_at) "
        "VALUES (?, ?, 'c1', 'svc', ?, 'ACTIVE', '{}', 'x', 'x')", (ACCOUNT, REGION, service_arn))
    webs = env.launch(web, count=3)
    env.clock.advance(1)
    apis = env.launch(api, count=2, service_arn=service_arn, started_by="ecs-svc/1")
    env.call("CreateCluster", {"clusterName": "c2"})
    env.launch(web, cluster="c2")
    all_arns = [t.arn for t in webs] + [t.arn for t in apis]

    def listed(**params: Any) -> list[str]:
        return list(env.call("ListTasks", {"cluster": "c1", **params})["taskArns"])

    assert sorted(listed()) == sorted(all_arns)
    assert set(listed()[:3]) == {t.arn for t in webs}
    assert sorted(listed(family="web")) == sorted(t.arn for t in webs)
    assert sorted(listed(serviceName="svc")) == sorted(t.arn for t in apis)
    assert sorted(listed(serviceName=service_arn)) == sorted(t.arn for t in apis)
    assert sorted(listed(startedBy="ecs-svc/1")) == sorted(t.arn for t in apis)
    assert listed(launchType="EC2") == []
    assert listed(desiredStatus="PENDING") == []
    assert listed(desiredStatus="STOPPED") == []
    assert listed(containerInstance="ci") == []
    first = env.call("ListTasks", {"cluster": "c1", "maxResults": 2})
    second = env.call("ListTasks", {"cluster": "c1", "maxResults": 2, "nextToken": first["nextToken"]})
    third = env.call("ListTasks", {"cluster": "c1", "maxResults": 2, "nextToken": second["nextToken"]})
    assert first["taskArns"] + second["taskArns"] + third["taskArns"] == listed()
    assert "nextToken" not in third
    assert env.error("ListTasks", {"cluster": "c1", "maxResults": 101}) == \
        ("InvalidParameterException", "maxResults can be between 1 and 100.")
    assert env.error("ListTasks", {"cluster": "c1", "serviceName": "ghost"}) == \
        ("ServiceNotFoundException", "Service not found.")
    assert env.error("ListTasks", {"cluster": "c1", "startedBy": "x", "family": "web"}) == \
        ("InvalidParameterException",
         "startedBy cannot be combined with the family, serviceName or containerInstance filters.")
    env.call("StopTask", {"cluster": "c1", "task": webs[0].arn})
    assert listed(desiredStatus="STOPPED") == [webs[0].arn]
    assert webs[0].arn not in listed()


def test_stop_task(env: Env) -> None:
    td = env.task_definition("stop")
    [task] = env.launch(td)
    env.run(7)
    result = env.call("StopTask", {"cluster": "c1", "task": task.id, "reason": "enough"})
    check_shape(result, MODEL.operation_model("StopTask").output_shape)
    out = result["task"]
    assert (out["desiredStatus"], out["lastStatus"], out["stopCode"], out["stoppedReason"]) == \
        ("STOPPED", "STOPPING", "UserInitiated", "enough")
    assert out["stoppingAt"] == env.clock.now() and out["version"] == 5
    assert env.wakes == 1
    again = env.call("StopTask", {"cluster": "c1", "task": task.arn, "reason": "second"})["task"]
    assert again == out and env.wakes == 1
    env.run(3)
    stopped = env.call("DescribeTasks", {"cluster": "c1", "tasks": [task.arn]})["tasks"][0]
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stoppedAt"] == out["stoppingAt"] + timedelta(seconds=3)
    assert stopped["executionStoppedAt"] == out["stoppingAt"] + timedelta(seconds=2)
    assert stopped["attachments"][0]["status"] == "DELETED"
    assert [c["lastStatus"] for c in stopped["containers"]] == ["STOPPED", "STOPPED"]
    assert "exitCode" not in stopped["containers"][0]
    assert env.call("StopTask", {"cluster": "c1", "task": task.id})["task"] == stopped


def test_stop_task_default_reason_and_errors(env: Env) -> None:
    td = env.task_definition("stop2")
    [task] = env.launch(td)
    out = env.call("StopTask", {"cluster": "c1", "task": task.arn})["task"]
    assert out["stoppedReason"] == "Task stopped by user"
    assert out["lastStatus"] == "STOPPING"
    not_found = ("InvalidParameterException", "The referenced task was not found.")
    assert env.error("StopTask", {"cluster": "c1", "task": "0" * 32}) == not_found
    assert env.error("StopTask", {"task": task.id}) == ("ClusterNotFoundException", "Cluster not found.")
    env.call("CreateCluster", {"clusterName": "c2"})
    assert env.error("StopTask", {"cluster": "c2", "task": task.arn}) == not_found
    assert env.error("StopTask", {"cluster": "c1", "task": task.id, "reason": "x" * 256}) == \
        ("InvalidParameterException", "reason longer than 255.")


def test_stopped_by_exit_shows_exit_code(env: Env) -> None:
    td = env.task_definition("exits", dockerLabels={"turnout.exit-after": "2"})
    [task] = env.launch(td)
    env.run(9)
    env.run(3)
    out = env.call("DescribeTasks", {"cluster": "c1", "tasks": [task.arn]})["tasks"][0]
    assert (out["lastStatus"], out["stopCode"], out["stoppedReason"]) == \
        ("STOPPED", "EssentialContainerExited", "Essential container in task exited")
    web, sidecar = out["containers"]
    assert (web["exitCode"], web["reason"]) == (1, "Essential container exited")
    assert "exitCode" not in sidecar
    assert out["healthStatus"] == "UNKNOWN"


def test_stop_registered_task_drains_for_target_group_delay(env: Env) -> None:
    vpc = env.subnet()
    vpc_id = env.gateway.db.scalar("SELECT vpc_id FROM ec2_subnets WHERE subnet_id = ?", (vpc,))
    tg = env.call("CreateTargetGroup", {"Name": "tg1", "Protocol": "HTTP", "Port": 80, "VpcId": vpc_id,
                                        "TargetType": "ip"}, "elbv2")["TargetGroups"][0]["TargetGroupArn"]
    env.call("ModifyTargetGroupAttributes", {"TargetGroupArn": tg, "Attributes": [
        {"Key": "deregistration_delay.timeout_seconds", "Value": "45"}]}, "elbv2")
    td = env.task_definition("reg")
    [task] = env.launch(td)
    env.run(7)
    with env.gateway.db.transaction():
        states.set_registrations(env.gateway.db, task.arn,
                                 [{"targetGroupArn": tg, "id": task.private_ip, "port": 80}])
    # No load balancer uses the group: ELB does not drain it.
    out = env.call("StopTask", {"cluster": "c1", "task": task.arn})["task"]
    assert out["lastStatus"] == "DEACTIVATING"
    assert life.next_due(env.gateway.db, env.clock) == 0
    lb = env.call("CreateLoadBalancer", {"Name": "lb1", "Subnets": [
        s.subnet_id for s in network.vpc_subnets(env.gateway.db, ACCOUNT, REGION, vpc_id)][:2]},
        "elbv2")["LoadBalancers"][0]["LoadBalancerArn"]
    env.call("CreateListener", {"LoadBalancerArn": lb, "Protocol": "HTTP", "Port": 80,
                                "DefaultActions": [{"Type": "forward", "TargetGroupArn": tg}]}, "elbv2")
    [second] = env.launch(td)
    env.run(7)
    with env.gateway.db.transaction():
        states.set_registrations(env.gateway.db, second.arn,
                                 [{"targetGroupArn": tg, "id": second.private_ip, "port": 80}])
    env.run(0)
    env.call("StopTask", {"cluster": "c1", "task": second.arn})
    assert life.next_due(env.gateway.db, env.clock) == 45
