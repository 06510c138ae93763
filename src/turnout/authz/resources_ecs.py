"""ECS: resources and condition keys per operation.

ECS takes names or ARNs for clusters, services, tasks, container instances and capacity providers; an ARN is used
as given, a name is put in the reference's template with the cluster (the ``cluster`` parameter reduced to its
name, ``default`` when absent). A task definition named by family alone is resolved to its latest revision by the
ECS provider (``name_resolvers["ecs:task-definition"]``), else checked as ``family:*``. Tags given to a create are
authorized again as ``ecs:TagResource`` on the new resource with ``ecs:CreateAction`` (AWS's tag-on-create rule
for the eight operations the ECS guide lists).
"""

from __future__ import annotations

from collections.abc import Iterable

from .resources_base import (
    STAR,
    Env,
    Extra,
    KeyValue,
    ServiceRules,
    Spec,
    Target,
    boolean,
    build_arn,
    custom,
    given,
    has,
    last_segment,
    name_resolvers,
    param,
    pluck,
    strings,
    template,
    value_of,
)

CL = param("cluster", default="default", reduce=last_segment)
_CHILDREN = ("service", "task", "container-instance", "task-set", "service-deployment", "service-revision")
ALL_TYPES = ("capacity-provider", "cluster", "container-instance", "service", "task", "task-definition", "task-set")


def _arn(env: Env, type_name: str, **values: str) -> str:
    return build_arn(env, "ecs", type_name, **values)


def _cluster_name(env: Env) -> str:
    value = env.params.get("cluster")
    return last_segment(value) if isinstance(value, str) and value else "default"


def task_definition_arn(env: Env, value: str) -> str:
    """``family``, ``family:revision`` or an ARN -> the task definition's ARN (``family:*`` when the provider
    cannot name the latest revision)."""
    if value.startswith("arn:"):
        return value
    family, _, revision = value.partition(":")
    if not revision:
        resolve = name_resolvers.get("ecs:task-definition")
        found = resolve(env.db, env.account, env.region, value) if resolve is not None else None
        if found:
            return found
    return _arn(env, "task-definition", TaskDefinitionFamilyName=family, TaskDefinitionRevisionNumber=revision or "*")


def _task_definitions(path: str) -> Spec:
    def resolve(env: Env) -> Iterable[str]:
        return [task_definition_arn(env, value) for value in strings(pluck(env.params, path))]

    return custom(resolve, "task-definition", needs=(path,))


def _attribute_targets(env: Env) -> Iterable[str]:
    """PutAttributes/DeleteAttributes: the container instances the attributes are for."""
    cluster = _cluster_name(env)
    out = []
    for target in strings(pluck(env.params, "attributes[].targetId")):
        out.append(target if target.startswith("arn:") else _arn(
            env, "container-instance", ClusterName=cluster, ContainerInstanceId=target))
    return out


def _parts(arn: str) -> tuple[str, str, str, list[str]] | None:
    """An ECS ARN -> (region, account, resource kind, path segments after the kind)."""
    fields = arn.split(":", 5)
    if len(fields) != 6 or fields[2] != "ecs":
        return None
    kind, *rest = fields[5].split("/")
    return fields[3], fields[4], kind, rest


def _child_service(env: Env, arn: str) -> str | None:
    """``.../service-deployment/<cluster>/<service>/<id>`` (or a task set, a revision) -> its service's ARN."""
    found = _parts(arn)
    if found is None or len(found[3]) != 3:
        return None
    region, account, _, (cluster, service, _) = found
    return build_arn(env, "ecs", "service", account=account, region=region, ClusterName=cluster, ServiceName=service)


def _with_service(path: str) -> Spec:
    """Service deployments and revisions: each ARN and the service it belongs to (both resource types are
    required by the reference)."""

    def resolve(env: Env) -> Iterable[str]:
        out: list[str] = []
        for arn in strings(pluck(env.params, path)):
            service = _child_service(env, arn)
            out.extend([arn, service] if service else [arn])
        return out

    return custom(resolve, "service", "service-deployment", "service-revision", needs=(path,))


