"""The Amazon ECS provider: one class assembled from the operation modules of this package (clusters, task
definitions, services, tasks, service deployments, tags). It declares ECS's hooks for the authorization engine,
``tag_lookups["ecs"]`` and ``name_resolvers["ecs:task-definition"]``, which the gateway installs when it registers
the provider.

The deployment engine (:mod:`turnout.deploy`), which runs deployments and tasks on the clock, is the app's:
``server.build_gateway`` builds it and hands it to the provider as ``engine`` (:class:`~.ports.DeploymentEngine`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.provider import Provider
from .capacity import CapacityOperations
from .clusters import ClusterOperations
from .deployment_ops import DeploymentOperations
from .deployment_views import DeploymentViewOperations
from .ports import DeploymentEngine, Unwired
from .services import ServiceOperations
from .tags import TagOperations, resource_tags
from .task_definitions import TaskDefinitionOperations, latest_arn
from .task_run import RunTaskOperations
from .tasks import TaskOperations

if TYPE_CHECKING:
    from ...gateway.gateway import Gateway


class EcsProvider(ClusterOperations, CapacityOperations, TaskDefinitionOperations, ServiceOperations, TaskOperations,
                  RunTaskOperations, DeploymentViewOperations, DeploymentOperations, TagOperations, Provider):
    service = "ecs"
    tag_lookups = {"ecs": resource_tags}
    name_resolvers = {"ecs:task-definition": latest_arn}

    def __init__(self, gateway: Gateway) -> None:
        super().__init__(gateway)
        self.engine: DeploymentEngine = Unwired()  # server.build_gateway wires the engine

    def startup(self) -> None:
        if self.gateway.primary:  # the engine runs in one process (turnout.workers)
            self.engine.start()
