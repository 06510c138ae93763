"""Bucket policies enforced by the IAM policy engine as resource-based policies: an IAM user of the bucket's
account with no identity policy is allowed by the bucket policy and denied by its Deny; another account needs
both its own identity policy and the bucket policy; a public policy is refused (BlockPublicPolicy)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.conftest import Server, error_of, grant


def user_client(server: Server, iam: Any, name: str, service: str = "s3") -> tuple[Any, str]:
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client(service, key=key["AccessKeyId"], secret=key["SecretAccessKey"]), arn


def put_policy(s3: Any, bucket: str, statements: list[dict[str, Any]]) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def test_same_account_user_allowed_then_denied_by_the_bucket_policy(
        server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    s3 = server.client("s3")
    bucket = unique("tp").lower()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"secret")
    reader, reader_arn = user_client(server, iam, unique("reader"))
    code, message, status = error_of(reader.get_object, Bucket=bucket, Key="doc.txt")
    assert (code, status) == ("AccessDenied", 403)
    assert f"arn:aws:s3:::{bucket}/doc.txt" in message and "s3:GetObject" in message
    put_policy(s3, bucket, [{"Effect": "Allow", "Principal": {"AWS": reader_arn}, "Action": "s3:GetObject",
                             "Resource": f"arn:aws:s3:::{bucket}/*"}])
    assert reader.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"secret"
    assert error_of(reader.put_object, Bucket=bucket, Key="other", Body=b"x")[0] == "AccessDenied"
    assert error_of(reader.list_objects_v2, Bucket=bucket)[0] == "AccessDenied"
    # An explicit Deny in the bucket policy wins over the user's own Allow.
    grant(iam, ["s3:*"], user=reader_arn.rsplit("/", 1)[1])
    assert reader.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
    put_policy(s3, bucket, [{"Effect": "Deny", "Principal": {"AWS": reader_arn}, "Action": "s3:ListBucket",
                             "Resource": f"arn:aws:s3:::{bucket}"}])
    code, message, _ = error_of(reader.list_objects_v2, Bucket=bucket)
    assert code == "AccessDenied" and "explicit deny in a resource-based policy" in message
    assert reader.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"secret"


def test_other_account_needs_identity_and_bucket_policy(
        server: Server, unique: Callable[[str], str]) -> None:
    owner = server.client("s3")
    bucket = unique("tx").lower()
    owner.create_bucket(Bucket=bucket)
    owner.put_object(Bucket=bucket, Key="shared", Body=b"cross")
    other_account = "222233334444"
    other_iam = server.client("iam", key=other_account, secret="test")
    name = unique("outsider")
    outsider, _ = user_client(server, other_iam, name)
    grant(other_iam, ["s3:GetObject"], user=name)
    assert error_of(outsider.get_object, Bucket=bucket, Key="shared")[0] == "AccessDenied"
    put_policy(owner, bucket, [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{other_account}:root"},
                                "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}])
    assert outsider.get_object(Bucket=bucket, Key="shared")["Body"].read() == b"cross"
    other_iam.delete_user_policy(UserName=name, PolicyName="test-grant")
    assert error_of(outsider.get_object, Bucket=bucket, Key="shared")[0] == "AccessDenied"
    # The other account's root is bound by the bucket policy alone (its identity policies are bypassed).
    root = server.client("s3", key=other_account, secret="test")
    assert root.get_object(Bucket=bucket, Key="shared")["Body"].read() == b"cross"
    assert error_of(root.delete_object, Bucket=bucket, Key="shared")[0] == "AccessDenied"


def test_head_bucket_denied_still_names_the_region(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    from botocore.exceptions import ClientError

    west = server.client("s3", region="eu-west-1")
    bucket = unique("th").lower()
    west.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    name = unique("stranger")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    west_stranger = server.client("s3", region="eu-west-1", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    try:
        west_stranger.head_bucket(Bucket=bucket)
        raise AssertionError("HeadBucket should be denied")
    except ClientError as exc:
        response = exc.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"


def test_public_policy_refused_by_block_public_policy(server: Server, unique: Callable[[str], str]) -> None:
    """Every bucket keeps BlockPublicPolicy on (GetPublicAccessBlock says so), so a public policy is refused; found
    by the JavaScript SDK suite, whose public-read policy was accepted."""
    s3 = server.client("s3")
    bucket = unique("pub").lower()
    s3.create_bucket(Bucket=bucket)
    public = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block["BlockPublicPolicy"] is True
    code, message, status = error_of(s3.put_bucket_policy, Bucket=bucket, Policy=document(public))
    assert (code, status) == ("AccessDenied", 403)
    assert message == (f'User: arn:aws:iam::000000000000:root is not authorized to perform: s3:PutBucketPolicy on '
                       f'resource: "arn:aws:s3:::{bucket}" because public policies are blocked by the '
                       "BlockPublicPolicy block public access setting.")
    assert error_of(s3.get_bucket_policy, Bucket=bucket)[0] == "NoSuchBucketPolicy"  # nothing was stored
    # The same statement limited to one account is not public: accepted, and its status says so.
    fixed = {**public, "Condition": {"StringEquals": {"aws:SourceAccount": "000000000000"}}}
    s3.put_bucket_policy(Bucket=bucket, Policy=document(fixed))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
