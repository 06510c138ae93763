"""IAM roles through boto3: create, read, list, update, delete, trust policies, tags, boundaries, service-linked."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import error_of

ACCOUNT = "000000000000"
SEED_TRUST = (
    '{ "Version": "2012-10-17", "Statement": [ { "Sid": "AllowAccessToECSForInfrastructureManagement", '
    '"Effect": "Allow", "Principal": { "Service": "ecs.amazonaws.com" }, "Action": "sts:AssumeRole" } ] }'
)
LB_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
ECS_SLR_POLICY = "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"
PROTECTED = "Cannot perform the operation on the protected role '{}' - this role is only modifiable by AWS"
PATH_MESSAGE = (
    "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric "
    "characters and/or / characters."
)


def trust(principal: Any = None, **extra: Any) -> str:
    statement = {"Effect": "Allow", "Principal": principal or {"Service": "ecs.amazonaws.com"},
                 "Action": "sts:AssumeRole", **extra}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})



@pytest.fixture
def raw_iam(server: Any) -> Any:
    """A client without client-side validation, so the server's own validation answers."""
    return server.client("iam", parameter_validation=False)


@pytest.fixture
def role(iam: Any, unique: Callable[[str], str]) -> Iterator[str]:
    name = unique("role")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=SEED_TRUST)
    yield name


def sql(server: Any, statement: str, params: tuple[Any, ...] = ()) -> None:
    db = sqlite3.connect(server.data_dir / "turnout.db")
    with db:
        db.execute(statement, params)
    db.close()


# -- create and get ------------------------------------------------------------------------------------------


