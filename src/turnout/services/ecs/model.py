"""ECS deployment vocabulary shared by the API and the deployment engine: lifecycle stages in AWS's order,
statuses, and which of them are final."""

from __future__ import annotations

# ServiceDeploymentLifecycleStage, in the order a deployment passes them (AWS "How Amazon ECS blue/green
# deployments work"). PRE_PRODUCTION_TRAFFIC_SHIFT is reported too: the field's documentation lists it, though
# botocore's enum of the reported stage does not (our choice; see the README's ECS section).
STAGES = (
    "RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME",
    "CLEAN_UP",
)
# Stages that accept lifecycle hooks, and those that accept PAUSE hooks (not the two traffic-shift stages).
HOOK_STAGES = ("RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
               "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT")
PAUSE_STAGES = tuple(s for s in HOOK_STAGES if s not in ("TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"))

STRATEGIES = ("ROLLING", "BLUE_GREEN", "LINEAR", "CANARY")
TRAFFIC_STRATEGIES = ("BLUE_GREEN", "LINEAR", "CANARY")

# ServiceDeploymentStatus.
PENDING = "PENDING"
IN_PROGRESS = "IN_PROGRESS"
SUCCESSFUL = "SUCCESSFUL"
STOPPED = "STOPPED"
STOP_REQUESTED = "STOP_REQUESTED"
ROLLBACK_REQUESTED = "ROLLBACK_REQUESTED"
ROLLBACK_IN_PROGRESS = "ROLLBACK_IN_PROGRESS"
ROLLBACK_SUCCESSFUL = "ROLLBACK_SUCCESSFUL"
ROLLBACK_FAILED = "ROLLBACK_FAILED"
FINAL = (SUCCESSFUL, STOPPED, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED)
ACTIVE = (PENDING, IN_PROGRESS, STOP_REQUESTED, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS)

# The service principal ECS acts as, and the session names of its calls through a role.
ECS_PRINCIPAL = "ecs.amazonaws.com"
NETWORKING_SESSION = "ECSNetworkingWithELB"
SCHEDULER_SESSION = "ecs-service-scheduler"
