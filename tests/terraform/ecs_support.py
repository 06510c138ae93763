"""The Terraform AWS provider's (v6.x) calls for the ECS resources of the seed's configuration, replayed through
boto3: each function makes the provider's calls for one step of one resource, in its order and with its
parameters, and returns what the provider's Read would put in the state (the attributes a plan compares).

Read from the provider's source (``internal/service/ecs``): ``cluster.go`` (CreateCluster, waitClusterAvailable,
DescribeClusters with ``include=[TAGS, CONFIGURATIONS, SETTINGS]``, an INACTIVE cluster is gone, DeleteCluster
retried on ClusterContains*Exception, waitClusterDeleted), ``cluster_capacity_providers.go``
(PutClusterCapacityProviders, and on destroy the same call with empty lists), ``task_definition.go``
(RegisterTaskDefinition, DescribeTaskDefinition with ``include=[TAGS]``: INACTIVE or a 400 is "gone";
destroy is DeregisterTaskDefinition only, never DeleteTaskDefinitions) and ``service.go`` (CreateService with
a client token, waitServiceStable, DescribeServices with ``include=[TAGS]``, UpdateService with the changed
members only, destroy = UpdateService desiredCount 0, DeleteService, waitServiceInactive).

The infrastructure (IAM roles, the load balancer, its target groups, listeners and rules) is made with plain
boto3 calls: other areas replay those resources.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from tests.conftest import LambdaEndpoint, Server

ECS_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Sid": "AllowAccessToECSForInfrastructureManagement", "Effect": "Allow",
    "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
TASKS_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
LB_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
# service.go: the provider's own statuses of statusServiceWaitForStable, and the deployments' final statuses.
PENDING, STABLE = "tfPENDING", "tfSTABLE"
FAILED_FINAL = ("STOPPED", "ROLLBACK_FAILED", "ROLLBACK_SUCCESSFUL")


class HookEndpoint(LambdaEndpoint):
    """The Lambda function of the service's lifecycle hook (``--lambda hook=<url>``): answers SUCCEEDED (FAILED for
    the services in ``failing``) and keeps every event it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.failing: set[str] = set()  # services (ARNs) whose hook invocations answer FAILED
        self.answer = self._by_service

    def _by_service(self, event: dict[str, Any]) -> dict[str, Any]:
        failed = event.get("executionDetails", {}).get("serviceArn") in self.failing
        return {"hookStatus": "FAILED" if failed else "SUCCEEDED"}


@dataclass
class Infra:
    """What the ECS resources of the seed's configuration refer to."""

    infra_role: str
    hook_role: str
    execution_role: str
    hook_function: str
    vpc: str
    subnets: list[str]
    security_group: str
    lb: str
    blue: str
    green: str
    production_rule: str
    test_rule: str


