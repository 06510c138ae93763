"""Privilege escalation by passing a role to ECS (issue 11, the escalation suite), boto3 against a real server:
every place an ECS request names a role needs ``iam:PassRole`` on that role for the right service, otherwise
AccessDeniedException and nothing is created: CreateService and UpdateService (the blue/green infrastructure
role, lifecycle hook roles, the Service Connect TLS, managed EBS volume and VPC Lattice roles),
RegisterTaskDefinition (task and execution roles) and RunTask (the task definition's roles, the overrides, the
managed EBS volume role). The attacker may do everything in ECS and pass the seed's infrastructure role only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Server
from tests.e2e.ecs_support import ECS_TRUST, SEED_PASS_ROLE, World, infra_role
from tests.e2e.escalation_support import ACCOUNT, ADMIN_POLICY, Actor, allow, denied, doc

ECS = "ecs.amazonaws.com"
TASKS = "ecs-tasks.amazonaws.com"
ECS_ALL = allow(["ecs:*", "elasticloadbalancing:Describe*", "ec2:Describe*"])
BOTH_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": [ECS, TASKS]}, "Action": "sts:AssumeRole"}]}


class Attack:
    """A world (cluster, task definition, blue/green ELB setup on demand), an administrator role ECS could be
    given, and the attacker's ECS client."""

    def __init__(self, server: Server, unique: Callable[[str], str]) -> None:
        self.world = World(server, unique)
        iam = self.world.iam
        self.infra = infra_role(iam)
        self.admin_role_name = unique("ecs-admin")
        self.admin_role: str = iam.create_role(RoleName=self.admin_role_name,
                                               AssumeRolePolicyDocument=json.dumps(BOTH_TRUST))["Role"]["Arn"]
        iam.attach_role_policy(RoleName=self.admin_role_name, PolicyArn=ADMIN_POLICY)
        self.actor = Actor(server, iam, unique("ecs-attacker"), ECS_ALL, *SEED_PASS_ROLE["Statement"])
        self.ecs = self.actor.client("ecs")

    def permit(self, service: str) -> None:
        """Let the attacker pass the administrator role to ``service`` (and the seed's role, as before)."""
        self.world.iam.put_user_policy(UserName=self.actor.name, PolicyName="own", PolicyDocument=doc(
            ECS_ALL, *SEED_PASS_ROLE["Statement"],
            allow("iam:PassRole", self.admin_role, Condition={"StringEquals": {"iam:PassedToService": service}})))

    def refused(self, call: Any, **params: Any) -> None:
        message = denied(call, **params)
        assert f"is not authorized to perform: iam:PassRole on resource: {self.admin_role}" in message

    def simple(self, name: str, **extra: Any) -> dict[str, Any]:
        return {"cluster": self.world.cluster, "serviceName": name, "taskDefinition": self.world.td,
                "desiredCount": 0, "launchType": "FARGATE", "networkConfiguration": self.world.network, **extra}

    def blue_green(self, name: str, role: str, hooks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        setup = self.world.blue_green()
        config: dict[str, Any] = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}
        if hooks:
            config["lifecycleHooks"] = hooks
        return {**self.simple(name), "loadBalancers": [self.world.advanced_lb(setup, role)],
                "deploymentConfiguration": config}

    def services(self) -> list[str]:
        return list(self.world.ecs.list_services(cluster=self.world.cluster)["serviceArns"])


@pytest.fixture
def attack(server: Server, unique: Callable[[str], str]) -> Iterator[Attack]:
    made = Attack(server, unique)
    yield made
    made.world.destroy()


def hook(role: str) -> list[dict[str, Any]]:
    return [{"targetType": "AWS_LAMBDA", "hookTargetArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:check",
             "roleArn": role, "lifecycleStages": ["POST_SCALE_UP"]}]


def service_connect(role: str) -> dict[str, Any]:
    return {"serviceConnectConfiguration": {"enabled": True, "namespace": "internal", "services": [{
        "portName": "web", "clientAliases": [{"port": 80}],
        "tls": {"issuerCertificateAuthority": {
            "awsPcaAuthorityArn": f"arn:aws:acm-pca:us-east-1:{ACCOUNT}:certificate-authority/0123"},
            "roleArn": role}}]}}


def ebs_volume(role: str) -> dict[str, Any]:
    return {"volumeConfigurations": [{"name": "data", "managedEBSVolume": {"roleArn": role, "sizeInGiB": 10}}]}


def lattice(role: str) -> dict[str, Any]:
    return {"vpcLatticeConfigurations": [{
        "roleArn": role, "portName": "web",
        "targetGroupArn": f"arn:aws:vpc-lattice:us-east-1:{ACCOUNT}:targetgroup/tg-0123456789abcdef0"}]}


EXTRAS: dict[str, Callable[[str], dict[str, Any]]] = {
    "serviceConnect.tls": service_connect, "managedEBSVolume": ebs_volume, "vpcLattice": lattice,
}


