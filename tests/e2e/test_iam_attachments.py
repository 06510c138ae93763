"""Managed policy attachments of roles, users and groups, and ListEntitiesForPolicy, through boto3."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Server, error_of

LB_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})
DOCUMENT = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})



@pytest.fixture
def own_iam(server: Server) -> Any:
    """A client for the root user of an account of the test's own (usage counts are per account)."""
    return server.client("iam", key=f"{secrets.randbelow(9 * 10**11) + 10**11:012d}")


def policy(iam: Any, name: str, path: str = "/") -> str:
    arn: str = iam.create_policy(PolicyName=name, Path=path, PolicyDocument=DOCUMENT)["Policy"]["Arn"]
    return arn


def attached(page: dict[str, Any]) -> list[str]:
    return [p["PolicyArn"] for p in page["AttachedPolicies"]]


def test_attach_list_detach_role_policies(iam: Any, unique: Callable[[str], str]) -> None:
    role = unique("arole")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    mine = policy(iam, unique("apol"), path="/team/")
    iam.attach_role_policy(RoleName=role, PolicyArn=LB_POLICY)
    iam.attach_role_policy(RoleName=role.upper(), PolicyArn=mine)
    iam.attach_role_policy(RoleName=role, PolicyArn=LB_POLICY)  # again: nothing changes, no error
    listed = iam.list_attached_role_policies(RoleName=role)
    assert listed["AttachedPolicies"] == [
        {"PolicyName": "AmazonECSInfrastructureRolePolicyForLoadBalancers", "PolicyArn": LB_POLICY},
        {"PolicyName": mine.rsplit("/", 1)[1], "PolicyArn": mine},
    ]
    assert listed["IsTruncated"] is False
    assert attached(iam.list_attached_role_policies(RoleName=role, PathPrefix="/team/")) == [mine]
    page = iam.list_attached_role_policies(RoleName=role, MaxItems=1)
    assert attached(page) == [LB_POLICY] and page["IsTruncated"] is True
    assert attached(iam.list_attached_role_policies(RoleName=role, Marker=page["Marker"])) == [mine]

    iam.detach_role_policy(RoleName=role, PolicyArn=LB_POLICY)
    assert attached(iam.list_attached_role_policies(RoleName=role)) == [mine]
    assert error_of(iam.detach_role_policy, RoleName=role, PolicyArn=LB_POLICY) == (
        "NoSuchEntity", f"Policy {LB_POLICY} was not found.", 404,
    )
    # A role with attached policies cannot be deleted until they are detached.
    assert error_of(iam.delete_role, RoleName=role)[0] == "DeleteConflict"
    iam.detach_role_policy(RoleName=role, PolicyArn=mine)
    iam.delete_role(RoleName=role)


def test_attach_user_and_group_policies(iam: Any, unique: Callable[[str], str]) -> None:
    user, group = unique("auser"), unique("agroup")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    mine = policy(iam, unique("upol"))
    iam.attach_user_policy(UserName=user, PolicyArn=mine)
    iam.attach_user_policy(UserName=user, PolicyArn=READ_ONLY)
    iam.attach_group_policy(GroupName=group, PolicyArn=READ_ONLY)
    iam.attach_group_policy(GroupName=group, PolicyArn=READ_ONLY)
    assert attached(iam.list_attached_user_policies(UserName=user)) == [mine, READ_ONLY]
    assert iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"] == [
        {"PolicyName": "ReadOnlyAccess", "PolicyArn": READ_ONLY},
    ]
    assert attached(iam.list_attached_user_policies(UserName=user, PathPrefix="/nothing/")) == []
    iam.detach_user_policy(UserName=user, PolicyArn=mine)
    iam.detach_group_policy(GroupName=group, PolicyArn=READ_ONLY)
    assert attached(iam.list_attached_user_policies(UserName=user)) == [READ_ONLY]
    assert attached(iam.list_attached_group_policies(GroupName=group)) == []
    assert error_of(iam.detach_group_policy, GroupName=group, PolicyArn=READ_ONLY) == (
        "NoSuchEntity", f"Policy {READ_ONLY} was not found.", 404,
    )
    assert error_of(iam.detach_user_policy, UserName=user, PolicyArn=mine) == (
        "NoSuchEntity", f"Policy {mine} was not found.", 404,
    )


