"""IAM managed policies through boto3: customer policies, their versions and tags, and the AWS catalogue."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import Server, error_of, shared_path
from turnout.reference.managed_policies import catalogue

LB_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
LB_FILES = ("data", "aws-managed-policies")
TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})


def document(*actions: str, resources: list[str] | None = None) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions) or ["s3:GetObject"], "Resource": resources or "*"}],
    })



@pytest.fixture
def own_iam(server: Server) -> Any:
    """A client for the root user of an account of the test's own (usage counts are per account)."""
    return server.client("iam", key=f"{secrets.randbelow(9 * 10**11) + 10**11:012d}")


def all_pages(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    marker: str | None = None
    while True:
        page = call(**kwargs, **({"Marker": marker} if marker else {}))
        items += page[key]
        if not page["IsTruncated"]:
            assert "Marker" not in page
            return items
        marker = page["Marker"]


# -- customer managed policies ---------------------------------------------------------------------------


def test_create_get_policy(iam: Any, unique: Callable[[str], str]) -> None:
    name, path = unique("pol"), f"/{unique('pp')}/"
    created = iam.create_policy(
        PolicyName=name, Path=path, PolicyDocument=document("s3:GetObject"), Description="reads objects",
        Tags=[{"Key": "team", "Value": "blue"}],
    )["Policy"]
    assert created["PolicyName"] == name
    assert created["Arn"] == f"arn:aws:iam::000000000000:policy{path}{name}"
    assert created["Path"] == path
    assert created["PolicyId"].startswith("ANPA") and len(created["PolicyId"]) == 21
    assert created["DefaultVersionId"] == "v1"
    assert created["AttachmentCount"] == 0 and created["PermissionsBoundaryUsageCount"] == 0
    assert created["IsAttachable"] is True
    assert created["Description"] == "reads objects"
    assert created["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert created["CreateDate"] == created["UpdateDate"]
    assert created["CreateDate"].tzinfo is not None

    got = iam.get_policy(PolicyArn=created["Arn"])["Policy"]
    assert got == created
    listed = iam.list_policies(Scope="Local", PathPrefix=path)["Policies"]
    assert len(listed) == 1
    assert "Description" not in listed[0] and "Tags" not in listed[0]
    assert listed[0]["PolicyId"] == created["PolicyId"]

    version = iam.get_policy_version(PolicyArn=created["Arn"], VersionId="v1")["PolicyVersion"]
    assert version["Document"] == json.loads(document("s3:GetObject"))
    assert version["IsDefaultVersion"] is True and version["VersionId"] == "v1"


def test_create_policy_defaults_and_errors(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("dup")
    created = iam.create_policy(PolicyName=name, PolicyDocument=document())["Policy"]
    assert created["Path"] == "/" and created["Arn"] == f"arn:aws:iam::000000000000:policy/{name}"
    assert "Description" not in created and "Tags" not in created
    # Names are unique in the account whatever the path and the case.
    assert error_of(iam.create_policy, PolicyName=name.upper(), Path="/other/", PolicyDocument=document()) == (
        "EntityAlreadyExists", f"A policy called {name.upper()} already exists. Duplicate names are not allowed.",
        409,
    )
    code, _, status = error_of(iam.create_policy, PolicyName=unique("bad"), PolicyDocument="{not json")
    assert (code, status) == ("MalformedPolicyDocument", 400)
    assert error_of(
        iam.create_policy, PolicyName=unique("tags"), PolicyDocument=document(),
        Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}],
    ) == ("InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.", 400)


def test_policy_size_quota_counts_without_whitespace(iam: Any, unique: Callable[[str], str]) -> None:
    resources = [f"arn:aws:s3:::bucket-{i:05d}/*" for i in range(250)]  # > 6144 characters
    big = document("s3:GetObject", resources=resources)
    assert error_of(iam.create_policy, PolicyName=unique("big"), PolicyDocument=big) == (
        "LimitExceeded", "Cannot exceed quota for PolicySize: 6144", 409,
    )
    # Whitespace is not counted: a small policy padded far beyond 6144 characters is accepted.
    padded = json.dumps(json.loads(document("s3:GetObject")), indent=400)
    assert len(padded) > 6144
    arn = iam.create_policy(PolicyName=unique("padded"), PolicyDocument=padded)["Policy"]["Arn"]
    assert error_of(iam.create_policy_version, PolicyArn=arn, PolicyDocument=big) == (
        "LimitExceeded", "Cannot exceed quota for PolicySize: 6144", 409,
    )


def test_get_policy_errors(iam: Any) -> None:
    missing = "arn:aws:iam::000000000000:policy/no-such-policy-here"
    assert error_of(iam.get_policy, PolicyArn=missing) == ("NoSuchEntity", f"Policy {missing} was not found.", 404)
    assert error_of(iam.get_policy, PolicyArn="arn:aws:iam::aws:policy/NoSuchAwsPolicyAtAll") == (
        "NoSuchEntity", "Policy arn:aws:iam::aws:policy/NoSuchAwsPolicyAtAll was not found.", 404,
    )
    for bad in ("arn:aws:iam::000000000000:role/not-a-policy", "not-an-arn-at-all-really"):
        assert error_of(iam.get_policy, PolicyArn=bad) == ("InvalidInput", f"ARN {bad} is not valid.", 400)
    assert error_of(iam.list_policy_versions, PolicyArn=missing)[0] == "NoSuchEntity"
    assert error_of(iam.list_entities_for_policy, PolicyArn=missing) == (
        "NoSuchEntity", f"Policy {missing} was not found.", 404,
    )


def test_list_local_policies_pages_in_name_order(iam: Any, unique: Callable[[str], str]) -> None:
    path = f"/{unique('lp')}/"
    names = [unique("lpol") for _ in range(5)]
    for name in reversed(names):
        iam.create_policy(PolicyName=name, Path=path, PolicyDocument=document())
    deeper = unique("deeper")
    iam.create_policy(PolicyName=deeper, Path=f"{path}sub/", PolicyDocument=document())
    everything = sorted([*names, deeper], key=str.lower)
    first = iam.list_policies(Scope="Local", PathPrefix=path, MaxItems=2)
    assert [p["PolicyName"] for p in first["Policies"]] == everything[:2]
    assert first["IsTruncated"] is True and first["Marker"]
    listed = all_pages(iam.list_policies, "Policies", Scope="Local", PathPrefix=path, MaxItems=2)
    assert [p["PolicyName"] for p in listed] == everything
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local", PathPrefix=f"{path}sub/")["Policies"]] == [
        deeper,
    ]
    assert error_of(iam.list_policies, Scope="Local", Marker="!!not-a-marker!!")[0] == "InvalidInput"


