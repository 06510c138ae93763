"""CreateService/UpdateService validation with real boto3 against a real server: AWS's messages for names, counts,
task definitions, launch types and the network; load balancers (ELBv2 target groups, blue/green
advancedConfiguration with its listener rules, as AWS's blue/green troubleshooting guide words the errors);
deployment configuration ranges (linear, canary, bake times) and lifecycle hooks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Server, error_of
from tests.e2e.ecs_support import ACCOUNT, World, bridge_td, infra_role

INVALID = "InvalidParameterException"
LAMBDA = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:hook"


@pytest.fixture
def world(server: Server, unique: Callable[[str], str]) -> Iterator[World]:
    made = World(server, unique)
    yield made
    made.destroy()


@pytest.fixture
def setup(world: World) -> dict[str, str]:
    return world.blue_green()


@pytest.fixture
def role(world: World) -> str:
    return infra_role(world.iam)


def refused(world: World, message: str, code: str = INVALID, **args: Any) -> None:
    assert error_of(world.service, **args) == (code, message, 400)


def blue_green(world: World, setup: dict[str, str], role: str, message: str, *, strategy: str = "BLUE_GREEN",
               **changes: Any) -> None:
    refused(world, message, loadBalancers=[world.advanced_lb(setup, role, **changes)],
            deploymentConfiguration={"strategy": strategy})


# -- names, counts, task definitions, launch types, network ------------------------------------------------------

def test_name_count_and_task_definition(world: World) -> None:
    refused(world, "Service name can have up to 255 characters, including letters (uppercase and lowercase), "
                   "numbers, underscores (_), and hyphens (-).", name="bad name!")
    refused(world, "desiredCount can't be less than 0.", desiredCount=-1)
    refused(world, "TaskDefinition not found.", code="ClientException", taskDefinition=world.unique("nofamily"))
    family = world.unique("gone")
    arn = world.ecs.register_task_definition(family=family, containerDefinitions=[
        {"name": "web", "image": "nginx", "memory": 128}])["taskDefinition"]["taskDefinitionArn"]
    world.ecs.deregister_task_definition(taskDefinition=arn)
    refused(world, "TaskDefinition is inactive", code="ClientException", taskDefinition=arn)
    assert error_of(world.ecs.create_service, cluster=world.unique("nocl"), serviceName="x",
                    taskDefinition=world.td) == ("ClusterNotFoundException", "Cluster not found.", 400)


def test_launch_type_and_network(world: World) -> None:
    bridge = bridge_td(world.ecs, world.unique("bridge"))
    refused(world, "Task definition does not support launch_type FARGATE.", taskDefinition=bridge)
    refused(world, "Network Configuration is not valid for the given networkMode of this task definition.",
            taskDefinition=bridge, launchType="EC2")
    refused(world, "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
            networkConfiguration={})
    refused(world, "Error retrieving subnet information for [subnet-0123456789abcdef0]: The subnet ID "
                   "'subnet-0123456789abcdef0' does not exist (ErrorCode: InvalidSubnetID.NotFound)",
            networkConfiguration={"awsvpcConfiguration": {"subnets": [world.subnets[0], "subnet-0123456789abcdef0"]}})
    refused(world, "Error retrieving security group information for [sg-0123456789abcdef0]: The security group "
                   "'sg-0123456789abcdef0' does not exist (ErrorCode: InvalidGroup.NotFound)",
            networkConfiguration={"awsvpcConfiguration": {"subnets": world.subnets[:1],
                                                          "securityGroups": ["sg-0123456789abcdef0"]}})
    refused(world, "Assign public IP is not supported for this launch type.", launchType="EC2",
            networkConfiguration={"awsvpcConfiguration": {"subnets": world.subnets[:1], "assignPublicIp": "ENABLED"}})
    refused(world, "The platform version must be null when specifying an EC2 launch type.", launchType="EC2",
            platformVersion="1.4.0")
    refused(world, "Specifying both a launch type and capacity provider strategy is not supported. Remove one and "
                   "try again.", capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])
    public = world.service(networkConfiguration={"awsvpcConfiguration": {"subnets": world.subnets[:1],
                                                                         "assignPublicIp": "ENABLED"}})
    assert public["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "ENABLED"


def test_update_validates_too(world: World) -> None:
    name = world.unique("svc")
    world.service(name)
    assert error_of(world.ecs.update_service, cluster=world.cluster, service=name, desiredCount=-2) == (
        INVALID, "desiredCount can't be less than 0.", 400)
    assert error_of(world.ecs.update_service, cluster=world.cluster, service=name,
                    deploymentConfiguration={"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.05}}
                    ) == (INVALID, "canaryPercent must be a multiple of 0.1 from 0.1 to 100.0.", 400)


# -- load balancers --------------------------------------------------------------------------------------------

def test_target_group_rules(world: World, setup: dict[str, str]) -> None:
    missing = setup["blue"][:-16] + "0123456789abcdef"
    lb = {"containerName": "web", "containerPort": 80}
    refused(world, f"The target group with targetGroupArn {missing} does not exist.",
            loadBalancers=[{**lb, "targetGroupArn": missing}])
    lonely = world.target_group()
    refused(world, f"The target group with targetGroupArn {lonely} does not have an associated load balancer.",
            loadBalancers=[{**lb, "targetGroupArn": lonely}])
    instance = world.target_group("instance")
    world.elb.create_listener(LoadBalancerArn=setup["lb"], Protocol="HTTP", Port=9090,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": instance}])
    refused(world, f"The provided target group {instance} has target type instance, which is incompatible with the "
                   "awsvpc network mode specified in the task definition.",
            loadBalancers=[{**lb, "targetGroupArn": instance}])
    refused(world, "The container api does not exist in the task definition.",
            loadBalancers=[{"targetGroupArn": setup["blue"], "containerName": "api", "containerPort": 80}])
    refused(world, "The container web did not have a container port 8080 defined.",
            loadBalancers=[{"targetGroupArn": setup["blue"], "containerName": "web", "containerPort": 8080}])
    refused(world, "Container Name can not be blank.",
            loadBalancers=[{"targetGroupArn": setup["blue"], "containerPort": 80}])
    refused(world, "All loadBalancers must be strictly either ELBv1 (defining loadBalancerName) or ELBv2 "
                   "(defining targetGroupArn)",
            loadBalancers=[{**lb, "targetGroupArn": setup["blue"]}, {**lb, "loadBalancerName": "classic"}])
    refused(world, f"Duplicate targetGroupArn found: {setup['blue']}",
            loadBalancers=[{**lb, "targetGroupArn": setup["blue"]}, {**lb, "targetGroupArn": setup["blue"]}])
    refused(world, "You cannot specify an IAM role for services that require a service linked role.",
            role="ecsServiceRole", loadBalancers=[{**lb, "targetGroupArn": setup["blue"]}])


def test_advanced_configuration_shape(world: World, setup: dict[str, str], role: str) -> None:
    plain = {"targetGroupArn": setup["green"], "containerName": "web", "containerPort": 80}
    advanced = world.advanced_lb(setup, role)
    refused(world, "advancedConfiguration field is not allowed with ELBv1 loadBalancers",
            loadBalancers=[{"loadBalancerName": "classic", "containerName": "web", "containerPort": 80,
                            "advancedConfiguration": advanced["advancedConfiguration"]}])
    other = world.blue_green()
    refused(world, "Either all or none of the provided loadBalancers must have advancedConfiguration defined",
            loadBalancers=[advanced, {**plain, "targetGroupArn": other["blue"]}])
    refused(world, "advancedConfiguration field is required for all loadBalancers when using a non-ROLLING "
                   "deployment strategy", loadBalancers=[plain], deploymentConfiguration={"strategy": "BLUE_GREEN"})
    blue_green(world, setup, role, f"Duplicate targetGroupArn found: {setup['blue']}",
               alternateTargetGroupArn=setup["blue"])
    blue_green(world, setup, role, "alternateTargetGroupArn is required in advancedConfiguration.",
               alternateTargetGroupArn=None)
    blue_green(world, setup, role, "roleArn is required in advancedConfiguration.", roleArn=None)
    blue_green(world, setup, role, "productionListenerRule is required in advancedConfiguration.",
               productionListenerRule=None)


def test_listener_rules(world: World, setup: dict[str, str], role: str) -> None:
    listener = setup["production"]
    blue_green(world, setup, role, "productionListenerRule has an invalid ARN format. Must be RuleArn for ALB or "
                                   f"ListenerArn for NLB. Got: {listener}", productionListenerRule=listener)
    blue_green(world, setup, role, "testListenerRule has an invalid ARN format. Must be RuleArn for ALB or "
                                   f"ListenerArn for NLB. Got: {setup['test']}", testListenerRule=setup["test"])
    gone = setup["production_rule"][:-16] + "0123456789abcdef"
    blue_green(world, setup, role, f"The listener rule {gone} does not exist.", productionListenerRule=gone)
    blue_green(world, setup, role, "The following rules cannot be used as both production and test listener rules: "
                                   f"{setup['production_rule']}", testListenerRule=setup["production_rule"])
    blue_green(world, setup, role, "For Application LoadBalancer, testListenerRule is required when "
                                   "productionListenerRule is not associated with both targetGroup and "
                                   "alternateTargetGroup", testListenerRule=None)
    # A production rule forwarding to both target groups needs no test rule.
    world.elb.modify_rule(RuleArn=setup["production_rule"], Actions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": setup["blue"], "Weight": 100},
                         {"TargetGroupArn": setup["green"], "Weight": 0}]}}])
    service = world.service(loadBalancers=[world.advanced_lb(setup, role, testListenerRule=None)],
                            deploymentConfiguration={"strategy": "BLUE_GREEN"})
    assert "testListenerRule" not in service["loadBalancers"][0]["advancedConfiguration"]
    assert "bakeTimeInMinutes" not in service["deploymentConfiguration"]  # accepted absent


def test_network_load_balancer_takes_listener_arns(world: World, role: str) -> None:
    nlb = world.elb.create_load_balancer(Name=world.unique("nlb")[-32:], Subnets=world.subnets, Type="network",
                                         Scheme="internal")["LoadBalancers"][0]["LoadBalancerArn"]
    world.lbs.append(nlb)
    groups = []
    for _ in range(2):
        arn = world.elb.create_target_group(Name=world.unique("ntg")[-32:], Protocol="TCP", Port=80,
                                            VpcId=world.vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        world.tgs.append(arn)
        groups.append(arn)
    production = world.elb.create_listener(LoadBalancerArn=nlb, Protocol="TCP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": groups[0]}])["Listeners"][0]["ListenerArn"]
    test = world.elb.create_listener(LoadBalancerArn=nlb, Protocol="TCP", Port=8080, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": groups[1]}])["Listeners"][0]["ListenerArn"]
    lb = {"targetGroupArn": groups[0], "containerName": "web", "containerPort": 80, "advancedConfiguration": {
        "alternateTargetGroupArn": groups[1], "productionListenerRule": production, "testListenerRule": test,
        "roleArn": role}}
    service = world.service(loadBalancers=[lb], deploymentConfiguration={"strategy": "BLUE_GREEN",
                                                                         "bakeTimeInMinutes": 5})
    assert service["loadBalancers"] == [lb]
    assert service["deploymentConfiguration"]["bakeTimeInMinutes"] == 5


# -- deployment configuration and lifecycle hooks --------------------------------------------------------------

def test_linear_and_canary_ranges(world: World) -> None:
    for percent in (2.9, 3.05, 100.1):
        refused(world, "stepPercent must be a multiple of 0.1 from 3.0 to 100.0.",
                deploymentConfiguration={"strategy": "LINEAR", "linearConfiguration": {"stepPercent": percent}})
    for minutes in (-1, 1441):
        refused(world, "stepBakeTimeInMinutes must be between 0 and 1440 minutes.",
                deploymentConfiguration={"strategy": "LINEAR", "linearConfiguration": {"stepBakeTimeInMinutes":
                                                                                       minutes}})
        refused(world, "canaryBakeTimeInMinutes must be between 0 and 1440 minutes.",
                deploymentConfiguration={"strategy": "CANARY", "canaryConfiguration": {"canaryBakeTimeInMinutes":
                                                                                       minutes}})
    for percent in (0.0, 0.05, 100.5):
        refused(world, "canaryPercent must be a multiple of 0.1 from 0.1 to 100.0.",
                deploymentConfiguration={"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": percent}})
    refused(world, "linearConfiguration is only valid when the deployment strategy is LINEAR.",
            deploymentConfiguration={"strategy": "BLUE_GREEN", "linearConfiguration": {"stepPercent": 10.0}})
    refused(world, "canaryConfiguration is only valid when the deployment strategy is CANARY.",
            deploymentConfiguration={"canaryConfiguration": {"canaryPercent": 10.0}})
    refused(world, "bakeTimeInMinutes must not be negative.",
            deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": -1})
    linear = world.service(deploymentConfiguration={"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 3.0}})
    assert linear["deploymentConfiguration"]["linearConfiguration"] == {"stepPercent": 3.0,
                                                                        "stepBakeTimeInMinutes": 6}
    canary = world.service(deploymentConfiguration={"strategy": "CANARY"})
    assert canary["deploymentConfiguration"]["canaryConfiguration"] == {"canaryPercent": 5.0,
                                                                        "canaryBakeTimeInMinutes": 10}
    linear_default = world.service(deploymentConfiguration={"strategy": "LINEAR"})
    assert linear_default["deploymentConfiguration"]["linearConfiguration"] == {"stepPercent": 10.0,
                                                                                "stepBakeTimeInMinutes": 6}


def hooks(world: World, message: str, hook_list: list[dict[str, Any]]) -> None:
    refused(world, message, deploymentConfiguration={"strategy": "BLUE_GREEN", "lifecycleHooks": hook_list})


def test_lifecycle_hooks(world: World, role: str) -> None:
    for stage in ("TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"):
        hooks(world, "Invalid lifecycle stage provided for Pause Hook",
              [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP", stage]}])
    hooks(world, "hookTargetArn is required for AWS_LAMBDA lifecycle hooks.",
          [{"roleArn": role, "lifecycleStages": ["POST_SCALE_UP"]}])
    hooks(world, "timeoutInMinutes must be between 1 and 1440 for AWS_LAMBDA lifecycle hooks.",
          [{"hookTargetArn": LAMBDA, "roleArn": role, "lifecycleStages": ["POST_SCALE_UP"],
            "timeoutConfiguration": {"timeoutInMinutes": 1441}}])
    hooks(world, "A service can have at most 10 pause lifecycle hooks.",
          [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}] * 11)
    assert error_of(world.service, deploymentConfiguration={"lifecycleHooks": [
        {"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}]})[0] == INVALID  # ROLLING takes no hooks
    service = world.service(deploymentConfiguration={"strategy": "BLUE_GREEN", "lifecycleHooks": [
        {"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP", "PRE_PRODUCTION_TRAFFIC_SHIFT"],
         "timeoutConfiguration": {"timeoutInMinutes": 20160}},
        {"hookTargetArn": LAMBDA, "roleArn": role, "lifecycleStages": ["TEST_TRAFFIC_SHIFT"]}]})
    shown = service["deploymentConfiguration"]["lifecycleHooks"]
    assert shown[0]["timeoutConfiguration"] == {"timeoutInMinutes": 20160, "action": "ROLLBACK"}
    assert shown[1]["targetType"] == "AWS_LAMBDA"
    assert shown[1]["timeoutConfiguration"] == {"timeoutInMinutes": 1440, "action": "ROLLBACK"}


def test_lifecycle_hook_target_type(world: World) -> None:
    hooks(world, "Invalid targetType. Valid values are: AWS_LAMBDA, PAUSE",
          [{"targetType": "SNS", "lifecycleStages": ["POST_SCALE_UP"]}])
