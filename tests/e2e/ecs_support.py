"""Helpers of the ECS service tests: a cluster, Fargate and bridge task definitions, the default VPC's subnets, and
the load balancer resources of a blue/green service made through the ELB API (an ALB, a blue and a green target
group of target type ip, a production listener whose rule forwards to blue, a test listener whose rule forwards
to green)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from tests.conftest import Server

ACCOUNT = "000000000000"
REGION = "us-east-1"
ECS_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Sid": "AllowAccessToECSForInfrastructureManagement", "Effect": "Allow",
    "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
SEED_PASS_ROLE: dict[str, Any] = {"Version": "2012-10-17", "Statement": [{
    "Action": "iam:PassRole", "Effect": "Allow",
    "Resource": ["arn:aws:iam::*:role/ecsInfrastructureRoleForLoadBalancers"],
    "Condition": {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}}}]}
LB_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
INFRA_ROLE = "ecsInfrastructureRoleForLoadBalancers"
STATUSES = ("PENDING", "SUCCESSFUL", "STOPPED", "STOP_REQUESTED", "IN_PROGRESS", "ROLLBACK_REQUESTED",
            "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")


def service_arn(cluster: str, name: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{name}"


def cluster_arn(cluster: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}"


def infra_role(iam: Any) -> str:
    """The seed's infrastructure role (made once per server)."""
    try:
        arn: str = iam.get_role(RoleName=INFRA_ROLE)["Role"]["Arn"]
        return arn
    except ClientError:
        pass
    arn = iam.create_role(RoleName=INFRA_ROLE, AssumeRolePolicyDocument=json.dumps(ECS_TRUST))["Role"]["Arn"]
    iam.attach_role_policy(RoleName=INFRA_ROLE, PolicyArn=LB_POLICY)
    return arn


def fargate_td(ecs: Any, family: str, *, image: str = "nginx:1.27", port: int = 80) -> str:
    arn: str = ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "web", "image": image, "essential": True,
                               "portMappings": [{"containerPort": port, "protocol": "tcp"}]}],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def bridge_td(ecs: Any, family: str) -> str:
    arn: str = ecs.register_task_definition(
        family=family, containerDefinitions=[{"name": "web", "image": "nginx:1.27", "memory": 128,
                                              "portMappings": [{"containerPort": 80, "hostPort": 0}]}],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


class World:
    """A cluster, a Fargate task definition, the default subnets and (on demand) the blue/green ELB setup."""

    def __init__(self, server: Server, unique: Callable[[str], str]) -> None:
        self.server, self.unique = server, unique
        self.ecs = server.client("ecs")
        self.elb = server.client("elbv2")
        self.iam = server.client("iam")
        ec2 = server.client("ec2")
        self.vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [self.vpc]},
                                                {"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
        self.subnets = sorted(s["SubnetId"] for s in subnets)
        self.security_group = ec2.describe_security_groups(Filters=[
            {"Name": "vpc-id", "Values": [self.vpc]}, {"Name": "group-name", "Values": ["default"]}],
        )["SecurityGroups"][0]["GroupId"]
        self.cluster = unique("svc-cl")
        self.ecs.create_cluster(clusterName=self.cluster)
        self.td = fargate_td(self.ecs, unique("web"))
        self.lbs: list[str] = []
        self.tgs: list[str] = []

    @property
    def network(self) -> dict[str, Any]:
        return {"awsvpcConfiguration": {"subnets": self.subnets[:2], "securityGroups": [self.security_group]}}

    def service(self, name: str | None = None, **extra: Any) -> dict[str, Any]:
        """CreateService of a Fargate service in the world's cluster; the answer's ``service``."""
        args: dict[str, Any] = {"cluster": self.cluster, "serviceName": name or self.unique("svc"),
                                "taskDefinition": self.td, "desiredCount": 0, "launchType": "FARGATE",
                                "networkConfiguration": self.network}
        args.update(extra)
        service: dict[str, Any] = self.ecs.create_service(**args)["service"]
        return service

    def target_group(self, target_type: str = "ip") -> str:
        arn: str = self.elb.create_target_group(
            Name=self.unique("tg")[-32:], Protocol="HTTP", Port=80, VpcId=self.vpc, TargetType=target_type,
        )["TargetGroups"][0]["TargetGroupArn"]
        self.tgs.append(arn)
        return arn

    def blue_green(self) -> dict[str, str]:
        """The documented ALB setup: blue, green, production listener+rule (-> blue), test listener+rule (-> green)."""
        lb = self.elb.create_load_balancer(Name=self.unique("alb")[-32:], Subnets=self.subnets, Type="application",
                                           Scheme="internet-facing")["LoadBalancers"][0]["LoadBalancerArn"]
        self.lbs.append(lb)
        blue, green = self.target_group(), self.target_group()
        production = self.elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": blue}])["Listeners"][0]["ListenerArn"]
        production_rule = self.elb.create_rule(
            ListenerArn=production, Priority=1,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
            Actions=[{"Type": "forward", "TargetGroupArn": blue}])["Rules"][0]["RuleArn"]
        test = self.elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=8080, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": blue}])["Listeners"][0]["ListenerArn"]
        test_rule = self.elb.create_rule(
            ListenerArn=test, Priority=1,
            Conditions=[{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Environment",
                                                                      "Values": ["test"]}}],
            Actions=[{"Type": "forward", "TargetGroupArn": green}])["Rules"][0]["RuleArn"]
        return {"lb": lb, "blue": blue, "green": green, "production": production, "production_rule": production_rule,
                "test": test, "test_rule": test_rule}

    def advanced_lb(self, setup: dict[str, str], role: str, **changes: Any) -> dict[str, Any]:
        """A loadBalancers entry with advancedConfiguration over ``setup`` (``changes`` replace its members)."""
        config: dict[str, Any] = {"alternateTargetGroupArn": setup["green"],
                                  "productionListenerRule": setup["production_rule"],
                                  "testListenerRule": setup["test_rule"], "roleArn": role}
        config.update(changes)
        return {"targetGroupArn": setup["blue"], "containerName": "web", "containerPort": 80,
                "advancedConfiguration": {k: v for k, v in config.items() if v is not None}}

    def destroy(self) -> None:
        """Force-delete the cluster's services and drop the ELB resources (errors ignored)."""
        with contextlib.suppress(ClientError):
            for arn in self.ecs.list_services(cluster=self.cluster, maxResults=100)["serviceArns"]:
                with contextlib.suppress(ClientError):
                    self.ecs.delete_service(cluster=self.cluster, service=arn, force=True)
        for lb in self.lbs:
            with contextlib.suppress(ClientError):
                self.elb.delete_load_balancer(LoadBalancerArn=lb)
        for tg in self.tgs:
            with contextlib.suppress(ClientError):
                self.elb.delete_target_group(TargetGroupArn=tg)
