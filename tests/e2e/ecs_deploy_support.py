"""Building a blue/green ECS setup through the public API, and watching its deployments (deployment tests)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import Server

TRUST = {"Version": "2012-10-17", "Statement": [{
    "Sid": "AllowAccessToECSForInfrastructureManagement", "Effect": "Allow",
    "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
MANAGED = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
FINAL = {"SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"}


@dataclass
class Setup:
    server: Server
    name: str
    role_name: str
    role_arn: str
    subnets: list[str]
    lb_arn: str
    blue: str
    green: str
    prod_listener: str
    prod_rule: str
    test_listener: str
    test_rule: str
    cluster: str
    revisions: list[str] = field(default_factory=list)

    @property
    def ecs(self) -> Any:
        return self.server.client("ecs")

    @property
    def elb(self) -> Any:
        return self.server.client("elbv2")

    def load_balancers(self, *, test: bool = True, role: str | None = None) -> list[dict[str, Any]]:
        advanced = {"alternateTargetGroupArn": self.green, "productionListenerRule": self.prod_rule,
                    "roleArn": role or self.role_arn}
        if test:
            advanced["testListenerRule"] = self.test_rule
        return [{"targetGroupArn": self.blue, "containerName": "web", "containerPort": 80,
                 "advancedConfiguration": advanced}]

    def create_service(self, config: dict[str, Any], *, count: int = 2, **extra: Any) -> dict[str, Any]:
        service: dict[str, Any] = self.ecs.create_service(
            cluster=self.cluster, serviceName=self.name, taskDefinition=self.revisions[0], desiredCount=count,
            launchType="FARGATE", loadBalancers=extra.pop("loadBalancers", self.load_balancers()),
            networkConfiguration={"awsvpcConfiguration": {"subnets": self.subnets, "assignPublicIp": "DISABLED"}},
            deploymentConfiguration=config, **extra)["service"]
        return service

    def deploy(self, revision: int, config: dict[str, Any] | None = None, *, force: bool = False) -> str:
        """UpdateService to task definition revision ``revision`` (1-based); the new deployment's ARN."""
        args: dict[str, Any] = {"cluster": self.cluster, "service": self.name,
                                "taskDefinition": self.revisions[revision - 1]}
        if config is not None:
            args["deploymentConfiguration"] = config
        if force:
            args["forceNewDeployment"] = True
        service = self.ecs.update_service(**args)["service"]
        return str(service["currentServiceDeployment"])

    def deployment(self, arn: str) -> dict[str, Any]:
        found: dict[str, Any] = self.ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
            "serviceDeployments"][0]
        return found

    def wait(self, arn: str, until: Callable[[dict[str, Any]], bool], timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            last = self.deployment(arn)
            if until(last):
                return last
            time.sleep(0.02)
        raise AssertionError(f"deployment did not get there in {timeout}s: {json.dumps(last, default=str)[:2000]}")

    def wait_final(self, arn: str, timeout: float = 60.0) -> dict[str, Any]:
        return self.wait(arn, lambda d: d["status"] in FINAL, timeout)

    def wait_hook(self, arn: str, stage: str, timeout: float = 60.0) -> tuple[dict[str, Any], str]:
        """Until a PAUSE hook awaits action at ``stage``: the deployment and the hook's id."""
        def paused(d: dict[str, Any]) -> bool:
            if d["status"] in FINAL:
                raise AssertionError(f"deployment ended ({d['status']}: {d.get('statusReason')}) before {stage}")
            return d.get("lifecycleStage") == stage and any(
                h["status"] == "AWAITING_ACTION" for h in d.get("lifecycleHookDetails") or [])
        found = self.wait(arn, paused, timeout)
        hook = next(h for h in found["lifecycleHookDetails"] if h["status"] == "AWAITING_ACTION")
        return found, hook["hookId"]

    def proceed(self, arn: str, hook_id: str, action: str = "CONTINUE") -> None:
        self.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook_id, action=action)

    def weights(self, rule_arn: str) -> dict[str, int]:
        """Target group -> weight of a rule's forward action."""
        rule = self.elb.describe_rules(RuleArns=[rule_arn])["Rules"][0]
        forward = next(a for a in rule["Actions"] if a["Type"] == "forward")
        return {g["TargetGroupArn"]: g.get("Weight", 1) for g in forward["ForwardConfig"]["TargetGroups"]}

    def targets(self, tg_arn: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.elb.describe_target_health(TargetGroupArn=tg_arn)[
            "TargetHealthDescriptions"]
        return found

    def tasks(self, desired: str = "RUNNING") -> list[dict[str, Any]]:
        arns = self.ecs.list_tasks(cluster=self.cluster, serviceName=self.name, desiredStatus=desired)["taskArns"]
        if not arns:
            return []
        found: list[dict[str, Any]] = self.ecs.describe_tasks(cluster=self.cluster, tasks=arns)["tasks"]
        return found


def pause_hooks(stages: Iterable[str]) -> list[dict[str, Any]]:
    return [{"targetType": "PAUSE", "lifecycleStages": list(stages)}]


def build(server: Server, unique: Callable[[str], str], *, health_interval: int = 5,
          image_labels: list[dict[str, str]] | None = None, role_name: str | None = None) -> Setup:
    """The seed's setup as root: the infrastructure role, an ALB with blue and green target groups, a production
    listener rule (blue 100 / green 0) and a test listener rule (green), a cluster and two task definitions."""
    iam, ec2, elb, ecs = (server.client(s) for s in ("iam", "ec2", "elbv2", "ecs"))
    name = unique("bg")
    role_name = role_name or f"{name}-infra"
    role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    iam.attach_role_policy(RoleName=role_name, PolicyArn=MANAGED)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])
    subnet_ids = [s["SubnetId"] for s in subnets[:2]]
    lb = elb.create_load_balancer(Name=name, Subnets=subnet_ids, Type="application")["LoadBalancers"][0]
    groups = []
    for color in ("blue", "green"):
        tg = elb.create_target_group(
            Name=f"{name}-{color}"[:32], Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
            HealthCheckIntervalSeconds=health_interval, HealthyThresholdCount=2, UnhealthyThresholdCount=2,
            HealthCheckTimeoutSeconds=2)["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "5"}])
        groups.append(tg)
    blue, green = groups
    fixed = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
    prod_listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                        DefaultActions=fixed)["Listeners"][0]["ListenerArn"]
    prod_rule = elb.create_rule(
        ListenerArn=prod_listener, Priority=1, Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
        Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": blue, "Weight": 100}, {"TargetGroupArn": green, "Weight": 0}]}}])["Rules"][0]["RuleArn"]
    test_listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=8080,
                                        DefaultActions=fixed)["Listeners"][0]["ListenerArn"]
    test_rule = elb.create_rule(
        ListenerArn=test_listener, Priority=1, Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": green}])["Rules"][0]["RuleArn"]
    cluster = ecs.create_cluster(clusterName=name)["cluster"]["clusterName"]
    setup = Setup(server, name, role_name, role_arn, subnet_ids, lb["LoadBalancerArn"], blue, green, prod_listener,
                  prod_rule, test_listener, test_rule, cluster)
    for version in ("1.27", "1.28"):
        container: dict[str, Any] = {"name": "web", "image": f"public.ecr.aws/nginx/nginx:{version}",
                                     "essential": True, "portMappings": [{"containerPort": 80}]}
        if image_labels is not None:
            container["dockerLabels"] = image_labels[len(setup.revisions)]
        setup.revisions.append(ecs.register_task_definition(
            family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[container])["taskDefinition"]["taskDefinitionArn"])
    return setup
