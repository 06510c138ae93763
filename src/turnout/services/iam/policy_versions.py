"""Managed policy versions: create, get, list, delete, set the default."""

from __future__ import annotations

from typing import Any

from ...core.context import RequestContext
from ...wire.errors import ServiceError
from . import policydoc
from .common import delete_conflict, limit_exceeded, no_such_entity, paged
from .policy_refs import VERSIONS_QUOTA, PolicyRef, customer_policy, policy_or_404
from .store import policies as policy_store
from .store.records import PolicyVersion


def _number(version_id: str) -> int:
    return int(version_id[1:].split(".", 1)[0])


def _missing_version(arn: str, version_id: str) -> ServiceError:
    # IAM's wording for an unknown version of an existing policy (observed for GetPolicyVersion).
    return no_such_entity(f"Policy {arn} version {version_id} does not exist or is not attachable.")


class PolicyVersionOperations:
    """Mixed into :class:`IamProvider` (through :class:`PolicyOperations`)."""

    db: Any

    def _version_rows(self, account: str, arn: str) -> list[PolicyVersion]:
        return policy_store.versions(self.db, account, arn)

    def _version_row(self, account: str, ref: PolicyRef, version_id: str) -> PolicyVersion:
        row = policy_store.version(self.db, account, ref.arn, version_id)
        if row is None:
            raise _missing_version(ref.arn, version_id)
        return row

    def create_policy_version(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        ref = customer_policy(ctx, "CreatePolicyVersion", req["PolicyArn"])
        document = req["PolicyDocument"]
        policydoc.check(document, "managed")
        if len(self._version_rows(account, ref.arn)) >= VERSIONS_QUOTA:
            raise limit_exceeded(
                "A managed policy can have up to 5 versions. Before you create a new version, you must delete an "
                "existing version."
            )
        assert ref.row is not None
        number = ref.row.next_version
        version_id = f"v{number}"
        now = ctx.received_at
        policy_store.add_version(self.db, PolicyVersion(account, ref.arn, version_id, document, now))
        default = version_id if req.get("SetAsDefault") else ref.row.default_version
        # UpdateDate: "the date and time when the most recent policy version was created" (IAM API reference).
        policy_store.set_versions(self.db, account, ref.arn, default_version=default, next_version=number + 1,
                                  updated_at=now)
        return {
            "PolicyVersion": {
                "VersionId": version_id, "IsDefaultVersion": default == version_id, "CreateDate": ctx.received_at,
            }
        }

    def get_policy_version(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        ref = policy_or_404(self.db, ctx.account_id, req["PolicyArn"])
        version_id = req["VersionId"]
        if ref.aws is not None:
            version = ref.aws.version(version_id)
            if version is None:
                raise _missing_version(ref.arn, version_id)
            return {
                "PolicyVersion": {
                    "Document": version.document, "VersionId": version.version_id,
                    "IsDefaultVersion": version.version_id == ref.aws.default_version_id,
                    "CreateDate": version.create_date,
                }
            }
        assert ref.row is not None
        row = self._version_row(ctx.account_id, ref, version_id)
        return {
            "PolicyVersion": {
                "Document": row.document, "VersionId": row.version_id,
                "IsDefaultVersion": row.version_id == ref.row.default_version,
                "CreateDate": row.created_at,
            }
        }

    def list_policy_versions(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        ref = policy_or_404(self.db, ctx.account_id, req["PolicyArn"])
        versions: list[dict[str, Any]]
        if ref.aws is not None:
            versions = [
                {"VersionId": v.version_id, "IsDefaultVersion": v.version_id == ref.aws.default_version_id,
                 "CreateDate": v.create_date}
                for v in ref.aws.versions
            ]
        else:
            assert ref.row is not None
            versions = [
                {"VersionId": r.version_id, "IsDefaultVersion": r.version_id == ref.row.default_version,
                 "CreateDate": r.created_at}
                for r in self._version_rows(ctx.account_id, ref.arn)
            ]
        # Newest version first, as IAM lists them.
        return paged(versions, lambda v: f"{10**9 - _number(v['VersionId']):010d}", req, "Versions")

    def delete_policy_version(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        ref = customer_policy(ctx, "DeletePolicyVersion", req["PolicyArn"])
        row = self._version_row(account, ref, req["VersionId"])
        assert ref.row is not None
        if row.version_id == ref.row.default_version:
            raise delete_conflict("Cannot delete the default version of a policy.")
        policy_store.delete_version(self.db, account, ref.arn, row.version_id)

    def set_default_policy_version(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        account = ctx.account_id
        ref = customer_policy(ctx, "SetDefaultPolicyVersion", req["PolicyArn"])
        row = self._version_row(account, ref, req["VersionId"])
        policy_store.set_versions(self.db, account, ref.arn, default_version=row.version_id)
