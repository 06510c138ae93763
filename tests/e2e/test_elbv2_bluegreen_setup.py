"""The load balancer resources of an ECS blue/green service, as AWS's documentation lays them out, created with boto3
against a real server: an Application Load Balancer in the default VPC's subnets, a blue (primary) and a green
(alternate) target group of target type ip, a production listener (port 80) whose rule forwards to blue, a test
listener (port 8080) whose rule forwards to green on the header ``X-Environment: test``. Then what ECS does to shift
traffic (the production rule rewritten into a weighted forward over both groups, 90/10 then 0/100), read back
exactly; the target groups' view; the deletion order; and the IAM view of the ARNs: a user with only the AWS
managed policy AmazonECSInfrastructureRolePolicyForLoadBalancers may modify the rule and the listener, not create
rules."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, error_of

ACCOUNT = "000000000000"
MANAGED = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"



def weighted(blue: str, green: str, blue_weight: int, green_weight: int) -> list[dict[str, Any]]:
    return [{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": blue_weight},
                         {"TargetGroupArn": green, "Weight": green_weight}],
        "TargetGroupStickinessConfig": {"Enabled": False}}}]


class Setup:
    """The blue/green resources, made the way the ECS guide describes."""

    def __init__(self, server: Server, unique: Callable[[str], str]) -> None:
        self.elb = server.client("elbv2")
        ec2 = server.client("ec2")
        self.vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [self.vpc]},
                                                {"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
        self.name = unique("bg-alb")
        self.lb = self.elb.create_load_balancer(
            Name=self.name, Subnets=[s["SubnetId"] for s in subnets], Scheme="internet-facing", Type="application",
            IpAddressType="ipv4")["LoadBalancers"][0]
        self.lb_arn: str = self.lb["LoadBalancerArn"]
        self.blue = self._target_group(unique("blue"))
        self.green = self._target_group(unique("green"))
        self.production = self.elb.create_listener(
            LoadBalancerArn=self.lb_arn, Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": self.blue}])["Listeners"][0]["ListenerArn"]
        self.production_rule = self.elb.create_rule(
            ListenerArn=self.production, Priority=1,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
            Actions=[{"Type": "forward", "TargetGroupArn": self.blue}])["Rules"][0]["RuleArn"]
        self.test = self.elb.create_listener(
            LoadBalancerArn=self.lb_arn, Protocol="HTTP", Port=8080,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": self.blue}])["Listeners"][0]["ListenerArn"]
        self.test_rule = self.elb.create_rule(
            ListenerArn=self.test, Priority=1,
            Conditions=[{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Environment",
                                                                      "Values": ["test"]}}],
            Actions=[{"Type": "forward", "TargetGroupArn": self.green}])["Rules"][0]["RuleArn"]

    def _target_group(self, name: str) -> str:
        arn: str = self.elb.create_target_group(
            Name=name, Protocol="HTTP", Port=80, VpcId=self.vpc, TargetType="ip", HealthCheckPath="/",
            HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
        )["TargetGroups"][0]["TargetGroupArn"]
        return arn

    def destroy(self) -> None:
        self.elb.delete_load_balancer(LoadBalancerArn=self.lb_arn)
        for tg in (self.blue, self.green):
            with contextlib.suppress(ClientError):
                self.elb.delete_target_group(TargetGroupArn=tg)


@pytest.fixture
def setup(server: Server, unique: Callable[[str], str]) -> Iterator[Setup]:
    made = Setup(server, unique)
    yield made
    made.destroy()


def test_the_documented_setup(setup: Setup) -> None:
    elb, lb_id = setup.elb, setup.lb_arn.rsplit("/", 1)[1]
    assert setup.lb_arn.endswith(f":loadbalancer/app/{setup.name}/{lb_id}")
    assert setup.lb["DNSName"].startswith(f"{setup.name}-") and setup.lb["VpcId"] == setup.vpc
    assert setup.production.startswith(
        f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener/app/{setup.name}/{lb_id}/")
    assert setup.production_rule.startswith(
        f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener-rule/app/{setup.name}/{lb_id}/"
        f"{setup.production.rsplit('/', 1)[1]}/")
    listeners = elb.describe_listeners(LoadBalancerArn=setup.lb_arn)["Listeners"]
    assert [(item["Port"], item["Protocol"]) for item in listeners] == [(80, "HTTP"), (8080, "HTTP")]
    production = elb.describe_rules(ListenerArn=setup.production)["Rules"]
    assert [(r["Priority"], r["IsDefault"]) for r in production] == [("1", False), ("default", True)]
    assert production[0]["Conditions"] == [
        {"Field": "path-pattern", "Values": ["/*"], "PathPatternConfig": {"Values": ["/*"]}}]
    test = elb.describe_rules(ListenerArn=setup.test)["Rules"][0]
    assert test["Actions"] == [{"Type": "forward", "TargetGroupArn": setup.green, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": setup.green, "Weight": 1}],
        "TargetGroupStickinessConfig": {"Enabled": False}}}]
    groups = elb.describe_target_groups(LoadBalancerArn=setup.lb_arn)["TargetGroups"]
    assert sorted(g["TargetGroupArn"] for g in groups) == sorted([setup.blue, setup.green])
    assert all(g["LoadBalancerArns"] == [setup.lb_arn] for g in groups)


def test_traffic_shift_by_rewriting_the_production_rule(setup: Setup) -> None:
    elb = setup.elb
    for blue_weight, green_weight in ((90, 10), (0, 100)):
        actions = weighted(setup.blue, setup.green, blue_weight, green_weight)
        answered = elb.modify_rule(RuleArn=setup.production_rule, Actions=actions)["Rules"][0]
        assert answered["Actions"] == actions
        described = elb.describe_rules(RuleArns=[setup.production_rule])["Rules"][0]
        assert described == answered and "TargetGroupArn" not in described["Actions"][0]
    # The default rule of the production listener (ECS shifts a listener without rules with ModifyListener).
    shifted = elb.modify_listener(ListenerArn=setup.production,
                                  DefaultActions=weighted(setup.blue, setup.green, 0, 100))["Listeners"][0]
    assert shifted["DefaultActions"] == weighted(setup.blue, setup.green, 0, 100)
    default = elb.describe_rules(ListenerArn=setup.production)["Rules"][-1]
    assert default["IsDefault"] and default["Actions"] == weighted(setup.blue, setup.green, 0, 100)
    # Rollback: all traffic back to blue.
    back = elb.modify_rule(RuleArn=setup.production_rule, Actions=weighted(setup.blue, setup.green, 100, 0))
    assert back["Rules"][0]["Actions"] == weighted(setup.blue, setup.green, 100, 0)


def test_green_targets_are_health_checked_once_a_rule_serves_them(setup: Setup, unique: Callable[[str], str]
                                                                  ) -> None:
    elb = setup.elb
    elb.register_targets(TargetGroupArn=setup.green, Targets=[{"Id": "172.31.10.20", "Port": 8080}])
    health = elb.describe_target_health(TargetGroupArn=setup.green)["TargetHealthDescriptions"][0]
    assert (health["Target"]["Id"], health["Target"]["Port"]) == ("172.31.10.20", 8080)
    assert health["TargetHealth"]["State"] in ("initial", "healthy")  # served by the test rule, not unused
    spare = elb.create_target_group(Name=unique("spare"), Protocol="HTTP", Port=80, VpcId=setup.vpc,
                                    TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    try:
        elb.register_targets(TargetGroupArn=spare, Targets=[{"Id": "172.31.10.21"}])
        state = elb.describe_target_health(TargetGroupArn=spare)["TargetHealthDescriptions"][0]["TargetHealth"]
        assert (state["State"], state["Reason"]) == ("unused", "Target.NotInUse")
    finally:
        elb.delete_target_group(TargetGroupArn=spare)


def test_deletion_order(setup: Setup) -> None:
    elb = setup.elb
    in_use = "ResourceInUse", f"Target group '{setup.blue}' is currently in use by a listener or a rule", 400
    assert error_of(elb.delete_target_group, TargetGroupArn=setup.blue) == in_use
    assert error_of(elb.delete_rule, RuleArn=elb.describe_rules(ListenerArn=setup.production)["Rules"][-1][
        "RuleArn"])[0] == "OperationNotPermitted"
    elb.delete_listener(ListenerArn=setup.production)
    assert error_of(elb.describe_rules, RuleArns=[setup.production_rule]) == (
        "RuleNotFound", "One or more rules not found", 400)
    assert error_of(elb.delete_target_group, TargetGroupArn=setup.blue) == in_use  # the test listener forwards too
    elb.delete_rule(RuleArn=setup.test_rule)
    elb.delete_target_group(TargetGroupArn=setup.green)  # no longer used by anything
    elb.delete_load_balancer(LoadBalancerArn=setup.lb_arn)  # takes the test listener with it
    assert error_of(elb.describe_listeners, ListenerArns=[setup.test]) == (
        "ListenerNotFound", "One or more listeners not found", 400)
    elb.delete_target_group(TargetGroupArn=setup.blue)
    assert error_of(elb.describe_target_groups, TargetGroupArns=[setup.blue]) == (
        "TargetGroupNotFound", "One or more target groups not found", 400)


def test_the_managed_infrastructure_policy_matches_these_arns(server: Server, iam: Any, setup: Setup,
                                                              unique: Callable[[str], str]) -> None:
    user = unique("ecs-infra")
    user_arn = iam.create_user(UserName=user)["User"]["Arn"]
    iam.attach_user_policy(UserName=user, PolicyArn=MANAGED)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    infra = server.client("elbv2", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert infra.describe_rules(ListenerArn=setup.production)["Rules"][0]["RuleArn"] == setup.production_rule
    shifted = infra.modify_rule(RuleArn=setup.production_rule, Actions=weighted(setup.blue, setup.green, 0, 100))
    assert shifted["Rules"][0]["Actions"] == weighted(setup.blue, setup.green, 0, 100)
    listener = infra.modify_listener(ListenerArn=setup.test,
                                     DefaultActions=weighted(setup.blue, setup.green, 0, 100))["Listeners"][0]
    assert listener["DefaultActions"] == weighted(setup.blue, setup.green, 0, 100)
    infra.describe_target_health(TargetGroupArn=setup.green)
    # The service authorization reference authorizes CreateRule on the listener (listener/app), which the policy
    # grants only ModifyListener on.
    resource = setup.production
    assert error_of(infra.create_rule, ListenerArn=setup.production, Priority=2, Conditions=[
        {"Field": "path-pattern", "Values": ["/x"]}], Actions=[{"Type": "forward", "TargetGroupArn": setup.green}]) == (
        "AccessDenied",
        f"User: {user_arn} is not authorized to perform: elasticloadbalancing:CreateRule on resource: {resource} "
        "because no identity-based policy allows the elasticloadbalancing:CreateRule action", 403)
    assert error_of(infra.delete_listener, ListenerArn=setup.test) == (
        "AccessDenied",
        f"User: {user_arn} is not authorized to perform: elasticloadbalancing:DeleteListener on resource: "
        f"{setup.test} because no identity-based policy allows the elasticloadbalancing:DeleteListener action", 403)
    assert [r["Priority"] for r in setup.elb.describe_rules(ListenerArn=setup.production)["Rules"]] == ["1", "default"]
