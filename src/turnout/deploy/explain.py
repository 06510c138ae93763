"""``turnout explain <service-deployment-arn>``: why a deployment failed, and the fix.

The deployment's failure is linked to the call that failed through the denials table
(:func:`turnout.authz.diagnostics.of_principals`): ECS makes its calls through the gateway like any client, so each
refused one is stored under its request id with its principal: ``ecs.amazonaws.com`` for the ``sts:AssumeRole`` of
the infrastructure role or of a hook's role (resource: the role), the role's sessions
(``assumed-role/<role>/ECSNetworkingWithELB`` for the ELB calls, ``.../ECS-Lambda-Execution`` for
``lambda:InvokeFunction`` of a hook). The failed call is the first such denial from the deployment's creation to
the next deployment of the service, about one of the deployment's roles; later ones (its rollback's) are listed
after it. The denial's explanation (:mod:`turnout.services.iam.explain`) gives the fix, with two
deployment-specific touches:

* a broken trust policy gets the role's current trust policy with a statement for ``ecs.amazonaws.com`` scoped to
  the service (``aws:SourceAccount``, ``aws:SourceArn``), ready for ``UpdateAssumeRolePolicy``; a deleted role is
  said to be gone, with what to create (the trust policy, and the managed policy ECS documents for the role);
* a refused ELB call gets an Allow of that action on every resource of the same kind the deployment works on (the
  production and test listener rules, or both target groups), since the next deployment makes the same call on
  each of them.

Without a stored denial (IAM not enforced, or the record dropped), the deployment's ``statusReason`` is all there
is; the answer says so.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..authz import diagnostics
from ..authz.diagnostics import Denial
from ..core import arns
from ..policy.fixes import allow_statement, policy_document
from ..services.ecs.model import ECS_PRINCIPAL, NETWORKING_SESSION
from ..services.ecs.store import deployments as deployment_store
from ..services.ecs.store import revisions as revision_store
from ..services.ecs.store import services as service_store
from ..services.iam.explain import explain_denial, explain_request
from ..store.db import Database
from .hooks import LAMBDA_SESSION
from .scheduler import load_balancers
from .traffic import Pair, pairs

FAILED = frozenset({"ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", "ROLLBACK_IN_PROGRESS", "STOPPED"})
INFRASTRUCTURE_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"


def _when(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _session_arn(role_arn: str, session: str) -> str | None:
    parsed = arns.parse(role_arn)
    if parsed is None or not parsed.resource.startswith("role/"):
        return None
    name = parsed.resource.rsplit("/", 1)[-1]
    return f"arn:{parsed.partition}:sts::{parsed.account}:assumed-role/{name}/{session}"


def _hook_roles(config: dict[str, Any]) -> list[str]:
    return [str(h["roleArn"]) for h in config.get("lifecycleHooks") or [] if h.get("roleArn")]


def _widened(explained: dict[str, Any], traffic: list[Pair]) -> None:
    """An Allow of an ELB action on the one resource refused becomes one on each resource of that kind the
    deployment works on (the same conditions)."""
    fix = explained["fix"]
    resource = str(explained["resource"])
    if fix.get("kind") != "add-statement" or not str(explained["action"]).startswith("elasticloadbalancing:"):
        return
    if "apply" not in fix or fix["apply"]["operation"] not in ("PutRolePolicy", "PutUserPolicy"):
        return
    candidates: list[str] = []
    for pair in traffic:
        candidates.extend([pair.production, *([pair.test] if pair.test else []), pair.primary, pair.alternate])
    kind = next((k for k in (":listener-rule/", ":targetgroup/", ":listener/") if k in resource), None)
    if kind is None:
        return
    resources = list(dict.fromkeys([resource, *(c for c in candidates if kind in c)]))
    old = fix["statement"]
    statement = allow_statement([str(explained["action"])], resources, old.get("Condition"), sid=old.get("Sid"))
    document = policy_document([statement])
    fix["statement"], fix["document"] = statement, document
    fix["apply"]["parameters"]["PolicyDocument"] = json.dumps(document)
    fix["summary"] += " It covers every resource of this kind the deployment works on."


def _role_gone(explained: dict[str, Any], infrastructure: bool) -> None:
    fix = explained["fix"]
    if fix.get("kind") != "create-role":
        return
    if infrastructure:
        fix["summary"] += (f" Then attach {INFRASTRUCTURE_POLICY} (AttachRolePolicy), the managed policy ECS "
                           "documents for the infrastructure role for load balancers.")
        fix["attach"] = [INFRASTRUCTURE_POLICY]


def explain_deployment(db: Database, arn: str) -> dict[str, Any] | None:
    """The explanation of service deployment ``arn``; None when there is no such deployment."""
    parsed = arns.parse(arn)
    if parsed is None or parsed.service != "ecs" or not parsed.resource.startswith("service-deployment/"):
        return None
    with db.transaction(write=False):
        dep = deployment_store.deployment(db, parsed.account, parsed.region, arn)
        if dep is None:
            return None
        service = service_store.service(db, parsed.account, parsed.region, dep.service_arn)
        revision = revision_store.revision(db, parsed.account, parsed.region, dep.target_revision_arn)
        traffic = pairs(load_balancers(service, revision)) if service is not None else []
        infra = list(dict.fromkeys(p.role for p in traffic))
        hooks = _hook_roles(dep.config)
        sessions = [s for s in (*(_session_arn(r, NETWORKING_SESSION) for r in infra),
                                *(_session_arn(r, LAMBDA_SESSION) for r in hooks)) if s]
        found = diagnostics.of_principals(db, parsed.account, [ECS_PRINCIPAL, *sessions])
        later = [d.created_at for d in deployment_store.deployments_of(db, parsed.account, parsed.region,
                                                                      dep.service_arn)
                 if d.created_at > dep.created_at]
        next_start = min(later) if later else None
    out: dict[str, Any] = {
        "kind": "deployment", "serviceDeploymentArn": arn, "serviceArn": dep.service_arn, "status": dep.status,
        "statusReason": dep.status_reason, "infrastructureRoles": infra, "hookRoles": hooks,
    }
    if dep.status not in FAILED:
        out["summary"] = f"The deployment is {dep.status}: nothing failed."
        return out
    # From the deployment's creation to the next deployment of the service: the engine stamps a transition with the
    # time its pass began, and the calls of that pass come a little after (finishedAt can precede the denial).
    start, end = dep.created_at, next_start
    roles = set(infra) | set(hooks)

    def ours(denial: Denial) -> bool:
        when = _when(denial.denied_at)
        if when is None or when < start or (end is not None and when > end):
            return False
        if denial.principal_arn == ECS_PRINCIPAL:
            source = diagnostics_source(denial)
            return denial.resource in roles and source in (None, dep.service_arn)
        return True

    denials = [d for d in found if ours(d)]
    out["denials"] = [d.request_id for d in denials]
    if not denials:
        out["summary"] = ("No denied call of ECS is on record for this deployment (IAM not enforced, or the record "
                          "was dropped): the statusReason is all there is.")
        return out
    first = denials[0]
    explained = explain_denial(db, first)
    if first.principal_arn == ECS_PRINCIPAL:
        _role_gone(explained, first.resource in infra)
        call = f"ECS's sts:AssumeRole of role {first.resource}"
    else:
        _widened(explained, traffic)
        call = f"{first.action} on {first.resource} as {first.principal_arn}"
    out["failedCall"] = {"requestId": first.request_id, "operation": first.operation, "action": first.action,
                         "resource": first.resource, "principal": first.principal_arn, "at": first.denied_at}
    out["summary"] = f"The deployment failed because {call} was denied ({first.effect})."
    out["explanation"] = explained
    out["fix"] = explained["fix"]
    return out


def diagnostics_source(denial: Denial) -> str | None:
    """The ``aws:SourceArn`` a service principal's call carried, if any."""
    for key, value in denial.context.items():
        if key.lower() == "aws:sourcearn":
            return str(value)
    return None


def explain(db: Database, target: str) -> dict[str, Any] | None:
    """``turnout explain TARGET``: a service deployment ARN, else a request id."""
    if target.startswith("arn:"):
        return explain_deployment(db, target)
    found = explain_request(db, target)
    return None if found is None else {"kind": "request", **found}
