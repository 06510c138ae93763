"""Issue 11 finding 1: a resource-based policy binds the IAM users and roles it names to their unique ids when it
is saved (IAM User Guide, "AWS JSON policy elements: Principal"; facts 2 section 7). While the principal exists the
policy reads back as written; once it is deleted the policy shows its unique id (AIDA... / AROA...), and a new
principal of the same name does not match until the policy is saved again with the ARN. Role trust policies
(naming a user, naming a role) and S3 bucket policies, with boto3 against a real server."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable
from typing import Any

from tests.conftest import Server, doc, error_of

ACCOUNT = "000000000000"


def trust(aws: str) -> str:
    return doc({"Effect": "Allow", "Principal": {"AWS": aws}, "Action": "sts:AssumeRole"})


def make_user(server: Server, iam: Any, name: str) -> tuple[dict[str, Any], Any]:
    """A user with an access key and no policies: (its User, a session factory for its clients)."""
    user = iam.create_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]

    def client(service: str) -> Any:
        return server.client(service, key=key["AccessKeyId"], secret=key["SecretAccessKey"])

    return user, client


def delete_user(iam: Any, name: str) -> None:
    for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    for policy in iam.list_user_policies(UserName=name)["PolicyNames"]:
        iam.delete_user_policy(UserName=name, PolicyName=policy)
    iam.delete_user(UserName=name)


def delete_role(iam: Any, name: str) -> None:
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)


def principal_of(document: Any) -> Any:
    parsed = json.loads(document) if isinstance(document, str) else document
    return parsed["Statement"][0]["Principal"]["AWS"]


def refused(who: str, role_arn: str) -> tuple[str, str, int]:
    return ("AccessDenied", f"User: {who} is not authorized to perform: sts:AssumeRole on resource: {role_arn}", 403)


def test_a_recreated_user_does_not_match_the_trust_policy_of_its_namesake(
    server: Server, iam: Any, unique: Callable[[str], str],
) -> None:
    name = unique("tim")
    first, first_client = make_user(server, iam, name)
    written = trust(first["Arn"])
    role = iam.create_role(RoleName=unique("trusts-tim"), AssumeRolePolicyDocument=written)["Role"]
    # The trust policy names tim directly: no identity policy is needed, and it reads back as written.
    assert first_client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    assert iam.get_role(RoleName=role["RoleName"])["Role"]["AssumeRolePolicyDocument"] == json.loads(written)

    delete_user(iam, name)
    shown = iam.get_role(RoleName=role["RoleName"])["Role"]["AssumeRolePolicyDocument"]
    assert principal_of(shown) == first["UserId"]  # AWS: "the policy shows the unique id"
    assert first["UserId"].startswith("AIDA")
    pages = iam.get_paginator("get_account_authorization_details").paginate(Filter=["Role"])
    detail = next(r for page in pages for r in page["RoleDetailList"] if r["RoleName"] == role["RoleName"])
    assert principal_of(detail["AssumeRolePolicyDocument"]) == first["UserId"]

    second, second_client = make_user(server, iam, name)
    assert second["Arn"] == first["Arn"] and second["UserId"] != first["UserId"]
    assert error_of(second_client("sts").assume_role, RoleArn=role["Arn"], RoleSessionName="s1") == refused(
        second["Arn"], role["Arn"],
    )
    # Saving the ARN again binds it to the new tim.
    iam.update_assume_role_policy(RoleName=role["RoleName"], PolicyDocument=written)
    assert principal_of(iam.get_role(RoleName=role["RoleName"])["Role"]["AssumeRolePolicyDocument"]) == second["Arn"]
    assert second_client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]


def test_a_recreated_role_does_not_match_a_trust_policy_naming_its_namesake(
    server: Server, iam: Any, unique: Callable[[str], str],
) -> None:
    hop_name = unique("hop")
    user, client = make_user(server, iam, unique("chainer"))
    hop = iam.create_role(RoleName=hop_name, AssumeRolePolicyDocument=trust(user["Arn"]))["Role"]
    target = iam.create_role(RoleName=unique("target"), AssumeRolePolicyDocument=trust(hop["Arn"]))["Role"]

    def hop_sts() -> Any:
        creds = client("sts").assume_role(RoleArn=hop["Arn"], RoleSessionName="h1")["Credentials"]
        return server.client("sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                             token=creds["SessionToken"])

    assert hop_sts().assume_role(RoleArn=target["Arn"], RoleSessionName="t1")["Credentials"]
    delete_role(iam, hop_name)
    shown = iam.get_role(RoleName=target["RoleName"])["Role"]["AssumeRolePolicyDocument"]
    assert principal_of(shown) == hop["RoleId"] and hop["RoleId"].startswith("AROA")

    again = iam.create_role(RoleName=hop_name, AssumeRolePolicyDocument=trust(user["Arn"]))["Role"]
    assert again["Arn"] == hop["Arn"] and again["RoleId"] != hop["RoleId"]
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{hop_name}/h1"
    assert error_of(hop_sts().assume_role, RoleArn=target["Arn"], RoleSessionName="t1") == refused(
        session_arn, target["Arn"],
    )


def test_a_deleted_principal_among_others_shows_its_id_and_the_rest_keep_working(
    server: Server, iam: Any, unique: Callable[[str], str],
) -> None:
    gone_name = unique("gone")
    gone, _ = make_user(server, iam, gone_name)
    kept, kept_client = make_user(server, iam, unique("kept"))
    written = doc({"Effect": "Allow", "Principal": {"AWS": [gone["Arn"], kept["Arn"]]}, "Action": "sts:AssumeRole"})
    role = iam.create_role(RoleName=unique("two"), AssumeRolePolicyDocument=written)["Role"]
    delete_user(iam, gone_name)
    assert principal_of(iam.get_role(RoleName=role["RoleName"])["Role"]["AssumeRolePolicyDocument"]) == [
        gone["UserId"], kept["Arn"],
    ]
    assert kept_client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]


def test_a_bucket_policy_binds_the_user_it_names(server: Server, unique: Callable[[str], str]) -> None:
    iam, s3 = server.client("iam"), server.client("s3")
    name = unique("reader")
    bucket = unique("bound-bucket")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    first, first_client = make_user(server, iam, name)
    written = doc({"Effect": "Allow", "Principal": {"AWS": first["Arn"]}, "Action": "s3:GetObject",
                   "Resource": f"arn:aws:s3:::{bucket}/*"})
    s3.put_bucket_policy(Bucket=bucket, Policy=written)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == written  # byte for byte while the user exists
    assert first_client("s3").get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"

    delete_user(iam, name)
    assert principal_of(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == first["UserId"]
    _, second_client = make_user(server, iam, name)
    code, _, status = error_of(second_client("s3").get_object, Bucket=bucket, Key="k")
    assert (code, status) == ("AccessDenied", 403)


def test_a_bucket_policy_naming_a_user_that_does_not_exist_is_refused(
    server: Server, unique: Callable[[str], str],
) -> None:
    s3 = server.client("s3")
    bucket = unique("unbound-bucket")
    s3.create_bucket(Bucket=bucket)
    ghost = f"arn:aws:iam::{ACCOUNT}:user/{unique('ghost')}"
    policy = doc({"Effect": "Allow", "Principal": {"AWS": ghost}, "Action": "s3:GetObject",
                  "Resource": f"arn:aws:s3:::{bucket}/*"})
    assert error_of(s3.put_bucket_policy, Bucket=bucket, Policy=policy) == (
        "MalformedPolicy", "Invalid principal in policy", 400,
    )
    assert error_of(s3.get_bucket_policy, Bucket=bucket)[0] == "NoSuchBucketPolicy"


def test_a_trust_policy_naming_a_user_that_does_not_exist_is_refused(
    iam: Any, unique: Callable[[str], str],
) -> None:
    ghost = f"arn:aws:iam::{ACCOUNT}:user/{unique('ghost')}"
    code, message, status = error_of(iam.create_role, RoleName=unique("r"), AssumeRolePolicyDocument=trust(ghost))
    assert (code, status) == ("MalformedPolicyDocument", 400)
    assert "Invalid principal in policy" in message


def other_account(server: Server) -> tuple[str, Any]:
    """A fresh account Turnout holds (its root made a call), and its root's IAM client."""
    account = f"{secrets.randbelow(9 * 10**11) + 10**11:012d}"
    iam = server.client("iam", key=account)
    iam.list_users()
    return account, iam


