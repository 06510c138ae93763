"""The service scheduler: launches and stops a service's tasks, registers them in their target groups and
deregisters them, through a role's ``ecs-service-scheduler`` session.

Which role: the infrastructure role of the service's load balancers (``advancedConfiguration.roleArn``) when it
has one, as the troubleshooting messages show ("assumed-role/myELBRole/ecs-service-scheduler"); otherwise the
service-linked role ``AWSServiceRoleForECS`` (ROLLING services without advanced configuration).

A task registers when it enters ACTIVATING: a green task of a traffic deployment in green's target groups, any
other in the target groups its deployment left serving production (or, for ROLLING, the service's). Once RUNNING,
the task answers health checks as its container definitions say (``turnout.health``), reported to ELB, whose
health checks then decide the target's state. A task is deregistered as it is asked to stop (DEACTIVATING lasts
the target group's deregistration delay).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..core import arns
from ..dataplane import task_lifecycle
from ..services.ecs import events, task_states
from ..services.ecs.model import FINAL, SCHEDULER_SESSION
from ..services.ecs.store import deployments as deployment_store
from ..services.ecs.store import revisions as revision_store
from ..services.ecs.store import services as service_store
from ..services.ecs.store import task_definitions as td_store
from ..services.ecs.store import tasks as task_store
from ..services.ecs.store.deployments import ServiceDeployment
from ..services.ecs.store.revisions import ServiceRevision
from ..services.ecs.store.services import Service
from ..services.ecs.store.tasks import Task
from ..services.elbv2 import store as elb_store
from ..services.elbv2 import targets as elb_targets
from ..services.elbv2.attributes import deregistration_delay
from ..services.elbv2.target_health import NOT_CHECKED
from ..store.db import Database
from .acting import Acting, AssumeFailed, CallFailed, Scope
from .state import EngineState
from .traffic import Pair, pairs

if TYPE_CHECKING:
    from ..core.clock import Clock

# The Elastic Load Balancing calls the scheduler makes through the ``ecs-service-scheduler`` session, on each target
# group a task belongs in (listed from these names by turnout.deploy.needs).
REGISTER_TARGETS = "RegisterTargets"
DEREGISTER_TARGETS = "DeregisterTargets"
DESCRIBE_TARGET_HEALTH = "DescribeTargetHealth"
SERVICE_LINKED_ROLE = "AWSServiceRoleForECS"
SERVICE_LINKED_PATH = "/aws-service-role/ecs.amazonaws.com/"


class RegistrationFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Binding:
    """A target group a task belongs in, with the container port it is registered on."""

    target_group: str
    port: int


def scope_of(service: Service) -> Scope:
    return Scope(service.account_id, service.region, service.arn)


def scheduler_role(service: Service, revision: ServiceRevision | None) -> str:
    lbs = load_balancers(service, revision)
    for pair in pairs(lbs):
        return pair.role
    return arns.iam(service.account_id, "role", SERVICE_LINKED_PATH, SERVICE_LINKED_ROLE)


def load_balancers(service: Service, revision: ServiceRevision | None) -> list[dict[str, Any]]:
    """The load balancers of a revision (as deployed), else the service's current ones."""
    if revision is not None and revision.body.get("loadBalancers") is not None:
        return list(revision.body["loadBalancers"])
    return list(service.config.get("loadBalancers") or [])


def short_id(task_arn: str) -> str:
    return task_arn.rsplit("/", 1)[-1]


