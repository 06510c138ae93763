"""``turnout demo``: the embedded server, the clients, and the resources the walkthrough needs (steps 1 to 4:
the infrastructure role, the deployer user, the load balancer, the cluster and task definitions).

Everything goes through the public API with botocore clients, the way a user of AWS would do it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .demo_progress import WAIT, DemoError, say, show

REGION = "us-east-1"
ROOT_KEY, ROOT_SECRET = "test", "test"  # Turnout's root credentials of account 000000000000
ROLE_NAME = "ecsInfrastructureRoleForLoadBalancers"
MANAGED_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
USER_NAME = "demo-deployer"
USER_POLICY = "deploy-ecs-blue-green"
CLUSTER = "demo"
FAMILY = "web"
SERVICE = "web"
IMAGES = ("public.ecr.aws/nginx/nginx:1.27", "public.ecr.aws/nginx/nginx:1.28")
# The test listener's rule forwards requests carrying this header to the new revision's target group.
TEST_HEADER = ("X-Environment", "test")

# The seed's trust policy and PassRole statement, exactly (aws-facts 2.1).
TRUST_POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Sid":"AllowAccessToECSForInfrastructureManagement","Effect":"Allow",'
    '"Principal":{"Service":"ecs.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
)
PASS_ROLE_STATEMENT: dict[str, Any] = {
    "Action": "iam:PassRole", "Effect": "Allow",
    "Resource": ["arn:aws:iam::*:role/ecsInfrastructureRoleForLoadBalancers"],
    "Condition": {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}},
}
# What the deployer needs besides PassRole to create and follow the service.
DEPLOY_STATEMENT: dict[str, Any] = {
    "Sid": "DeployServices", "Effect": "Allow",
    "Action": ["ecs:*", "elasticloadbalancing:Describe*", "ec2:Describe*"], "Resource": "*",
}
# A trust policy that no longer lets ECS assume the role (step 8 breaks the role with it).
EC2_ONLY_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def user_policy(with_pass_role: bool) -> str:
    statements = [PASS_ROLE_STATEMENT, DEPLOY_STATEMENT] if with_pass_role else [DEPLOY_STATEMENT]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


# -- the server and clients ----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def embedded_server(time_scale: float, data_dir: Path | None) -> Iterator[str]:
    """A ``turnout serve`` subprocess on a free port (a temporary data directory unless ``data_dir``); its URL."""
    with tempfile.TemporaryDirectory(prefix="turnout-demo-") as scratch:
        data = data_dir if data_dir is not None else Path(scratch) / "data"
        data.mkdir(parents=True, exist_ok=True)
        port = _free_port()
        log_path = Path(scratch) / "server.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "turnout", "serve", "--port", str(port), "--data-dir", str(data),
                 "--time-scale", f"{time_scale:g}", "--log-level", "warning"],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            endpoint = f"http://127.0.0.1:{port}"
            try:
                _wait_ready(endpoint, process, log_path)
                say(f"embedded server: {endpoint} (time scale {time_scale:g}, data in {data})")
                yield endpoint
            finally:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)


def _wait_ready(endpoint: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoError(f"the embedded server exited with status {process.returncode}:\n{_tail(log_path)}")
        with contextlib.suppress(OSError), urllib.request.urlopen(endpoint + "/_turnout/health", timeout=1) as answer:
            if answer.status == 200:
                return
        time.sleep(0.05)
    raise DemoError(f"the embedded server did not answer /_turnout/health within {WAIT:g} s:\n{_tail(log_path)}")


def _tail(path: Path, lines: int = 20) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def check_endpoint(endpoint: str) -> None:
    """Refuse an --endpoint-url that is not a ready Turnout."""
    try:
        with urllib.request.urlopen(endpoint.rstrip("/") + "/_turnout/health", timeout=5) as response:
            ready = response.status == 200
    except OSError as error:
        raise DemoError(f"cannot reach a Turnout server at {endpoint} ({error})") from None
    if not ready:
        raise DemoError(f"the Turnout server at {endpoint} is not ready")


class Clients:
    """botocore clients on one endpoint, per credentials."""

    def __init__(self, endpoint: str) -> None:
        import botocore.session

        self.endpoint = endpoint
        self.session = botocore.session.get_session()

    def client(self, service: str, key: str = ROOT_KEY, secret: str = ROOT_SECRET) -> Any:
        from botocore.config import Config

        return self.session.create_client(
            service, endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=key,
            aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )


# -- step 1: the infrastructure role --------------------------------------------------------------------------------


def create_role(iam: Any, workdir: Path) -> str:
    path = workdir / "ecs-infrastructure-trust-policy.json"
    path.write_text(TRUST_POLICY + "\n")
    say(f"wrote {path.name}:")
    show(path.read_text())
    document = path.read_text()  # what `file://ecs-infrastructure-trust-policy.json` reads
    arn: str = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=document)["Role"]["Arn"]
    say(f"iam create-role --role-name {ROLE_NAME} --assume-role-policy-document file://{path.name}: {arn}")
    iam.attach_role_policy(RoleName=ROLE_NAME, PolicyArn=MANAGED_POLICY)
    attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=ROLE_NAME)["AttachedPolicies"]]
    say(f"iam attach-role-policy: {ROLE_NAME} has {', '.join(attached)}")
    return arn


# -- step 2: the deployer --------------------------------------------------------------------------------------------


def create_deployer(iam: Any) -> tuple[str, str]:
    arn = iam.create_user(UserName=USER_NAME)["User"]["Arn"]
    key = iam.create_access_key(UserName=USER_NAME)["AccessKey"]
    say(f"created user {arn} with access key {key['AccessKeyId']}")
    iam.put_user_policy(UserName=USER_NAME, PolicyName=USER_POLICY, PolicyDocument=user_policy(False))
    say(f"inline policy {USER_POLICY} (no iam:PassRole yet):")
    show(user_policy(False))
    return key["AccessKeyId"], key["SecretAccessKey"]


def grant_pass_role(iam: Any) -> None:
    iam.put_user_policy(UserName=USER_NAME, PolicyName=USER_POLICY, PolicyDocument=user_policy(True))
    say(f"inline policy {USER_POLICY} now with the seed's iam:PassRole statement:")
    show(user_policy(True))


# -- step 3: the load balancer -----------------------------------------------------------------------------------------


@dataclass
class Network:
    vpc: str
    subnets: list[str]
    security_group: str
    load_balancer: str
    dns_name: str
    blue: str
    green: str
    production_listener: str
    production_rule: str
    test_listener: str
    test_rule: str

    def labels(self) -> dict[str, str]:
        return {self.blue: "blue", self.green: "green"}


def setup_network(ec2: Any, elb: Any) -> Network:
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    if not vpc:
        raise DemoError("the account has no default VPC")
    vpc_id = vpc[0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                            {"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    subnets = sorted(subnets, key=lambda s: s["AvailabilityZone"])[:2]  # two zones are enough for an ALB
    subnet_ids = [s["SubnetId"] for s in subnets]
    listed = ", ".join(f"{s['SubnetId']} ({s['AvailabilityZone']})" for s in subnets)
    say(f"default VPC {vpc_id}, subnets {listed}")
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                   {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    if not groups:
        raise DemoError(f"the default VPC {vpc_id} has no default security group")
    lb = elb.create_load_balancer(Name="demo-alb", Subnets=subnet_ids, Scheme="internet-facing",
                                  Type="application", IpAddressType="ipv4")["LoadBalancers"][0]
    say(f"load balancer {lb['LoadBalancerArn']} ({lb['DNSName']})")
    blue, green = (_target_group(elb, name, vpc_id) for name in ("demo-blue", "demo-green"))
    say(f"target groups (ip, HTTP:80): blue {blue}")
    say(f"                             green {green}")
    forward_blue = [{"Type": "forward", "TargetGroupArn": blue}]
    production = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                     DefaultActions=forward_blue)["Listeners"][0]["ListenerArn"]
    production_rule = elb.create_rule(
        ListenerArn=production, Priority=1,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
        Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": blue, "Weight": 100}, {"TargetGroupArn": green, "Weight": 0}]}}],
    )["Rules"][0]["RuleArn"]
    say(f"production listener :80 (default: forward to blue), rule path /* -> blue 100 / green 0: {production_rule}")
    test = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=8080,
                               DefaultActions=forward_blue)["Listeners"][0]["ListenerArn"]
    test_rule = elb.create_rule(
        ListenerArn=test, Priority=1,
        Conditions=[{"Field": "http-header",
                     "HttpHeaderConfig": {"HttpHeaderName": TEST_HEADER[0], "Values": [TEST_HEADER[1]]}}],
        Actions=[{"Type": "forward", "TargetGroupArn": green}],
    )["Rules"][0]["RuleArn"]
    say(f"test listener :8080, rule X-Environment: test -> green: {test_rule}")
    return Network(vpc_id, subnet_ids, groups[0]["GroupId"], lb["LoadBalancerArn"], lb["DNSName"], blue, green,
                   production, production_rule, test, test_rule)


def _target_group(elb: Any, name: str, vpc: str) -> str:
    arn: str = elb.create_target_group(
        Name=name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip", HealthCheckProtocol="HTTP",
        HealthCheckPath="/", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
        UnhealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]
    # Drain deregistered targets in 5 seconds rather than 300 (the demo's deployments end sooner).
    elb.modify_target_group_attributes(
        TargetGroupArn=arn, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}])
    return arn


# -- step 4: the cluster and the task definitions ----------------------------------------------------------------------


def setup_ecs(ecs: Any) -> tuple[str, list[str]]:
    cluster: str = ecs.create_cluster(clusterName=CLUSTER)["cluster"]["clusterArn"]
    say(f"cluster {cluster}")
    revisions = []
    for image in IMAGES:
        definition = ecs.register_task_definition(
            family=FAMILY, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
            containerDefinitions=[{"name": "web", "image": image, "essential": True,
                                   "portMappings": [{"containerPort": 80, "protocol": "tcp"}]}],
        )["taskDefinition"]
        revisions.append(definition["taskDefinitionArn"])
        say(f"task definition {FAMILY}:{definition['revision']} ({image}): {definition['taskDefinitionArn']}")
    return cluster, revisions
