"""Task definitions: RegisterTaskDefinition (families, revisions 1..N), DescribeTaskDefinition,
ListTaskDefinitions, ListTaskDefinitionFamilies, DeregisterTaskDefinition, DeleteTaskDefinitions.

``taskRoleArn`` and ``executionRoleArn`` need ``iam:PassRole`` to ``ecs-tasks.amazonaws.com``; a caller without it
gets AccessDeniedException and nothing is registered (the request's transaction is rolled back).
"""

from __future__ import annotations

from typing import Any

from ...authz.passrole import check_pass_role
from ...core import arns
from ...core.context import RequestContext
from ...store.db import Database
from .common import ARN, NAME, client, invalid, page
from .store import task_definitions as store
from .store.task_definitions import TaskDefinition
from .tags import check_new_tags, get_tags, put_tags
from .taskdef_rules import check_containers, check_fargate, fargate_fits, normalise_container, task_cpu, task_memory

TASKS_SERVICE = "ecs-tasks.amazonaws.com"
# Members of RegisterTaskDefinition stored as given and returned by DescribeTaskDefinition.
_STORED = ("taskRoleArn", "executionRoleArn", "volumes", "placementConstraints", "requiresCompatibilities", "cpu",
           "memory", "pidMode", "ipcMode", "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage",
           "runtimePlatform", "enableFaultInjection")
NOT_FOUND = "Unable to describe task definition."
MISSING = "The specified task definition does not exist."


def parse_reference(ctx: RequestContext, value: str) -> tuple[str, int | None]:
    """``family``, ``family:revision`` or an ARN -> (family, revision or None). A malformed one: None revision 0."""
    if value.startswith("arn:"):
        match = ARN.match(value)
        if match is None or match["kind"] != "task-definition" or match["account"] != ctx.account_id \
                or match["region"] != ctx.region:
            return "", 0
        value = match["rest"]
        if ":" not in value:
            return "", 0
    family, sep, revision = value.partition(":")
    if not sep:
        return family, None
    return (family, int(revision)) if revision.isdigit() and int(revision) > 0 else ("", 0)


def find_revision(db: Database, ctx: RequestContext, value: str, *,
                  latest_active: bool = True) -> TaskDefinition | None:
    family, revision = parse_reference(ctx, value)
    if revision == 0:
        return None
    if revision is None:
        if not latest_active:
            return None
        return store.latest_active(db, ctx.account_id, ctx.region, family)
    return store.revision_of(db, ctx.account_id, ctx.region, family, revision)


def latest_arn(db: Database, account: str, region: str, family: str) -> str | None:
    """``name_resolvers["ecs:task-definition"]``: a family's latest ACTIVE revision's ARN."""
    return store.latest_active_arn(db, account, region, family)


def view(td: TaskDefinition) -> dict[str, Any]:
    """A task definition in botocore's shape."""
    out: dict[str, Any] = {"taskDefinitionArn": td.arn, **td.body, "family": td.family, "revision": td.revision,
                           "status": td.status, "registeredAt": td.registered_at}
    if td.registered_by:
        out["registeredBy"] = td.registered_by
    if td.deregistered_at:
        out["deregisteredAt"] = td.deregistered_at
    if td.delete_requested_at:
        out["deleteRequestedAt"] = td.delete_requested_at
    return out


