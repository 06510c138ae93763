"""Services: CreateService, UpdateService, DeleteService, DescribeServices, ListServices.

The API writes rows; the deployment engine (``self.engine``) acts on them. CreateService, and UpdateService when
the change needs a new deployment (task definition, network, platform version, load balancers, service
registries, capacity providers, or ``forceNewDeployment``), write a new service revision and a PENDING service
deployment (see :mod:`.revisions`) and wake the engine; other updates (desiredCount...) change the service's
config and wake it too. DeleteService sets the service DRAINING; the engine stops its tasks and sets it INACTIVE.

Deployment controllers: only ``ECS`` services get revisions and deployments. A ``CODE_DEPLOY`` or ``EXTERNAL``
service is kept with its configuration and no deployments (Turnout serves neither CodeDeploy nor task sets), so
no task runs for it; the non-ROLLING strategies need the ECS controller (our choice, documented in the module).

Every role a request passes needs ``iam:PassRole`` to ``ecs.amazonaws.com`` with the service's ARN as
``iam:AssociatedResourceArn``: advancedConfiguration.roleArn, each lifecycle hook's roleArn, the roles of
Service Connect TLS, managed EBS volumes and VPC Lattice configurations, and the legacy ``role``. The checks run
after validation and before anything is written, so a denied caller leaves nothing behind (the request's
transaction would undo it anyway). CreateService creates the ECS service-linked role AWSServiceRoleForECS in the
caller's account when it is missing, as ECS does for a first service.
"""

from __future__ import annotations

import copy
from typing import Any

from ...authz.passrole import check_pass_role
from ...core import arns
from ...core.context import RequestContext
from ...store.db import Database
from . import events
from .capacity import cluster_providers, default_launch
from .clusters import find_cluster
from .common import invalid, page
from .model import ECS_PRINCIPAL
from .ports import DeploymentEngine
from .revisions import drop_history, start_deployment
from .service_rules import (
    check_desired_count,
    check_launch,
    check_load_balancers,
    check_network,
    check_service_name,
    check_task_definition,
    fill_deployment_configuration,
    merge_deployment_configuration,
    volume_roles,
)
from .service_views import find_service, service_not_active, service_not_found, service_view
from .store import services as store
from .store.clusters import Cluster
from .store.deployments import has_deployment
from .store.services import Service
from .store.task_definitions import TaskDefinition
from .tags import check_new_tags, drop_tags, put_tags
from .task_definitions import find_revision

DESCRIBE_MAX = 10
LINKED_ROLE = "AWSServiceRoleForECS"
LINKED_PATH = "/aws-service-role/ecs.amazonaws.com/"
# Members that need a new deployment when UpdateService changes them.
DEPLOYED = ("taskDefinition", "networkConfiguration", "platformVersion", "loadBalancers", "serviceRegistries",
            "capacityProviderStrategy", "launchType", "serviceConnectConfiguration", "volumeConfigurations",
            "vpcLatticeConfigurations")
# Members stored as given (checked by the model only).
_AS_GIVEN = ("serviceRegistries", "placementConstraints", "placementStrategy", "healthCheckGracePeriodSeconds",
             "propagateTags", "enableECSManagedTags", "enableExecuteCommand", "availabilityZoneRebalancing",
             "serviceConnectConfiguration", "volumeConfigurations", "vpcLatticeConfigurations", "clientToken",
             "capacityProviderStrategy", "launchType", "platformVersion", "schedulingStrategy")


def passed_roles(req: dict[str, Any], role_arn: str | None) -> list[str]:
    """The role ARNs a CreateService/UpdateService request passes to ECS."""
    found: list[str] = []
    for lb in req.get("loadBalancers") or []:
        role = (lb.get("advancedConfiguration") or {}).get("roleArn")
        if role:
            found.append(role)
    for hook in (req.get("deploymentConfiguration") or {}).get("lifecycleHooks") or []:
        if hook.get("roleArn"):
            found.append(hook["roleArn"])
    # The infrastructure roles of Service Connect TLS, managed EBS volumes and VPC Lattice are passed to ECS too
    # (AWS: "A user can pass a role ARN as a parameter in any API operation that uses the role ... The service
    # then checks whether that user has the iam:PassRole permission", facts 5.3).
    for entry in (req.get("serviceConnectConfiguration") or {}).get("services") or []:
        tls = entry.get("tls") or {}
        if tls.get("roleArn"):
            found.append(tls["roleArn"])
    found.extend(volume_roles(req))
    for lattice in req.get("vpcLatticeConfigurations") or []:
        if lattice.get("roleArn"):
            found.append(lattice["roleArn"])
    if req.get("role") and role_arn:
        found.append(role_arn)
    return list(dict.fromkeys(found))


