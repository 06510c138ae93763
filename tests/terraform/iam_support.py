"""What the Terraform AWS provider (v6.x) does around its IAM calls, for the replays of ``test_iam.py``.

Facts read from the provider's source (``internal/service/iam``): it sends policy documents normalised by
``structure.NormalizeJsonString`` (Go's ``json.Marshal`` of the parsed document: keys sorted, no spaces); it reads
them back with ``url.QueryUnescape`` (IAM returns documents URL-encoded) and keeps its own text when the two are
equivalent; ``tfresource.NotFound`` is IAM's ``NoSuchEntity`` (``errs.IsA[*awstypes.NoSuchEntityException]``);
list calls go through the SDK's paginators (``Marker``/``IsTruncated``).
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import botocore.handlers
from botocore.exceptions import ClientError

from tests.conftest import Server

NOT_FOUND = "NoSuchEntity"


def normalize(document: dict[str, Any]) -> str:
    """``structure.NormalizeJsonString``: the JSON the provider sends for a policy document."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def raw_iam(server: Server, **kwargs: Any) -> Any:
    """An IAM client that leaves policy documents as IAM sends them (URL-encoded), as the Go SDK does: botocore
    otherwise decodes them into dicts, hiding what the provider would read."""
    client = server.client("iam", **kwargs)
    client.meta.events.unregister("after-call.iam", botocore.handlers.json_decode_policies)
    return client


def query_unescape(text: str) -> str:
    """Go's ``url.QueryUnescape`` (``+`` is a space), which the provider applies to every document it reads."""
    return urllib.parse.unquote_plus(text)


def error_code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


def find(call: Callable[..., Any], **kwargs: Any) -> Any | None:
    """A provider ``find...`` function: the answer, or None for ``tfresource.NotFound`` (``NoSuchEntity``)."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if error_code(exc) == NOT_FOUND:
            return None
        raise


def ignore_not_found(call: Callable[..., Any], **kwargs: Any) -> None:
    """A delete whose ``NoSuchEntity`` the provider treats as done."""
    find(call, **kwargs)


def pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item of a list operation, page by page (the SDK paginator), with a small page to exercise Marker."""
    items: list[Any] = []
    marker: str | None = None
    while True:
        request = dict(kwargs, MaxItems=2)
        if marker is not None:
            request["Marker"] = marker
        page = getattr(client, operation)(**request)
        items.extend(page[key])
        if not page.get("IsTruncated"):
            return items
        marker = page["Marker"]


