"""The STS provider: caller identity, AssumeRole and GetSessionToken."""

from __future__ import annotations

from typing import Any

from ...core import arns
from ...core.context import RequestContext
from ...core.principal import Principal, Session
from ...core.provider import Provider
from ...wire.errors import ServiceError
from ..iam import policydoc
from ..iam.policy_refs import check_policy_attachable
from ..iam.store.views import AssumableRole, IdentityViews
from .sessions import (
    POLICY_ARNS_MAX,
    SESSION_POLICY_MAX,
    access_denied,
    expiry,
    issue,
    length_error,
    packed_percent,
    session_tags,
    validation,
)

DEFAULT_ROLE_SESSION = 3600
CHAINED_MAX = 3600
USER_SESSION_DEFAULT = 43200
ROOT_SESSION_MAX = 3600


class StsProvider(Provider):
    service = "sts"

    def get_caller_identity(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        principal = ctx.principal
        assert principal is not None
        return {"UserId": principal.principal_id, "Account": principal.account_id, "Arn": principal.arn}

    # -- AssumeRole ----------------------------------------------------------------------------------

    def _role(self, caller: Principal, role_arn: str) -> AssumableRole:
        """The role ``role_arn`` names, in whichever account; AWS cannot say a role does not exist."""
        denied = access_denied(
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        )
        parsed = arns.parse(role_arn)
        if parsed is None or parsed.service != "iam" or parsed.region or not parsed.resource.startswith("role/"):
            raise denied
        name = parsed.resource.rsplit("/", 1)[1]
        role = IdentityViews(self.db).role_to_assume(parsed.account, name)
        if role is None or role.arn != role_arn:
            raise denied
        return role

    def assume_role(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        caller = ctx.principal
        assert caller is not None
        role = self._role(caller, req["RoleArn"])
        chained = caller.type == "AssumedRole"
        duration = req.get("DurationSeconds", DEFAULT_ROLE_SESSION)
        if chained and duration > CHAINED_MAX:
            raise validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
            )
        if duration > role.max_session_duration:
            raise validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
        if req.get("SerialNumber") or req.get("TokenCode"):
            # Turnout has no MFA devices, so no one-time code can be validated.
            raise access_denied("MultiFactorAuthentication failed, unable to validate MFA code.")
        policy = req.get("Policy")
        if policy is not None:
            if len(policy) > SESSION_POLICY_MAX:
                raise length_error("policy", policy, SESSION_POLICY_MAX)
            policydoc.check(policy, "identity")
        policy_arns = [item["arn"] for item in req.get("PolicyArns") or [] if item.get("arn")]
        if len(policy_arns) > POLICY_ARNS_MAX:
            raise validation(
                f"1 validation error detected: Value '[{', '.join(policy_arns)}]' at 'policyArns' failed to "
                f"satisfy constraint: Member must have length less than or equal to {POLICY_ARNS_MAX}"
            )
        for arn in policy_arns:
            try:
                # Managed session policies must be in the role's account (or AWS managed).
                check_policy_attachable(self.db, role.account_id, arn, boundary=False)
            except ServiceError as exc:
                # AWS documents no message for a missing session policy ARN; IAM's attach wording is used.
                raise validation(exc.message) from None
        caller_session = caller.session if chained else None
        tags, transitive = session_tags(req.get("Tags") or [], req.get("TransitiveTagKeys") or [], caller_session)
        source_identity = req.get("SourceIdentity")
        if caller_session is not None and caller_session.source_identity is not None:
            if source_identity is not None and source_identity != caller_session.source_identity:
                # "After you set the source identity value, it cannot be changed" (STS AssumeRole reference).
                raise access_denied("Source identity cannot be changed in a role chain.")
            source_identity = caller_session.source_identity
        packed = None
        if policy is not None or policy_arns or tags:
            packed = packed_percent(policy, policy_arns, tags)
            if packed > 100:
                raise ServiceError(
                    "PackedPolicyTooLarge", f"Packed policy consumes {packed}% of allotted space", 400
                )

        now = ctx.received_at
        expires_at = expiry(now, duration)
        session_name = req["RoleSessionName"]
        account = role.account_id
        assumed_id = f"{role.role_id}:{session_name}"
        assumed_arn = arns.assumed_role(account, role.name, session_name)
        session = Session(
            issuer_type="Role", issuer_arn=role.arn, issuer_id=role.role_id, issuer_name=role.name,
            session_name=session_name, issued_at=now.isoformat(), expires_at=expires_at.isoformat(),
            policy=policy, policy_arns=tuple(policy_arns), tags=tags, transitive_tag_keys=transitive,
            source_identity=source_identity, chained=chained, invoked_by=ctx.invoked_by,
        )
        principal = Principal(account, "AssumedRole", assumed_arn, assumed_id, session_name, None, session)
        issued = issue(self.db, principal, session, expires_at)
        IdentityViews(self.db).note_role_used(role, now, ctx.region)
        result: dict[str, Any] = {
            "Credentials": issued.credentials(),
            "AssumedRoleUser": {"AssumedRoleId": assumed_id, "Arn": assumed_arn},
        }
        if packed is not None:
            result["PackedPolicySize"] = packed
        if source_identity is not None:
            result["SourceIdentity"] = source_identity
        return result

    # -- GetSessionToken -----------------------------------------------------------------------------

    def get_session_token(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        caller = ctx.principal
        assert caller is not None
        if caller.session is not None:
            raise access_denied("Cannot call GetSessionToken with session credentials")
        if caller.type not in ("IAMUser", "Root"):
            raise access_denied("Cannot call GetSessionToken with session credentials")
        if req.get("SerialNumber") or req.get("TokenCode"):
            raise access_denied("MultiFactorAuthentication failed, unable to validate MFA code.")
        duration = req.get("DurationSeconds", USER_SESSION_DEFAULT)
        if caller.is_root:
            # "Sessions for AWS account owners are restricted to a maximum of 3,600 seconds (one hour). If the
            # duration is longer than one hour, the session for AWS account owners defaults to one hour."
            duration = min(duration, ROOT_SESSION_MAX)
        now = ctx.received_at
        expires_at = expiry(now, duration)
        session = Session(
            issuer_type=caller.type, issuer_arn=caller.arn, issuer_id=caller.principal_id,
            issuer_name=caller.name or caller.account_id, session_name=caller.name or caller.account_id,
            issued_at=now.isoformat(), expires_at=expires_at.isoformat(),
        )
        issued = issue(self.db, caller, session, expires_at)
        return {"Credentials": issued.credentials()}