def test_list_aws_policies_walks_the_catalogue_once(iam: Any, unique: Callable[[str], str]) -> None:
    iam.create_policy(PolicyName=unique("local"), PolicyDocument=document())
    listed = all_pages(iam.list_policies, "Policies", Scope="AWS", MaxItems=250)
    arns = [p["Arn"] for p in listed]
    assert len(arns) == len(set(arns)) == len(catalogue())
    assert all(arn.startswith("arn:aws:iam::aws:policy/") for arn in arns)
    assert arns[0] == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert LB_POLICY in arns
    first = iam.list_policies(Scope="AWS", MaxItems=1)
    assert first["IsTruncated"] is True and len(first["Policies"]) == 1
    default_page = iam.list_policies(Scope="AWS")
    assert len(default_page["Policies"]) == 100 and default_page["IsTruncated"] is True

    service_roles = all_pages(iam.list_policies, "Policies", Scope="AWS", PathPrefix="/service-role/", MaxItems=1000)
    assert service_roles and all(p["Path"] == "/service-role/" for p in service_roles)
    assert len(service_roles) == sum(1 for p in catalogue().listed if p.path == "/service-role/")


def test_list_all_policies_and_usage_filters(own_iam: Any, unique: Callable[[str], str]) -> None:
    local = own_iam.create_policy(PolicyName=unique("mine"), PolicyDocument=document())["Policy"]
    everything = all_pages(own_iam.list_policies, "Policies", MaxItems=1000)
    assert len(everything) == len(catalogue()) + 1
    assert everything[-1]["Arn"] == local["Arn"]
    assert own_iam.list_policies(OnlyAttached=True)["Policies"] == []

    boundary = own_iam.create_policy(PolicyName=unique("boundary"), PolicyDocument=document())["Policy"]
    role = unique("role")
    own_iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST, PermissionsBoundary=boundary["Arn"])
    own_iam.attach_role_policy(RoleName=role, PolicyArn=LB_POLICY)
    own_iam.attach_role_policy(RoleName=role, PolicyArn=local["Arn"])

    # AWS managed policies first, then the account's own by name ("boundary-..." before "mine-...").
    attached = own_iam.list_policies(OnlyAttached=True)["Policies"]
    assert [p["Arn"] for p in attached] == [LB_POLICY, boundary["Arn"], local["Arn"]]
    assert [p["AttachmentCount"] for p in attached] == [1, 0, 1]
    assert [p["PermissionsBoundaryUsageCount"] for p in attached] == [0, 1, 0]
    as_policy = own_iam.list_policies(OnlyAttached=True, PolicyUsageFilter="PermissionsPolicy")["Policies"]
    assert [p["Arn"] for p in as_policy] == [LB_POLICY, local["Arn"]]
    as_boundary = own_iam.list_policies(OnlyAttached=True, PolicyUsageFilter="PermissionsBoundary")["Policies"]
    assert [p["Arn"] for p in as_boundary] == [boundary["Arn"]]
    aws_attached = own_iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]
    assert [p["Arn"] for p in aws_attached] == [LB_POLICY]
    local_attached = own_iam.list_policies(Scope="Local", OnlyAttached=True, MaxItems=1)
    assert [p["Arn"] for p in local_attached["Policies"]] == [boundary["Arn"]] and local_attached["IsTruncated"]
    assert own_iam.get_policy(PolicyArn=boundary["Arn"])["Policy"]["PermissionsBoundaryUsageCount"] == 1