def legacy_role_arn(ctx: RequestContext, role: str) -> str:
    """The legacy ``role`` member: a name (optionally with its path) or an ARN."""
    if role.startswith("arn:"):
        return role
    path, _, name = role.rpartition("/")
    return arns.role(ctx.account_id, name, (path + "/") if path else "/")


def ensure_linked_role(ctx: RequestContext) -> None:
    """Create AWSServiceRoleForECS in the caller's account if missing (through IAM's internals)."""
    from ..iam import service_linked
    from ..iam.store import roles as iam_roles

    if "iam" not in ctx.gateway.providers:
        return
    db = ctx.gateway.db
    if not iam_roles.exists(db, ctx.account_id, LINKED_ROLE):
        service_linked.create(db, ctx, {"AWSServiceName": ECS_PRINCIPAL})


class ServiceOperations:
    """Mixed into :class:`EcsProvider`."""

    db: Database
    engine: DeploymentEngine

    # -- shared ---------------------------------------------------------------------------------------------

    def _configure(self, ctx: RequestContext, req: dict[str, Any], current: dict[str, Any] | None,
                   service_arn: str, cluster: Cluster) -> tuple[dict[str, Any], TaskDefinition | None]:
        """The service's config from a request (over ``current`` for an update), checked; and its task
        definition row (None for a service without one)."""
        config: dict[str, Any] = dict(current or {})
        for member in _AS_GIVEN:
            if req.get(member) is not None:
                config[member] = req[member]
        creating = current is None
        if creating:
            config.setdefault("schedulingStrategy", "REPLICA")
            config.setdefault("availabilityZoneRebalancing", "ENABLED")  # the API reference's default on create
            default_launch(config, cluster)
        if req.get("deploymentController") is not None:
            config["deploymentController"] = req["deploymentController"]
        controller = (config.get("deploymentController") or {}).get("type") or "ECS"
        config["deploymentController"] = {"type": controller}
        daemon = config.get("schedulingStrategy") == "DAEMON"
        check_desired_count(req.get("desiredCount"))
        if req.get("desiredCount") is not None:
            config["desiredCount"] = req["desiredCount"]
        # AWS's reference calls desiredCount required for REPLICA services; Turnout takes 0 when it is absent
        # (UNCONFIRMED what the API answers).
        config.setdefault("desiredCount", 0)
        td: TaskDefinition | None = None
        given_td = req.get("taskDefinition") or (None if creating else config.get("taskDefinition"))
        if given_td:
            td = check_task_definition(find_revision(self.db, ctx, given_td))
            config["taskDefinition"] = td.arn
        elif controller == "ECS":
            raise invalid("TaskDefinition can not be blank.")  # our wording, after "Container Name can not ..."
        td_body: dict[str, Any] = copy.deepcopy(td.body) if td is not None else {}
        check_launch(config, td_body, cluster_providers(cluster)[0],
                     desired_given=creating and req.get("desiredCount") is not None)
        deployment = merge_deployment_configuration(config.get("deploymentConfiguration") or {},
                                                    req.get("deploymentConfiguration") or {})
        config["deploymentConfiguration"] = fill_deployment_configuration(
            deployment, controller=controller, daemon=daemon)
        if td is not None:
            if req.get("networkConfiguration") is not None or creating or req.get("taskDefinition"):
                network = req.get("networkConfiguration") or config.get("networkConfiguration")
                checked = check_network(self.db, ctx, network, td_body, config)
                config.pop("networkConfiguration", None)
                if checked is not None:
                    config["networkConfiguration"] = checked
            if creating or any(req.get(m) is not None for m in ("loadBalancers", "taskDefinition",
                                                                   "deploymentConfiguration")):
                # Unchanged load balancers are not checked again: the engine rewrites their rules' weights.
                lbs = req["loadBalancers"] if req.get("loadBalancers") is not None else config.get("loadBalancers")
                config["loadBalancers"] = check_load_balancers(self.db, ctx, lbs, td_body,
                                                               config["deploymentConfiguration"]["strategy"])
        else:
            config["loadBalancers"] = req.get("loadBalancers") or config.get("loadBalancers") or []
        if config.get("healthCheckGracePeriodSeconds") is not None and not config["loadBalancers"]:
            raise invalid("Health check grace period is only valid for services configured to use load balancers")
        if req.get("role"):
            if td_body.get("networkMode") == "awsvpc":
                raise invalid("You cannot specify an IAM role for services that require a service linked role.")
            if not config["loadBalancers"]:
                # Our wording for the documented rule ("you must also specify a load balancer object").
                raise invalid("A role can only be specified for services configured to use load balancers.")
            config["roleArn"] = legacy_role_arn(ctx, req["role"])
        elif config["loadBalancers"] and not config.get("roleArn"):
            config["roleArn"] = arns.role(ctx.account_id, LINKED_ROLE, LINKED_PATH)
        for role in passed_roles(req, config.get("roleArn")):
            check_pass_role(ctx, role, ECS_PRINCIPAL, associated_resource_arn=service_arn)
        return config, td

    def _row(self, ctx: RequestContext, arn: str) -> Service:
        found = store.service(self.db, ctx.account_id, ctx.region, arn)
        assert found is not None
        return found

    def _active(self, ctx: RequestContext, req: dict[str, Any]) -> Service:
        cluster = find_cluster(self.db, ctx, req.get("cluster"))
        found = find_service(self.db, ctx, cluster.name, req["service"])
        if found is None:
            raise service_not_found()
        if found.status != "ACTIVE":
            raise service_not_active()
        return found

    # -- operations -----------------------------------------------------------------------------------------

    def create_service(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        cluster = find_cluster(self.db, ctx, req.get("cluster"))
        name = req["serviceName"]
        check_service_name(name)
        account, region = ctx.account_id, ctx.region
        arn = arns.ecs_service(region, account, cluster.name, name)
        existing = store.service(self.db, account, region, arn)
        if existing is not None and existing.status != "INACTIVE":
            token = req.get("clientToken")
            if token and existing.config.get("clientToken") == token:
                return {"service": service_view(self.db, existing)}
            raise invalid("Creation of service was not idempotent.")
        tags = req.get("tags") or []
        check_new_tags(tags)
        config, td = self._configure(ctx, req, None, arn, cluster)
        ensure_linked_role(ctx)
        if existing is not None:  # an INACTIVE service of the same name: its history goes with it
            store.delete_service(self.db, account, region, arn)
            drop_history(self.db, account, region, arn)
            events.drop(self.db, account, region, arn)
            drop_tags(self.db, account, region, [arn])
        store.insert_service(self.db, account=account, region=region, cluster=cluster.name, name=name, arn=arn,
                             config=config, created_at=ctx.received_at,
                             created_by=ctx.principal.arn if ctx.principal is not None else None)
        put_tags(self.db, account, region, arn, tags)
        row = self._row(ctx, arn)
        if td is not None and config["deploymentController"]["type"] == "ECS":
            start_deployment(self.db, ctx, row, config, td)
        self.engine.wake()
        return {"service": service_view(self.db, row)}

    def update_service(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        row = self._active(ctx, req)
        current: dict[str, Any] = copy.deepcopy(row.config)
        config, td = self._configure(ctx, req, current, row.arn,
                                     find_cluster(self.db, ctx, req.get("cluster")))
        account, region = ctx.account_id, ctx.region
        store.set_config(self.db, account, region, row.arn, config, ctx.received_at)
        deployed = has_deployment(self.db, account, region, row.arn)
        changed = any(current.get(member) != config.get(member) for member in DEPLOYED)
        if td is not None and config["deploymentController"]["type"] == "ECS" and (
                changed or req.get("forceNewDeployment") or not deployed):
            start_deployment(self.db, ctx, row, config, td)
        self.engine.wake()
        return {"service": service_view(self.db, self._row(ctx, row.arn))}

    def delete_service(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        row = self._active(ctx, req)
        config: dict[str, Any] = copy.deepcopy(row.config)
        if int(config.get("desiredCount") or 0) > 0:
            if not req.get("force"):
                raise invalid("The service cannot be stopped while it is scaled above 0.")
            config["desiredCount"] = 0
        store.set_draining(self.db, ctx.account_id, ctx.region, row.arn, config, ctx.received_at)
        self.engine.wake()
        return {"service": service_view(self.db, self._row(ctx, row.arn))}

    def describe_services(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        names: list[str] = req["services"]
        if not names:
            raise invalid("Services cannot be empty.")  # our wording
        if len(names) > DESCRIBE_MAX:
            raise invalid(f"service names can have at most {DESCRIBE_MAX} items.")
        cluster = find_cluster(self.db, ctx, req.get("cluster"))
        tags = "TAGS" in (req.get("include") or [])
        found: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for value in names:
            row = find_service(self.db, ctx, cluster.name, value)
            if row is None:
                arn = value if value.startswith("arn:") else arns.ecs_service(ctx.region, ctx.account_id,
                                                                              cluster.name, value)
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(service_view(self.db, row, tags=tags))
        return {"services": found, "failures": failures}

    def list_services(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        cluster = find_cluster(self.db, ctx, req.get("cluster"))
        launch, scheduling = req.get("launchType"), req.get("schedulingStrategy")
        chosen: list[str] = []
        for service in store.services_in_cluster(self.db, ctx.account_id, ctx.region, cluster.name):
            config = service.config
            if launch and config.get("launchType") != launch:
                continue
            if scheduling and (config.get("schedulingStrategy") or "REPLICA") != scheduling:
                continue
            chosen.append(service.arn)
        chunk, token = page(chosen, lambda arn: arn, req.get("nextToken"), req.get("maxResults"), default=10)
        out: dict[str, Any] = {"serviceArns": chunk}
        if token:
            out["nextToken"] = token
        return out