def test_create_and_get_role(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("infra")
    before = datetime.now(UTC) - timedelta(seconds=5)
    created = iam.create_role(
        RoleName=name, Path="/ecs/infra/", AssumeRolePolicyDocument=SEED_TRUST, Description="Load balancers",
        MaxSessionDuration=7200, Tags=[{"Key": "Team", "Value": "Blue"}],
    )["Role"]
    assert created["RoleName"] == name
    assert created["Path"] == "/ecs/infra/"
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/ecs/infra/{name}"
    assert created["RoleId"].startswith("AROA") and len(created["RoleId"]) == 21
    assert before <= created["CreateDate"] <= datetime.now(UTC) + timedelta(seconds=5)
    assert created["AssumeRolePolicyDocument"] == json.loads(SEED_TRUST)
    assert created["Description"] == "Load balancers"
    assert created["MaxSessionDuration"] == 7200
    assert created["Tags"] == [{"Key": "Team", "Value": "Blue"}]
    assert "RoleLastUsed" not in created and "PermissionsBoundary" not in created

    got = iam.get_role(RoleName=name.upper())["Role"]  # names are case-insensitive
    assert got["RoleName"] == name
    assert got["RoleId"] == created["RoleId"]
    assert got["CreateDate"] == created["CreateDate"]
    assert got["AssumeRolePolicyDocument"] == json.loads(SEED_TRUST)
    assert got["Tags"] == [{"Key": "Team", "Value": "Blue"}]
    assert got["RoleLastUsed"] == {}


def test_defaults(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("plain")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=SEED_TRUST)["Role"]
    assert role["Path"] == "/"
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/{name}"
    assert role["MaxSessionDuration"] == 3600
    assert "Description" not in role and "Tags" not in role


def test_trust_policy_is_url_encoded_on_the_wire(iam: Any, role: str) -> None:
    bodies: list[bytes] = []

    def keep(response_dict: dict[str, Any], **_: Any) -> None:
        bodies.append(response_dict["body"])

    iam.meta.events.register("before-parse.iam.GetRole", keep)
    try:
        got = iam.get_role(RoleName=role)["Role"]
    finally:
        iam.meta.events.unregister("before-parse.iam.GetRole", keep)
    body = bodies[0].decode()
    # IAM sends the document exactly as written, percent-encoded (RFC 3986) inside the XML element.
    assert f"<AssumeRolePolicyDocument>{quote(SEED_TRUST, safe='')}</AssumeRolePolicyDocument>" in body
    assert "%7B%20%22Version%22%3A%20%222012-10-17%22" in body
    assert got["AssumeRolePolicyDocument"] == json.loads(SEED_TRUST)


def test_names_are_unique_case_insensitively(iam: Any, role: str) -> None:
    for name in (role, role.upper(), role.swapcase()):
        assert error_of(iam.create_role, RoleName=name, AssumeRolePolicyDocument=SEED_TRUST) == (
            "EntityAlreadyExists", f"Role with name {name} already exists.", 409,
        )


def test_missing_role_errors(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("ghost")
    expected = ("NoSuchEntity", f"The role with name {name} cannot be found.", 404)
    assert error_of(iam.get_role, RoleName=name) == expected
    assert error_of(iam.delete_role, RoleName=name) == expected
    assert error_of(iam.update_role, RoleName=name, Description="x") == expected
    assert error_of(iam.update_role_description, RoleName=name, Description="x") == expected
    assert error_of(iam.update_assume_role_policy, RoleName=name, PolicyDocument=SEED_TRUST) == expected
    assert error_of(iam.tag_role, RoleName=name, Tags=[{"Key": "a", "Value": "b"}]) == expected
    assert error_of(iam.untag_role, RoleName=name, TagKeys=["a"]) == expected
    assert error_of(iam.list_role_tags, RoleName=name) == expected
    assert error_of(iam.put_role_permissions_boundary, RoleName=name, PermissionsBoundary=LB_POLICY) == expected
    assert error_of(iam.delete_role_permissions_boundary, RoleName=name) == expected


def test_input_validation(raw_iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("valid")
    code, message, status = error_of(raw_iam.create_role, RoleName=name, AssumeRolePolicyDocument=SEED_TRUST,
                                      MaxSessionDuration=3599)
    assert (code, status) == ("ValidationError", 400)
    assert message == ("1 validation error detected: Value '3599' at 'maxSessionDuration' failed to satisfy "
                       "constraint: Member must have value greater than or equal to 3600")
    code, message, status = error_of(raw_iam.create_role, RoleName=name, AssumeRolePolicyDocument=SEED_TRUST,
                                      MaxSessionDuration=43201)
    assert message.endswith("Member must have value less than or equal to 43200") and status == 400
    code, _, status = error_of(raw_iam.create_role, RoleName=name, AssumeRolePolicyDocument=SEED_TRUST,
                               Path="ecs/")
    assert (code, status) == ("ValidationError", 400)
    assert error_of(raw_iam.create_role, RoleName=name, AssumeRolePolicyDocument=SEED_TRUST, Path="/a//b/") == (
        "ValidationError", PATH_MESSAGE, 400,
    )
    code, message, status = error_of(raw_iam.create_role, RoleName="bad name", AssumeRolePolicyDocument=SEED_TRUST)
    assert (code, status) == ("ValidationError", 400) and "'roleName'" in message
    assert error_of(raw_iam.get_role, RoleName=name)[0] == "NoSuchEntity"  # nothing was written


# -- trust policies ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "This policy contains invalid Json"),
        (trust(Resource="*"), "Has prohibited field Resource"),
        (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}),
         "Missing required field Principal"),
        (trust({"Service": "bad"}), 'Invalid principal in policy: "SERVICE":"bad"'),
        (trust({"AWS": "not-an-account"}), 'Invalid principal in policy: "AWS":"not-an-account"'),
        (trust(Effect="Permit"), "Invalid effect: Permit"),
        (trust(Action="s3:GetObject"), "AssumeRole policy may only specify STS AssumeRole actions."),
        (trust(Condition={"stringEquals": {"sts:ExternalId": "x"}}), "Invalid Condition type : stringEquals"),
        (json.dumps({"Version": "2012-10-18", "Statement": []}), "The policy failed legacy parsing"),
    ],
)
def test_malformed_trust_policies(iam: Any, unique: Callable[[str], str], document: str, message: str) -> None:
    name = unique("bad-trust")
    assert error_of(iam.create_role, RoleName=name, AssumeRolePolicyDocument=document) == (
        "MalformedPolicyDocument", message, 400,
    )
    assert error_of(iam.get_role, RoleName=name)[0] == "NoSuchEntity"