def test_delete_policy(iam: Any, unique: Callable[[str], str]) -> None:
    arn = iam.create_policy(PolicyName=unique("del"), PolicyDocument=document(), Tags=[{"Key": "k", "Value": "v"}])[
        "Policy"]["Arn"]
    role = unique("delrole")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    assert error_of(iam.delete_policy, PolicyArn=arn) == (
        "DeleteConflict", "Cannot delete a policy attached to entities.", 409,
    )
    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=document("s3:PutObject"))
    assert error_of(iam.delete_policy, PolicyArn=arn) == (
        "DeleteConflict",
        "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. "
        "The default version is deleted with the policy.",
        409,
    )
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    iam.delete_policy(PolicyArn=arn)
    assert error_of(iam.get_policy, PolicyArn=arn) == ("NoSuchEntity", f"Policy {arn} was not found.", 404)
    assert error_of(iam.delete_policy, PolicyArn=arn) == ("NoSuchEntity", f"Policy {arn} was not found.", 404)


# -- versions --------------------------------------------------------------------------------------------


def test_policy_versions_and_default_switching(iam: Any, unique: Callable[[str], str]) -> None:
    created = iam.create_policy(PolicyName=unique("ver"), PolicyDocument=document("s3:GetObject"))["Policy"]
    arn = created["Arn"]
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=document("s3:PutObject"))["PolicyVersion"]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"] is False and "Document" not in v2
    v3 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=document("s3:DeleteObject"), SetAsDefault=True)[
        "PolicyVersion"]
    assert v3["VersionId"] == "v3" and v3["IsDefaultVersion"] is True

    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["DefaultVersionId"] == "v3"
    assert policy["UpdateDate"] >= policy["CreateDate"]
    listed = iam.list_policy_versions(PolicyArn=arn)
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in listed["Versions"]] == [
        ("v3", True), ("v2", False), ("v1", False),
    ]
    assert all("Document" not in v for v in listed["Versions"]) and listed["IsTruncated"] is False
    paged = iam.list_policy_versions(PolicyArn=arn, MaxItems=2)
    assert [v["VersionId"] for v in paged["Versions"]] == ["v3", "v2"] and paged["IsTruncated"] is True
    rest = iam.list_policy_versions(PolicyArn=arn, Marker=paged["Marker"])
    assert [v["VersionId"] for v in rest["Versions"]] == ["v1"]

    got = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]
    assert got["Document"] == json.loads(document("s3:PutObject")) and got["IsDefaultVersion"] is False

    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["IsDefaultVersion"] is True
    assert error_of(iam.delete_policy_version, PolicyArn=arn, VersionId="v1") == (
        "DeleteConflict", "Cannot delete the default version of a policy.", 409,
    )
    for action in ("s3:ListBucket", "s3:GetBucketPolicy"):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=document(action))
    assert error_of(iam.create_policy_version, PolicyArn=arn, PolicyDocument=document("s3:Other")) == (
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing "
        "version.",
        409,
    )
    iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    # Version numbers are never reused.
    v6 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=document("s3:Other"), SetAsDefault=True)
    assert v6["PolicyVersion"]["VersionId"] == "v6"
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == [
        "v6", "v5", "v4", "v2", "v1",
    ]

    missing = f"Policy {arn} version v3 does not exist or is not attachable."
    assert error_of(iam.get_policy_version, PolicyArn=arn, VersionId="v3") == ("NoSuchEntity", missing, 404)
    assert error_of(iam.delete_policy_version, PolicyArn=arn, VersionId="v3") == ("NoSuchEntity", missing, 404)
    assert error_of(iam.set_default_policy_version, PolicyArn=arn, VersionId="v3") == ("NoSuchEntity", missing, 404)
    assert error_of(iam.get_policy_version, PolicyArn=arn, VersionId="version1")[0] == "ValidationError"


