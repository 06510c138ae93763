"""ECS services with real boto3 clients against a real server: create/describe/list/update/delete round trips,
AWS's defaults, DescribeServices failures and paging of ListServices, tags on services, the service-linked role,
DeleteCluster refusing a cluster with services, and iam:PassRole on the roles a service is given.

The deployment engine progresses deployments on its own, so these tests assert what the API wrote (ARNs,
revisions, configuration), never that a deployment is still PENDING."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Server, error_of
from tests.e2e.ecs_support import (
    ACCOUNT,
    INFRA_ROLE,
    SEED_PASS_ROLE,
    STATUSES,
    World,
    cluster_arn,
    infra_role,
    service_arn,
)


@pytest.fixture
def world(server: Server, unique: Callable[[str], str]) -> Iterator[World]:
    made = World(server, unique)
    yield made
    made.destroy()


def test_create_service_defaults(world: World) -> None:
    name = world.unique("svc")
    service = world.service(name, desiredCount=2)
    assert service["serviceArn"] == service_arn(world.cluster, name)
    assert (service["serviceName"], service["clusterArn"]) == (name, cluster_arn(world.cluster))
    assert (service["status"], service["desiredCount"], service["launchType"]) == ("ACTIVE", 2, "FARGATE")
    assert (service["platformVersion"], service["platformFamily"]) == ("LATEST", "Linux")
    assert service["taskDefinition"] == world.td
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False}, "maximumPercent": 200,
        "minimumHealthyPercent": 100, "strategy": "ROLLING"}
    assert service["deploymentController"] == {"type": "ECS"}
    assert service["schedulingStrategy"] == "REPLICA"
    assert (service["propagateTags"], service["enableECSManagedTags"], service["enableExecuteCommand"]) == (
        "NONE", False, False)
    assert service["availabilityZoneRebalancing"] == "ENABLED"
    assert service["networkConfiguration"] == {"awsvpcConfiguration": {
        "subnets": world.subnets[:2], "securityGroups": [world.security_group], "assignPublicIp": "DISABLED"}}
    assert service["createdBy"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert service["loadBalancers"] == [] and service["serviceRegistries"] == []
    assert "roleArn" not in service
    primary = service["deployments"][0]
    assert len(service["deployments"]) == 1 and primary["status"] == "PRIMARY"
    assert primary["id"].startswith("ecs-svc/") and len(primary["id"]) == len("ecs-svc/") + 19
    assert (primary["taskDefinition"], primary["desiredCount"], primary["launchType"]) == (world.td, 2, "FARGATE")
    assert primary["platformVersion"] == "1.4.0" and primary["platformFamily"] == "Linux"
    assert primary["networkConfiguration"] == service["networkConfiguration"]
    assert primary["rolloutState"] in ("IN_PROGRESS", "COMPLETED", "FAILED")
    deployment = service["currentServiceDeployment"]
    assert deployment.startswith(f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-deployment/{world.cluster}/{name}/")
    revisions = service["currentServiceRevisions"]
    assert len(revisions) == 1 and revisions[0]["requestedTaskCount"] == 2
    assert revisions[0]["arn"].startswith(f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-revision/{world.cluster}/{name}/")
    # One 19-digit number: the revision's id and the deployment's ecs-svc/<id>; the service deployment has its own
    # 21-character id (AWS's examples: EZe5RNVLH6PPzHXINuP28).
    number = revisions[0]["arn"].rsplit("/", 1)[1]
    assert len(number) == 19 and number.isdigit()
    assert primary["id"] == f"ecs-svc/{number}"
    assert len(deployment.rsplit("/", 1)[1]) == 21


def test_describe_services_failures_tags_and_limit(world: World) -> None:
    name, missing = world.unique("svc"), world.unique("nope")
    world.service(name, tags=[{"key": "team", "value": "web"}])
    out = world.ecs.describe_services(cluster=world.cluster, services=[name, missing, service_arn(world.cluster, "x")])
    assert [s["serviceName"] for s in out["services"]] == [name]
    assert "tags" not in out["services"][0]
    assert out["failures"] == [{"arn": service_arn(world.cluster, missing), "reason": "MISSING"},
                               {"arn": service_arn(world.cluster, "x"), "reason": "MISSING"}]
    tagged = world.ecs.describe_services(cluster=world.cluster, services=[service_arn(world.cluster, name)],
                                         include=["TAGS"])["services"][0]
    assert tagged["tags"] == [{"key": "team", "value": "web"}]
    assert error_of(world.ecs.describe_services, cluster=world.cluster, services=[f"s{i}" for i in range(11)]) == (
        "InvalidParameterException", "service names can have at most 10 items.", 400)
    assert error_of(world.ecs.describe_services, cluster=world.unique("nocluster"), services=[name]) == (
        "ClusterNotFoundException", "Cluster not found.", 400)


def test_list_services_pages_and_filters(world: World) -> None:
    names = sorted(world.unique("page") for _ in range(3))
    for name in names:
        world.service(name)
    ec2_name = world.unique("ec2svc")
    world.ecs.create_service(cluster=world.cluster, serviceName=ec2_name,
                             taskDefinition=world.td, desiredCount=0, launchType="EC2",
                             networkConfiguration=world.network)
    assert world.ecs.list_services(cluster=world.cluster)["serviceArns"] == sorted(
        [service_arn(world.cluster, n) for n in [*names, ec2_name]])
    seen: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"cluster": world.cluster, "maxResults": 2, "launchType": "FARGATE"}
        if token:
            kwargs["nextToken"] = token
        answer = world.ecs.list_services(**kwargs)
        assert len(answer["serviceArns"]) <= 2
        seen.extend(answer["serviceArns"])
        token = answer.get("nextToken")
        if not token:
            break
    assert seen == [service_arn(world.cluster, n) for n in names]
    assert world.ecs.list_services(cluster=world.cluster, launchType="EC2")["serviceArns"] == [
        service_arn(world.cluster, ec2_name)]
    assert world.ecs.list_services(cluster=world.cluster, schedulingStrategy="DAEMON")["serviceArns"] == []
    assert error_of(world.ecs.list_services, cluster=world.cluster, maxResults=101)[:2] == (
        "InvalidParameterException", "maxResults can be between 1 and 100.")


def test_create_is_not_idempotent_for_a_taken_name(world: World) -> None:
    name = world.unique("svc")
    first = world.service(name, clientToken="token-1")
    again = world.service(name, clientToken="token-1")
    assert again["serviceArn"] == first["serviceArn"]
    assert again["currentServiceDeployment"] == first["currentServiceDeployment"]
    assert error_of(world.service, name) == (
        "InvalidParameterException", "Creation of service was not idempotent.", 400)


def test_update_service_round_trip(world: World) -> None:
    name = world.unique("svc")
    created = world.service(name, desiredCount=1)
    first_deployment = created["currentServiceDeployment"]
    scaled = world.ecs.update_service(cluster=world.cluster, service=name, desiredCount=3)["service"]
    assert scaled["desiredCount"] == 3
    assert scaled["currentServiceDeployment"] == first_deployment  # scaling needs no new deployment
    td2 = world.ecs.register_task_definition(
        family=world.td.rsplit("/", 1)[1].split(":")[0], networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512", containerDefinitions=[{"name": "web", "image": "nginx:1.28",
                                                        "portMappings": [{"containerPort": 80}]}],
    )["taskDefinition"]["taskDefinitionArn"]
    updated = world.ecs.update_service(cluster=world.cluster, service=service_arn(world.cluster, name),
                                       taskDefinition=td2)["service"]
    assert updated["taskDefinition"] == td2
    assert updated["currentServiceDeployment"] != first_deployment
    assert updated["deployments"][0]["status"] == "PRIMARY" and updated["deployments"][0]["taskDefinition"] == td2
    forced = world.ecs.update_service(cluster=world.cluster, service=name, forceNewDeployment=True)["service"]
    assert forced["currentServiceDeployment"] not in (first_deployment, updated["currentServiceDeployment"])
    listed = world.ecs.list_service_deployments(cluster=world.cluster, service=name)["serviceDeployments"]
    assert [d["serviceDeploymentArn"] for d in listed] == [
        forced["currentServiceDeployment"], updated["currentServiceDeployment"], first_deployment]
    assert all(d["status"] in STATUSES for d in listed)
    assert error_of(world.ecs.update_service, cluster=world.cluster, service=world.unique("nope"),
                    desiredCount=1) == ("ServiceNotFoundException", "Service not found.", 400)


def test_delete_service(world: World) -> None:
    name = world.unique("svc")
    world.service(name, desiredCount=2)
    assert error_of(world.ecs.delete_service, cluster=world.cluster, service=name) == (
        "InvalidParameterException", "The service cannot be stopped while it is scaled above 0.", 400)
    deleted = world.ecs.delete_service(cluster=world.cluster, service=name, force=True)["service"]
    assert deleted["status"] in ("DRAINING", "INACTIVE") and deleted["desiredCount"] == 0
    assert error_of(world.ecs.update_service, cluster=world.cluster, service=name, desiredCount=1) == (
        "ServiceNotActiveException", "Service was not ACTIVE.", 400)
    assert error_of(world.ecs.delete_service, cluster=world.cluster, service=name) == (
        "ServiceNotActiveException", "Service was not ACTIVE.", 400)
    other = world.unique("svc")
    world.service(other)
    assert world.ecs.delete_service(cluster=world.cluster, service=other)["service"]["status"] in (
        "DRAINING", "INACTIVE")


def test_delete_cluster_with_a_service_and_cluster_counts(world: World) -> None:
    name = world.unique("svc")
    world.service(name)
    cluster = world.ecs.describe_clusters(clusters=[world.cluster])["clusters"][0]
    assert cluster["activeServicesCount"] == 1
    assert cluster["runningTasksCount"] >= 0 and cluster["pendingTasksCount"] >= 0
    assert error_of(world.ecs.delete_cluster, cluster=world.cluster) == (
        "ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active.", 400)


def test_tags_on_services(world: World) -> None:
    name = world.unique("svc")
    arn = world.service(name, tags=[{"key": "a", "value": "1"}])["serviceArn"]
    world.ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
    assert world.ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    world.ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert world.ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]
    assert error_of(world.ecs.tag_resource, resourceArn=service_arn(world.cluster, "nope"),
                    tags=[{"key": "k", "value": "v"}])[0] == "ResourceNotFoundException"


def test_service_linked_role_is_created(world: World) -> None:
    world.service()
    role = world.iam.get_role(RoleName="AWSServiceRoleForECS")["Role"]
    assert role["Path"] == "/aws-service-role/ecs.amazonaws.com/"
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"


def test_service_with_a_load_balancer_gets_the_linked_role(world: World) -> None:
    setup = world.blue_green()
    service = world.service(loadBalancers=[{"targetGroupArn": setup["blue"], "containerName": "web",
                                            "containerPort": 80}])
    assert service["roleArn"] == (
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS")
    assert service["loadBalancers"] == [{"targetGroupArn": setup["blue"], "containerName": "web",
                                         "containerPort": 80}]


# -- iam:PassRole ------------------------------------------------------------------------------------------------

def _user(world: World, statements: list[dict[str, Any]]) -> tuple[Any, str]:
    name = world.unique("deployer")
    arn = world.iam.create_user(UserName=name)["User"]["Arn"]
    world.iam.put_user_policy(UserName=name, PolicyName="ecs", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = world.iam.create_access_key(UserName=name)["AccessKey"]
    return world.server.client("ecs", key=key["AccessKeyId"], secret=key["SecretAccessKey"]), arn


SEED_STATEMENTS: list[dict[str, Any]] = SEED_PASS_ROLE["Statement"]
ECS_ALL: dict[str, Any] = {"Effect": "Allow", "Action": ["ecs:*", "elasticloadbalancing:Describe*", "ec2:Describe*"],
           "Resource": "*"}


def _blue_green_args(world: World, setup: dict[str, str], role: str, name: str) -> dict[str, Any]:
    return {"cluster": world.cluster, "serviceName": name, "taskDefinition": world.td, "desiredCount": 1,
            "launchType": "FARGATE", "networkConfiguration": world.network,
            "loadBalancers": [world.advanced_lb(setup, role)],
            "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}}


def test_pass_role_denied_creates_nothing(world: World) -> None:
    role = infra_role(world.iam)
    setup = world.blue_green()
    ecs, user_arn = _user(world, [ECS_ALL])
    name = world.unique("denied")
    code, message, status = error_of(ecs.create_service, **_blue_green_args(world, setup, role, name))
    assert (code, status) == ("AccessDeniedException", 400)
    assert message == (f"User: {user_arn} is not authorized to perform: iam:PassRole on resource: {role} "
                       "because no identity-based policy allows the iam:PassRole action")
    out = world.ecs.describe_services(cluster=world.cluster, services=[name])
    assert out["services"] == [] and out["failures"][0]["reason"] == "MISSING"
    assert service_arn(world.cluster, name) not in world.ecs.list_services(cluster=world.cluster)["serviceArns"]


def test_pass_role_allowed_by_the_seed_policy(world: World) -> None:
    role = infra_role(world.iam)
    assert role == f"arn:aws:iam::{ACCOUNT}:role/{INFRA_ROLE}"
    setup = world.blue_green()
    ecs, _ = _user(world, [ECS_ALL, *SEED_STATEMENTS])
    name = world.unique("allowed")
    service = ecs.create_service(**_blue_green_args(world, setup, role, name))["service"]
    assert service["serviceArn"] == service_arn(world.cluster, name)
    assert service["loadBalancers"][0]["advancedConfiguration"]["roleArn"] == role
    assert service["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    # The same user may not pass another role, even one with the same trust policy.
    other = world.iam.create_role(RoleName=world.unique("otherinfra"), AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    code, message, _ = error_of(ecs.update_service, cluster=world.cluster, service=name,
                                loadBalancers=[world.advanced_lb(setup, other)])
    assert code == "AccessDeniedException" and "iam:PassRole" in message and other in message


def test_pass_role_of_a_missing_role(world: World) -> None:
    setup = world.blue_green()
    missing = f"arn:aws:iam::{ACCOUNT}:role/{world.unique('ghost')}"
    assert error_of(world.ecs.create_service, **_blue_green_args(world, setup, missing, world.unique("svc"))) == (
        "InvalidParameterException", f"The role with name {missing.rsplit('/', 1)[1]} cannot be found.", 400)


def test_lifecycle_hook_role_needs_pass_role(world: World) -> None:
    role = infra_role(world.iam)
    hook_role = world.iam.create_role(RoleName=world.unique("hookrole"), AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    setup = world.blue_green()
    ecs, _ = _user(world, [ECS_ALL, *SEED_STATEMENTS])
    args = _blue_green_args(world, setup, role, world.unique("hooked"))
    args["deploymentConfiguration"]["lifecycleHooks"] = [{
        "targetType": "AWS_LAMBDA", "hookTargetArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:check",
        "roleArn": hook_role, "lifecycleStages": ["POST_SCALE_UP"]}]
    code, message, _ = error_of(ecs.create_service, **args)
    assert code == "AccessDeniedException" and f"iam:PassRole on resource: {hook_role}" in message
    assert world.ecs.describe_services(cluster=world.cluster, services=[args["serviceName"]])["services"] == []