@pytest.mark.parametrize("place", ["advancedConfiguration", "lifecycleHook", *EXTRAS])
def test_create_service_needs_pass_role_for_every_role_it_names(attack: Attack, place: str) -> None:
    name = attack.world.unique("esc")

    def args(role: str) -> dict[str, Any]:
        if place == "advancedConfiguration":
            return attack.blue_green(name, role)
        if place == "lifecycleHook":
            return attack.blue_green(name, attack.infra, hook(role))
        return attack.simple(name, **EXTRAS[place](role))

    attack.refused(attack.ecs.create_service, **args(attack.admin_role))
    assert attack.services() == []
    attack.permit(TASKS)  # the right role, the wrong service: still refused
    attack.refused(attack.ecs.create_service, **args(attack.admin_role))
    attack.permit(ECS)
    assert attack.ecs.create_service(**args(attack.admin_role))["service"]["serviceName"] == name


@pytest.mark.parametrize("place", ["advancedConfiguration", "lifecycleHook", *EXTRAS])
def test_update_service_needs_pass_role_for_every_role_it_names(attack: Attack, place: str) -> None:
    name = attack.world.unique("esc")
    if place in ("advancedConfiguration", "lifecycleHook"):
        created = attack.blue_green(name, attack.infra)
        attack.ecs.create_service(**created)
        lb = created["loadBalancers"][0]
        if place == "advancedConfiguration":
            changed = {"loadBalancers": [{**lb, "advancedConfiguration": {
                **lb["advancedConfiguration"], "roleArn": attack.admin_role}}]}
        else:
            changed = {"deploymentConfiguration": {**created["deploymentConfiguration"],
                                                   "lifecycleHooks": hook(attack.admin_role)}}
    else:
        attack.ecs.create_service(**attack.simple(name))
        changed = EXTRAS[place](attack.admin_role)
    attack.refused(attack.ecs.update_service, cluster=attack.world.cluster, service=name, **changed)
    shown = json.dumps(attack.world.ecs.describe_services(cluster=attack.world.cluster, services=[name]),
                       default=str)
    assert attack.admin_role not in shown
    attack.permit(ECS)
    attack.ecs.update_service(cluster=attack.world.cluster, service=name, **changed)


@pytest.mark.parametrize("member", ["taskRoleArn", "executionRoleArn"])
def test_register_task_definition_needs_pass_role_to_ecs_tasks(attack: Attack, member: str) -> None:
    family = attack.world.unique("esc-td")
    args = {"family": family, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256",
            "memory": "512", "containerDefinitions": [{"name": "web", "image": "nginx:1.27", "essential": True}],
            member: attack.admin_role}
    attack.refused(attack.ecs.register_task_definition, **args)
    assert attack.world.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"] == []
    attack.permit(ECS)  # the wrong service for a task's role
    attack.refused(attack.ecs.register_task_definition, **args)
    attack.permit(TASKS)
    assert attack.ecs.register_task_definition(**args)["taskDefinition"][member] == attack.admin_role


def _run(attack: Attack, task_definition: str, **extra: Any) -> dict[str, Any]:
    return {"cluster": attack.world.cluster, "taskDefinition": task_definition, "launchType": "FARGATE",
            "networkConfiguration": attack.world.network, **extra}


@pytest.mark.parametrize("how", ["taskDefinition", "overrides.taskRoleArn", "overrides.executionRoleArn"])
def test_run_task_needs_pass_role_for_the_roles_the_task_gets(attack: Attack, how: str) -> None:
    if how == "taskDefinition":
        # A task definition an administrator registered with a privileged task role: running it passes the role.
        family = attack.world.unique("privileged")
        task_definition = attack.world.ecs.register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            taskRoleArn=attack.admin_role,
            containerDefinitions=[{"name": "web", "image": "nginx:1.27", "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]
        args = _run(attack, task_definition)
    else:
        member = how.split(".")[1]
        args = _run(attack, attack.world.td, overrides={member: attack.admin_role})
    attack.refused(attack.ecs.run_task, **args)
    assert attack.world.ecs.list_tasks(cluster=attack.world.cluster)["taskArns"] == []
    attack.permit(TASKS)
    assert len(attack.ecs.run_task(**args)["tasks"]) == 1


def test_run_task_needs_pass_role_for_the_managed_ebs_volume_role(attack: Attack) -> None:
    args = _run(attack, attack.world.td, **ebs_volume(attack.admin_role))
    attack.refused(attack.ecs.run_task, **args)
    assert attack.world.ecs.list_tasks(cluster=attack.world.cluster)["taskArns"] == []
    attack.permit(ECS)
    assert len(attack.ecs.run_task(**args)["tasks"]) == 1


def test_the_seed_policy_passes_its_own_role_only(attack: Attack) -> None:
    """The seed's PassRole statement, as the attacker holds it: the infrastructure role it names passes, an
    administrator role with the same trust policy does not."""
    name = attack.world.unique("seeded")
    assert attack.ecs.create_service(**attack.blue_green(name, attack.infra))["service"]["serviceName"] == name
    lookalike = attack.world.unique("ecsInfrastructureRoleForLoadBalancers")
    arn = attack.world.iam.create_role(RoleName=lookalike, AssumeRolePolicyDocument=json.dumps(ECS_TRUST))
    message = denied(attack.ecs.create_service, **attack.blue_green(attack.world.unique("x"), arn["Role"]["Arn"]))
    assert f"iam:PassRole on resource: {arn['Role']['Arn']}" in message