def test_policy_tags(iam: Any, unique: Callable[[str], str]) -> None:
    arn = iam.create_policy(PolicyName=unique("tag"), PolicyDocument=document())["Policy"]["Arn"]
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == []
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "a"}])
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "ENV", "Value": "prod"}])
    tags = iam.list_policy_tags(PolicyArn=arn)
    assert tags["Tags"] == [{"Key": "ENV", "Value": "prod"}, {"Key": "team", "Value": "a"}]
    assert tags["IsTruncated"] is False
    page = iam.list_policy_tags(PolicyArn=arn, MaxItems=1)
    assert page["Tags"] == [{"Key": "ENV", "Value": "prod"}] and page["IsTruncated"] is True
    assert iam.list_policy_tags(PolicyArn=arn, Marker=page["Marker"])["Tags"] == [{"Key": "team", "Value": "a"}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == tags["Tags"]
    iam.untag_policy(PolicyArn=arn, TagKeys=["env", "absent"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "team", "Value": "a"}]
    assert error_of(iam.tag_policy, PolicyArn=arn, Tags=[{"Key": "x", "Value": "1"}, {"Key": "X", "Value": "2"}])[
        0] == "InvalidInput"
    assert error_of(iam.tag_policy, PolicyArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)]) == (
        "LimitExceeded", "Cannot exceed quota for TagsPerResource: 50.", 409,
    )
    missing = "arn:aws:iam::000000000000:policy/never-created-policy"
    assert error_of(iam.tag_policy, PolicyArn=missing, Tags=[{"Key": "a", "Value": "b"}]) == (
        "NoSuchEntity", f"Policy {missing} was not found.", 404,
    )
    assert error_of(iam.list_policy_tags, PolicyArn=missing)[0] == "NoSuchEntity"


# -- the AWS managed policy catalogue --------------------------------------------------------------------


def test_aws_managed_policy_metadata(own_iam: Any) -> None:
    policy = own_iam.get_policy(PolicyArn=LB_POLICY)["Policy"]
    assert policy == {
        "PolicyName": "AmazonECSInfrastructureRolePolicyForLoadBalancers",
        "PolicyId": "ANPAZKAPJZG4D6JFMQCSN",
        "Arn": LB_POLICY,
        "Path": "/",
        "DefaultVersionId": "v6",
        "AttachmentCount": 0,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "Description": "Provides access to other AWS service resources required to manage load balancers "
                       "associated with ECS workloads on your behalf.",
        "CreateDate": datetime(2025, 7, 17, 16, 37, 7, tzinfo=UTC),
        "UpdateDate": datetime(2026, 2, 12, 18, 1, 5, tzinfo=UTC),
    }
    admin = own_iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]
    assert admin["PolicyId"] == "ANPAIWMBCKSKIEE64ZLYK" and admin["DefaultVersionId"] == "v1"
    assert "Description" not in admin and "Tags" not in admin
    service_role = own_iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/service-role/AWSConfigRole")["Policy"]
    assert service_role["Path"] == "/service-role/" and service_role["IsAttachable"] is False
    # Only the exact ARN (path included) names a listed policy.
    assert error_of(own_iam.get_policy, PolicyArn="arn:aws:iam::aws:policy/AWSConfigRole")[0] == "NoSuchEntity"