def test_trust_principals_must_exist(iam: Any, role: str, unique: Callable[[str], str]) -> None:
    ghost = f"arn:aws:iam::{ACCOUNT}:role/{unique('ghost')}"
    assert error_of(iam.create_role, RoleName=unique("r"), AssumeRolePolicyDocument=trust({"AWS": ghost})) == (
        "MalformedPolicyDocument", f'Invalid principal in policy: "AWS":"{ghost}"', 400,
    )
    existing = f"arn:aws:iam::{ACCOUNT}:role/{role}"
    iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument=trust({"AWS": [existing, ACCOUNT]}))
    # Another account's principals are not Turnout's to judge.
    iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument=trust({"AWS": "arn:aws:iam::111122223333:role/x"}))


def test_trust_policy_size_quota(iam: Any, unique: Callable[[str], str]) -> None:
    base = trust(Sid="")
    fits = trust(Sid="A" * (2048 - len(base.replace(" ", ""))))
    padded = fits.replace(", ", " ,\n    ")  # whitespace is not counted
    iam.create_role(RoleName=unique("big"), AssumeRolePolicyDocument=padded)
    too_big = trust(Sid="A" * (2049 - len(base.replace(" ", ""))))
    assert error_of(iam.create_role, RoleName=unique("big"), AssumeRolePolicyDocument=too_big) == (
        "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048", 409,
    )


def test_update_assume_role_policy(iam: Any, role: str) -> None:
    document = trust({"Service": ["ecs.amazonaws.com", "ecs-tasks.amazonaws.com"]})
    assert iam.update_assume_role_policy(RoleName=role, PolicyDocument=document)["ResponseMetadata"][
        "HTTPStatusCode"] == 200
    assert iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"] == json.loads(document)
    assert error_of(iam.update_assume_role_policy, RoleName=role, PolicyDocument=trust(Resource="*")) == (
        "MalformedPolicyDocument", "Has prohibited field Resource", 400,
    )
    assert iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"] == json.loads(document)


# -- list ----------------------------------------------------------------------------------------------------


def test_list_roles_pages_every_role_exactly_once(iam: Any, unique: Callable[[str], str]) -> None:
    path = f"/{unique('page')}/"
    names = {unique("Member") if i % 2 else unique("member") for i in range(7)}
    for name in names:
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=SEED_TRUST, Description="d",
                        Tags=[{"Key": "k", "Value": "v"}], PermissionsBoundary=LB_POLICY)
    seen: list[str] = []
    marker: str | None = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"PathPrefix": path, "MaxItems": 3}
        if marker:
            kwargs["Marker"] = marker
        page = iam.list_roles(**kwargs)
        pages += 1
        assert len(page["Roles"]) <= 3
        for item in page["Roles"]:
            assert item["Path"] == path
            assert item["Description"] == "d" and item["MaxSessionDuration"] == 3600
            # ListRoles does not return these, as AWS documents.
            assert "Tags" not in item and "PermissionsBoundary" not in item and "RoleLastUsed" not in item
        seen += [r["RoleName"] for r in page["Roles"]]
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        marker = page["Marker"]
    assert pages == 3
    assert sorted(seen) == sorted(names) and len(seen) == len(set(seen))
    assert seen == sorted(seen, key=str.lower)
    paginated = [r["RoleName"] for p in iam.get_paginator("list_roles").paginate(
        PathPrefix=path, PaginationConfig={"PageSize": 2}) for r in p["Roles"]]
    assert paginated == seen
    assert iam.list_roles(PathPrefix=f"/{unique('none')}/")["Roles"] == []


# -- update --------------------------------------------------------------------------------------------------


