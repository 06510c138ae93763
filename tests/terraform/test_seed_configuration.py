"""The seed's whole Terraform configuration (``docs/terraform.md``) replayed in one flow on one server.

``terraform apply`` in the provider's dependency order (data sources; IAM roles, policies, user and key; the
security group and its ingress rule; the trail's bucket and its policy; the load balancer, target groups,
listener and rules; the cluster, its capacity providers, the task definition and the BLUE_GREEN service with
``wait_for_steady_state``; the trail), a plan with no changes, an apply that replaces the task definition (a new
BLUE_GREEN deployment, its lifecycle hook called), another plan with no changes, then ``terraform destroy`` in
reverse dependency order with the provider's waits and retries, and finally a refresh of every resource, each
answering the not-found code the provider relies on. The calls are the area modules' replays
(``tests/terraform/*_support.py``); this module only orders them as Terraform's graph does.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server
from tests.terraform import ec2_support as ec2tf
from tests.terraform import ecs_support as ecstf
from tests.terraform import iam_support as iamtf
from tests.terraform import s3_support as s3tf
from tests.terraform.cloudtrail_support import TRAIL_DEFAULTS, TrailReplay
from tests.terraform.elbv2_support import (
    HEALTH_CHECK_DEFAULTS,
    LB_DEFAULTS,
    TG_DEFAULTS,
    ListenerReplay,
    LoadBalancerReplay,
    RuleReplay,
    TargetGroupReplay,
    forward,
    plan_diff,
    rule_plan,
)

ACCOUNT = "000000000000"
HOOK_FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:smoke"
INFRA_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
INFRA_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Sid": "AllowAccessToECSForInfrastructureManagement", "Effect": "Allow",
    "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
HOOK_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
HOOK_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]}
DEPLOY_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ecs:*", "elasticloadbalancing:Describe*"], "Resource": "*"}]}
BUCKET = "turnout-seed-trail"


@pytest.fixture(scope="module")
def hook_endpoint() -> Iterator[ecstf.HookEndpoint]:
    endpoint = ecstf.HookEndpoint()
    yield endpoint
    endpoint.http.shutdown()


@pytest.fixture(scope="module")
def seed_server(tmp_path_factory: pytest.TempPathFactory, hook_endpoint: ecstf.HookEndpoint) -> Iterator[Server]:
    """The server of docs/terraform.md: a fast clock (the bake time, health checks, deregistration delays and the
    trail's deliveries pass in fractions of a second) and the hook's Lambda function ``smoke``."""
    srv = Server(tmp_path_factory.mktemp("tf-seed") / "data",
                 ["--time-scale", "600", "--lambda", f"smoke={hook_endpoint.url}"]).start()
    yield srv
    srv.stop()


@dataclass
class Clients:
    iam: Any
    sts: Any
    ec2: Any
    elb: Any
    ecs: Any
    s3: Any
    ct: Any

    @classmethod
    def of(cls, server: Server) -> Clients:
        return cls(iamtf.raw_iam(server), server.client("sts"), server.client("ec2"), server.client("elbv2"),
                   server.client("ecs"), server.client("s3"), server.client("cloudtrail"))


@dataclass
class Stack:
    """The ids Terraform keeps in its state, and the configuration of the resources a plan compares."""

    vpc: str = ""
    subnets: list[str] = field(default_factory=list)
    pass_policy: str = ""
    access_key: str = ""
    secret_key: str = ""
    group: str = ""
    ingress: ec2tf.RuleResource | None = None
    ingress_id: str = ""
    lb: str = ""
    blue: str = ""
    green: str = ""
    listener: str = ""
    production: str = ""
    test: str = ""
    cluster: str = ""
    task_definition: str = ""
    service: str = ""
    trail: str = ""
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)


def role_config(name: str, trust: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "assume_role_policy": trust}


def pass_role_policy(infra_arn: str, hook_arn: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "iam:PassRole", "Resource": [infra_arn, hook_arn],
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}}}]}


def trail_bucket_policy() -> str:
    return iamtf.normalize({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{BUCKET}"},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]})


def container_definitions(image: str) -> list[dict[str, Any]]:
    return [{"name": "web", "image": image, "essential": True,
             "portMappings": [{"containerPort": 80, "protocol": "tcp"}]}]


def task_definition_config(image: str) -> dict[str, Any]:
    return {"family": "web", "requires_compatibilities": ["FARGATE"], "network_mode": "awsvpc", "cpu": "256",
            "memory": "512", "container_definitions": container_definitions(image)}


def service_config(stack: Stack, infra_role: str, hook_role: str) -> dict[str, Any]:
    return {
        "name": "web", "cluster": stack.cluster, "task_definition": stack.task_definition, "desired_count": 2,
        "launch_type": "FARGATE",
        "deployment_configuration": {
            "strategy": "BLUE_GREEN", "bake_time_in_minutes": "1",
            "lifecycle_hook": [{"hook_target_arn": HOOK_FUNCTION, "role_arn": hook_role,
                                "lifecycle_stages": ["POST_TEST_TRAFFIC_SHIFT"]}]},
        "load_balancer": [{"target_group_arn": stack.blue, "container_name": "web", "container_port": 80,
                           "advanced_configuration": {"alternate_target_group_arn": stack.green,
                                                      "production_listener_rule": stack.production,
                                                      "test_listener_rule": stack.test, "role_arn": infra_role}}],
        "network_configuration": {"subnets": stack.subnets, "security_groups": [stack.group],
                                  "assign_public_ip": False},
    }


def service_plan(config: dict[str, Any], state: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The service's plan: the configured attributes, and the Optional ones the configuration leaves unset (their
    schema defaults, or what Computed / a DiffSuppressFunc accepts)."""
    wanted = {
        "name": config["name"], "cluster": config["cluster"], "task_definition": config["task_definition"],
        "desired_count": config["desired_count"], "launch_type": config["launch_type"],
        "deployment_configuration": config["deployment_configuration"], "load_balancer": config["load_balancer"],
        "network_configuration": {"subnets": sorted(config["network_configuration"]["subnets"]),
                                  "security_groups": sorted(config["network_configuration"]["security_groups"]),
                                  "assign_public_ip": False},
        "capacity_provider_strategy": [], "health_check_grace_period_seconds": 0,
        "deployment_maximum_percent": 200, "deployment_minimum_healthy_percent": 100,
        "deployment_controller": "ECS", "enable_execute_command": False, "enable_ecs_managed_tags": False,
        "scheduling_strategy": "REPLICA", "ordered_placement_strategy": [], "placement_constraints": [],
        "service_registries": [], "service_connect_configuration": None, "volume_configuration": [],
        "vpc_lattice_configurations": [], "tags": {},
    }
    diff = plan_diff(wanted, state)
    accepted = {"propagate_tags": ("NONE", None), "platform_version": ("LATEST",),
                "deployment_circuit_breaker": (None, {"enable": False, "rollback": False})}
    diff.update({k: (ok, state[k]) for k, ok in accepted.items() if state[k] not in ok})
    if state["alarms"] is not None and state["alarms"]["enable"] is not False:
        diff["alarms"] = (None, state["alarms"])
    return diff


def health_check_plan(config: dict[str, Any], state: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """A target group's plan: ``timeout`` and ``matcher`` are Computed when unset (AWS's defaults for an HTTP
    target group: 6 s and "200")."""
    check = state["health_check"][0]
    assert (check["timeout"], check["matcher"]) == (6, "200")
    configured = {**state, "health_check": [{k: v for k, v in check.items() if k not in ("timeout", "matcher")}]}
    return plan_diff(config, configured)


def delivered_records(s3: Any) -> list[dict[str, Any]]:
    """Every record of the log files the trail delivered into its bucket (gzip JSON ``{"Records": [...]}``)."""
    records: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"AWSLogs/{ACCOUNT}/CloudTrail/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            records.extend(json.loads(gzip.decompress(body))["Records"])
    return records


def shift_of(records: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    """The ModifyRule calls ECS made on ``rule`` through the infrastructure role's ECSNetworkingWithELB session."""
    return [r for r in records if r["eventName"] == "ModifyRule" and r["requestParameters"].get("ruleArn") == rule
            and r["userIdentity"]["type"] == "AssumedRole" and r["userIdentity"]["arn"] ==
            f"arn:aws:sts::{ACCOUNT}:assumed-role/ecsInfrastructureRoleForLoadBalancers/ECSNetworkingWithELB"]


def test_seed_configuration_apply_plan_update_destroy(seed_server: Server,
                                                       hook_endpoint: ecstf.HookEndpoint) -> None:
    c = Clients.of(seed_server)
    stack = Stack()
    apply(c, stack, hook_endpoint)
    serving = plan_no_changes(c, stack)

    # -- apply: a new image replaces the task definition (deregister, register) and updates the service ---------
    # This apply runs with the deployer's access key (docs/terraform.md's provider block allows it): its policies
    # (ecs:*, elasticloadbalancing:Describe*) are all the deploy needs, and IAM is enforced (no ELB write).
    deployer = seed_server.client("ecs", key=stack.access_key, secret=stack.secret_key)
    denied = seed_server.client("elbv2", key=stack.access_key, secret=stack.secret_key)
    assert error_code(denied.delete_load_balancer, LoadBalancerArn=stack.lb) == "AccessDenied"
    old_definition = stack.task_definition
    ecstf.task_definition_destroy(deployer, old_definition)
    assert ecstf.find_task_definition(deployer, old_definition) is None
    td = ecstf.task_definition_create(deployer, task_definition_config("public.ecr.aws/nginx/nginx:1.27"))
    assert td["revision"] == 2
    stack.task_definition = td["arn"]
    stack.configs["task_definition"] = task_definition_config("public.ecr.aws/nginx/nginx:1.27")
    stack.configs["service"]["task_definition"] = td["arn"]
    state, waiter = ecstf.service_update(deployer, stack.service, stack.configs["service"],
                                         {"taskDefinition": td["arn"]})
    assert service_plan(stack.configs["service"], state) == {}
    assert waiter.new_primary and waiter.deployment_arn is not None
    deployment = c.ecs.describe_service_deployments(serviceDeploymentArns=[waiter.deployment_arn])[
        "serviceDeployments"][0]
    assert (deployment["status"], deployment["deploymentConfiguration"]["strategy"]) == ("SUCCESSFUL", "BLUE_GREEN")
    revision = c.ecs.describe_service_revisions(serviceRevisionArns=[deployment["targetServiceRevision"]["arn"]])[
        "serviceRevisions"][0]
    assert revision["taskDefinition"] == td["arn"]
    # The lifecycle hook (the Lambda function smoke) ran for this deployment, at its stage.
    assert [e["lifecycleStage"] for e in hook_endpoint.events
            if e["resourceArn"] == waiter.deployment_arn] == ["POST_TEST_TRAFFIC_SHIFT"]
    tasks = c.ecs.list_tasks(cluster="main", serviceName="web")["taskArns"]
    assert {t["taskDefinitionArn"] for t in c.ecs.describe_tasks(cluster="main", tasks=tasks)["tasks"]} == {td["arn"]}
    # The new deployment moved production traffic to the other target group: still no plan (ignore_changes).
    assert plan_no_changes(c, stack) == ({stack.blue, stack.green} - {serving}).pop()

    # The trail (created before the update) delivered the update's calls into its bucket before the destroy, where
    # force_destroy empties it: the UpdateService, and ECS's shift of the production rule through the role.
    deadline = time.monotonic() + 20
    while True:
        records = delivered_records(c.s3)
        updates = [r for r in records if r["eventName"] == "UpdateService"]
        if updates and shift_of(records, stack.production):
            break
        assert time.monotonic() < deadline, "the trail did not deliver the update's calls"
        time.sleep(0.2)
    assert (updates[0]["userIdentity"]["arn"], updates[0]["userIdentity"]["accessKeyId"]) == (
        f"arn:aws:iam::{ACCOUNT}:user/deployer", stack.access_key)
    destroy(c, stack)
    assert_nothing_left(c, stack)


def apply(c: Clients, stack: Stack, hook_endpoint: ecstf.HookEndpoint) -> None:
    # -- data sources -----------------------------------------------------------------------------------------
    identity = c.sts.get_caller_identity()
    assert identity["Account"] == ACCOUNT
    vpc = ec2tf.read_vpc_data_source(c.ec2, default=True)
    assert vpc["default"] is True
    stack.vpc = vpc["id"]
    stack.subnets = ec2tf.read_subnets_data_source(c.ec2, {"vpc-id": [stack.vpc]})
    assert len(stack.subnets) >= 2

    # -- IAM: the roles, their policies, the PassRole policy, the deployer user and its key ---------------------
    for name, trust in (("ecsInfrastructureRoleForLoadBalancers", INFRA_TRUST), ("ecsLifecycleHookRole", HOOK_TRUST)):
        config = role_config(name, trust)
        iamtf.role_create(c.iam, config)
        state = iamtf.role_read(c.iam, name)
        assert state is not None and iamtf.role_plan(config, state) == {}
        stack.configs[name] = config
    infra_arn = f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers"
    hook_arn = f"arn:aws:iam::{ACCOUNT}:role/ecsLifecycleHookRole"
    c.iam.attach_role_policy(RoleName="ecsInfrastructureRoleForLoadBalancers", PolicyArn=INFRA_POLICY)
    assert iamtf.attached(c.iam, "role", "ecsInfrastructureRoleForLoadBalancers", INFRA_POLICY)
    c.iam.put_role_policy(RoleName="ecsLifecycleHookRole", PolicyName="invoke-hook",
                          PolicyDocument=iamtf.normalize(HOOK_POLICY))
    read = c.iam.get_role_policy(RoleName="ecsLifecycleHookRole", PolicyName="invoke-hook")
    assert iamtf.query_unescape(read["PolicyDocument"]) == iamtf.normalize(HOOK_POLICY)
    created = c.iam.create_policy(PolicyName="pass-infrastructure-role", Path="/", Description="",
                                  PolicyDocument=iamtf.normalize(pass_role_policy(infra_arn, hook_arn)))
    stack.pass_policy = created["Policy"]["Arn"]
    policy = iamtf.policy_read(c.iam, stack.pass_policy)
    assert policy is not None and policy["policy"] == iamtf.normalize(pass_role_policy(infra_arn, hook_arn))
    c.iam.create_user(UserName="deployer", Path="/")
    assert iamtf.user_read(c.iam, "deployer") is not None
    c.iam.attach_user_policy(UserName="deployer", PolicyArn=stack.pass_policy)
    assert iamtf.attached(c.iam, "user", "deployer", stack.pass_policy)
    c.iam.put_user_policy(UserName="deployer", PolicyName="deploy", PolicyDocument=iamtf.normalize(DEPLOY_POLICY))
    assert iamtf.query_unescape(c.iam.get_user_policy(UserName="deployer", PolicyName="deploy")[
        "PolicyDocument"]) == iamtf.normalize(DEPLOY_POLICY)
    key = c.iam.create_access_key(UserName="deployer")["AccessKey"]
    stack.access_key, stack.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
    assert access_key_state(c.iam, stack.access_key) == ("Active", "deployer", key["CreateDate"])
    stack.configs["access_key"] = {"status": "Active", "create_date": key["CreateDate"]}

    # -- EC2: the security group and its ingress rule ---------------------------------------------------------
    group = ec2tf.create_group(c.ec2, name="web", vpc_id=stack.vpc)
    stack.group = group["id"]
    assert (group["name"], group["description"], group["ingress"], group["egress"]) == (
        "web", "Managed by Terraform", set(), set())
    stack.ingress = ec2tf.RuleResource(security_group_id=stack.group, ip_protocol="tcp", from_port=80, to_port=80,
                                       cidr_ipv4="0.0.0.0/0")
    stack.ingress_id = ec2tf.create_rule(c.ec2, stack.ingress, egress=False)
    rule = ec2tf.read_rule(c.ec2, stack.ingress_id, stack.ingress, egress=False)
    assert {k: rule[k] for k in stack.ingress.state()} == stack.ingress.state()

    # -- S3: the trail's bucket and its policy ----------------------------------------------------------------
    bucket = s3tf.create_bucket(c.s3, BUCKET, "us-east-1", {}, force_destroy=True)
    assert (bucket["region"], bucket["tags"], bucket["policy"]) == ("us-east-1", {}, None)
    s3tf.put_bucket_policy(c.s3, BUCKET, trail_bucket_policy())

    # -- ELB: the load balancer, the blue and green target groups, the listener and its two rules -------------
    lbs, tgs = LoadBalancerReplay(c.elb, c.ec2), TargetGroupReplay(c.elb)
    stack.configs["lb"] = {**LB_DEFAULTS, "name": "web", "internal": False, "subnets": set(stack.subnets),
                           "security_groups": {stack.group}}
    stack.lb = lbs.create(stack.configs["lb"])
    assert plan_diff(stack.configs["lb"], lbs.read(stack.lb)) == {}
    for color in ("blue", "green"):
        stack.configs[color] = {**TG_DEFAULTS, "name": color, "port": 80, "protocol": "HTTP", "target_type": "ip",
                                "vpc_id": stack.vpc, "health_check": [{**HEALTH_CHECK_DEFAULTS, "path": "/"}]}
        setattr(stack, color, tgs.create(stack.configs[color]))
        assert health_check_plan(stack.configs[color], tgs.read(getattr(stack, color))) == {}
    stack.configs["listener"] = {"load_balancer_arn": stack.lb, "port": 80, "protocol": "HTTP",
                                 "default_action": forward(stack.blue)}
    stack.listener = ListenerReplay(c.elb).create(stack.configs["listener"])
    assert plan_diff(stack.configs["listener"], ListenerReplay(c.elb).read(stack.listener)) == {}
    stack.configs["production"] = {"listener_arn": stack.listener, "priority": 10, "action": forward(stack.blue),
                                   "condition": [{"path_pattern": {"values": ["/*"]}}]}
    # The test rule forwards to green, the alternate target group: CreateService refuses a target group that no
    # listener or rule of a load balancer forwards to ("... does not have an associated load balancer").
    stack.configs["test"] = {"listener_arn": stack.listener, "priority": 5, "action": forward(stack.green),
                             "condition": [{"http_header": {"http_header_name": "X-Test", "values": ["true"]}}]}
    for name in ("production", "test"):
        setattr(stack, name, RuleReplay(c.elb).create(stack.configs[name]))
        assert rule_plan(stack.configs[name], RuleReplay(c.elb).read(getattr(stack, name))) == {}

    # -- ECS: the cluster, its capacity providers, the task definition, the service (wait_for_steady_state) -----
    cluster = ecstf.cluster_create(c.ecs, "main", [], {})
    stack.cluster = cluster["arn"]
    providers = ecstf.capacity_providers_put(c.ecs, "main", ["FARGATE", "FARGATE_SPOT"],
                                             [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}])
    assert providers["default_capacity_provider_strategy"] == [("FARGATE", 1, 0)]
    stack.configs["task_definition"] = task_definition_config("public.ecr.aws/nginx/nginx:latest")
    td = ecstf.task_definition_create(c.ecs, stack.configs["task_definition"])
    assert td["revision"] == 1
    stack.task_definition = td["arn"]
    stack.configs["service"] = service_config(stack, infra_arn, hook_arn)
    stack.service, state, waiter = ecstf.service_create(c.ecs, stack.configs["service"])
    assert waiter.new_primary and waiter.deployment_arn is not None
    assert service_plan(stack.configs["service"], state) == {}
    assert [e["lifecycleStage"] for e in hook_endpoint.events
            if e["resourceArn"] == waiter.deployment_arn] == ["POST_TEST_TRAFFIC_SHIFT"]

    # -- CloudTrail: the trail (depends_on the bucket policy), logging --------------------------------------------
    stack.configs["trail"] = {**TRAIL_DEFAULTS, "name": "audit", "s3_bucket_name": BUCKET,
                              "is_multi_region_trail": True, "enable_logging": True}
    trails = TrailReplay(c.ct)
    stack.trail = trails.create(stack.configs["trail"])
    assert plan_diff(stack.configs["trail"], trails.read(stack.trail, stack.configs["trail"])) == {}


def access_key_state(iam: Any, key_id: str) -> tuple[str, str, Any] | None:
    """``findAccessKeyByTwoPartKey``: the user's ListAccessKeys, filtered by id."""
    listed = iamtf.find(lambda **kw: iamtf.pages(iam, "list_access_keys", "AccessKeyMetadata", **kw),
                        UserName="deployer")
    found = [k for k in listed or [] if k["AccessKeyId"] == key_id]
    return (found[0]["Status"], found[0]["UserName"], found[0]["CreateDate"]) if found else None


def plan_no_changes(c: Clients, stack: Stack) -> str:
    """``terraform plan``: the refresh of every resource reads back what the configuration says. Returns the
    target group the production rule serves (ECS's weighted forward, which the plan ignores)."""
    assert c.sts.get_caller_identity()["Account"] == ACCOUNT
    assert ec2tf.read_vpc_data_source(c.ec2, default=True)["id"] == stack.vpc
    assert ec2tf.read_subnets_data_source(c.ec2, {"vpc-id": [stack.vpc]}) == stack.subnets
    roles = {name: iamtf.role_read(c.iam, name) for name in ("ecsInfrastructureRoleForLoadBalancers",
                                                              "ecsLifecycleHookRole")}
    for name, role in roles.items():
        assert role is not None and iamtf.role_plan(stack.configs[name], role) == {}
        # The attachment and the inline policy: what their own refreshes find (attached list, GetRolePolicy).
        expected = ([INFRA_POLICY], {}) if name.startswith("ecsInfra") else (
            [], {"invoke-hook": iamtf.normalize(HOOK_POLICY)})
        assert (role["managed_policy_arns"], role["inline_policy"]) == expected
    policy = iamtf.policy_read(c.iam, stack.pass_policy)
    assert policy is not None and json.loads(policy["policy"]) == pass_role_policy(
        f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers",
        f"arn:aws:iam::{ACCOUNT}:role/ecsLifecycleHookRole")
    assert (policy["name"], policy["path"], policy["description"], policy["tags"]) == (
        "pass-infrastructure-role", "/", "", {})
    user = iamtf.user_read(c.iam, "deployer")
    assert user is not None and (user["path"], user["tags"], user["permissions_boundary"]) == ("/", {}, "")
    assert iamtf.attached(c.iam, "user", "deployer", stack.pass_policy)
    assert iamtf.query_unescape(c.iam.get_user_policy(UserName="deployer", PolicyName="deploy")[
        "PolicyDocument"]) == iamtf.normalize(DEPLOY_POLICY)
    assert access_key_state(c.iam, stack.access_key) == (
        "Active", "deployer", stack.configs["access_key"]["create_date"])

    group = ec2tf.read_group(c.ec2, stack.group)
    assert (group["name"], group["vpc_id"], group["tags"]) == ("web", stack.vpc, {})
    # The ingress rule is its own resource: the group's (Computed) ingress shows it, no egress rule is left.
    assert group["ingress"] == {ec2tf.Rule("tcp", 80, 80, ("0.0.0.0/0",))} and group["egress"] == set()
    assert stack.ingress is not None
    rule = ec2tf.read_rule(c.ec2, stack.ingress_id, stack.ingress, egress=False)
    assert {k: rule[k] for k in stack.ingress.state()} == stack.ingress.state()

    bucket = s3tf.read_bucket(c.s3, BUCKET, force_destroy=True)
    assert (bucket["bucket"], bucket["region"], bucket["tags"]) == (BUCKET, "us-east-1", {})
    assert s3tf.equivalent(s3tf.read_bucket_policy(c.s3, BUCKET)["policy"], trail_bucket_policy())

    assert plan_diff(stack.configs["lb"], LoadBalancerReplay(c.elb, c.ec2).read(stack.lb)) == {}
    for color in ("blue", "green"):
        assert health_check_plan(stack.configs[color], TargetGroupReplay(c.elb).read(getattr(stack, color))) == {}
    assert plan_diff(stack.configs["listener"], ListenerReplay(c.elb).read(stack.listener)) == {}
    for name in ("production", "test"):
        # ECS rewrote the rules' forward weights: ignore_changes = [action] keeps that out of the plan.
        assert rule_plan(stack.configs[name], RuleReplay(c.elb).read(getattr(stack, name))) == {}
    action = RuleReplay(c.elb).read(stack.production)["action"]
    weights = {g["TargetGroupArn"]: g["Weight"] for g in action[0]["ForwardConfig"]["TargetGroups"]}
    assert set(weights) == {stack.blue, stack.green} and sorted(weights.values()) == [0, 100]
    serving = next(tg for tg, weight in weights.items() if weight)

    cluster = ecstf.find_cluster(c.ecs, stack.cluster)
    assert cluster is not None
    assert ecstf.cluster_state(cluster)["tags"] == {}
    assert ecstf.capacity_providers_state(cluster) == {
        "capacity_providers": ["FARGATE", "FARGATE_SPOT"], "cluster_name": "main",
        "default_capacity_provider_strategy": [("FARGATE", 1, 0)]}
    found = ecstf.find_task_definition(c.ecs, stack.task_definition)
    assert found is not None
    td = ecstf.task_definition_state(*found)
    config = stack.configs["task_definition"]
    assert {k: td[k] for k in ("family", "cpu", "memory", "network_mode", "requires_compatibilities", "tags")} == {
        **{k: config[k] for k in ("family", "cpu", "memory", "network_mode", "requires_compatibilities")},
        "tags": {}}
    assert td["execution_role_arn"] is None
    assert ecstf.reduce_containers(td["container_definitions"], True) == ecstf.reduce_containers(
        config["container_definitions"], True)
    state = ecstf.service_read(c.ecs, stack.service, stack.cluster, stack.task_definition)
    assert service_plan(stack.configs["service"], state) == {}

    trails = TrailReplay(c.ct)
    assert plan_diff(stack.configs["trail"], trails.read(stack.trail, stack.configs["trail"])) == {}
    return serving


def destroy(c: Clients, stack: Stack) -> None:
    """``terraform destroy``: every resource after the resources that depend on it."""
    # The trail first (it depends on the bucket policy), then the policy and the bucket, emptied by force_destroy.
    TrailReplay(c.ct).delete(stack.trail)
    s3tf.delete_bucket_policy(c.s3, BUCKET)
    s3tf.delete_bucket(c.s3, BUCKET, force_destroy=True)

    # The service (drained, deleted, waited INACTIVE), then what it used.
    ecstf.service_destroy(c.ecs, stack.service, stack.cluster)
    # INACTIVE once its tasks stopped: the tasks' network interfaces are gone, the load balancer's remain.
    stopped = c.ecs.list_tasks(cluster="main", desiredStatus="STOPPED")["taskArns"]
    assert {t["lastStatus"] for t in c.ecs.describe_tasks(cluster="main", tasks=stopped)["tasks"]} == {"STOPPED"}
    assert c.ecs.list_tasks(cluster="main")["taskArns"] == []
    left = c.ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [stack.group]}])
    assert {e["Description"].rsplit("/", 1)[0] for e in left["NetworkInterfaces"]} == {"ELB app/web"}
    ecstf.task_definition_destroy(c.ecs, stack.task_definition)
    ecstf.capacity_providers_destroy(c.ecs, "main")
    ecstf.cluster_destroy(c.ecs, stack.cluster)
    for name in ("production", "test"):
        RuleReplay(c.elb).delete(getattr(stack, name))
    ListenerReplay(c.elb).delete(stack.listener)
    for color in ("blue", "green"):
        TargetGroupReplay(c.elb).delete(getattr(stack, color))
    LoadBalancerReplay(c.elb, c.ec2).delete(stack.lb)
    assert stack.ingress is not None
    ec2tf.delete_rule(c.ec2, stack.ingress_id, stack.ingress, egress=False)
    # DependencyViolation is retried while the load balancer's and the tasks' network interfaces go.
    failures = ec2tf.delete_group(c.ec2, stack.group, attempts=200, interval=0.05)
    assert set(failures) <= {ec2tf.DEPENDENCY_VIOLATION}
    with pytest.raises(ec2tf.NotFound):
        ec2tf.find_group(c.ec2, stack.group)

    # IAM: the key, the user's policies, the user (force_destroy), the PassRole policy; the roles' policies and the
    # roles once the service that used them is gone.
    c.iam.delete_access_key(UserName="deployer", AccessKeyId=stack.access_key)
    c.iam.delete_user_policy(UserName="deployer", PolicyName="deploy")
    c.iam.detach_user_policy(UserName="deployer", PolicyArn=stack.pass_policy)
    iamtf.user_delete(c.iam, "deployer", force_destroy=True)
    iamtf.policy_delete(c.iam, stack.pass_policy)
    c.iam.delete_role_policy(RoleName="ecsLifecycleHookRole", PolicyName="invoke-hook")
    c.iam.detach_role_policy(RoleName="ecsInfrastructureRoleForLoadBalancers", PolicyArn=INFRA_POLICY)
    for name in ("ecsInfrastructureRoleForLoadBalancers", "ecsLifecycleHookRole"):
        iamtf.role_delete(c.iam, name)


