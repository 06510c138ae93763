"""Terraform replay: ``aws_s3_bucket`` (tags, with and without ``force_destroy``, in us-east-1 and elsewhere) and
``aws_s3_bucket_policy``: apply, a plan with no changes, an update, destroy."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server
from tests.terraform import s3_support as tf


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


# What a bucket with nothing configured reads back as: AWS's defaults, each of which Terraform computes rather than
# compares with the configuration (no diff unless configured).
UNCONFIGURED = {
    "policy": None,
    "cors_rule": [],
    "website": [],
    "versioning": [{"enabled": False, "mfa_delete": False}],
    "acceleration_status": "",
    "request_payer": "BucketOwner",
    "logging": [],
    "lifecycle_rule": [],
    "replication_configuration": [],
    "server_side_encryption_configuration": [{"rule": [{
        "apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256", "kms_master_key_id": ""}],
        "bucket_key_enabled": False}]}],
    "object_lock_enabled": False,
}


def assert_unconfigured(state: dict[str, Any]) -> None:
    for key, value in UNCONFIGURED.items():
        assert state[key] == value, key
    assert [g["permissions"] for g in state["grant"]] == [["FULL_CONTROL"]]
    assert state["grant"][0]["type"] == "CanonicalUser"


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_bucket_with_tags(server: Server, unique: Callable[[str], str], region: str) -> None:
    s3 = server.client("s3", region=region)
    bucket = unique("tf-bucket").lower()
    tags = {"Name": bucket, "env": "test"}
    state = tf.create_bucket(s3, bucket, region, tags, force_destroy=False)
    assert state["bucket"] == bucket and state["arn"] == f"arn:aws:s3:::{bucket}"
    assert state["tags"] == tags and state["region"] == region
    assert_unconfigured(state)
    # Plan with no changes: a refresh reads back exactly what was sent.
    assert tf.read_bucket(s3, bucket, force_destroy=False) == state
    # Update: tags changed, then removed.
    tf.update_tags(s3, bucket, {"env": "prod"})
    assert tf.read_bucket(s3, bucket, force_destroy=False)["tags"] == {"env": "prod"}
    tf.update_tags(s3, bucket, {})
    refreshed = tf.read_bucket(s3, bucket, force_destroy=False)
    assert refreshed["tags"] == {}
    assert tf.read_bucket(s3, bucket, force_destroy=False) == refreshed
    tf.delete_bucket(s3, bucket, force_destroy=False)
    with pytest.raises(tf.Gone):
        tf.read_bucket(s3, bucket, force_destroy=False)


def test_bucket_without_force_destroy_refuses_to_delete_objects(s3: Any, unique: Callable[[str], str]) -> None:
    bucket = unique("tf-keep").lower()
    tf.create_bucket(s3, bucket, "us-east-1", {}, force_destroy=False)
    s3.put_object(Bucket=bucket, Key="data/one.txt", Body=b"1")
    with pytest.raises(ClientError) as info:
        tf.delete_bucket(s3, bucket, force_destroy=False)
    assert tf.code_of(info.value) == "BucketNotEmpty" and tf.status_of(info.value) == 409
    assert tf.read_bucket(s3, bucket, force_destroy=False)["bucket"] == bucket  # still there


def test_bucket_force_destroy_empties_it(s3: Any, unique: Callable[[str], str]) -> None:
    bucket = unique("tf-force").lower()
    tf.create_bucket(s3, bucket, "us-east-1", {"team": "a"}, force_destroy=True)
    keys = [f"logs/{i:04d}.json" for i in range(1100)] + ["with space/é+x", "AWSLogs/1/x.json.gz"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    versions = s3.list_object_versions(Bucket=bucket, EncodingType="url", MaxKeys=5)
    assert versions["IsTruncated"] and all(v["VersionId"] == "null" for v in versions["Versions"])
    tf.delete_bucket(s3, bucket, force_destroy=True)
    with pytest.raises(tf.Gone):
        tf.find_bucket(s3, bucket)


def test_bucket_read_of_a_bucket_deleted_outside_terraform(s3: Any, unique: Callable[[str], str]) -> None:
    bucket = unique("tf-gone").lower()
    tf.create_bucket(s3, bucket, "us-east-1", {}, force_destroy=False)
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(tf.Gone):
        tf.read_bucket(s3, bucket, force_destroy=False)
    tf.delete_bucket(s3, bucket, force_destroy=False)  # destroy of a bucket already gone succeeds


def test_bucket_policy(s3: Any, unique: Callable[[str], str]) -> None:
    bucket = unique("tf-policy").lower()
    tf.create_bucket(s3, bucket, "us-east-1", {}, force_destroy=False)
    with pytest.raises(tf.Gone):
        tf.read_bucket_policy(s3, bucket)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"}]})
    state = tf.put_bucket_policy(s3, bucket, policy)
    # Plan with no changes: the policy reads back equivalent (and here byte for byte).
    assert tf.read_bucket_policy(s3, bucket) == state
    assert state["policy"] == policy
    # The bucket's own refresh sees the policy too (the provider reads it there as well).
    assert tf.equivalent(tf.read_bucket(s3, bucket, force_destroy=False)["policy"], policy)
    updated = json.dumps({"Version": "2012-10-17", "Statement": [
        json.loads(policy)["Statement"][0],
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/000000000000/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]})
    assert tf.put_bucket_policy(s3, bucket, updated)["policy"] == updated
    tf.delete_bucket_policy(s3, bucket)
    assert tf.read_bucket(s3, bucket, force_destroy=False)["policy"] is None
    tf.delete_bucket(s3, bucket, force_destroy=False)
    tf.delete_bucket_policy(s3, bucket)  # the policy of a bucket already gone: NoSuchBucket is tolerated


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose clock runs 600 times faster: a trail delivers every half second."""
    srv = Server(tmp_path_factory.mktemp("tf-s3-trail") / "data", ["--time-scale", "600"]).start()
    yield srv
    srv.stop()