def test_update_role_and_description(iam: Any, role: str) -> None:
    iam.update_role(RoleName=role, Description="first", MaxSessionDuration=43200)
    got = iam.get_role(RoleName=role)["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("first", 43200)
    iam.update_role(RoleName=role, MaxSessionDuration=3600)
    got = iam.get_role(RoleName=role)["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("first", 3600)
    updated = iam.update_role_description(RoleName=role, Description="second")["Role"]
    assert updated["RoleName"] == role and updated["Description"] == "second"
    assert iam.get_role(RoleName=role)["Role"]["Description"] == "second"


def test_max_signin_session_duration(raw_iam: Any, role: str) -> None:
    raw_iam.update_role(RoleName=role, MaxSigninSessionDuration=86400)
    assert raw_iam.get_role(RoleName=role)["Role"]["MaxSigninSessionDuration"] == 86400
    assert error_of(raw_iam.update_role, RoleName=role, MaxSigninSessionDuration=7200,
                    ResetMaxSigninSessionDuration=True) == (
        "InvalidInput", "You cannot specify both MaxSigninSessionDuration and ResetMaxSigninSessionDuration.", 400,
    )
    raw_iam.update_role(RoleName=role, ResetMaxSigninSessionDuration=True)
    assert "MaxSigninSessionDuration" not in raw_iam.get_role(RoleName=role)["Role"]


# -- delete --------------------------------------------------------------------------------------------------


def test_delete_role(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("gone")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=SEED_TRUST, Tags=[{"Key": "a", "Value": "b"}])
    iam.delete_role(RoleName=name.upper())
    assert error_of(iam.get_role, RoleName=name)[0] == "NoSuchEntity"
    # The name is free again, and the old tags are gone with the old role.
    assert "Tags" not in iam.create_role(RoleName=name, AssumeRolePolicyDocument=SEED_TRUST)["Role"]


def test_delete_conflicts_read_the_tables(fresh_server: Any) -> None:
    iam = fresh_server.client("iam")
    iam.create_role(RoleName="Holder", AssumeRolePolicyDocument=SEED_TRUST)
    sql(fresh_server, "INSERT INTO iam_attachments (account_id, entity_type, entity_lower, policy_arn, seq) "
        "VALUES (?, 'role', 'holder', ?, 1)", (ACCOUNT, LB_POLICY))
    sql(fresh_server, "INSERT INTO iam_inline_policies (account_id, entity_type, entity_lower, policy_name, "
        "document) VALUES (?, 'role', 'holder', 'inline', '{}')", (ACCOUNT,))
    assert error_of(iam.delete_role, RoleName="Holder") == (
        "DeleteConflict", "Cannot delete entity, must detach all policies first.", 409,
    )
    sql(fresh_server, "DELETE FROM iam_attachments")
    assert error_of(iam.delete_role, RoleName="holder") == (
        "DeleteConflict", "Cannot delete entity, must delete policies first.", 409,
    )
    sql(fresh_server, "DELETE FROM iam_inline_policies")
    iam.delete_role(RoleName="Holder")
    assert error_of(iam.get_role, RoleName="Holder")[0] == "NoSuchEntity"


def test_delete_conflicts_through_the_policy_api(iam: Any, role: str) -> None:
    iam.attach_role_policy(RoleName=role, PolicyArn=LB_POLICY)
    assert error_of(iam.delete_role, RoleName=role) == (
        "DeleteConflict", "Cannot delete entity, must detach all policies first.", 409,
    )
    iam.detach_role_policy(RoleName=role, PolicyArn=LB_POLICY)
    iam.put_role_policy(RoleName=role, PolicyName="inline", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    assert error_of(iam.delete_role, RoleName=role) == (
        "DeleteConflict", "Cannot delete entity, must delete policies first.", 409,
    )
    iam.delete_role_policy(RoleName=role, PolicyName="inline")
    iam.delete_role(RoleName=role)


def test_role_last_used(fresh_server: Any) -> None:
    iam = fresh_server.client("iam")
    iam.create_role(RoleName="Used", AssumeRolePolicyDocument=SEED_TRUST)
    sql(fresh_server, "UPDATE iam_roles SET last_used_at = ?, last_used_region = ? WHERE name_lower = 'used'",
        ("2026-03-01T10:20:30+00:00", "eu-west-1"))
    assert iam.get_role(RoleName="Used")["Role"]["RoleLastUsed"] == {
        "LastUsedDate": datetime(2026, 3, 1, 10, 20, 30, tzinfo=UTC), "Region": "eu-west-1",
    }


# -- tags ----------------------------------------------------------------------------------------------------


def test_tags(iam: Any, role: str) -> None:
    iam.tag_role(RoleName=role, Tags=[{"Key": "Team", "Value": "Blue"}, {"Key": "Env", "Value": "dev"}])
    iam.tag_role(RoleName=role, Tags=[{"Key": "team", "Value": "Green"}])  # keys are case-insensitive
    assert iam.list_role_tags(RoleName=role)["Tags"] == [
        {"Key": "team", "Value": "Green"}, {"Key": "Env", "Value": "dev"},
    ]
    iam.untag_role(RoleName=role, TagKeys=["ENV", "absent"])
    assert iam.list_role_tags(RoleName=role) | {"ResponseMetadata": None} == {
        "Tags": [{"Key": "team", "Value": "Green"}], "IsTruncated": False, "ResponseMetadata": None,
    }
    assert error_of(iam.tag_role, RoleName=role, Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]) == (
        "InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.", 400,
    )


def test_tag_quota(iam: Any, role: str, unique: Callable[[str], str]) -> None:
    iam.tag_role(RoleName=role, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
    assert error_of(iam.tag_role, RoleName=role, Tags=[{"Key": "x", "Value": "1"}, {"Key": "y", "Value": "2"}]) == (
        "LimitExceeded", "Cannot exceed quota for TagsPerResource: 50.", 409,
    )
    assert len(iam.list_role_tags(RoleName=role)["Tags"]) == 49  # nothing of the refused call was written
    iam.tag_role(RoleName=role, Tags=[{"Key": "k0", "Value": "new"}, {"Key": "last", "Value": "1"}])
    tags = iam.list_role_tags(RoleName=role)["Tags"]
    assert len(tags) == 50 and tags[0] == {"Key": "k0", "Value": "new"}
    assert error_of(iam.create_role, RoleName=unique("dup"), AssumeRolePolicyDocument=SEED_TRUST,
                    Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])[0] == "InvalidInput"


def test_list_role_tags_pages(iam: Any, role: str) -> None:
    keys = [f"key{i:02d}" for i in range(7)]
    iam.tag_role(RoleName=role, Tags=[{"Key": k, "Value": k.upper()} for k in keys])
    seen: list[str] = []
    marker = None
    while True:
        page = iam.list_role_tags(RoleName=role, MaxItems=3, **({"Marker": marker} if marker else {}))
        seen += [t["Key"] for t in page["Tags"]]
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    assert seen == keys


# -- permissions boundary ------------------------------------------------------------------------------------


def test_permissions_boundary(iam: Any, role: str, unique: Callable[[str], str]) -> None:
    iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=LB_POLICY)
    assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": LB_POLICY,
    }
    iam.delete_role_permissions_boundary(RoleName=role)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=role)["Role"]

    missing = f"arn:aws:iam::{ACCOUNT}:policy/{unique('nothing')}"
    expected = ("NoSuchEntity", f"Scope ARN: {missing} does not exist or is not attachable.", 404)
    assert error_of(iam.put_role_permissions_boundary, RoleName=role, PermissionsBoundary=missing) == expected
    name = unique("bounded")
    assert error_of(iam.create_role, RoleName=name, AssumeRolePolicyDocument=SEED_TRUST,
                    PermissionsBoundary=missing) == expected
    assert error_of(iam.get_role, RoleName=name)[0] == "NoSuchEntity"
    aws_missing = "arn:aws:iam::aws:policy/NoSuchPolicyAnywhere"
    assert error_of(iam.put_role_permissions_boundary, RoleName=role, PermissionsBoundary=aws_missing) == (
        "NoSuchEntity", f"Scope ARN: {aws_missing} does not exist or is not attachable.", 404,
    )
    assert error_of(iam.put_role_permissions_boundary, RoleName=role,
                    PermissionsBoundary="arn:aws:s3:::some-bucket-name") == (
        "InvalidInput", "ARN arn:aws:s3:::some-bucket-name is not valid.", 400,
    )

    policy = iam.create_policy(PolicyName=unique("boundary"), PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))["Policy"]
    created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=SEED_TRUST,
                              PermissionsBoundary=policy["Arn"])["Role"]
    assert created["PermissionsBoundary"]["PermissionsBoundaryArn"] == policy["Arn"]


