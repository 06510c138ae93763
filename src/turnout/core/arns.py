"""ARNs in AWS's formats, built and read in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse(arn: str) -> Arn | None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def account_of(arn: str) -> str | None:
    """The account field of ``arn`` as written (``aws`` for an AWS managed policy, empty for an S3 bucket); None
    when ``arn`` is not an ARN."""
    found = parse(arn)
    return found.account if found is not None else None


def role_name(arn: str) -> str | None:
    """The name of the role ``arn:<partition>:iam::<account>:role/<path><name>`` (without its path); None when
    ``arn`` is not a role's ARN."""
    found = parse(arn)
    if found is None or found.service != "iam" or found.region or not found.resource.startswith("role/"):
        return None
    return found.resource.rsplit("/", 1)[-1]


def iam(account: str, kind: str, path: str, name: str) -> str:
    """``arn:aws:iam::<account>:<kind>/<path-without-leading-slash><name>`` (path ``/`` gives ``kind/name``)."""
    return f"arn:aws:iam::{account}:{kind}{path}{name}"


def role(account: str, name: str, path: str = "/") -> str:
    return iam(account, "role", path, name)


def user(account: str, name: str, path: str = "/") -> str:
    return iam(account, "user", path, name)


def group(account: str, name: str, path: str = "/") -> str:
    return iam(account, "group", path, name)


def policy(account: str, name: str, path: str = "/") -> str:
    return iam(account, "policy", path, name)


def instance_profile(account: str, name: str, path: str = "/") -> str:
    """``arn:aws:iam::<account>:instance-profile/<path without the leading slash><name>``."""
    return iam(account, "instance-profile", path, name)


def aws_managed_policy(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::aws:policy{path}{name}"


def root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def assumed_role(account: str, role_name: str, session_name: str) -> str:
    return f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"


def federated_user(account: str, name: str) -> str:
    return f"arn:aws:sts::{account}:federated-user/{name}"


# -- regional services -----------------------------------------------------------------------------------------


def regional(service: str, region: str, account: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def elb_load_balancer(region: str, account: str, kind: str, name: str, lb_id: str) -> str:
    """``kind`` is ``app``, ``net`` or ``gwy``."""
    return regional("elasticloadbalancing", region, account, f"loadbalancer/{kind}/{name}/{lb_id}")


def elb_listener(load_balancer_arn: str, listener_id: str) -> str:
    """``listener/app/<lb-name>/<lb-id>/<listener-id>`` under the load balancer's ARN."""
    return load_balancer_arn.replace(":loadbalancer/", ":listener/", 1) + f"/{listener_id}"


def elb_listener_rule(listener_arn: str, rule_id: str) -> str:
    """``listener-rule/app/<lb-name>/<lb-id>/<listener-id>/<rule-id>`` under the listener's ARN."""
    return listener_arn.replace(":listener/", ":listener-rule/", 1) + f"/{rule_id}"


def elb_target_group(region: str, account: str, name: str, tg_id: str) -> str:
    return regional("elasticloadbalancing", region, account, f"targetgroup/{name}/{tg_id}")


def ec2(region: str, account: str, kind: str, resource_id: str) -> str:
    """``arn:aws:ec2:<region>:<account>:<kind>/<id>`` (vpc, subnet, security-group...)."""
    return regional("ec2", region, account, f"{kind}/{resource_id}")


def cloudtrail_trail(region: str, account: str, name: str) -> str:
    """``arn:aws:cloudtrail:<home region>:<account>:trail/<name>``."""
    return regional("cloudtrail", region, account, f"trail/{name}")


def ecs_cluster(region: str, account: str, name: str) -> str:
    """``arn:aws:ecs:<region>:<account>:cluster/<name>``."""
    return regional("ecs", region, account, f"cluster/{name}")


def ecs_task_definition(region: str, account: str, family: str, revision: int) -> str:
    """``arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>``."""
    return regional("ecs", region, account, f"task-definition/{family}:{revision}")


def ecs_service(region: str, account: str, cluster: str, name: str) -> str:
    """``arn:aws:ecs:<region>:<account>:service/<cluster>/<name>`` (the long ARN format)."""
    return regional("ecs", region, account, f"service/{cluster}/{name}")


def ecs_service_deployment(region: str, account: str, cluster: str, service: str, deployment_id: str) -> str:
    """``arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>``."""
    return regional("ecs", region, account, f"service-deployment/{cluster}/{service}/{deployment_id}")


def ecs_service_revision(region: str, account: str, cluster: str, service: str, revision_id: str) -> str:
    """``arn:aws:ecs:<region>:<account>:service-revision/<cluster>/<service>/<19 digits>``."""
    return regional("ecs", region, account, f"service-revision/{cluster}/{service}/{revision_id}")


def ecs_task(region: str, account: str, cluster: str, task_id: str) -> str:
    """``arn:aws:ecs:<region>:<account>:task/<cluster>/<32 hex digits>``."""
    return regional("ecs", region, account, f"task/{cluster}/{task_id}")


def ecs_container(region: str, account: str, cluster: str, task_id: str, container_id: str) -> str:
    """``arn:aws:ecs:<region>:<account>:container/<cluster>/<task id>/<container id (a UUID)>``."""
    return regional("ecs", region, account, f"container/{cluster}/{task_id}/{container_id}")


def ecs_attachment(region: str, account: str, attachment_id: str) -> str:
    """``arn:aws:ecs:<region>:<account>:attachment/<UUID>``: a task's ENI attachment (its ENI's description)."""
    return regional("ecs", region, account, f"attachment/{attachment_id}")


def ecs_capacity_provider(region: str, account: str, name: str) -> str:
    """``arn:aws:ecs:<region>:<account>:capacity-provider/<name>``."""
    return regional("ecs", region, account, f"capacity-provider/{name}")