def error_code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return str(info.value.response["Error"]["Code"])


def assert_nothing_left(c: Clients, stack: Stack) -> None:
    """A refresh after destroy: every resource answers the not-found code the provider's finders rely on."""
    assert TrailReplay(c.ct).gone(stack.trail)
    assert error_code(c.ct.get_trail_status, Name=stack.trail) == "TrailNotFoundException"
    with pytest.raises(s3tf.Gone):
        s3tf.find_bucket(c.s3, BUCKET)
    with pytest.raises(s3tf.Gone):
        s3tf.read_bucket_policy(c.s3, BUCKET)

    service = ecstf.find_service(c.ecs, stack.service, stack.cluster, tags=True)
    assert service is None or service["status"] == "INACTIVE"  # resourceServiceRead drops an INACTIVE service
    assert ecstf.find_task_definition(c.ecs, stack.task_definition) is None
    assert ecstf.find_cluster(c.ecs, stack.cluster) is None

    assert RuleReplay(c.elb).gone(stack.production) and RuleReplay(c.elb).gone(stack.test)
    assert ListenerReplay(c.elb).gone(stack.listener)
    assert TargetGroupReplay(c.elb).gone(stack.blue) and TargetGroupReplay(c.elb).gone(stack.green)
    assert LoadBalancerReplay(c.elb, c.ec2).gone(stack.lb)
    assert stack.ingress is not None
    with pytest.raises(ec2tf.NotFound):
        ec2tf.read_rule(c.ec2, stack.ingress_id, stack.ingress, egress=False)
    assert error_code(c.ec2.describe_security_groups, GroupIds=[stack.group]) == ec2tf.GROUP_NOT_FOUND
    # No network interface of the load balancer or of the tasks is left behind.
    assert c.ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [stack.vpc]}])[
        "NetworkInterfaces"] == []

    assert iamtf.find(c.iam.list_access_keys, UserName="deployer") is None
    assert iamtf.find(c.iam.get_user_policy, UserName="deployer", PolicyName="deploy") is None
    assert not iamtf.attached(c.iam, "user", "deployer", stack.pass_policy)
    assert iamtf.user_read(c.iam, "deployer") is None
    assert iamtf.policy_read(c.iam, stack.pass_policy) is None
    for name in ("ecsInfrastructureRoleForLoadBalancers", "ecsLifecycleHookRole"):
        assert iamtf.role_read(c.iam, name) is None
    assert iamtf.find(c.iam.get_role_policy, RoleName="ecsLifecycleHookRole", PolicyName="invoke-hook") is None
    assert not iamtf.attached(c.iam, "role", "ecsInfrastructureRoleForLoadBalancers", INFRA_POLICY)