def test_attach_errors(iam: Any, unique: Callable[[str], str]) -> None:
    role, user, group = unique("erole"), unique("euser"), unique("egroup")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    for unknown in ("arn:aws:iam::aws:policy/NotARealManagedPolicy", "arn:aws:iam::000000000000:policy/nope-never"):
        expected = ("NoSuchEntity", f"Policy {unknown} does not exist or is not attachable.", 404)
        assert error_of(iam.attach_role_policy, RoleName=role, PolicyArn=unknown) == expected
        assert error_of(iam.attach_user_policy, UserName=user, PolicyArn=unknown) == expected
        assert error_of(iam.attach_group_policy, GroupName=group, PolicyArn=unknown) == expected
    other_account = "arn:aws:iam::123456789012:policy/theirs"
    assert error_of(iam.attach_role_policy, RoleName=role, PolicyArn=other_account)[0] == "NoSuchEntity"
    bad = "arn:aws:iam::000000000000:user/not-a-policy"
    assert error_of(iam.attach_role_policy, RoleName=role, PolicyArn=bad) == (
        "InvalidInput", f"ARN {bad} is not valid.", 400,
    )
    service_linked = "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"
    assert error_of(iam.attach_role_policy, RoleName=role, PolicyArn=service_linked) == (
        "PolicyNotAttachable", "Cannot attach a Service Role Policy to a Customer Role.", 400,
    )

    missing = unique("missing")
    for kind, attach, detach, listing in (
        ("role", iam.attach_role_policy, iam.detach_role_policy, iam.list_attached_role_policies),
        ("user", iam.attach_user_policy, iam.detach_user_policy, iam.list_attached_user_policies),
        ("group", iam.attach_group_policy, iam.detach_group_policy, iam.list_attached_group_policies),
    ):
        name_key = f"{kind.capitalize()}Name"
        expected = ("NoSuchEntity", f"The {kind} with name {missing} cannot be found.", 404)
        assert error_of(attach, **{name_key: missing, "PolicyArn": LB_POLICY}) == expected
        assert error_of(detach, **{name_key: missing, "PolicyArn": LB_POLICY}) == expected
        assert error_of(listing, **{name_key: missing}) == expected


def test_ten_managed_policies_per_entity(iam: Any, unique: Callable[[str], str]) -> None:
    role, user, group = unique("qrole"), unique("quser"), unique("qgroup")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    policies = [policy(iam, unique("q")) for _ in range(11)]
    for kind, attach, listing in (
        ("Role", iam.attach_role_policy, iam.list_attached_role_policies),
        ("User", iam.attach_user_policy, iam.list_attached_user_policies),
        ("Group", iam.attach_group_policy, iam.list_attached_group_policies),
    ):
        name = {"Role": role, "User": user, "Group": group}[kind]
        for arn in policies[:10]:
            attach(**{f"{kind}Name": name, "PolicyArn": arn})
        attach(**{f"{kind}Name": name, "PolicyArn": policies[0]})  # re-attaching at the quota is still fine
        assert error_of(attach, **{f"{kind}Name": name, "PolicyArn": policies[10]}) == (
            "LimitExceeded", f"Cannot exceed quota for PoliciesPer{kind}: 10", 409,
        )
        assert attached(listing(**{f"{kind}Name": name})) == policies[:10]


def test_attachment_count_follows_attach_and_detach(own_iam: Any, unique: Callable[[str], str]) -> None:
    iam = own_iam
    role, user, group = unique("crole"), unique("cuser"), unique("cgroup")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    mine = policy(iam, unique("cpol"))

    def counts() -> tuple[int, int]:
        return (iam.get_policy(PolicyArn=LB_POLICY)["Policy"]["AttachmentCount"],
                iam.get_policy(PolicyArn=mine)["Policy"]["AttachmentCount"])

    assert counts() == (0, 0)
    iam.attach_role_policy(RoleName=role, PolicyArn=LB_POLICY)
    assert counts() == (1, 0)
    iam.attach_user_policy(UserName=user, PolicyArn=LB_POLICY)
    iam.attach_group_policy(GroupName=group, PolicyArn=LB_POLICY)
    iam.attach_group_policy(GroupName=group, PolicyArn=mine)
    iam.attach_group_policy(GroupName=group, PolicyArn=mine)
    assert counts() == (3, 1)
    listed = {p["Arn"]: p["AttachmentCount"] for p in iam.list_policies(OnlyAttached=True)["Policies"]}
    assert listed == {LB_POLICY: 3, mine: 1}
    iam.detach_user_policy(UserName=user, PolicyArn=LB_POLICY)
    iam.detach_group_policy(GroupName=group, PolicyArn=mine)
    assert counts() == (2, 0)
    iam.detach_role_policy(RoleName=role, PolicyArn=LB_POLICY)
    iam.detach_group_policy(GroupName=group, PolicyArn=LB_POLICY)
    assert counts() == (0, 0)
    assert iam.list_policies(OnlyAttached=True)["Policies"] == []


