"""StopServiceDeployment and ContinueServiceDeployment: the user's hands on a running deployment.

* StopServiceDeployment with ``stopType`` ROLLBACK (the default and, per AWS, the only valid value) moves a
  PENDING or IN_PROGRESS deployment to ROLLBACK_REQUESTED and sets its ``stoppedAt`` ("A user manually stops the
  deployment", botocore's ServiceDeployment.stoppedAt); the engine takes the request up :data:`ROLLBACK_PICKUP`
  simulated seconds later (ROLLBACK_IN_PROGRESS: traffic back to blue, hooks of the traffic-shift stages re-run,
  green stopped). A deployment already stopping or rolling back goes on as it is. "This works even if you didn't
  configure the service deployment for the rollback option." Sources and choices: docs/ecs-deployments.md
  ("Stopping a deployment").
* ContinueServiceDeployment resolves a PAUSE hook that is AWAITING_ACTION: CONTINUE lets the stage go on,
  ROLLBACK rolls the deployment back.
"""

from __future__ import annotations

import re
from typing import Any

from ...core.context import RequestContext
from ...store.db import Database
from .common import ARN, error, invalid
from .model import FINAL, PENDING
from .ports import DeploymentEngine
from .store.deployments import ServiceDeployment, deployment, request_rollback

# AWS: "IN_PROGRESS - The service deployment moves to the ROLLBACK_REQUESTED state, and then the rollback operation
# starts." How long it stays there is not documented: ECS takes the request up at its next look, which Turnout
# makes 10 simulated seconds (ECS's target health poll), so that a pipeline polling the deployment sees the state.
ROLLBACK_PICKUP = 10.0
HOOK_ID = re.compile(r"^ecs-[a-z]+-[A-Za-z0-9_-]+$")
NOT_FOUND = "The service deployment does not exist."


def _deployment_row(db: Database, ctx: RequestContext, arn: str) -> ServiceDeployment:
    match = ARN.match(arn)
    if match is None or match["kind"] != "service-deployment" or match["account"] != ctx.account_id \
            or match["region"] != ctx.region:
        raise error("ServiceDeploymentNotFoundException", NOT_FOUND)
    row = deployment(db, ctx.account_id, ctx.region, arn)
    if row is None:
        raise error("ServiceDeploymentNotFoundException", NOT_FOUND)
    return row


class DeploymentOperations:
    """Mixed into :class:`EcsProvider`."""

    db: Database
    engine: DeploymentEngine

    def stop_service_deployment(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        arn = req["serviceDeploymentArn"]
        if req.get("stopType", "ROLLBACK") != "ROLLBACK":
            # "The valid values are ROLLBACK." (StopServiceDeployment reference); our wording for ABORT.
            raise invalid("Invalid stopType. The only valid value is ROLLBACK.")
        row = _deployment_row(self.db, ctx, arn)
        if row.status in FINAL:
            # Our wording, after AWS's for ContinueServiceDeployment on a finished deployment.
            raise error("ConflictException", "Stopping a service deployment is not allowed for service deployment in "
                        "terminal states.", resourceIds=[arn])
        if row.status in (PENDING, "IN_PROGRESS"):
            request_rollback(self.db, ctx.account_id, ctx.region, arn, ctx.received_at, ROLLBACK_PICKUP)
            self.engine.wake()  # to look at its wait again: the rollback starts once the pickup time is over
        return {"serviceDeploymentArn": arn}

    def continue_service_deployment(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        arn, hook_id = req["serviceDeploymentArn"], req["hookId"]
        if not HOOK_ID.match(hook_id):
            raise invalid("Invalid hookId: hookId must follow the format: ecs-{hookType}-{id}")
        row = _deployment_row(self.db, ctx, arn)
        if row.status in FINAL:
            raise invalid("Continuing a service deployment is not allowed for service deployment in terminal states.")
        if not self.engine.continue_hook(ctx.account_id, ctx.region, arn, hook_id, req.get("action") or "CONTINUE",
                                         ctx.received_at):
            raise invalid("Provided hookId is either completed, unavailable, or not associated with the given "
                          "Resource ARN")
        self.engine.wake(arn)
        return {"serviceDeploymentArn": arn}