CLUSTER = template("cluster", ClusterName=param("cluster", default="default", reduce=last_segment, given=True))
SERVICE = template("service", ClusterName=CL,
                   ServiceName=param("service", "services", reduce=last_segment, given=True))
TASK = template("task", ClusterName=CL, TaskId=param("task", "tasks", reduce=last_segment, given=True))
CONTAINER_INSTANCE = template("container-instance", ClusterName=CL, ContainerInstanceId=param(
    "containerInstance", "containerInstances", reduce=last_segment, given=True))
CAPACITY_PROVIDER = template("capacity-provider", CapacityProviderName=param(
    "capacityProvider", "capacityProviders", "name", reduce=last_segment, given=True))
TASK_SET = template("task-set", ClusterName=CL, ServiceName=param("service", reduce=last_segment),
                    TaskSetId=param("taskSet", "taskSets", reduce=last_segment, given=True))

DEFAULTS: dict[str, tuple[Spec, ...]] = {
    "cluster": (CLUSTER,),
    "service": (SERVICE,),
    "task": (TASK,),
    "container-instance": (CONTAINER_INSTANCE,),
    "capacity-provider": (CAPACITY_PROVIDER,),
    "task-set": (TASK_SET,),
    "task-definition": (_task_definitions("taskDefinition"),),
}

NEW_CLUSTER = template("cluster", ClusterName=param("clusterName", default="default"))
NEW_SERVICE = template("service", ClusterName=CL, ServiceName=param("serviceName"))
NEW_TASK_SET = template("task-set", ClusterName=CL, ServiceName=param("service", reduce=last_segment),
                        TaskSetId=STAR)
NEW_TASK_DEFINITION = template("task-definition", TaskDefinitionFamilyName=param("family"),
                               TaskDefinitionRevisionNumber=STAR)
NEW_CAPACITY_PROVIDER = template("capacity-provider", CapacityProviderName=param("name"))
NEW_TASK = template("task", ClusterName=CL, TaskId=STAR)
NEW_CONTAINER_INSTANCE = template("container-instance", ClusterName=CL, ContainerInstanceId=STAR)
EXPRESS_SERVICE = given("serviceArn", "service")
DEPLOYMENT = _with_service("serviceDeploymentArn")

OPS: dict[str, tuple[Spec, ...]] = {
    "CreateCluster": (NEW_CLUSTER,),
    "DescribeClusters": (template("cluster", ClusterName=param(
        "clusters", default="default", reduce=last_segment, given=True)),),
    "CreateService": (NEW_SERVICE,),
    "CreateExpressGatewayService": (
        template("service", ClusterName=CL, ServiceName=param("serviceName", default="*")),),
    "UpdateExpressGatewayService": (EXPRESS_SERVICE,),
    "DeleteExpressGatewayService": (EXPRESS_SERVICE,),
    "DescribeExpressGatewayService": (EXPRESS_SERVICE,),
    "CreateTaskSet": (NEW_TASK_SET,),
    "RegisterTaskDefinition": (NEW_TASK_DEFINITION,),
    "DeleteTaskDefinitions": (_task_definitions("taskDefinitions"),),
    "CreateCapacityProvider": (NEW_CAPACITY_PROVIDER,),
    "PutAttributes": (custom(_attribute_targets, "container-instance", needs=("attributes",)),),
    "DeleteAttributes": (custom(_attribute_targets, "container-instance", needs=("attributes",)),),
    "DescribeServiceDeployments": (_with_service("serviceDeploymentArns"),),
    "StopServiceDeployment": (DEPLOYMENT,),
    "ContinueServiceDeployment": (DEPLOYMENT,),  # newer than the reference: as StopServiceDeployment
    "DescribeServiceRevisions": (_with_service("serviceRevisionArns"),),
    "TagResource": (given("resourceArn", *ALL_TYPES),),
    "UntagResource": (given("resourceArn", *ALL_TYPES),),
    "ListTagsForResource": (given("resourceArn", *ALL_TYPES),),
}


