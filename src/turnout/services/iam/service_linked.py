"""Service-linked roles: CreateServiceLinkedRole, DeleteServiceLinkedRole, GetServiceLinkedRoleDeletionStatus.

A service-linked role belongs to its service: path ``/aws-service-role/<service>/``, a trust policy for the
service, the service's AWS managed policy attached. IAM refuses to modify or delete it through the ordinary
role operations (UnmodifiableEntity); only DeleteServiceLinkedRole removes it, through a deletion task.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from ...core.context import RequestContext
from ...reference.managed_policies import ManagedPolicy, catalogue
from ...store.db import Database
from .common import invalid_input, no_such_entity
from .role_parts import insert_role, remove_role, role_row, role_shape
from .store import attachments as attachment_store
from .store import roles as role_store
from .store.records import DeletionTask


@dataclass(frozen=True)
class LinkedService:
    service: str  # the service principal, AWSServiceName
    role_name: str
    policy_arn: str
    description: str
    custom_suffix: bool = False

    @property
    def path(self) -> str:
        return f"/aws-service-role/{self.service}/"

    @property
    def trust_policy(self) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": self.service}, "Action": "sts:AssumeRole"}
                ],
            },
            separators=(",", ":"),
        )


# The services whose service-linked roles Turnout creates. The ECS policy's path is /aws-service-role/ in
# AWS's catalogue; ECS does not take a CustomSuffix (observed: "Custom suffix is not allowed for ...").
LINKED_SERVICES = {
    spec.service: spec
    for spec in (
        LinkedService(
            "ecs.amazonaws.com",
            "AWSServiceRoleForECS",
            "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy",
            "Role to enable Amazon ECS to manage your cluster.",
        ),
    )
}

TASK_PREFIX = "task/aws-service-role/"


def create(db: Database, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    account = ctx.account_id
    service = req["AWSServiceName"]
    spec = LINKED_SERVICES.get(service)
    if spec is None:
        # choice: AWS answers InvalidInput here; its text is not published
        raise invalid_input(f"The specified service {service} does not support service-linked roles.")
    suffix = req.get("CustomSuffix")
    if suffix is not None and not spec.custom_suffix:
        raise invalid_input(f"Custom suffix is not allowed for {service}")
    name = spec.role_name if suffix is None else f"{spec.role_name}_{suffix}"
    if role_store.exists(db, account, name):
        raise invalid_input(f"Service role name {name} has been taken in this account, please try a different suffix.")
    description = req.get("Description") or spec.description
    row = insert_role(db, ctx, name, spec.path, spec.trust_policy, description=description,
                          linked_service=service)
    attachment_store.attach(db, account, "role", row.name_lower, spec.policy_arn)
    return {"Role": role_shape(db, row)}


def delete(db: Database, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    account = ctx.account_id
    row = role_row(db, account, req["RoleName"])
    service = row.linked_service
    if service is None:
        # choice: the operation only models NoSuchEntity for a role it cannot delete; the text is ours
        raise no_such_entity(f"The service-linked role with name {row.name} cannot be found.")
    # AWS deletes asynchronously; nothing in Turnout's linked services holds the role, so the task
    # finishes at once and GetServiceLinkedRoleDeletionStatus reports SUCCEEDED.
    task_id = f"{TASK_PREFIX}{service}/{row.name}/{uuid.uuid4()}"
    role_store.add_deletion_task(db, DeletionTask(account, task_id, row.name, "SUCCEEDED", None, ctx.received_at))
    remove_role(db, account, row.name_lower)
    return {"DeletionTaskId": task_id}


def deletion_status(db: Database, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    task_id = req["DeletionTaskId"]
    if not task_id.startswith(TASK_PREFIX) or task_id.count("/") < 4:
        raise invalid_input(f"Invalid deletion task id: {task_id}")  # choice: AWS's text is not published
    task = role_store.deletion_task(db, ctx.account_id, task_id)
    if task is None:
        raise no_such_entity(f"Deletion task {task_id} cannot be found.")  # choice, as above
    result: dict[str, Any] = {"Status": task.status}
    if task.reason:
        result["Reason"] = {"Reason": task.reason}
    return result


# -- AWS managed policies ----------------------------------------------------------------------------------


def aws_managed_policy(arn: str) -> ManagedPolicy | None:
    """The AWS managed policy ``arn`` names in Turnout's catalogue, or None."""
    return catalogue().get(arn)