# -- service-linked roles ------------------------------------------------------------------------------------


def test_service_linked_role_lifecycle(fresh_server: Any) -> None:
    iam = fresh_server.client("iam")
    name = "AWSServiceRoleForECS"
    role = iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")["Role"]
    assert role["RoleName"] == name
    assert role["Path"] == "/aws-service-role/ecs.amazonaws.com/"
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/{name}"
    assert role["RoleId"].startswith("AROA")
    assert role["Description"] == "Role to enable Amazon ECS to manage your cluster."
    assert role["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    assert iam.get_role(RoleName=name)["Role"]["Arn"] == role["Arn"]
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AmazonECSServiceRolePolicy", "PolicyArn": ECS_SLR_POLICY}]

    taken = ("InvalidInput",
             f"Service role name {name} has been taken in this account, please try a different suffix.", 400)
    assert error_of(iam.create_service_linked_role, AWSServiceName="ecs.amazonaws.com") == taken
    assert error_of(iam.create_service_linked_role, AWSServiceName="ecs.amazonaws.com", CustomSuffix="two") == (
        "InvalidInput", "Custom suffix is not allowed for ecs.amazonaws.com", 400,
    )

    protected = ("UnmodifiableEntity", PROTECTED.format(name), 400)
    assert error_of(iam.delete_role, RoleName=name) == protected
    assert error_of(iam.update_assume_role_policy, RoleName=name, PolicyDocument=SEED_TRUST) == protected
    assert error_of(iam.put_role_permissions_boundary, RoleName=name, PermissionsBoundary=LB_POLICY) == protected
    assert error_of(iam.delete_role_permissions_boundary, RoleName=name) == protected
    assert error_of(iam.update_role, RoleName=name, MaxSessionDuration=7200) == protected
    iam.update_role_description(RoleName=name, Description="Mine")  # the description may change
    assert iam.get_role(RoleName=name)["Role"]["Description"] == "Mine"

    task = iam.delete_service_linked_role(RoleName=name)["DeletionTaskId"]
    assert task.startswith(f"task/aws-service-role/ecs.amazonaws.com/{name}/")
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"
    assert error_of(iam.get_role, RoleName=name)[0] == "NoSuchEntity"
    assert iam.get_account_summary()["SummaryMap"]["PolicyVersionsInUse"] == 0  # its attachment went with it
    again = iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com", Description="Again")["Role"]
    assert again["Description"] == "Again" and again["RoleId"] != role["RoleId"]


def test_service_linked_role_errors(fresh_server: Any) -> None:
    iam = fresh_server.client("iam")
    assert error_of(iam.create_service_linked_role, AWSServiceName="nosuchservice.amazonaws.com") == (
        "InvalidInput", "The specified service nosuchservice.amazonaws.com does not support service-linked roles.",
        400,
    )
    iam.create_role(RoleName="AWSServiceRoleForECS", AssumeRolePolicyDocument=SEED_TRUST)
    assert error_of(iam.create_service_linked_role, AWSServiceName="ecs.amazonaws.com")[:2] == (
        "InvalidInput",
        "Service role name AWSServiceRoleForECS has been taken in this account, please try a different suffix.",
    )
    assert error_of(iam.delete_service_linked_role, RoleName="AWSServiceRoleForECS") == (
        "NoSuchEntity", "The service-linked role with name AWSServiceRoleForECS cannot be found.", 404,
    )
    assert error_of(iam.delete_service_linked_role, RoleName="Nobody") == (
        "NoSuchEntity", "The role with name Nobody cannot be found.", 404,
    )
    assert error_of(iam.get_service_linked_role_deletion_status, DeletionTaskId="bogus") == (
        "InvalidInput", "Invalid deletion task id: bogus", 400,
    )
    unknown = "task/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS/8e3bd4fb-0000-0000-0000-000000000000"
    assert error_of(iam.get_service_linked_role_deletion_status, DeletionTaskId=unknown) == (
        "NoSuchEntity", f"Deletion task {unknown} cannot be found.", 404,
    )