def test_trail_bucket_policy_and_force_destroy(fast: Server, unique: Callable[[str], str]) -> None:
    """The seed's shape: a bucket, its CloudTrail policy, a logging trail (depends_on the policy), destroyed in
    reverse order; the bucket holds the trail's logs by then, which force_destroy empties."""
    s3 = fast.client("s3")
    ct = fast.client("cloudtrail")
    bucket, name = unique("tf-trail-logs").lower(), unique("tf-trail")
    tf.create_bucket(s3, bucket, "us-east-1", {"purpose": "cloudtrail"}, force_destroy=True)
    # Without the policy (no depends_on), CreateTrail fails and the provider does not retry it.
    with pytest.raises(ClientError) as info:
        tf.create_trail(ct, name, bucket, "audit", enable_logging=True)
    assert tf.code_of(info.value) == "InsufficientS3BucketPolicyException"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/audit/AWSLogs/000000000000/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]})
    tf.put_bucket_policy(s3, bucket, policy)
    trail = tf.create_trail(ct, name, bucket, "audit", enable_logging=True)
    assert (trail["s3_bucket_name"], trail["s3_key_prefix"], trail["enable_logging"]) == (bucket, "audit", True)
    assert tf.read_trail(ct, trail["arn"]) == trail  # no changes on refresh
    assert tf.read_bucket(s3, bucket, force_destroy=True)["policy"] == policy

    def logs() -> list[str]:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="audit/AWSLogs/000000000000/CloudTrail/")
        return [o["Key"] for o in listed.get("Contents", [])]

    deadline = time.monotonic() + 30
    while not logs():
        assert time.monotonic() < deadline, "no log file delivered"
        time.sleep(0.1)
    # Destroy, in reverse dependency order.
    tf.delete_trail(ct, trail["arn"])
    with pytest.raises(tf.Gone):
        tf.read_trail(ct, trail["arn"])
    tf.delete_bucket_policy(s3, bucket)
    tf.delete_bucket(s3, bucket, force_destroy=True)
    with pytest.raises(tf.Gone):
        tf.find_bucket(s3, bucket)