def tag_map(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def update_tags(client: Any, untag: str, tag: str, key: dict[str, str], old: dict[str, str],
                new: dict[str, str]) -> None:
    """The generated ``updateTags``: untag the removed keys, then tag the added or changed ones."""
    removed = [k for k in old if k not in new]
    if removed:
        getattr(client, untag)(**key, TagKeys=removed)
    updated = {k: v for k, v in new.items() if old.get(k) != v}
    if updated:
        getattr(client, tag)(**key, Tags=tag_list(updated))


def next_second() -> None:
    """Wait for the next whole second. IAM's dates have second precision and Terraform applies are seconds
    apart; the provider picks the oldest policy version by CreateDate, so versions replayed within one second
    would tie."""
    time.sleep(1.02 - (time.time() % 1))


# -- aws_iam_role (role.go) ------------------------------------------------------------------------------------


def role_create(iam: Any, config: dict[str, Any]) -> None:
    """``resourceRoleCreate``: CreateRole with the normalised trust policy, path, description, max session
    duration and tags (tag-on-create), then the read."""
    request: dict[str, Any] = {
        "AssumeRolePolicyDocument": normalize(config["assume_role_policy"]),
        "Path": config.get("path", "/"),
        "RoleName": config["name"],
        "MaxSessionDuration": config.get("max_session_duration", 3600),
    }
    if config.get("description"):
        request["Description"] = config["description"]
    if config.get("tags"):
        request["Tags"] = tag_list(config["tags"])
    iam.create_role(**request)


def role_read(iam: Any, name: str) -> dict[str, Any] | None:
    """``resourceRoleRead``: GetRole (NotFound: gone from state), the inline policies (ListRolePolicies and
    GetRolePolicy each) and the attached ones (ListAttachedRolePolicies). The state the provider sets."""
    found = find(iam.get_role, RoleName=name)
    if found is None:
        return None
    role = found["Role"]
    inline = {
        policy: query_unescape(iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"])
        for policy in pages(iam, "list_role_policies", "PolicyNames", RoleName=name)
    }
    attached = [p["PolicyArn"] for p in pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name)]
    return {
        "arn": role["Arn"],
        "name": role["RoleName"],
        "path": role["Path"],
        "unique_id": role["RoleId"],
        "description": role.get("Description", ""),
        "max_session_duration": role["MaxSessionDuration"],
        "assume_role_policy": json.loads(query_unescape(role["AssumeRolePolicyDocument"])),
        "permissions_boundary": role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn", ""),
        "tags": tag_map(role.get("Tags")),
        "inline_policy": inline,
        "managed_policy_arns": sorted(attached),
        "create_date": role["CreateDate"],
    }


def role_plan(config: dict[str, Any], state: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The differences between configuration and refreshed state (empty: "No changes")."""
    wanted = {
        "name": config["name"],
        "path": config.get("path", "/"),
        "description": config.get("description", ""),
        "max_session_duration": config.get("max_session_duration", 3600),
        "assume_role_policy": config["assume_role_policy"],
        "permissions_boundary": "",
        "tags": config.get("tags", {}),
    }
    return {k: (v, state[k]) for k, v in wanted.items() if state[k] != v}


def role_update(iam: Any, old: dict[str, Any], new: dict[str, Any]) -> None:
    """``resourceRoleUpdate``: one call per changed argument, tags last."""
    name = old["name"]
    if new["assume_role_policy"] != old["assume_role_policy"]:
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=normalize(new["assume_role_policy"]))
    if new.get("description", "") != old.get("description", ""):
        iam.update_role_description(RoleName=name, Description=new.get("description", ""))
    if new.get("max_session_duration", 3600) != old.get("max_session_duration", 3600):
        iam.update_role(RoleName=name, MaxSessionDuration=new.get("max_session_duration", 3600))
    update_tags(iam, "untag_role", "tag_role", {"RoleName": name}, old.get("tags", {}), new.get("tags", {}))


def role_delete(iam: Any, name: str, *, force_detach_policies: bool = False) -> None:
    """``resourceRoleDelete`` / ``deleteRole``: remove the role from its instance profiles, detach and delete its
    policies when forced, then DeleteRole (retried on DeleteConflict; NoSuchEntity is success)."""
    for profile in find(lambda **kw: pages(iam, "list_instance_profiles_for_role", "InstanceProfiles", **kw),
                        RoleName=name) or []:
        ignore_not_found(iam.remove_role_from_instance_profile,
                         InstanceProfileName=profile["InstanceProfileName"], RoleName=name)
    if force_detach_policies:
        for policy in pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name):
            ignore_not_found(iam.detach_role_policy, RoleName=name, PolicyArn=policy["PolicyArn"])
        for policy_name in pages(iam, "list_role_policies", "PolicyNames", RoleName=name):
            ignore_not_found(iam.delete_role_policy, RoleName=name, PolicyName=policy_name)
    ignore_not_found(iam.delete_role, RoleName=name)


# -- aws_iam_role_policy_attachment / aws_iam_user_policy_attachment -------------------------------------------


def attached(iam: Any, kind: str, name: str, policy_arn: str) -> bool:
    """``findAttached{Role,User}PolicyByTwoPartKey``: the entity's attached policies, filtered by ARN (NotFound
    for a missing entity)."""
    key = {"role": "RoleName", "user": "UserName"}[kind]
    listed = find(lambda **kw: pages(iam, f"list_attached_{kind}_policies", "AttachedPolicies", **kw),
                  **{key: name})
    return listed is not None and any(p["PolicyArn"] == policy_arn for p in listed)


# -- aws_iam_policy (policy.go) ---------------------------------------------------------------------------------


def policy_read(iam: Any, arn: str) -> dict[str, Any] | None:
    """``resourcePolicyRead``: GetPolicy, then GetPolicyVersion of its default version."""
    found = find(iam.get_policy, PolicyArn=arn)
    if found is None:
        return None
    policy = found["Policy"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    return {
        "arn": policy["Arn"], "name": policy["PolicyName"], "path": policy["Path"],
        "description": policy.get("Description", ""), "policy_id": policy["PolicyId"],
        "attachment_count": policy["AttachmentCount"], "tags": tag_map(policy.get("Tags")),
        "policy": query_unescape(version["Document"]),
    }


def policy_delete(iam: Any, arn: str) -> None:
    """``resourcePolicyDelete``: every non-default version deleted (ListPolicyVersions), then DeletePolicy;
    NoSuchEntity is success."""
    for version in find(lambda **kw: pages(iam, "list_policy_versions", "Versions", **kw), PolicyArn=arn) or []:
        if not version["IsDefaultVersion"]:
            ignore_not_found(iam.delete_policy_version, PolicyArn=arn, VersionId=version["VersionId"])
    ignore_not_found(iam.delete_policy, PolicyArn=arn)


# -- aws_iam_user (user.go) -------------------------------------------------------------------------------------


def user_read(iam: Any, name: str) -> dict[str, Any] | None:
    """``resourceUserRead``: GetUser (``findUserByName``)."""
    found = find(iam.get_user, UserName=name)
    if found is None:
        return None
    user = found["User"]
    return {"arn": user["Arn"], "name": user["UserName"], "path": user["Path"], "unique_id": user["UserId"],
            "permissions_boundary": user.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn", ""),
            "tags": tag_map(user.get("Tags"))}


def user_delete(iam: Any, name: str, *, force_destroy: bool) -> None:
    """``resourceUserDelete``: leave every group; with force_destroy, remove the inline and attached policies,
    access keys, SSH keys, virtual and other MFA devices, login profile, signing certificates and
    service-specific credentials (each list's NoSuchEntity ignored); then DeleteUser (NoSuchEntity: done)."""
    for group in find(lambda **kw: pages(iam, "list_groups_for_user", "Groups", **kw), UserName=name) or []:
        iam.remove_user_from_group(GroupName=group["GroupName"], UserName=name)
    if force_destroy:
        for policy_name in pages(iam, "list_user_policies", "PolicyNames", UserName=name):
            iam.delete_user_policy(UserName=name, PolicyName=policy_name)
        for policy in pages(iam, "list_attached_user_policies", "AttachedPolicies", UserName=name):
            ignore_not_found(iam.detach_user_policy, UserName=name, PolicyArn=policy["PolicyArn"])
        for key in pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name):
            iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        assert pages(iam, "list_ssh_public_keys", "SSHPublicKeys", UserName=name) == []
        devices = pages(iam, "list_virtual_mfa_devices", "VirtualMFADevices", AssignmentStatus="Assigned")
        assert [d for d in devices if d.get("User", {}).get("UserName") == name] == []
        assert pages(iam, "list_mfa_devices", "MFADevices", UserName=name) == []
        ignore_not_found(iam.delete_login_profile, UserName=name)
        assert pages(iam, "list_signing_certificates", "Certificates", UserName=name) == []
        assert iam.list_service_specific_credentials(UserName=name)["ServiceSpecificCredentials"] == []
    ignore_not_found(iam.delete_user, UserName=name)
