"""The ECS tables (migrations 0010-0016): the only code with SQL for ``ecs_clusters``, ``ecs_task_definitions``,
``ecs_tags``, ``ecs_services``, ``ecs_service_revisions``, ``ecs_service_deployments``, ``ecs_service_events`` and
``ecs_tasks``.

One module per entity group; each returns frozen records (JSON columns decoded, timestamps as ``datetime``) and
takes typed arguments for its writes. Module functions take the request's (or the engine's) :class:`Database`
first; writes run inside the caller's transaction.
"""