class Scheduler:
    def __init__(self, db: Database, clock: Clock, acting: Acting) -> None:
        self.db, self.clock, self.acting = db, clock, acting
        # Whether real health checks report the targets' health (the data plane runs: turnout.dataplane.runtime);
        # if not, a task reports what its definition says once RUNNING.
        self.probed = False

    # -- reading ----------------------------------------------------------------------------------------

    def service(self, account: str, region: str, arn: str | None) -> Service | None:
        return None if arn is None else service_store.service(self.db, account, region, arn)

    def revision(self, account: str, region: str, arn: str | None) -> ServiceRevision | None:
        return None if arn is None else revision_store.revision(self.db, account, region, arn)

    def traffic_pairs(self, service: Service, revision_arn: str | None) -> list[Pair]:
        """The service's load balancers in advanced configuration, as its revision ``revision_arn`` deployed them
        (else as the service has them now)."""
        return pairs(load_balancers(service, self.revision(service.account_id, service.region, revision_arn)))

    def tasks(self, service: Service, *, alive: bool = True) -> list[Task]:
        """The service's tasks not STOPPED (``alive``: and meant to run), in launch order."""
        found = task_store.not_stopped_of_service(self.db, service.account_id, service.region, service.arn)
        return [t for t in found if t.alive] if alive else found

    def bindings(self, task: Task) -> list[Binding]:
        """The target groups ``task`` belongs in."""
        service = self.service(task.account_id, task.region, task.service_arn)
        if service is None:
            return []
        revision = self.revision(task.account_id, task.region, task.revision_arn)
        lbs = load_balancers(service, revision)
        traffic = pairs(lbs)
        if not traffic:
            return [Binding(lb["targetGroupArn"], int(lb.get("containerPort") or 0)) for lb in lbs
                    if lb.get("targetGroupArn")]
        dep = deployment_store.deployment(self.db, task.account_id, task.region, task.deployment_arn) \
            if task.deployment_arn else None
        state = EngineState.from_json(dep.engine if dep is not None else None)
        # A task a deployment launched is green while it runs; a replacement launched after it ended goes where
        # production traffic is served.
        finished = dep is not None and dep.status in FINAL
        groups = (state.serving if finished else state.green) or state.green or [p.primary for p in traffic]
        return [Binding(tg, pair.port) for tg, pair in zip(groups, traffic, strict=False)]

    # -- launching and stopping -------------------------------------------------------------------------

    def launch(self, service: Service, revision: ServiceRevision, deployment: ServiceDeployment, count: int,
               now: datetime) -> list[Task]:
        if count <= 0:
            return []
        td = td_store.task_definition(self.db, service.account_id, service.region, revision.task_definition_arn)
        if td is None:
            return []
        body = revision.body
        network = (body.get("networkConfiguration") or {}).get("awsvpcConfiguration")
        launched = task_states.launch(
            self.db, account=service.account_id, region=service.region, cluster=service.cluster,
            task_definition=td, count=count, now=now, service_arn=service.arn, revision_arn=revision.arn,
            deployment_arn=deployment.arn, started_by=deployment.legacy_id, group=f"service:{service.name}",
            launch_type=body.get("launchType") or "FARGATE", platform_version=body.get("platformVersion"),
            network=network)
        listed = " ".join(f"(task {short_id(t.arn)})" for t in launched)
        events.add(self.db, service.account_id, service.region, service.arn,
                   f"(service {service.name}) has started {len(launched)} tasks: {listed}.", now)
        return launched

    def deregister(self, service: Service, tasks: list[Task], now: datetime) -> tuple[dict[str, float], list[str]]:
        """Deregister ``tasks`` from their target groups: each task's drain time, and failure messages."""
        failures: list[str] = []
        by_group: dict[str, list[Task]] = {}
        for task in tasks:
            for reg in task.registrations:
                by_group.setdefault(reg["targetGroupArn"], []).append(task)
        drains: dict[str, float] = {}
        for tg_arn, members in by_group.items():
            tg = elb_store.target_group(self.db, service.account_id, service.region, tg_arn)
            drain = float(deregistration_delay(tg)) if tg is not None else 0.0
            targets = [{"Id": r["id"], "Port": r["port"]} for t in members for r in t.registrations
                       if r["targetGroupArn"] == tg_arn]
            try:
                self._call(service, DEREGISTER_TARGETS, {"TargetGroupArn": tg_arn, "Targets": targets})
                events.add(self.db, service.account_id, service.region, service.arn,
                           f"(service {service.name}) deregistered {len(targets)} targets in (target-group "
                           f"{tg_arn})", now)
            except RegistrationFailed as exc:
                text = (f"service {service.name} failed to deregister targets in target-group "
                        f"{tg_arn.split('/')[-2]} with (error {exc.message})")
                failures.append(text)
                events.add(self.db, service.account_id, service.region, service.arn, text, now)
                drain = 0.0
            for task in members:
                drains[task.arn] = max(drains.get(task.arn, 0.0), drain)
        return drains, failures

    def stop(self, service: Service, tasks: list[Task], now: datetime, *, stop_code: str, reason: str,
             announce: bool = True) -> list[str]:
        """Deregister ``tasks`` from their target groups and ask them to stop; messages of failed deregistrations."""
        drains, failures = self.deregister(service, tasks, now)
        if tasks and announce and drains:
            events.add(self.db, service.account_id, service.region, service.arn,
                       f"(service {service.name}) has begun draining connections on {len(tasks)} tasks.", now)
        for task in tasks:
            task_states.request_stop(self.db, task.arn, stop_code=stop_code, reason=reason, now=now,
                                     drain_seconds=drains.get(task.arn, 0.0))
        if tasks and announce:
            listed = " ".join(f"(task {short_id(t.arn)})" for t in tasks)
            events.add(self.db, service.account_id, service.region, service.arn,
                       f"(service {service.name}) has stopped {len(tasks)} running tasks: {listed}.", now)
        return failures

    # -- ELB through the scheduler session --------------------------------------------------------------

    def _call(self, service: Service, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        revision_arn = deployment_store.latest_target_of(self.db, service.account_id, service.region, service.arn)
        role = scheduler_role(service, self.revision(service.account_id, service.region, revision_arn))
        try:
            principal = self.acting.session(f"scheduler:{service.arn}", scope_of(service), role, SCHEDULER_SESSION)
            return self.acting.call(principal, scope_of(service), operation, params)
        except AssumeFailed as exc:
            raise RegistrationFailed(f"ECS was unable to assume role {exc.role_arn}: {exc.message}") from None
        except CallFailed as exc:
            raise RegistrationFailed(exc.message) from None

    def forget_sessions(self, service_arn: str) -> None:
        self.acting.forget(f"scheduler:{service_arn}")

    def register(self, task: Task, now: datetime) -> str | None:
        """Register a task entering ACTIVATING; the failure message (a service event) if ECS could not."""
        service = self.service(task.account_id, task.region, task.service_arn)
        if service is None or not task.private_ip:
            return None
        done: list[dict[str, Any]] = []
        for binding in self.bindings(task):
            target = {"Id": task.private_ip, "Port": binding.port}
            try:
                self._call(service, REGISTER_TARGETS, {"TargetGroupArn": binding.target_group, "Targets": [target]})
            except RegistrationFailed as exc:
                task_states.set_registrations(self.db, task.arn, done)
                text = (f"service {service.name} failed to register targets in target-group "
                        f"{binding.target_group.split('/')[-2]} with (error {exc.message})")
                events.add(self.db, service.account_id, service.region, service.arn, text, now)
                return text
            done.append({"targetGroupArn": binding.target_group, "id": task.private_ip, "port": binding.port})
            if self.probed:
                # Real health checks decide from their first answer on; until it comes the target is initial (it
                # would otherwise pass every check the clock says was sent before the first real one).
                elb_targets.report_health(self.db, task.account_id, task.region, binding.target_group,
                                          task.private_ip, binding.port, NOT_CHECKED, now)
            events.add(self.db, service.account_id, service.region, service.arn,
                       f"(service {service.name}) registered 1 targets in (target-group {binding.target_group})",
                       now)
        task_states.set_registrations(self.db, task.arn, done)
        return None

    def report_running(self, task: Task, now: datetime) -> None:
        """A task became RUNNING: it now answers health checks as its definition says (unless real health checks
        report what it answers)."""
        if self.probed:
            return
        td = td_store.task_definition(self.db, task.account_id, task.region, task.task_definition_arn)
        if td is None:
            return
        health = task_lifecycle.health(task, td)
        for reg in task.registrations:
            elb_targets.report_health(self.db, task.account_id, task.region, reg["targetGroupArn"], reg["id"],
                                      int(reg["port"]), health, now)

    def target_states(self, service: Service, groups: list[str]) -> dict[tuple[str, str, int], str]:
        """(target group, id, port) -> ELB state, read with DescribeTargetHealth as ECS does."""
        out: dict[tuple[str, str, int], str] = {}
        for tg in groups:
            result = self._call(service, DESCRIBE_TARGET_HEALTH, {"TargetGroupArn": tg})
            for item in result.get("TargetHealthDescriptions") or []:
                target = item.get("Target") or {}
                out[(tg, str(target.get("Id")), int(target.get("Port") or 0))] = \
                    (item.get("TargetHealth") or {}).get("State", "initial")
        return out

    @staticmethod
    def threshold(desired: int) -> int:
        """The circuit breaker's failure threshold: half the desired count, between 3 and 200 (AWS)."""
        return max(3, min(200, math.ceil(desired * 0.5)))
