"""Account-wide reads: GetAccountSummary, GetAccountAuthorizationDetails.

Both read the IAM tables directly, so they see what every operation module wrote.
"""

from __future__ import annotations

from typing import Any

from ...gateway.context import RequestContext
from ...store.db import Row
from . import instance_profiles, policydoc, principal_ids
from .common import paged, when
from .service_linked import aws_managed_policy

# GetAccountSummary's quotas: AWS's defaults for a new account (IAM User Guide, "IAM and AWS STS quotas").
QUOTAS = {
    "UsersQuota": 5000,
    "GroupsQuota": 300,
    "RolesQuota": 1000,
    "PoliciesQuota": 1500,
    "InstanceProfilesQuota": 1000,
    "ServerCertificatesQuota": 20,
    "PolicyVersionsInUseQuota": 10000,
    "VersionsPerPolicyQuota": 5,
    "GroupsPerUserQuota": 10,
    "AccessKeysPerUserQuota": 2,
    "SigningCertificatesPerUserQuota": 2,
    "AttachedPoliciesPerRoleQuota": 10,
    "AttachedPoliciesPerUserQuota": 10,
    "AttachedPoliciesPerGroupQuota": 10,
    "AssumeRolePolicySizeQuota": policydoc.TRUST_POLICY_QUOTA,
    "PolicySizeQuota": policydoc.MANAGED_POLICY_QUOTA,
    "RolePolicySizeQuota": policydoc.INLINE_QUOTAS["role"],
    "UserPolicySizeQuota": policydoc.INLINE_QUOTAS["user"],
    "GroupPolicySizeQuota": policydoc.INLINE_QUOTAS["group"],
}

ENTITY_FILTERS = ("User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy")
_ORDER = {"user": "1", "group": "2", "role": "3", "policy": "4"}
_LISTS = {"user": "UserDetailList", "group": "GroupDetailList", "role": "RoleDetailList", "policy": "Policies"}


def _policy_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


class AccountOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any

    # -- GetAccountSummary ---------------------------------------------------------------------------

    def get_account_summary(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = (ctx.account_id,)

        def count(sql: str) -> int:
            return int(self.db.scalar(sql, account) or 0)

        summary: dict[str, int] = dict(QUOTAS)
        summary.update(
            Users=count("SELECT COUNT(*) FROM iam_users WHERE account_id = ?"),
            Groups=count("SELECT COUNT(*) FROM iam_groups WHERE account_id = ?"),
            Roles=count("SELECT COUNT(*) FROM iam_roles WHERE account_id = ?"),
            Policies=count("SELECT COUNT(*) FROM iam_policies WHERE account_id = ?"),
            # Every attachment of a managed policy to a user, group or role keeps its default version in use.
            PolicyVersionsInUse=count("SELECT COUNT(*) FROM iam_attachments WHERE account_id = ?"),
            InstanceProfiles=instance_profiles.count(self.db, ctx.account_id),
            ServerCertificates=0,
            Providers=0,
            MFADevices=0,
            MFADevicesInUse=0,
            AccountMFAEnabled=0,
            # The root user signs its calls here with access keys, so root keys are present.
            AccountAccessKeysPresent=1,
            AccountPasswordPresent=0,  # the root user's password, which Turnout does not model
            AccountSigningCertificatesPresent=0,
            GlobalEndpointTokenVersion=1,
        )
        return {"SummaryMap": summary}

    # -- GetAccountAuthorizationDetails --------------------------------------------------------------

    def get_account_authorization_details(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        wanted = set(req.get("Filter") or ENTITY_FILTERS)
        items: list[tuple[str, str, dict[str, Any]]] = []  # (kind, sort key, detail)
        if "User" in wanted:
            for row in self.db.all("SELECT * FROM iam_users WHERE account_id = ?", (account,)):
                items.append(("user", row["name_lower"], self._user_detail(row)))
        if "Group" in wanted:
            for row in self.db.all("SELECT * FROM iam_groups WHERE account_id = ?", (account,)):
                items.append(("group", row["name_lower"], self._group_detail(row)))
        if "Role" in wanted:
            for row in self.db.all("SELECT * FROM iam_roles WHERE account_id = ?", (account,)):
                items.append(("role", row["name_lower"], self._role_detail(row)))
        if "LocalManagedPolicy" in wanted:
            for row in self.db.all("SELECT * FROM iam_policies WHERE account_id = ?", (account,)):
                items.append(("policy", row["arn"], self._local_policy_detail(row)))
        if "AWSManagedPolicy" in wanted:
            # AWS lists the AWS managed policies the account uses: attached, or set as a boundary.
            for arn in self._aws_policies_in_use(account):
                detail = self._aws_policy_detail(account, arn)
                if detail is not None:
                    items.append(("policy", arn, detail))
        result = paged(items, lambda item: f"{_ORDER[item[0]]}/{item[1]}", req, "Items")
        out: dict[str, Any] = {name: [] for name in _LISTS.values()}
        for kind, _, detail in result.pop("Items"):
            out[_LISTS[kind]].append(detail)
        out.update(result)
        return out

    # -- details -------------------------------------------------------------------------------------

    def _inline(self, account: str, entity_type: str, name_lower: str) -> list[dict[str, str]]:
        rows = self.db.all(
            "SELECT policy_name, document FROM iam_inline_policies WHERE account_id = ? AND entity_type = ? "
            "AND entity_lower = ? ORDER BY policy_name",
            (account, entity_type, name_lower),
        )
        return [{"PolicyName": r["policy_name"], "PolicyDocument": r["document"]} for r in rows]

    def _attached(self, account: str, entity_type: str, name_lower: str) -> list[dict[str, str]]:
        rows = self.db.all(
            "SELECT policy_arn FROM iam_attachments WHERE account_id = ? AND entity_type = ? AND entity_lower = ? "
            "ORDER BY seq",
            (account, entity_type, name_lower),
        )
        return [{"PolicyName": _policy_name(r["policy_arn"]), "PolicyArn": r["policy_arn"]} for r in rows]

    def _tags(self, account: str, resource_type: str, key: str) -> list[dict[str, str]]:
        rows = self.db.all(
            "SELECT tag_key, tag_value FROM iam_tags WHERE account_id = ? AND resource_type = ? AND resource_key = ? "
            "ORDER BY seq",
            (account, resource_type, key),
        )
        return [{"Key": r["tag_key"], "Value": r["tag_value"]} for r in rows]

    @staticmethod
    def _boundary(detail: dict[str, Any], arn: str | None) -> None:
        if arn:
            detail["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn,
            }

    def _user_detail(self, row: Row) -> dict[str, Any]:
        account, key = row["account_id"], row["name_lower"]
        groups = self.db.all(
            "SELECT g.name FROM iam_group_members m JOIN iam_groups g ON g.account_id = m.account_id "
            "AND g.name_lower = m.group_lower WHERE m.account_id = ? AND m.user_lower = ? ORDER BY g.name_lower",
            (account, key),
        )
        detail: dict[str, Any] = {
            "Path": row["path"],
            "UserName": row["name"],
            "UserId": row["user_id"],
            "Arn": row["arn"],
            "CreateDate": when(row["created_at"]),
            "UserPolicyList": self._inline(account, "user", key),
            "GroupList": [g["name"] for g in groups],
            "AttachedManagedPolicies": self._attached(account, "user", key),
        }
        self._boundary(detail, row["permissions_boundary"])
        detail["Tags"] = self._tags(account, "user", key)
        return detail

    def _group_detail(self, row: Row) -> dict[str, Any]:
        account, key = row["account_id"], row["name_lower"]
        return {
            "Path": row["path"],
            "GroupName": row["name"],
            "GroupId": row["group_id"],
            "Arn": row["arn"],
            "CreateDate": when(row["created_at"]),
            "GroupPolicyList": self._inline(account, "group", key),
            "AttachedManagedPolicies": self._attached(account, "group", key),
        }

    def _role_detail(self, row: Row) -> dict[str, Any]:
        account, key = row["account_id"], row["name_lower"]
        detail: dict[str, Any] = {
            "Path": row["path"],
            "RoleName": row["name"],
            "RoleId": row["role_id"],
            "Arn": row["arn"],
            "CreateDate": when(row["created_at"]),
            "AssumeRolePolicyDocument": principal_ids.render(self.db, row["trust_policy"], row["trust_policy_saved"]),
            "InstanceProfileList": [
                self.profile_shape(p) for p in instance_profiles.profiles_of_role(self.db, account, key)  # type: ignore[attr-defined]
            ],
            "RolePolicyList": self._inline(account, "role", key),
            "AttachedManagedPolicies": self._attached(account, "role", key),
        }
        self._boundary(detail, row["permissions_boundary"])
        detail["Tags"] = self._tags(account, "role", key)
        last: dict[str, Any] = {}
        if row["last_used_at"]:
            last["LastUsedDate"] = when(row["last_used_at"])
            if row["last_used_region"]:
                last["Region"] = row["last_used_region"]
        detail["RoleLastUsed"] = last
        return detail

    def _usage(self, account: str, arn: str) -> tuple[int, int]:
        attachments = int(self.db.scalar(
            "SELECT COUNT(*) FROM iam_attachments WHERE account_id = ? AND policy_arn = ?", (account, arn)
        ) or 0)
        boundaries = int(self.db.scalar(
            "SELECT (SELECT COUNT(*) FROM iam_roles WHERE account_id = ? AND permissions_boundary = ?) + "
            "(SELECT COUNT(*) FROM iam_users WHERE account_id = ? AND permissions_boundary = ?)",
            (account, arn, account, arn),
        ) or 0)
        return attachments, boundaries

    def _local_policy_detail(self, row: Row) -> dict[str, Any]:
        account, arn = row["account_id"], row["arn"]
        attachments, boundaries = self._usage(account, arn)
        versions = self.db.all(
            "SELECT version_id, document, created_at FROM iam_policy_versions WHERE account_id = ? AND policy_arn = ?",
            (account, arn),
        )
        # Newest first, as IAM lists versions (v10 after v9: order by number, not text).
        versions = sorted(versions, key=lambda v: int(str(v["version_id"]).lstrip("v") or 0), reverse=True)
        detail: dict[str, Any] = {
            "PolicyName": row["name"],
            "PolicyId": row["policy_id"],
            "Arn": arn,
            "Path": row["path"],
            "DefaultVersionId": row["default_version"],
            "AttachmentCount": attachments,
            "PermissionsBoundaryUsageCount": boundaries,
            "IsAttachable": True,
            "CreateDate": when(row["created_at"]),
            "UpdateDate": when(row["updated_at"]),
            "PolicyVersionList": [
                {
                    "Document": v["document"],
                    "VersionId": v["version_id"],
                    "IsDefaultVersion": v["version_id"] == row["default_version"],
                    "CreateDate": when(v["created_at"]),
                }
                for v in versions
            ],
        }
        if row["description"]:
            detail["Description"] = row["description"]
        return detail

    def _aws_policies_in_use(self, account: str) -> list[str]:
        rows = self.db.all(
            "SELECT policy_arn AS arn FROM iam_attachments WHERE account_id = ? "
            "UNION SELECT permissions_boundary FROM iam_roles WHERE account_id = ? "
            "UNION SELECT permissions_boundary FROM iam_users WHERE account_id = ?",
            (account, account, account),
        )
        return sorted({r["arn"] for r in rows if r["arn"] and str(r["arn"]).startswith("arn:aws:iam::aws:policy/")})

    def _aws_policy_detail(self, account: str, arn: str) -> dict[str, Any] | None:
        policy = aws_managed_policy(arn)
        if policy is None:
            return None
        attachments, boundaries = self._usage(account, arn)
        detail: dict[str, Any] = {
            "PolicyName": policy.name,
            "PolicyId": policy.policy_id,
            "Arn": arn,
            "Path": policy.path,
            "DefaultVersionId": policy.default_version_id,
            "AttachmentCount": attachments,
            "PermissionsBoundaryUsageCount": boundaries,
            "IsAttachable": policy.attachable,
            "CreateDate": policy.create_date,
            "UpdateDate": policy.update_date,
            "PolicyVersionList": [
                {
                    "Document": version.document,
                    "VersionId": version.version_id,
                    "IsDefaultVersion": version.version_id == policy.default_version_id,
                    "CreateDate": version.create_date,
                }
                for version in policy.versions
            ],
        }
        if policy.description is not None:
            detail["Description"] = policy.description
        return detail
