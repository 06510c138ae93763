"""Account-wide reads: GetAccountSummary, GetAccountAuthorizationDetails.

Both read the whole account through the IAM store (:mod:`.store`), so they see what every operation module wrote.

GetAccountAuthorizationDetails answers one page at a time (MaxItems, default 100): the page is chosen from the
entities' sort keys alone (a range of each table's primary key, at most MaxItems + 1 keys), then only the page's
entities are read in full, each of their parts (inline policies, attachments, tags, groups, instance profiles,
policy versions, usage counts) with one query for the whole page (the store's ``by_keys`` / ``of_entities`` /
``of_many`` reads, shaped by :mod:`.entity_parts`). A page's work is bounded
by its size, not by the account's; the one account-wide read left is the set of AWS managed policies in use (a
UNION over attachments and boundaries, without details), on pages that reach the policies.
"""

from __future__ import annotations

from typing import Any

from ...core.context import RequestContext
from ...reference.managed_policies import AWS_POLICY_PREFIX
from ...store.db import Database
from ..pagination import decode_marker, encode_marker
from . import entity_parts, policydoc, principal_ids
from .common import after_prefix, invalid_input
from .instance_profiles import profiles_of_roles
from .service_linked import aws_managed_policy
from .store import account as account_store
from .store import attachments as attachment_store
from .store import groups as group_store
from .store import policies as policy_store
from .store import roles as role_store
from .store import users as user_store
from .store.records import ManagedPolicy, PolicyVersion

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
# The answer lists users, then groups, roles and policies; each kind by its sort key (name_lower, policy ARN).
# A marker is the base64 of "<order>/<sort key>" of the last item returned.
_ORDER = {"user": "1", "group": "2", "role": "3", "policy": "4"}
_LISTS = {"user": "UserDetailList", "group": "GroupDetailList", "role": "RoleDetailList", "policy": "Policies"}
_KEYS_AFTER = {"user": user_store.keys_after, "group": group_store.keys_after, "role": role_store.keys_after}
DEFAULT_PAGE = 100

Page = list[tuple[str, str]]  # (kind, sort key) of the page's items, in answer order


def _entity_keys(db: Database, account: str, kind: str, bound: str | None, count: int) -> list[str]:
    return _KEYS_AFTER[kind](db, account, bound, count)


def _aws_policies_in_use(db: Database, account: str) -> list[str]:
    """AWS lists the AWS managed policies the account uses: attached, or set as a boundary (and known)."""
    return sorted(
        arn for arn in attachment_store.policies_in_use(db, account)
        if arn.startswith(AWS_POLICY_PREFIX) and aws_managed_policy(arn) is not None
    )


def _policy_keys(db: Database, account: str, wanted: set[str], bound: str | None, count: int) -> list[str]:
    arns: list[str] = []
    if "LocalManagedPolicy" in wanted:
        arns += policy_store.arns_after(db, account, bound, count)
    if "AWSManagedPolicy" in wanted:
        arns += [arn for arn in _aws_policies_in_use(db, account) if bound is None or arn > bound][:count]
    return sorted(arns)[:count]


def choose_page(db: Database, account: str, wanted: set[str], params: dict[str, Any]) -> tuple[Page, str | None]:
    """The page's items and the next marker: at most MaxItems + 1 sort keys of each kind are read (AWS managed
    policies in use: see the module's docstring), whatever the account holds."""
    marker = params.get("Marker")
    after = decode_marker(marker, invalid_input) if marker else None
    max_items = params.get("MaxItems")
    limit = max_items if max_items is not None else DEFAULT_PAGE
    found: Page = []
    for kind in _ORDER:
        if len(found) > limit:
            break
        if kind == "policy":
            if not wanted & {"LocalManagedPolicy", "AWSManagedPolicy"}:
                continue
        elif kind.capitalize() not in wanted:
            continue
        any_left, bound = after_prefix(after, _ORDER[kind] + "/")
        if not any_left:
            continue
        count = limit + 1 - len(found)
        if kind == "policy":
            keys = _policy_keys(db, account, wanted, bound, count)
        else:
            keys = _entity_keys(db, account, kind, bound, count)
        found += [(kind, key) for key in keys]
    chunk = found[:limit]
    next_marker = None
    if len(found) > limit and chunk:
        kind, key = chunk[-1]
        next_marker = encode_marker(f"{_ORDER[kind]}/{key}")
    return chunk, next_marker


class AccountOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any

    # -- GetAccountSummary ---------------------------------------------------------------------------

    def get_account_summary(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        counts = account_store.counts(self.db, ctx.account_id)
        summary: dict[str, int] = dict(QUOTAS)
        summary.update(
            Users=counts.users,
            Groups=counts.groups,
            Roles=counts.roles,
            Policies=counts.policies,
            # Every attachment of a managed policy to a user, group or role keeps its default version in use.
            PolicyVersionsInUse=counts.attachments,
            InstanceProfiles=counts.instance_profiles,
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
        chunk, marker = choose_page(self.db, account, wanted, req)
        keys: dict[str, list[str]] = {kind: [] for kind in _ORDER}
        for kind, key in chunk:
            keys[kind].append(key)
        details: dict[str, dict[str, dict[str, Any]]] = {
            "user": self._user_details(account, keys["user"]) if keys["user"] else {},
            "group": self._group_details(account, keys["group"]) if keys["group"] else {},
            "role": self._role_details(account, keys["role"]) if keys["role"] else {},
            "policy": self._policy_details(account, keys["policy"]) if keys["policy"] else {},
        }
        out: dict[str, Any] = {name: [] for name in _LISTS.values()}
        for kind, key in chunk:
            out[_LISTS[kind]].append(details[kind][key])
        out["IsTruncated"] = marker is not None
        if marker is not None:
            out["Marker"] = marker
        return out

    # -- details of a page's entities, one query per table -------------------------------------------

    @staticmethod
    def _boundary(detail: dict[str, Any], arn: str | None) -> None:
        if arn:
            detail["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn,
            }

    def _user_details(self, account: str, keys: list[str]) -> dict[str, dict[str, Any]]:
        rows = user_store.by_keys(self.db, account, keys)
        inline = entity_parts.inline_policies(self.db, account, "user", keys)
        attached = entity_parts.attached_policies(self.db, account, "user", keys)
        groups = group_store.names_of_users(self.db, account, keys)
        tags = entity_parts.tags(self.db, account, "user", keys)
        details: dict[str, dict[str, Any]] = {}
        for key in keys:
            row = rows[key]
            detail: dict[str, Any] = {
                "Path": row.path,
                "UserName": row.name,
                "UserId": row.user_id,
                "Arn": row.arn,
                "CreateDate": row.created_at,
                "UserPolicyList": inline[key],
                "GroupList": groups[key],
                "AttachedManagedPolicies": attached[key],
                "Tags": tags[key],
            }
            self._boundary(detail, row.permissions_boundary)
            details[key] = detail
        return details

    def _group_details(self, account: str, keys: list[str]) -> dict[str, dict[str, Any]]:
        rows = group_store.by_keys(self.db, account, keys)
        inline = entity_parts.inline_policies(self.db, account, "group", keys)
        attached = entity_parts.attached_policies(self.db, account, "group", keys)
        return {
            key: {
                "Path": rows[key].path,
                "GroupName": rows[key].name,
                "GroupId": rows[key].group_id,
                "Arn": rows[key].arn,
                "CreateDate": rows[key].created_at,
                "GroupPolicyList": inline[key],
                "AttachedManagedPolicies": attached[key],
            }
            for key in keys
        }

    def _role_details(self, account: str, keys: list[str]) -> dict[str, dict[str, Any]]:
        render = principal_ids.Renderer(self.db)
        rows = role_store.by_keys(self.db, account, keys)
        inline = entity_parts.inline_policies(self.db, account, "role", keys)
        attached = entity_parts.attached_policies(self.db, account, "role", keys)
        tags = entity_parts.tags(self.db, account, "role", keys)
        profiles = profiles_of_roles(self.db, account, keys, render)
        details: dict[str, dict[str, Any]] = {}
        for key in keys:
            row = rows[key]
            detail: dict[str, Any] = {
                "Path": row.path,
                "RoleName": row.name,
                "RoleId": row.role_id,
                "Arn": row.arn,
                "CreateDate": row.created_at,
                "AssumeRolePolicyDocument": render(row.trust_policy, row.trust_policy_saved),
                "InstanceProfileList": profiles[key],
                "RolePolicyList": inline[key],
                "AttachedManagedPolicies": attached[key],
                "Tags": tags[key],
            }
            self._boundary(detail, row.permissions_boundary)
            last: dict[str, Any] = {}
            if row.last_used_at:
                last["LastUsedDate"] = row.last_used_at
                if row.last_used_region:
                    last["Region"] = row.last_used_region
            detail["RoleLastUsed"] = last
            details[key] = detail
        return details

    def _policy_details(self, account: str, arns: list[str]) -> dict[str, dict[str, Any]]:
        usage = attachment_store.usage_of(self.db, account, arns)
        local = [arn for arn in arns if not arn.startswith(AWS_POLICY_PREFIX)]
        rows = policy_store.by_arns(self.db, account, local) if local else {}
        versions = policy_store.versions_of(self.db, account, local) if local else {}
        details: dict[str, dict[str, Any]] = {}
        for arn in arns:
            attachments, boundaries = usage[arn]
            if arn in rows:
                details[arn] = self._local_policy_detail(rows[arn], versions[arn], attachments, boundaries)
            else:
                details[arn] = self._aws_policy_detail(arn, attachments, boundaries)
        return details

    @staticmethod
    def _local_policy_detail(row: ManagedPolicy, versions: list[PolicyVersion], attachments: int, boundaries: int
                             ) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "PolicyName": row.name,
            "PolicyId": row.policy_id,
            "Arn": row.arn,
            "Path": row.path,
            "DefaultVersionId": row.default_version,
            "AttachmentCount": attachments,
            "PermissionsBoundaryUsageCount": boundaries,
            "IsAttachable": True,
            "CreateDate": row.created_at,
            "UpdateDate": row.updated_at,
            "PolicyVersionList": [
                {
                    "Document": v.document,
                    "VersionId": v.version_id,
                    "IsDefaultVersion": v.version_id == row.default_version,
                    "CreateDate": v.created_at,
                }
                for v in versions
            ],
        }
        if row.description:
            detail["Description"] = row.description
        return detail

    @staticmethod
    def _aws_policy_detail(arn: str, attachments: int, boundaries: int) -> dict[str, Any]:
        policy = aws_managed_policy(arn)
        assert policy is not None  # the page lists only AWS managed policies the catalogue knows
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