def test_list_entities_for_policy(own_iam: Any, unique: Callable[[str], str]) -> None:
    iam = own_iam
    path = f"/{unique('ep')}/"
    roles = sorted([unique("erole"), unique("erole")])
    user, group = unique("euser"), unique("egroup")
    role_ids = [iam.create_role(RoleName=r, Path=path, AssumeRolePolicyDocument=TRUST)["Role"]["RoleId"]
                for r in roles]
    user_id = iam.create_user(UserName=user)["User"]["UserId"]
    group_id = iam.create_group(GroupName=group, Path=path)["Group"]["GroupId"]
    for role in roles:
        iam.attach_role_policy(RoleName=role, PolicyArn=LB_POLICY)
    iam.attach_user_policy(UserName=user, PolicyArn=LB_POLICY)
    iam.attach_group_policy(GroupName=group, PolicyArn=LB_POLICY)

    everyone = iam.list_entities_for_policy(PolicyArn=LB_POLICY)
    assert everyone["PolicyGroups"] == [{"GroupName": group, "GroupId": group_id}]
    assert everyone["PolicyUsers"] == [{"UserName": user, "UserId": user_id}]
    assert everyone["PolicyRoles"] == [{"RoleName": r, "RoleId": i} for r, i in zip(roles, role_ids, strict=True)]
    assert everyone["IsTruncated"] is False

    only_roles = iam.list_entities_for_policy(PolicyArn=LB_POLICY, EntityFilter="Role")
    assert (only_roles["PolicyGroups"], only_roles["PolicyUsers"]) == ([], [])
    assert [r["RoleName"] for r in only_roles["PolicyRoles"]] == roles
    in_path = iam.list_entities_for_policy(PolicyArn=LB_POLICY, PathPrefix=path)
    assert (len(in_path["PolicyGroups"]), in_path["PolicyUsers"], len(in_path["PolicyRoles"])) == (1, [], 2)
    for entity_filter in ("LocalManagedPolicy", "AWSManagedPolicy"):
        none = iam.list_entities_for_policy(PolicyArn=LB_POLICY, EntityFilter=entity_filter)
        assert (none["PolicyGroups"], none["PolicyUsers"], none["PolicyRoles"]) == ([], [], [])

    seen: list[str] = []
    marker: str | None = None
    while True:
        page = iam.list_entities_for_policy(PolicyArn=LB_POLICY, MaxItems=1, **({"Marker": marker} if marker else {}))
        names = ([g["GroupName"] for g in page["PolicyGroups"]] + [u["UserName"] for u in page["PolicyUsers"]]
                 + [r["RoleName"] for r in page["PolicyRoles"]])
        assert len(names) == 1
        seen += names
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    assert seen == [group, user, *roles]

    # Permissions boundaries count as a use of the policy, told apart by PolicyUsageFilter.
    boundary = policy(iam, unique("bnd"))
    bounded = unique("brole")
    iam.create_role(RoleName=bounded, AssumeRolePolicyDocument=TRUST, PermissionsBoundary=boundary)
    by_boundary = iam.list_entities_for_policy(PolicyArn=boundary)
    assert [r["RoleName"] for r in by_boundary["PolicyRoles"]] == [bounded]
    as_policy = iam.list_entities_for_policy(PolicyArn=boundary, PolicyUsageFilter="PermissionsPolicy")
    assert as_policy["PolicyRoles"] == []
    as_boundary = iam.list_entities_for_policy(PolicyArn=boundary, PolicyUsageFilter="PermissionsBoundary")
    assert [r["RoleName"] for r in as_boundary["PolicyRoles"]] == [bounded]
    assert error_of(iam.delete_policy, PolicyArn=boundary) == (
        "DeleteConflict", "Cannot delete a policy attached to entities.", 409,
    )
    unused = policy(iam, unique("unused"))
    empty = iam.list_entities_for_policy(PolicyArn=unused)
    assert (empty["PolicyGroups"], empty["PolicyUsers"], empty["PolicyRoles"], empty["IsTruncated"]) == (
        [], [], [], False,
    )


def test_service_linked_role_policies_are_unmodifiable(own_iam: Any, unique: Callable[[str], str]) -> None:
    iam = own_iam
    role = iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")["Role"]
    name = role["RoleName"]
    service_policy = "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"
    assert attached(iam.list_attached_role_policies(RoleName=name)) == [service_policy]
    entities = iam.list_entities_for_policy(PolicyArn=service_policy)
    assert entities["PolicyRoles"] == [{"RoleName": name, "RoleId": role["RoleId"]}]
    assert iam.get_policy(PolicyArn=service_policy)["Policy"]["AttachmentCount"] == 1
    protected = (
        "UnmodifiableEntity",
        f"Cannot perform the operation on the protected role '{name}' - this role is only modifiable by AWS",
        400,
    )
    assert error_of(iam.attach_role_policy, RoleName=name, PolicyArn=LB_POLICY) == protected
    assert error_of(iam.detach_role_policy, RoleName=name, PolicyArn=service_policy) == protected
    assert error_of(iam.put_role_policy, RoleName=name, PolicyName="p", PolicyDocument=DOCUMENT) == protected
    assert error_of(iam.delete_role_policy, RoleName=name, PolicyName="p") == protected
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    assert attached(iam.list_attached_role_policies(RoleName=name)) == [service_policy]
