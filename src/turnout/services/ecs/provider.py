"""The Amazon ECS provider: one class assembled from the operation modules of this package (clusters, task
definitions, tags). Importing ``tags`` and ``task_definitions`` registers ``resource_tag_lookups["ecs"]`` and
``name_resolvers["ecs:task-definition"]`` for the authorization engine."""

from __future__ import annotations

from ..base import Provider
from .clusters import ClusterOperations
from .tags import TagOperations
from .task_definitions import TaskDefinitionOperations


class EcsProvider(ClusterOperations, TaskDefinitionOperations, TagOperations, Provider):
    service = "ecs"