def _tag_on_create(op: str, created: Spec) -> tuple[Extra, ...]:
    return (Extra("TagResource", has("tags"), specs=(created,), keys={"ecs:CreateAction": op}),)


EXTRAS = {
    "CreateCapacityProvider": _tag_on_create("CreateCapacityProvider", NEW_CAPACITY_PROVIDER),
    "CreateCluster": _tag_on_create("CreateCluster", NEW_CLUSTER),
    "CreateService": _tag_on_create("CreateService", NEW_SERVICE),
    "CreateTaskSet": _tag_on_create("CreateTaskSet", NEW_TASK_SET),
    "RegisterContainerInstance": _tag_on_create("RegisterContainerInstance", NEW_CONTAINER_INSTANCE),
    "RegisterTaskDefinition": _tag_on_create("RegisterTaskDefinition", NEW_TASK_DEFINITION),
    "RunTask": _tag_on_create("RunTask", NEW_TASK),
    "StartTask": _tag_on_create("StartTask", NEW_TASK),
}


# -- condition keys ----------------------------------------------------------------------------------------------


def _cluster_key(env: Env, target: Target) -> KeyValue:
    """``ecs:cluster``: the cluster the resource is in (from its ARN), else the request's cluster."""
    found = _parts(target.arn)
    if found is not None:
        region, account, kind, rest = found
        if kind == "cluster":
            return target.arn
        if kind in _CHILDREN and len(rest) >= 2:
            return build_arn(env, "ecs", "cluster", account=account, region=region, ClusterName=rest[0])
    cluster = env.params.get("cluster", env.params.get("clusterArn"))
    if isinstance(cluster, str) and cluster.startswith("arn:"):
        return cluster
    return _arn(env, "cluster", ClusterName=_cluster_name(env))


def _service_key(env: Env, target: Target) -> KeyValue:
    """``ecs:service``: the service a task set, deployment or revision belongs to, else the request's."""
    found = _parts(target.arn)
    if found is not None and found[2] in ("task-set", "service-deployment", "service-revision"):
        return _child_service(env, target.arn)
    service = env.params.get("service")
    if not isinstance(service, str) or not service:
        return None
    if service.startswith("arn:"):
        return service
    return _arn(env, "service", ClusterName=_cluster_name(env), ServiceName=service)


def _capacity_providers(env: Env) -> KeyValue:
    names = strings(pluck(env.params, "capacityProviderStrategy[].capacityProvider"))
    names += strings(env.params.get("capacityProviders"))
    return [n if n.startswith("arn:") else _arn(env, "capacity-provider", CapacityProviderName=n)
            for n in names] or None


def _task_definition(env: Env) -> KeyValue:
    value = env.params.get("taskDefinition", env.params.get("taskDefinitionArn"))
    return task_definition_arn(env, value) if isinstance(value, str) and value else None


def _container_instances(env: Env) -> KeyValue:
    cluster = _cluster_name(env)
    items = strings(env.params.get("containerInstances"))
    return [i if i.startswith("arn:") else _arn(env, "container-instance", ClusterName=cluster, ContainerInstanceId=i)
            for i in items] or None


def _task(env: Env) -> KeyValue:
    task = env.params.get("task")
    if not isinstance(task, str) or not task:
        return None
    return task if task.startswith("arn:") else _arn(env, "task", ClusterName=_cluster_name(env), TaskId=task)


def _managed_ebs(env: Env) -> KeyValue:
    volumes = env.params.get("volumeConfigurations")
    if not isinstance(volumes, list) or not volumes:
        return None
    return "true" if any(isinstance(v, dict) and v.get("managedEBSVolume") for v in volumes) else "false"


