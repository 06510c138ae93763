"""ECS acting through a customer's role, for real: ``sts:AssumeRole`` as the service principal
``ecs.amazonaws.com``, then Elastic Load Balancing calls with the session's credentials.

Both go through the gateway's chain like any client's call (validation, the IAM policy engine, dispatch in a
savepoint of the engine's transaction, CloudTrail), so the role's trust policy, its policies, its boundary and
explicit denies all apply, and CloudTrail shows the ``AssumeRole`` with ``userIdentity.type`` ``AWSService`` and
the ELB calls as the assumed role with ``invokedBy`` ``ecs.amazonaws.com``.

A session is assumed when a deployment stage first needs it and reused for the rest of that stage (its polls);
a new stage assumes the role again, so a trust policy edited mid-deployment takes effect at the next stage, and no
session is used for more than 15 minutes.
Whether real ECS caches its sessions longer is not documented (aws-facts 2.12): this is our choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..authz.globalkeys import SOURCE_ACCOUNT, SOURCE_ARN
from ..core.principal import Principal
from ..services.ecs.model import ECS_PRINCIPAL

if TYPE_CHECKING:
    from ..gateway.gateway import Gateway


# A kept session is used for at most 15 minutes of wall time (the shortest session STS issues), well within the
# hour its credentials last: a long wait (a steady service, a paused stage) then assumes the role again.
SESSION_REUSE = timedelta(minutes=15)


class AssumeFailed(Exception):
    """ECS could not assume the role (deleted, trust policy without ``ecs.amazonaws.com``...)."""

    def __init__(self, role_arn: str, message: str) -> None:
        super().__init__(message)
        self.role_arn = role_arn
        self.message = message


class CallFailed(Exception):
    """An ELB call made with the role's session failed; ``message`` is AWS's (an AccessDenied names the session)."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.operation = operation
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Scope:
    """For whom ECS acts: the service's account, region and ARN (``aws:SourceAccount``/``aws:SourceArn``)."""

    account: str
    region: str
    service_arn: str


class Acting:
    """Assumes roles and makes calls with them; sessions are kept per (key, role, session name)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._sessions: dict[tuple[str, str, str], tuple[Principal, datetime]] = {}

    def forget(self, key: str) -> None:
        """Drop the sessions kept under ``key`` (a deployment's stage ended)."""
        for cached in [k for k in self._sessions if k[0] == key]:
            del self._sessions[cached]

    def session(self, key: str, scope: Scope, role_arn: str, session_name: str) -> Principal:
        cached = self._sessions.get((key, role_arn, session_name))
        now = self.gateway.clock.now()
        if cached is not None and now - cached[1] < SESSION_REUSE:
            return cached[0]
        principal = self.assume(scope, role_arn, session_name)
        self._sessions[(key, role_arn, session_name)] = (principal, now)
        return principal

    def assume(self, scope: Scope, role_arn: str, session_name: str) -> Principal:
        """``sts:AssumeRole`` as ``ecs.amazonaws.com``; the session's principal, or :class:`AssumeFailed`."""
        ctx = self.gateway.invoke(
            "sts", "AssumeRole", {"RoleArn": role_arn, "RoleSessionName": session_name},
            Principal.service(ECS_PRINCIPAL), region=scope.region, invoked_by=ECS_PRINCIPAL,
            annotations={SOURCE_ACCOUNT: scope.account, SOURCE_ARN: scope.service_arn},
        )
        if ctx.error is not None or ctx.result is None:
            raise AssumeFailed(role_arn, ctx.error.message if ctx.error is not None else "no credentials")
        key = ctx.result["Credentials"]["AccessKeyId"]
        return self.gateway.credentials.resolve(key).principal

    def call(self, principal: Principal, scope: Scope, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """One Elastic Load Balancing call as ``principal``; its result, or :class:`CallFailed`."""
        ctx = self.gateway.invoke("elbv2", operation, params, principal, region=scope.region,
                                  invoked_by=ECS_PRINCIPAL)
        if ctx.error is not None:
            raise CallFailed(operation, ctx.error.code, ctx.error.message)
        return ctx.result or {}