def test_aws_managed_policy_versions(iam: Any) -> None:
    versions = iam.list_policy_versions(PolicyArn=LB_POLICY)
    assert versions["IsTruncated"] is False
    assert [(v["VersionId"], v["IsDefaultVersion"], v["CreateDate"]) for v in versions["Versions"]] == [
        ("v6", True, datetime(2026, 2, 12, 18, 1, 5, tzinfo=UTC)),
        ("v4", False, datetime(2026, 2, 11, 22, 17, 58, tzinfo=UTC)),
        ("v2", False, datetime(2025, 7, 25, 20, 22, 6, tzinfo=UTC)),
        ("v1", False, datetime(2025, 7, 17, 16, 37, 7, tzinfo=UTC)),
    ]
    for version_id in ("v6", "v1"):
        got = iam.get_policy_version(PolicyArn=LB_POLICY, VersionId=version_id)["PolicyVersion"]
        expected_file = shared_path(*LB_FILES, f"AmazonECSInfrastructureRolePolicyForLoadBalancers.{version_id}.json")
        expected = json.loads(expected_file.read_text())
        assert got["Document"] == expected
        assert json.dumps(got["Document"]) == json.dumps(expected)  # key order kept too
        assert got["IsDefaultVersion"] is (version_id == "v6")
    assert error_of(iam.get_policy_version, PolicyArn=LB_POLICY, VersionId="v3") == (
        "NoSuchEntity", f"Policy {LB_POLICY} version v3 does not exist or is not attachable.", 404,
    )
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=admin)["Versions"]] == ["v1"]
    doc = iam.get_policy_version(PolicyArn=admin, VersionId="v1")["PolicyVersion"]["Document"]
    assert doc == {"Version": "2012-10-17", "Statement": [{"Action": "*", "Resource": "*", "Effect": "Allow"}]}
    assert iam.list_policy_tags(PolicyArn=admin)["Tags"] == []


def test_aws_managed_policies_cannot_be_changed(iam: Any) -> None:
    denied = "User: arn:aws:iam::000000000000:root is not authorized to perform: iam:{} on resource: policy {}"
    calls: list[tuple[str, Callable[..., Any], dict[str, Any]]] = [
        ("CreatePolicyVersion", iam.create_policy_version, {"PolicyDocument": document(), "SetAsDefault": True}),
        ("DeletePolicy", iam.delete_policy, {}),
        ("DeletePolicyVersion", iam.delete_policy_version, {"VersionId": "v1"}),
        ("SetDefaultPolicyVersion", iam.set_default_policy_version, {"VersionId": "v2"}),
        ("TagPolicy", iam.tag_policy, {"Tags": [{"Key": "a", "Value": "b"}]}),
        ("UntagPolicy", iam.untag_policy, {"TagKeys": ["a"]}),
    ]
    for action, call, extra in calls:
        assert error_of(call, PolicyArn=LB_POLICY, **extra) == ("AccessDenied", denied.format(action, LB_POLICY), 403)
    assert iam.get_policy(PolicyArn=LB_POLICY)["Policy"]["DefaultVersionId"] == "v6"
    assert len(iam.list_policy_versions(PolicyArn=LB_POLICY)["Versions"]) == 4


def test_newer_and_deprecated_aws_policies(iam: Any, unique: Callable[[str], str]) -> None:
    # A policy only the newer source (iam-dataset) knows, and a newer default version it supplies.
    newer = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AIDevOpsAgentAccessPolicy")["Policy"]
    assert newer["DefaultVersionId"] == "v10" and newer["IsAttachable"] is True
    assert newer["PolicyId"].startswith("ANPA") and len(newer["PolicyId"]) == 21
    # Deprecated policies still answer GetPolicy but cannot be attached.
    deprecated = "arn:aws:iam::aws:policy/AWSLambdaFullAccess"
    got = iam.get_policy(PolicyArn=deprecated)["Policy"]
    assert got["IsAttachable"] is False and got["DefaultVersionId"] == "v8"
    assert iam.get_policy_version(PolicyArn=deprecated, VersionId="v8")["PolicyVersion"]["Document"]["Statement"]
    listed = all_pages(iam.list_policies, "Policies", Scope="AWS", MaxItems=1000)
    assert deprecated not in {p["Arn"] for p in listed}
    role = unique("deprole")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    for arn in (deprecated, "arn:aws:iam::aws:policy/service-role/AWSConfigRole"):
        assert error_of(iam.attach_role_policy, RoleName=role, PolicyArn=arn) == (
            "NoSuchEntity", f"Policy {arn} does not exist or is not attachable.", 404,
        )