class TaskDefinitionOperations:
    """Mixed into :class:`EcsProvider`."""

    db: Database

    def register_task_definition(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        family = req["family"]
        if not NAME.match(family):
            # Our wording for the documented rule on family names.
            raise client("Family name can have up to 255 characters, including letters (uppercase and lowercase), "
                         "numbers, underscores (_), and hyphens (-).")
        network_mode = req.get("networkMode") or "bridge"
        cpu = task_cpu(req["cpu"]) if req.get("cpu") else None
        memory = task_memory(req["memory"]) if req.get("memory") else None
        requires = req.get("requiresCompatibilities") or []
        if "FARGATE" in requires:
            check_fargate(req, cpu, memory)
        containers = req["containerDefinitions"]
        check_containers(containers, memory)
        tags = req.get("tags") or []
        check_new_tags(tags)
        for member in ("taskRoleArn", "executionRoleArn"):
            if req.get(member):
                check_pass_role(ctx, req[member], TASKS_SERVICE)
        account, region = ctx.account_id, ctx.region
        revision = store.next_revision(self.db, account, region, family)
        arn = arns.ecs_task_definition(region, account, family, revision)
        body: dict[str, Any] = {
            "containerDefinitions": [normalise_container(c, network_mode) for c in containers],
            "networkMode": network_mode,
            "volumes": [],
            "requiresAttributes": [],
            "placementConstraints": [],
            # Our choice: awsvpc task sizes Fargate accepts are also Fargate-compatible, as AWS reports them.
            "compatibilities": ["EC2", "FARGATE"] if "FARGATE" in requires or (
                network_mode == "awsvpc" and fargate_fits(cpu, memory)) else ["EC2"],
        }
        body.update({member: req[member] for member in _STORED if req.get(member) is not None})
        store.insert_task_definition(
            self.db, account=account, region=region, family=family, revision=revision, arn=arn, body=body,
            registered_at=ctx.received_at, registered_by=ctx.principal.arn if ctx.principal is not None else None)
        put_tags(self.db, account, region, arn, tags)
        registered = store.task_definition(self.db, account, region, arn)
        assert registered is not None
        out: dict[str, Any] = {"taskDefinition": view(registered)}
        if tags:
            out["tags"] = get_tags(self.db, account, region, arn)
        return out

    def describe_task_definition(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        row = find_revision(self.db, ctx, req["taskDefinition"])
        if row is None:
            raise client(NOT_FOUND)
        out: dict[str, Any] = {"taskDefinition": view(row)}
        if "TAGS" in (req.get("include") or []):
            out["tags"] = get_tags(self.db, ctx.account_id, ctx.region, row.arn)
        return out

    def deregister_task_definition(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        value = req["taskDefinition"]
        family, revision = parse_reference(ctx, value)
        if revision is None:
            raise client(f"Invalid revision number. Number: {family}")  # AWS needs family:revision or an ARN
        row = find_revision(self.db, ctx, value, latest_active=False)
        if row is None:
            raise client(MISSING)
        if row.status == "ACTIVE":
            store.deregister(self.db, ctx.account_id, ctx.region, row.arn, ctx.received_at)
        row = find_revision(self.db, ctx, row.arn)
        assert row is not None
        return {"taskDefinition": view(row)}

    def delete_task_definitions(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        done: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for value in req["taskDefinitions"]:
            if parse_reference(ctx, value)[1] is None:
                raise invalid("The specified task definition identifier is invalid. "
                              "Specify a valid name or ARN and try again.")  # our wording: family alone
            row = find_revision(self.db, ctx, value, latest_active=False)
            if row is None:
                failures.append({"arn": value, "reason": "TASK_DEFINITION_NOT_FOUND", "detail": MISSING})
                continue
            if row.status == "ACTIVE":
                # Our wording: AWS deletes only INACTIVE task definitions.
                failures.append({"arn": row.arn, "reason": "TASK_DEFINITION_NOT_INACTIVE",
                                 "detail": "The specified task definition is still in ACTIVE status. "
                                           "Deregister it and try again."})
                continue
            if row.status == "INACTIVE":
                store.request_delete(self.db, ctx.account_id, ctx.region, row.arn, ctx.received_at)
            fresh = find_revision(self.db, ctx, row.arn)
            assert fresh is not None
            done.append(view(fresh))
        return {"taskDefinitions": done, "failures": failures}

    def list_task_definitions(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        status = req.get("status") or "ACTIVE"
        rows = store.revisions_with_status(self.db, ctx.account_id, ctx.region, status)
        prefix = req.get("familyPrefix")
        items = sorted(((family, revision, arn) for family, revision, arn in rows
                        if not prefix or family.startswith(prefix)),
                       reverse=req.get("sort") == "DESC")
        chunk, token = page([arn for _, _, arn in items], lambda arn: arn, req.get("nextToken"),
                            req.get("maxResults"))
        out: dict[str, Any] = {"taskDefinitionArns": chunk}
        if token:
            out["nextToken"] = token
        return out

    def list_task_definition_families(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        rows = store.family_statuses(self.db, ctx.account_id, ctx.region)
        active = {family for family, status in rows if status == "ACTIVE"}
        every = {family for family, _ in rows}
        status = req.get("status") or "ACTIVE"
        # ACTIVE: families with an active revision; INACTIVE: families with none; ALL: every family.
        chosen = active if status == "ACTIVE" else every - active if status == "INACTIVE" else every
        prefix = req.get("familyPrefix")
        families = sorted(f for f in chosen if not prefix or f.startswith(prefix))
        chunk, token = page(families, lambda f: f, req.get("nextToken"), req.get("maxResults"))
        out: dict[str, Any] = {"families": chunk}
        if token:
            out["nextToken"] = token
        return out