def build_infra(server: Server, name: str) -> Infra:
    """The roles, the ALB, its blue and green target groups (ip) and the production (blue 100 / green 0) and test
    (green) listener rules, as the seed's configuration declares them."""
    iam, ec2, elb = server.client("iam"), server.client("ec2"), server.client("elbv2")
    infra = iam.create_role(RoleName=f"{name}-infra", AssumeRolePolicyDocument=json.dumps(ECS_TRUST))["Role"]["Arn"]
    iam.attach_role_policy(RoleName=f"{name}-infra", PolicyArn=LB_POLICY)
    hook = iam.create_role(RoleName=f"{name}-hook", AssumeRolePolicyDocument=json.dumps(ECS_TRUST))["Role"]["Arn"]
    iam.put_role_policy(RoleName=f"{name}-hook", PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                                "Resource": "*"}]}))
    execution = iam.create_role(RoleName=f"{name}-exec",
                                AssumeRolePolicyDocument=json.dumps(TASKS_TRUST))["Role"]["Arn"]
    iam.attach_role_policy(RoleName=f"{name}-exec", PolicyArn=EXECUTION_POLICY)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "default-for-az", "Values": ["true"]}])["Subnets"])[:2]
    group = ec2.create_security_group(GroupName=f"{name}-tasks", Description="tasks", VpcId=vpc)["GroupId"]
    lb = elb.create_load_balancer(Name=name[-32:], Subnets=subnets, Type="application")["LoadBalancers"][0][
        "LoadBalancerArn"]
    groups = []
    for color in ("blue", "green"):
        tg = elb.create_target_group(Name=f"{color}-{name}"[:32], Protocol="HTTP", Port=80, VpcId=vpc,
                                     TargetType="ip", HealthCheckIntervalSeconds=5, HealthyThresholdCount=2,
                                     HealthCheckTimeoutSeconds=2)["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "5"}])
        groups.append(tg)
    blue, green = groups
    fixed = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
    rules = []
    for port, forward in ((80, [{"TargetGroupArn": blue, "Weight": 100}, {"TargetGroupArn": green, "Weight": 0}]),
                          (8080, [{"TargetGroupArn": green, "Weight": 100}, {"TargetGroupArn": blue, "Weight": 0}])):
        listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=port,
                                       DefaultActions=fixed)["Listeners"][0]["ListenerArn"]
        rules.append(elb.create_rule(ListenerArn=listener, Priority=1, Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
            Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": forward}}])["Rules"][0]["RuleArn"])
    function = "arn:aws:lambda:us-east-1:000000000000:function:hook"
    return Infra(infra, hook, execution, function, vpc, subnets, group, lb, blue, green, rules[0], rules[1])


def tags_map(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["key"]: t["value"] for t in tags or []}


def tags_in(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags.items()]


def poll(refresh: Callable[[], tuple[Any, str]], pending: tuple[str, ...], target: tuple[str, ...],
         timeout: float = 60.0) -> Any:
    """The provider's StateChangeConf: refresh until a target state (an empty state is "gone"), failing on a state
    that is neither pending nor target."""
    deadline = time.monotonic() + timeout
    while True:
        value, state = refresh()
        if state in target:
            return value
        if state not in pending:
            raise AssertionError(f"unexpected state {state!r} (waiting for {target})")
        if time.monotonic() > deadline:
            raise AssertionError(f"still {state!r} after {timeout}s (waiting for {target})")
        time.sleep(0.05)


# -- aws_ecs_cluster ---------------------------------------------------------------------------------------------

def find_cluster(ecs: Any, id_: str) -> dict[str, Any] | None:
    """findClusterByNameOrARN: None when DescribeClusters reports it missing or INACTIVE."""
    try:
        found = ecs.describe_clusters(clusters=[id_], include=["TAGS", "CONFIGURATIONS", "SETTINGS"])
    except ClientError as error:
        if error.response["Error"]["Code"] == "ClusterNotFoundException":
            return None
        raise
    clusters = found["clusters"]
    if len(clusters) != 1 or clusters[0]["status"] == "INACTIVE":
        return None
    cluster: dict[str, Any] = clusters[0]
    return cluster


def cluster_state(cluster: dict[str, Any]) -> dict[str, Any]:
    """resourceClusterRead's attributes."""
    state: dict[str, Any] = {"arn": cluster["clusterArn"], "name": cluster["clusterName"],
                             "setting": sorted((s["name"], s["value"]) for s in cluster.get("settings") or []),
                             "tags": tags_map(cluster.get("tags"))}
    if cluster.get("configuration") is not None:
        state["configuration"] = cluster["configuration"]
    state["service_connect_defaults"] = cluster.get("serviceConnectDefaults")
    return state


def cluster_create(ecs: Any, name: str, settings: list[dict[str, str]], tags: dict[str, str],
                   configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {"clusterName": name, "tags": tags_in(tags)}
    if configuration is not None:
        args["configuration"] = configuration
    if settings:
        args["settings"] = settings
    arn = ecs.create_cluster(**args)["cluster"]["clusterArn"]
    return cluster_wait_and_read(ecs, arn)


def cluster_wait_and_read(ecs: Any, arn: str) -> dict[str, Any]:
    """waitClusterAvailable, then resourceClusterRead."""
    poll(lambda: ((c := find_cluster(ecs, arn)), c["status"] if c else ""), ("PROVISIONING",), ("ACTIVE",))
    found = find_cluster(ecs, arn)
    assert found is not None
    return cluster_state(found)


def update_tags(ecs: Any, arn: str, old: dict[str, str], new: dict[str, str]) -> None:
    """updateTags (tags_gen.go): UntagResource for the keys that went, TagResource for the new or changed ones."""
    removed = [key for key in old if key not in new]
    if removed:
        ecs.untag_resource(resourceArn=arn, tagKeys=removed)
    changed = {key: value for key, value in new.items() if old.get(key) != value}
    if changed:
        ecs.tag_resource(resourceArn=arn, tags=tags_in(changed))


def cluster_update(ecs: Any, arn: str, settings: list[dict[str, str]], old_tags: dict[str, str],
                   new_tags: dict[str, str]) -> dict[str, Any]:
    """resourceClusterUpdate for a changed ``setting`` and changed tags: UpdateCluster, waitClusterAvailable, the
    tag calls, Read."""
    ecs.update_cluster(cluster=arn, settings=settings)
    poll(lambda: ((c := find_cluster(ecs, arn)), c["status"] if c else ""), ("PROVISIONING",), ("ACTIVE",))
    update_tags(ecs, arn, old_tags, new_tags)
    return cluster_wait_and_read(ecs, arn)


def cluster_destroy(ecs: Any, arn: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            ecs.delete_cluster(cluster=arn)
            break
        except ClientError as error:
            retry = ("ClusterContainsContainerInstancesException", "ClusterContainsServicesException",
                     "ClusterContainsTasksException", "UpdateInProgressException")
            if error.response["Error"]["Code"] not in retry or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    poll(lambda: ((c := find_cluster(ecs, arn)), c["status"] if c else ""), ("ACTIVE", "DEPROVISIONING"), ("",))


# -- aws_ecs_cluster_capacity_providers --------------------------------------------------------------------------

def capacity_providers_state(cluster: dict[str, Any]) -> dict[str, Any]:
    return {"capacity_providers": sorted(cluster["capacityProviders"]), "cluster_name": cluster["clusterName"],
            "default_capacity_provider_strategy": sorted(
                (s["capacityProvider"], s.get("weight", 0), s.get("base", 0))
                for s in cluster["defaultCapacityProviderStrategy"])}


def capacity_providers_put(ecs: Any, cluster: str, providers: list[str],
                           strategy: list[dict[str, Any]]) -> dict[str, Any]:
    ecs.put_cluster_capacity_providers(cluster=cluster, capacityProviders=providers,
                                       defaultCapacityProviderStrategy=strategy)
    poll(lambda: ((c := find_cluster(ecs, cluster)), c["status"] if c else ""), ("PROVISIONING",), ("ACTIVE",))
    found = find_cluster(ecs, cluster)
    assert found is not None
    return capacity_providers_state(found)


def capacity_providers_destroy(ecs: Any, cluster: str) -> None:
    try:
        ecs.put_cluster_capacity_providers(cluster=cluster, capacityProviders=[], defaultCapacityProviderStrategy=[])
    except ClientError as error:
        if error.response["Error"]["Code"] == "ClusterNotFoundException":
            return
        raise
    poll(lambda: ((c := find_cluster(ecs, cluster)), c["status"] if c else ""), ("PROVISIONING",), ("ACTIVE",))


# -- aws_ecs_task_definition -------------------------------------------------------------------------------------

def find_task_definition(ecs: Any, family_or_arn: str) -> tuple[dict[str, Any], list[dict[str, str]]] | None:
    """findTaskDefinitionByFamilyOrARN: None on a 400, or when INACTIVE or DELETE_IN_PROGRESS."""
    try:
        found = ecs.describe_task_definition(taskDefinition=family_or_arn, include=["TAGS"])
    except ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] == 400:
            return None
        raise
    if found["taskDefinition"]["status"] in ("INACTIVE", "DELETE_IN_PROGRESS"):
        return None
    return found["taskDefinition"], found.get("tags") or []


def task_definition_state(td: dict[str, Any], tags: list[dict[str, str]]) -> dict[str, Any]:
    return {"arn": td["taskDefinitionArn"], "family": td["family"], "revision": td["revision"],
            "cpu": td.get("cpu"), "memory": td.get("memory"), "network_mode": td.get("networkMode"),
            "requires_compatibilities": sorted(td.get("requiresCompatibilities") or []),
            "execution_role_arn": td.get("executionRoleArn"), "container_definitions": td["containerDefinitions"],
            "tags": tags_map(tags)}


def reduce_containers(containers: list[dict[str, Any]], awsvpc: bool) -> list[dict[str, Any]]:
    """containerDefinitionsAreEquivalent's canonical form (``ecs_task_definition_equivalency.go``): containers,
    environment variables and secrets in name order, ``essential`` true when absent, health check defaults
    (30 s, 3 retries, 5 s), port protocol ``tcp`` dropped, host port 0 dropped and, with awsvpc, the container
    port, empty lists dropped, ``cpu`` 0 when absent (a plain int32 in the SDK)."""
    out = []
    for container in sorted(containers, key=lambda c: str(c.get("name"))):
        item = {k: v for k, v in container.items() if not (isinstance(v, list) and not v)}
        item.setdefault("essential", True)
        item.setdefault("cpu", 0)
        for member in ("environment", "secrets"):
            if member in item:
                item[member] = sorted(item[member], key=lambda e: str(e.get("name")))
        if "healthCheck" in item:
            item["healthCheck"] = {"interval": 30, "retries": 3, "timeout": 5, **item["healthCheck"]}
        mappings = []
        for mapping in item.get("portMappings") or []:
            pm = dict(mapping)
            if pm.get("protocol") == "tcp":
                pm.pop("protocol")
            if not pm.get("hostPort"):
                pm.pop("hostPort", None)
            if awsvpc and "hostPort" not in pm:
                pm["hostPort"] = pm.get("containerPort")
            mappings.append(pm)
        if mappings:
            item["portMappings"] = mappings
        out.append(item)
    return out


def task_definition_create(ecs: Any, config: dict[str, Any]) -> dict[str, Any]:
    optional: dict[str, Any] = {}
    if config.get("tags"):  # getTagsIn: nothing without tags
        optional["tags"] = tags_in(config["tags"])
    if config.get("execution_role_arn"):  # d.GetOk
        optional["executionRoleArn"] = config["execution_role_arn"]
    arn = ecs.register_task_definition(
        containerDefinitions=config["container_definitions"], family=config["family"], **optional,
        cpu=config["cpu"], memory=config["memory"], networkMode=config["network_mode"],
        requiresCompatibilities=config["requires_compatibilities"])["taskDefinition"]["taskDefinitionArn"]
    found = find_task_definition(ecs, arn)
    assert found is not None
    return task_definition_state(*found)


def task_definition_destroy(ecs: Any, arn: str) -> None:
    try:
        ecs.deregister_task_definition(taskDefinition=arn)
    except ClientError as error:
        if not (error.response["Error"]["Code"] == "ClientException"
                and "in the process of being deleted" in error.response["Error"]["Message"]):
            raise


# -- aws_ecs_service ---------------------------------------------------------------------------------------------

def find_service(ecs: Any, name: str, cluster: str, *, tags: bool) -> dict[str, Any] | None:
    """findServiceByTwoPartKey / findServiceNoTagsByTwoPartKey: None for ClusterNotFound, ServiceNotFound or a
    failure MISSING."""
    args: dict[str, Any] = {"cluster": cluster, "services": [name]}
    if tags:
        args["include"] = ["TAGS"]
    try:
        found = ecs.describe_services(**args)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("ClusterNotFoundException", "ServiceNotFoundException"):
            return None
        raise
    if any(f.get("reason") == "MISSING" for f in found["failures"]):
        return None
    assert len(found["services"]) == 1, found
    service: dict[str, Any] = found["services"][0]
    return service


def status_service(ecs: Any, name: str, cluster: str) -> tuple[dict[str, Any] | None, str]:
    service = find_service(ecs, name, cluster, tags=False)
    return service, (service["status"] if service else "")


class StableWaiter:
    """statusServiceWaitForStable: a new ECS deployment is stable when its service deployment (found by the
    PRIMARY deployment's ``ecs-svc/<n>`` inside a targetServiceRevisionArn listed since the operation) is
    SUCCESSFUL; otherwise one deployment with every desired task running."""

    def __init__(self, ecs: Any, name: str, cluster: str, operation_time: datetime) -> None:
        self.ecs, self.name, self.cluster, self.operation_time = ecs, name, cluster, operation_time
        self.primary: dict[str, Any] | None = None
        self.new_primary = False
        self.deployment_arn: str | None = None
        self.listed: list[dict[str, Any]] = []

    def refresh(self) -> tuple[dict[str, Any] | None, str]:
        service, status = status_service(self.ecs, self.name, self.cluster)
        if status != "ACTIVE" or service is None:
            return service, status
        if self.primary is None:
            self.primary = next((d for d in service["deployments"] if d["status"] == "PRIMARY"), None)
            if self.primary is not None and self.primary.get("createdAt") is not None:
                self.new_primary = self.primary["createdAt"] > self.operation_time
        if service.get("deploymentController", {}).get("type") == "ECS" and self.new_primary:
            assert self.primary is not None
            if self.deployment_arn is None:
                task_set_id = self.primary["id"].split("/")[1]
                self.listed = self._list(service["serviceArn"].rsplit("/", 1)[-1])
                self.deployment_arn = next((d["serviceDeploymentArn"] for d in self.listed
                                            if task_set_id in d["targetServiceRevisionArn"]), None)
                if self.deployment_arn is None:
                    return service, PENDING
            found = self.ecs.describe_service_deployments(serviceDeploymentArns=[self.deployment_arn])
            if not found["serviceDeployments"]:
                return service, PENDING
            deployment = found["serviceDeployments"][0]
            if deployment["status"] == "SUCCESSFUL":
                return service, STABLE
            if deployment["status"] in FAILED_FINAL:
                raise AssertionError(deployment.get("statusReason") or "Deployment failed")
            return service, PENDING
        if len(service["deployments"]) == 1 and service["desiredCount"] == service["runningCount"]:
            return service, STABLE
        return service, PENDING

    def _list(self, service_name: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        args: dict[str, Any] = {"cluster": self.cluster, "service": service_name,
                                "createdAt": {"after": self.operation_time}}
        while True:
            page = self.ecs.list_service_deployments(**args)
            out.extend(page["serviceDeployments"])
            if not page.get("nextToken"):
                return out
            args["nextToken"] = page["nextToken"]

    def wait(self, timeout: float = 90.0) -> dict[str, Any]:
        found: dict[str, Any] = poll(self.refresh, ("INACTIVE", "DRAINING", PENDING), (STABLE,), timeout)
        return found


def expand_service(config: dict[str, Any]) -> dict[str, Any]:
    """resourceServiceCreate's CreateServiceInput for ``config`` (the resource's arguments, Terraform names)."""
    deployment: dict[str, Any] = {"maximumPercent": 200, "minimumHealthyPercent": 100}
    block = config["deployment_configuration"]
    deployment["strategy"] = block["strategy"]
    deployment["bakeTimeInMinutes"] = int(block["bake_time_in_minutes"])
    if block.get("lifecycle_hook"):
        deployment["lifecycleHooks"] = [expand_hook(h) for h in block["lifecycle_hook"]]
    request: dict[str, Any] = {
        # expandCapacityProviderStrategyItems makes a non-nil empty slice: "[]" is sent even with a launch type.
        "capacityProviderStrategy": [{"capacityProvider": c["capacity_provider"], "weight": c["weight"],
                                      "base": c["base"]} for c in config.get("capacity_provider_strategy", [])],
        "clientToken": str(uuid.uuid4()), "deploymentConfiguration": deployment,
        "enableECSManagedTags": False, "enableExecuteCommand": False,
        "networkConfiguration": expand_network(config["network_configuration"]),
        "schedulingStrategy": "REPLICA", "serviceName": config["name"],
        "vpcLatticeConfigurations": [], "cluster": config["cluster"], "desiredCount": config["desired_count"],
        "loadBalancers": [expand_load_balancer(lb) for lb in config["load_balancer"]],
        "taskDefinition": config["task_definition"],
    }
    if config.get("tags"):  # getTagsIn: nothing without tags
        request["tags"] = tags_in(config["tags"])
    if config.get("launch_type"):  # d.GetOk
        request["launchType"] = config["launch_type"]
    if config.get("health_check_grace_period_seconds"):  # d.GetOk: 0 is not sent
        request["healthCheckGracePeriodSeconds"] = config["health_check_grace_period_seconds"]
    return request


def expand_hook(hook: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"hookTargetArn": hook["hook_target_arn"], "roleArn": hook["role_arn"],
                           "lifecycleStages": list(hook["lifecycle_stages"])}
    if hook.get("hook_details"):
        out["hookDetails"] = json.loads(hook["hook_details"])
    return out


def expand_network(block: dict[str, Any]) -> dict[str, Any]:
    return {"awsvpcConfiguration": {"securityGroups": list(block["security_groups"]),
                                    "subnets": list(block["subnets"]),
                                    "assignPublicIp": "ENABLED" if block["assign_public_ip"] else "DISABLED"}}


def expand_load_balancer(block: dict[str, Any]) -> dict[str, Any]:
    advanced = block["advanced_configuration"]
    out: dict[str, Any] = {"containerName": block["container_name"], "containerPort": block["container_port"],
                           "targetGroupArn": block["target_group_arn"], "advancedConfiguration": {
                               "alternateTargetGroupArn": advanced["alternate_target_group_arn"],
                               "productionListenerRule": advanced["production_listener_rule"],
                               "roleArn": advanced["role_arn"]}}
    if advanced.get("test_listener_rule"):
        out["advancedConfiguration"]["testListenerRule"] = advanced["test_listener_rule"]
    return out


def service_state(service: dict[str, Any], cluster_given: str, task_definition_given: str) -> dict[str, Any]:
    """resourceServiceRead's attributes that the seed's configuration sets (and the Optional ones it leaves
    unset, which must read back empty or as their defaults). The cluster and the task definition are kept in
    the format the configuration gives them (an ARN, or a name / ``family:revision``), as the Read does."""
    dc = service.get("deploymentConfiguration") or {}
    hooks = []
    for hook in dc.get("lifecycleHooks") or []:
        flat: dict[str, Any] = {"hook_target_arn": hook.get("hookTargetArn"), "role_arn": hook.get("roleArn"),
                                "lifecycle_stages": hook.get("lifecycleStages")}
        if hook.get("hookDetails") is not None:
            flat["hook_details"] = json.dumps(hook["hookDetails"], sort_keys=True)
        hooks.append(flat)
    deployment: dict[str, Any] = {"strategy": dc.get("strategy"), "lifecycle_hook": hooks}
    if dc.get("bakeTimeInMinutes") is not None:
        deployment["bake_time_in_minutes"] = str(dc["bakeTimeInMinutes"])
    load_balancers = []
    for lb in service.get("loadBalancers") or []:
        flat_lb: dict[str, Any] = {"container_name": lb.get("containerName"), "container_port": lb.get("containerPort"),
                                   "target_group_arn": lb.get("targetGroupArn")}
        if lb.get("loadBalancerName") is not None:
            flat_lb["elb_name"] = lb["loadBalancerName"]
        advanced = lb.get("advancedConfiguration")
        if advanced is not None:
            flat_lb["advanced_configuration"] = {
                "alternate_target_group_arn": advanced.get("alternateTargetGroupArn"),
                "production_listener_rule": advanced.get("productionListenerRule"),
                "role_arn": advanced.get("roleArn")}
            if advanced.get("testListenerRule") is not None:
                flat_lb["advanced_configuration"]["test_listener_rule"] = advanced["testListenerRule"]
        load_balancers.append(flat_lb)
    vpc = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    network = None if vpc is None else {
        "security_groups": sorted(vpc.get("securityGroups") or []), "subnets": sorted(vpc.get("subnets") or []),
        "assign_public_ip": vpc.get("assignPublicIp") == "ENABLED"}
    primary = next((d for d in service["deployments"] if d["status"] == "PRIMARY"), {})
    task_definition = service.get("taskDefinition")
    if task_definition and not task_definition_given.startswith("arn:"):
        task_definition = task_definition.rsplit("/", 1)[-1]  # familyAndRevisionFromTaskDefinitionARN
    return {
        "arn": service["serviceArn"], "name": service["serviceName"],
        "cluster": service["clusterArn"] if cluster_given.startswith("arn:") else
        service["clusterArn"].rsplit("/", 1)[-1],
        "availability_zone_rebalancing": service.get("availabilityZoneRebalancing"),
        "capacity_provider_strategy": sorted((c["capacityProvider"], c.get("weight", 0), c.get("base", 0))
                                             for c in service.get("capacityProviderStrategy") or []),
        "deployment_maximum_percent": dc.get("maximumPercent"),
        "deployment_minimum_healthy_percent": dc.get("minimumHealthyPercent"),
        "deployment_circuit_breaker": dc.get("deploymentCircuitBreaker"), "alarms": dc.get("alarms"),
        "deployment_configuration": deployment,
        "deployment_controller": (service.get("deploymentController") or {"type": "ECS"})["type"],
        "desired_count": service["desiredCount"], "enable_execute_command": service.get("enableExecuteCommand"),
        "enable_ecs_managed_tags": service.get("enableECSManagedTags"),
        "health_check_grace_period_seconds": service.get("healthCheckGracePeriodSeconds") or 0,
        "launch_type": service.get("launchType", ""), "load_balancer": load_balancers,
        "network_configuration": network,
        "ordered_placement_strategy": service.get("placementStrategy") or [],
        "placement_constraints": service.get("placementConstraints") or [],
        "platform_version": service.get("platformVersion"), "propagate_tags": service.get("propagateTags"),
        "scheduling_strategy": service.get("schedulingStrategy"),
        "service_registries": service.get("serviceRegistries") or [],
        "task_definition": task_definition,
        "service_connect_configuration": primary.get("serviceConnectConfiguration"),
        "volume_configuration": primary.get("volumeConfigurations") or [],
        "vpc_lattice_configurations": primary.get("vpcLatticeConfigurations") or [],
        "tags": tags_map(service.get("tags")),
    }


def service_read(ecs: Any, arn: str, cluster: str, task_definition: str) -> dict[str, Any]:
    """findServiceByTwoPartKeyWaitForActive and the Read's attributes (``task_definition``: the configuration's)."""
    deadline = time.monotonic() + 30
    while True:
        service = find_service(ecs, arn, cluster, tags=True)
        if service is not None and service["status"] == "ACTIVE":
            return service_state(service, cluster, task_definition)
        assert time.monotonic() < deadline, f"service {arn} not ACTIVE: {service and service['status']}"
        time.sleep(0.05)


def service_create(ecs: Any, config: dict[str, Any]) -> tuple[str, dict[str, Any], StableWaiter]:
    """CreateService, waitServiceStable (wait_for_steady_state = true), Read: (id, state, the waiter)."""
    request = expand_service(config)
    operation_time = datetime.now(UTC)
    arn = ecs.create_service(**request)["service"]["serviceArn"]
    waiter = StableWaiter(ecs, arn, config["cluster"], operation_time)
    waiter.wait()
    return arn, service_read(ecs, arn, config["cluster"], config["task_definition"]), waiter


def service_update(ecs: Any, arn: str, config: dict[str, Any],
                   changes: dict[str, Any]) -> tuple[dict[str, Any], StableWaiter]:
    """UpdateService with the members that changed (``changes``, API names), waitServiceStable, Read (``config``:
    the new configuration)."""
    cluster = config["cluster"]
    operation_time = datetime.now(UTC)
    ecs.update_service(cluster=cluster, forceNewDeployment=False, service=arn, **changes)
    waiter = StableWaiter(ecs, arn, cluster, operation_time)
    waiter.wait()
    return service_read(ecs, arn, cluster, config["task_definition"]), waiter


def service_destroy(ecs: Any, arn: str, cluster: str) -> None:
    """resourceServiceDelete: drain (desiredCount 0), DeleteService (retried while deployments are active),
    waitServiceInactive."""
    service = find_service(ecs, arn, cluster, tags=False)
    if service is None or service["status"] == "INACTIVE":
        return
    if service["status"] != "DRAINING":
        ecs.update_service(cluster=cluster, desiredCount=0, service=arn)
    deadline = time.monotonic() + 60
    while True:
        try:
            ecs.delete_service(cluster=cluster, force=False, service=arn)
            break
        except ClientError as error:
            if "The service cannot be stopped while deployments are active." not in error.response["Error"][
                    "Message"] or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    poll(lambda: status_service(ecs, arn, cluster), ("ACTIVE", "DRAINING"), ("INACTIVE",))