def _public_ip(env: Env) -> KeyValue:
    value = pluck(env.params, "networkConfiguration.awsvpcConfiguration.assignPublicIp")
    return None if not isinstance(value, str) else ("true" if value == "ENABLED" else "false")


def _privileged(env: Env) -> KeyValue:
    containers = env.params.get("containerDefinitions")
    if not isinstance(containers, list):
        return None
    return "true" if any(isinstance(c, dict) and c.get("privileged") is True for c in containers) else "false"


def _lattice(env: Env) -> KeyValue:
    configs = env.params.get("vpcLatticeConfigurations")
    return None if configs is None else ("true" if configs else "false")


REQUEST_KEYS = {
    "ecs:capacity-provider": _capacity_providers,
    "ecs:task-definition": _task_definition,
    "ecs:enable-execute-command": lambda env: boolean(env.params.get("enableExecuteCommand")),
    "ecs:enable-ebs-volumes": _managed_ebs,
    "ecs:enable-service-connect": lambda env: boolean(pluck(env.params, "serviceConnectConfiguration.enabled")),
    "ecs:namespace": value_of("serviceConnectConfiguration.namespace"),
    "ecs:enable-vpc-lattice": _lattice,
    "ecs:enable-ecs-managed-tags": lambda env: boolean(env.params.get("enableECSManagedTags")),
    "ecs:propagate-tags": lambda env: value_of("propagateTags")(env) or value_of(
        "managedInstancesProvider.propagateTags")(env),
    "ecs:instance-metadata-tags-propagation": value_of(
        "managedInstancesProvider.instanceLaunchTemplate.instanceMetadataTagsPropagation"),
    "ecs:auto-assign-public-ip": _public_ip,
    "ecs:subnet": value_of("networkConfiguration.awsvpcConfiguration.subnets"),
    "ecs:task-cpu": value_of("cpu"),
    "ecs:task-memory": value_of("memory"),
    "ecs:compute-compatibility": value_of("requiresCompatibilities"),
    "ecs:privileged": _privileged,
    "ecs:container-instances": _container_instances,
    "ecs:container-name": value_of("container"),
    "ecs:task": _task,
    "ecs:account-setting": value_of("name"),
    "ecs:fargate-ephemeral-storage-kms-key": value_of(
        "configuration.managedStorageConfiguration.fargateEphemeralStorageKmsKeyId"),
}

RESOURCE_KEYS = {"ecs:cluster": _cluster_key, "ecs:service": _service_key}

# Operations newer than the reference (2025-12-02), checked under their own names on "*" (daemons and gateways
# have no resource type there); ContinueServiceDeployment acts on the deployment, as StopServiceDeployment does.
UNCATALOGUED = {
    name: "newer than the reference"
    for name in (
        "AssociateGatewayWithCluster", "ContinueServiceDeployment", "CreateDaemon", "CreateGateway",
        "DeleteDaemon", "DeleteDaemonTaskDefinition", "DeleteGateway", "DescribeDaemon",
        "DescribeDaemonDeployments", "DescribeDaemonRevisions", "DescribeDaemonTaskDefinition", "DescribeGateway",
        "DescribeGatewayResources", "DescribeGatewayRoute", "DisassociateGatewayFromCluster",
        "ListDaemonDeployments", "ListDaemonTaskDefinitions", "ListDaemons", "ListGatewayClusterAssociations",
        "ListGatewayRoutes", "ListGateways", "RegisterDaemonTaskDefinition", "UpdateDaemon", "UpdateGateway",
    )
}

RULES = ServiceRules(
    prefix="ecs",
    defaults=DEFAULTS,
    ops=OPS,
    request_keys=REQUEST_KEYS,
    resource_keys=RESOURCE_KEYS,
    extras=EXTRAS,
)