def test_a_principal_of_another_account_is_bound_too(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    _, other_iam = other_account(server)
    name = unique("visitor")
    first, first_client = make_user(server, other_iam, name)
    other_iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    role = iam.create_role(RoleName=unique("for-visitor"), AssumeRolePolicyDocument=trust(first["Arn"]))["Role"]
    assert first_client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="v1")["Credentials"]
    delete_user(other_iam, name)
    assert principal_of(iam.get_role(RoleName=role["RoleName"])["Role"]["AssumeRolePolicyDocument"]) == (
        first["UserId"])
    second, second_client = make_user(server, other_iam, name)
    other_iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    assert error_of(second_client("sts").assume_role, RoleArn=role["Arn"], RoleSessionName="v2") == refused(
        second["Arn"], role["Arn"],
    )


def test_a_missing_principal_of_an_account_turnout_holds_is_refused(
    server: Server, iam: Any, unique: Callable[[str], str],
) -> None:
    account, _ = other_account(server)
    ghost = f"arn:aws:iam::{account}:role/{unique('ghost')}"
    code, message, status = error_of(iam.create_role, RoleName=unique("r"), AssumeRolePolicyDocument=trust(ghost))
    assert (code, status, message) == ("MalformedPolicyDocument", 400, f'Invalid principal in policy: "AWS":"{ghost}"')
    s3 = server.client("s3")
    bucket = unique("ghost-bucket")
    s3.create_bucket(Bucket=bucket)
    policy = doc({"Effect": "Allow", "Principal": {"AWS": ghost}, "Action": "s3:GetObject",
                  "Resource": f"arn:aws:s3:::{bucket}/*"})
    assert error_of(s3.put_bucket_policy, Bucket=bucket, Policy=policy) == (
        "MalformedPolicy", "Invalid principal in policy", 400,
    )
    # An account Turnout has never seen is not Turnout's to judge: the ARN is kept as written.
    unseen = f"arn:aws:iam::{secrets.randbelow(9 * 10**11) + 10**11:012d}:role/someone"
    role = iam.create_role(RoleName=unique("unseen"), AssumeRolePolicyDocument=trust(unseen))["Role"]
    assert principal_of(role["AssumeRolePolicyDocument"]) == unseen


