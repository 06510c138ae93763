"""ECS task definitions with real boto3 clients against a real server: families and revisions, container and
Fargate validation with AWS's messages, iam:PassRole on the task and execution roles, describe/list/deregister/
delete, and tags."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Server, error_of

ACCOUNT = "000000000000"
PREFIX = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/"
WEB = [{"name": "web", "image": "nginx:latest", "memory": 128, "portMappings": [{"containerPort": 80}]}]
TASKS_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture
def ecs(server: Server) -> Any:
    return server.client("ecs")


def task_role(iam: Any, unique: Callable[[str], str]) -> str:
    arn: str = iam.create_role(RoleName=unique("taskrole"),
                               AssumeRolePolicyDocument=json.dumps(TASKS_TRUST))["Role"]["Arn"]
    return arn


def user_ecs(server: Server, iam: Any, unique: Callable[[str], str], statements: list[dict[str, Any]]) -> Any:
    name = unique("tduser")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("ecs", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def test_register_revisions_and_defaults(ecs: Any, unique: Callable[[str], str]) -> None:
    family = unique("fam")
    first = ecs.register_task_definition(family=family, containerDefinitions=WEB)["taskDefinition"]
    assert first["taskDefinitionArn"] == f"{PREFIX}{family}:1"
    assert (first["revision"], first["status"], first["networkMode"]) == (1, "ACTIVE", "bridge")
    container = first["containerDefinitions"][0]
    assert container["essential"] is True and container["cpu"] == 0
    assert container["portMappings"] == [{"containerPort": 80, "protocol": "tcp"}]
    assert first["compatibilities"] == ["EC2"]
    assert first["registeredBy"] == f"arn:aws:iam::{ACCOUNT}:root"
    second = ecs.register_task_definition(family=family, containerDefinitions=WEB)["taskDefinition"]
    assert second["revision"] == 2


def test_register_fargate(ecs: Any, unique: Callable[[str], str]) -> None:
    family = unique("fargate")
    td = ecs.register_task_definition(family=family, containerDefinitions=[{"name": "app", "image": "app:1"}],
                                      requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
                                      cpu="256", memory="512")["taskDefinition"]
    assert (td["cpu"], td["memory"], td["requiresCompatibilities"]) == ("256", "512", ["FARGATE"])
    assert td["compatibilities"] == ["EC2", "FARGATE"]
    vcpu = ecs.register_task_definition(family=family, containerDefinitions=[{"name": "app", "image": "app:1"}],
                                        requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
                                        cpu="1 vCPU", memory="2 GB")["taskDefinition"]
    assert vcpu["revision"] == 2


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"networkMode": "bridge", "cpu": "256", "memory": "512"}, "Fargate only supports network mode 'awsvpc'."),
    ({"networkMode": "awsvpc", "memory": "512"}, "Fargate requires that 'cpu' be defined at the task level."),
    ({"networkMode": "awsvpc", "cpu": "256"}, "Fargate requires that 'memory' be defined at the task level."),
    ({"networkMode": "awsvpc", "cpu": "1024", "memory": "1024"},
     "No Fargate configuration exists for given values: 1024 CPU, 1024 memory. "
     "See the Amazon ECS documentation for the valid values."),
])
def test_fargate_rules(ecs: Any, unique: Callable[[str], str], kwargs: dict[str, str], message: str) -> None:
    family = unique("badfg")
    assert error_of(ecs.register_task_definition, family=family, requiresCompatibilities=["FARGATE"],
                    containerDefinitions=[{"name": "app", "image": "app:1"}], **kwargs) == (
        "ClientException", message, 400)
    assert error_of(ecs.describe_task_definition, taskDefinition=family)[0] == "ClientException"


@pytest.mark.parametrize(("containers", "message"), [
    ([], "Container list cannot be empty."),
    ([{"name": "a", "image": "x"}],
     "Invalid setting for container 'a'. At least one of 'memory' or 'memoryReservation' must be specified."),
    ([{"name": "a", "image": "x", "memory": 64, "essential": False}],
     "Task definition must have at least one essential container."),
    ([{"name": "a", "image": "x", "memory": 64}, {"name": "a", "image": "y", "memory": 64}],
     "Duplicate container name 'a' found in task definition."),
    ([{"name": "a", "image": "", "memory": 64}], "Container.image should not be null or empty."),
    ([{"name": "a", "image": "x", "memory": 64, "memoryReservation": 128}],
     "Invalid setting for container 'a'. 'memory' must be greater than or equal to 'memoryReservation'."),
])
def test_container_rules(ecs: Any, unique: Callable[[str], str], containers: list[dict[str, Any]],
                         message: str) -> None:
    assert error_of(ecs.register_task_definition, family=unique("bad"), containerDefinitions=containers) == (
        "ClientException", message, 400)


def test_bad_family(ecs: Any) -> None:
    code, message, _ = error_of(ecs.register_task_definition, family="bad family", containerDefinitions=WEB)
    assert code == "ClientException" and "Family name can have up to 255 characters" in message


def test_describe_by_family_revision_and_arn(ecs: Any, unique: Callable[[str], str]) -> None:
    family = unique("desc")
    ecs.register_task_definition(family=family, containerDefinitions=WEB, tags=[{"key": "env", "value": "dev"}])
    ecs.register_task_definition(family=family, containerDefinitions=WEB)
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["revision"] == 2
    one = ecs.describe_task_definition(taskDefinition=f"{family}:1", include=["TAGS"])
    assert one["taskDefinition"]["revision"] == 1 and one["tags"] == [{"key": "env", "value": "dev"}]
    by_arn = ecs.describe_task_definition(taskDefinition=f"{PREFIX}{family}:1")
    assert by_arn["taskDefinition"]["family"] == family and "tags" not in by_arn
    expected = ("ClientException", "Unable to describe task definition.", 400)
    assert error_of(ecs.describe_task_definition, taskDefinition=f"{family}:9") == expected
    assert error_of(ecs.describe_task_definition, taskDefinition=unique("none")) == expected


def test_deregister_then_delete(ecs: Any, unique: Callable[[str], str]) -> None:
    family = unique("life")
    ecs.register_task_definition(family=family, containerDefinitions=WEB)
    ecs.register_task_definition(family=family, containerDefinitions=WEB)
    gone = ecs.deregister_task_definition(taskDefinition=f"{family}:2")["taskDefinition"]
    assert gone["status"] == "INACTIVE" and "deregisteredAt" in gone
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["revision"] == 1
    assert ecs.describe_task_definition(taskDefinition=f"{family}:2")["taskDefinition"]["status"] == "INACTIVE"
    assert error_of(ecs.deregister_task_definition, taskDefinition=f"{family}:7") == (
        "ClientException", "The specified task definition does not exist.", 400)
    deleted = ecs.delete_task_definitions(taskDefinitions=[f"{family}:2", f"{family}:1", f"{family}:8"])
    assert [(t["revision"], t["status"]) for t in deleted["taskDefinitions"]] == [(2, "DELETE_IN_PROGRESS")]
    assert [(f["arn"], f["reason"]) for f in deleted["failures"]] == [
        (f"{PREFIX}{family}:1", "TASK_DEFINITION_NOT_INACTIVE"), (f"{family}:8", "TASK_DEFINITION_NOT_FOUND")]
    assert f"{PREFIX}{family}:2" in ecs.list_task_definitions(familyPrefix=family, status="DELETE_IN_PROGRESS")[
        "taskDefinitionArns"]


def test_list_task_definitions_and_families(ecs: Any, unique: Callable[[str], str]) -> None:
    base = unique("lst")
    a, b = f"{base}-a", f"{base}-b"
    for family in (a, a, a, b):
        ecs.register_task_definition(family=family, containerDefinitions=WEB)
    ecs.deregister_task_definition(taskDefinition=f"{b}:1")
    arns = ecs.list_task_definitions(familyPrefix=base)["taskDefinitionArns"]
    assert arns == [f"{PREFIX}{a}:1", f"{PREFIX}{a}:2", f"{PREFIX}{a}:3"]
    desc = ecs.list_task_definitions(familyPrefix=base, sort="DESC")["taskDefinitionArns"]
    assert desc == list(reversed(arns))
    page = ecs.list_task_definitions(familyPrefix=base, maxResults=2)
    assert page["taskDefinitionArns"] == arns[:2]
    rest = ecs.list_task_definitions(familyPrefix=base, maxResults=2, nextToken=page["nextToken"])
    assert rest["taskDefinitionArns"] == arns[2:] and "nextToken" not in rest
    assert ecs.list_task_definitions(familyPrefix=base, status="INACTIVE")["taskDefinitionArns"] == [f"{PREFIX}{b}:1"]
    assert ecs.list_task_definition_families(familyPrefix=base)["families"] == [a]
    assert ecs.list_task_definition_families(familyPrefix=base, status="INACTIVE")["families"] == [b]
    assert ecs.list_task_definition_families(familyPrefix=base, status="ALL")["families"] == [a, b]


def test_task_definition_tags(ecs: Any, unique: Callable[[str], str]) -> None:
    family = unique("tags")
    answer = ecs.register_task_definition(family=family, containerDefinitions=WEB, tags=[{"key": "a", "value": "1"}])
    assert answer["tags"] == [{"key": "a", "value": "1"}]
    arn = answer["taskDefinition"]["taskDefinitionArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
    ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]
    assert error_of(ecs.list_tags_for_resource, resourceArn=f"{PREFIX}{family}:5")[0] == "ResourceNotFoundException"


def test_roles_need_pass_role(server: Server, iam: Any, ecs: Any, unique: Callable[[str], str]) -> None:
    role = task_role(iam, unique)
    family = unique("roles")
    # Root (test/test) may pass any role of its account.
    td = ecs.register_task_definition(family=family, containerDefinitions=WEB, taskRoleArn=role,
                                      executionRoleArn=role)["taskDefinition"]
    assert (td["taskRoleArn"], td["executionRoleArn"]) == (role, role)
    denied = user_ecs(server, iam, unique, [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}])
    code, message, status = error_of(denied.register_task_definition, family=family, containerDefinitions=WEB,
                                     taskRoleArn=role)
    assert (code, status) == ("AccessDeniedException", 400)
    assert "iam:PassRole" in message and role in message
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["revision"] == 1  # nothing made
    allowed = user_ecs(server, iam, unique, [
        {"Effect": "Allow", "Action": "ecs:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role,
         "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}])
    assert allowed.register_task_definition(family=family, containerDefinitions=WEB, taskRoleArn=role)[
        "taskDefinition"]["revision"] == 2
    wrong_service = user_ecs(server, iam, unique, [
        {"Effect": "Allow", "Action": "ecs:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role,
         "Condition": {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}}}])
    assert error_of(wrong_service.register_task_definition, family=family, containerDefinitions=WEB,
                    executionRoleArn=role)[0] == "AccessDeniedException"


def test_missing_role(ecs: Any, unique: Callable[[str], str]) -> None:
    name = unique("norole")
    code, message, _ = error_of(ecs.register_task_definition, family=unique("nr"), containerDefinitions=WEB,
                                taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}")
    assert (code, message) == ("InvalidParameterException", f"The role with name {name} cannot be found.")