def test_policies_saved_before_the_upgrade_are_bound_when_the_server_starts(
    fresh_server: Server, unique: Callable[[str], str],
) -> None:
    iam, s3 = fresh_server.client("iam"), fresh_server.client("s3")
    name, bucket = unique("old"), unique("old-bucket")
    first, _ = make_user(fresh_server, iam, name)
    role = iam.create_role(RoleName=unique("old-role"), AssumeRolePolicyDocument=trust(first["Arn"]))["Role"]
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    s3.put_bucket_policy(Bucket=bucket, Policy=doc({
        "Effect": "Allow", "Principal": {"AWS": first["Arn"]}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}))
    fresh_server.stop()
    # What a database written by an earlier Turnout holds: no saved forms.
    with sqlite3.connect(fresh_server.data_dir / "turnout.db") as raw:
        raw.execute("UPDATE iam_roles SET trust_policy_saved = NULL")
        raw.execute("UPDATE s3_buckets SET policy_saved = NULL")
    fresh_server.start()
    iam, s3 = fresh_server.client("iam"), fresh_server.client("s3")
    delete_user(iam, name)
    assert principal_of(iam.get_role(RoleName=role["RoleName"])["Role"]["AssumeRolePolicyDocument"]) == (
        first["UserId"])
    assert principal_of(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == first["UserId"]
    second, client = make_user(fresh_server, iam, name)
    assert error_of(client("sts").assume_role, RoleArn=role["Arn"], RoleSessionName="s1") == refused(
        second["Arn"], role["Arn"])
    assert error_of(client("s3").get_object, Bucket=bucket, Key="k")[0] == "AccessDenied"
