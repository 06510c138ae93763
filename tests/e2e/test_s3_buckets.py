"""S3 buckets through boto3 against a real server: create (location constraints, names, global namespace), head,
delete, list, location, tags, policy, and the sub-resources of a bucket with nothing configured."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, error_of
from tests.e2e.s3_signing import Signed, send


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


def name(unique: Callable[[str], str]) -> str:
    return unique("tb").lower()


def test_create_head_list_delete(s3: Any, unique: Callable[[str], str]) -> None:
    bucket = name(unique)
    assert s3.create_bucket(Bucket=bucket)["Location"] == f"/{bucket}"
    head = s3.head_bucket(Bucket=bucket)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert head["BucketRegion"] == "us-east-1"
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket in names
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    assert s3.delete_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as info:
        s3.head_bucket(Bucket=bucket)
    assert info.value.response["Error"]["Code"] == "404"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error_of(s3.delete_bucket, Bucket=bucket) == ("NoSuchBucket", "The specified bucket does not exist", 404)


def test_recreate_in_us_east_1_answers_200_and_other_accounts_get_already_exists(
        server: Server, s3: Any, unique: Callable[[str], str]) -> None:
    bucket = name(unique)
    s3.create_bucket(Bucket=bucket)
    assert s3.create_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    other = server.client("s3", key="111111111111", secret="test")
    code, message, status = error_of(other.create_bucket, Bucket=bucket)
    assert (code, status) == ("BucketAlreadyExists", 409)
    assert message.startswith("The requested bucket name is not available.")
    assert bucket not in [b["Name"] for b in other.list_buckets()["Buckets"]]


def test_location_constraints(server: Server, unique: Callable[[str], str]) -> None:
    west = server.client("s3", region="eu-west-1")
    bucket = name(unique)
    west.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert west.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "eu-west-1"
    assert west.head_bucket(Bucket=bucket)["BucketRegion"] == "eu-west-1"
    code, _, status = error_of(west.create_bucket, Bucket=bucket,
                               CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert (code, status) == ("BucketAlreadyOwnedByYou", 409)
    assert error_of(west.create_bucket, Bucket=name(unique)) == (
        "IllegalLocationConstraintException",
        "The unspecified location constraint is incompatible for the region specific endpoint this request was "
        "sent to.", 400)
    code, _, status = error_of(west.create_bucket, Bucket=name(unique),
                               CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    assert (code, status) == ("IllegalLocationConstraintException", 400)
    east = server.client("s3")
    assert error_of(east.create_bucket, Bucket=name(unique),
                    CreateBucketConfiguration={"LocationConstraint": "us-east-1"}) == (
        "InvalidLocationConstraint", "The specified location-constraint is not valid", 400)


@pytest.mark.parametrize("bad", ["ab", "Upper-case", "a..b", "192.168.1.1", "xn--abc", "abc-s3alias", "-abc",
                                 "a" * 64])
def test_invalid_bucket_names(server: Server, bad: str) -> None:
    s3 = server.client("s3", parameter_validation=False)
    assert error_of(s3.create_bucket, Bucket=bad) == ("InvalidBucketName", "The specified bucket is not valid.", 400)


def test_bucket_not_empty(s3: Any, unique: Callable[[str], str]) -> None:
    bucket = name(unique)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert error_of(s3.delete_bucket, Bucket=bucket) == (
        "BucketNotEmpty", "The bucket you tried to delete is not empty", 409)
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_tags(s3: Any, unique: Callable[[str], str]) -> None:
    bucket = name(unique)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"Tags": [{"Key": "env", "Value": "dev"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "env", "Value": "dev"}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}]
    code, _, status = error_of(s3.put_bucket_tagging, Bucket=bucket,
                               Tagging={"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]})
    assert (code, status) == ("InvalidTag", 400)
    s3.delete_bucket_tagging(Bucket=bucket)
    assert error_of(s3.get_bucket_tagging, Bucket=bucket) == ("NoSuchTagSet", "The TagSet does not exist", 404)
    assert error_of(s3.get_bucket_tagging, Bucket=bucket + "-missing")[0] == "NoSuchBucket"


@pytest.mark.parametrize(("tag_set", "message"), [
    ([{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}], "Cannot provide multiple Tags with the same key"),
    ([{"Key": "k" * 129, "Value": "1"}], "The TagKey you have provided is invalid"),
    ([{"Key": "k", "Value": "v" * 257}], "The TagValue you have provided is invalid"),
    ([{"Key": "AWS:team", "Value": "1"}], "System tags cannot be added/updated by requester"),
    # the first broken rule: a long value is found before the reserved prefix, a repeated key before either
    ([{"Key": "aws:k", "Value": "v" * 257}], "The TagValue you have provided is invalid"),
    ([{"Key": "aws:k", "Value": "1"}, {"Key": "aws:k", "Value": "2"}], "System tags cannot be added/updated by "
                                                                       "requester"),
    ([{"Key": f"k{n}", "Value": ""} for n in range(51)], "Object tags cannot be greater than 50"),
    ([*({"Key": f"k{n}", "Value": ""} for n in range(51)), {"Key": "aws:k", "Value": ""}],
     "System tags cannot be added/updated by requester"),
])
def test_tag_set_rules(s3: Any, unique: Callable[[str], str], tag_set: list[dict[str, str]], message: str) -> None:
    bucket = name(unique)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"Tags": [{"Key": "env", "Value": "dev"}]})
    assert error_of(s3.put_bucket_tagging, Bucket=bucket, Tagging={"TagSet": tag_set}) == ("InvalidTag", message, 400)
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "env", "Value": "dev"}]  # unchanged
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k" * 128, "Value": "v" * 256}]})  # the maxima
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "k" * 128, "Value": "v" * 256}]


def test_policy_put_get_delete_and_malformed(s3: Any, unique: Callable[[str], str]) -> None:
    bucket = name(unique)
    s3.create_bucket(Bucket=bucket)
    assert error_of(s3.get_bucket_policy, Bucket=bucket) == (
        "NoSuchBucketPolicy", "The bucket policy does not exist", 404)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(policy)
    bad_resource = policy.replace(f"arn:aws:s3:::{bucket}/*", "arn:aws:s3:::someone-else/*")
    assert error_of(s3.put_bucket_policy, Bucket=bucket, Policy=bad_resource) == (
        "MalformedPolicy", "Policy has invalid resource", 400)
    assert error_of(s3.put_bucket_policy, Bucket=bucket, Policy="{not json") == (
        "MalformedPolicy", "This policy contains invalid Json", 400)
    no_principal = json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                              "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    assert error_of(s3.put_bucket_policy, Bucket=bucket, Policy=no_principal) == (
        "MalformedPolicy", "Missing required field Principal", 400)
    bad_action = policy.replace("s3:GetObject", "ec2:RunInstances")
    assert error_of(s3.put_bucket_policy, Bucket=bucket, Policy=bad_action) == (
        "MalformedPolicy", "Policy has invalid action", 400)
    s3.delete_bucket_policy(Bucket=bucket)
    assert error_of(s3.get_bucket_policy, Bucket=bucket)[0] == "NoSuchBucketPolicy"


def test_unconfigured_sub_resources(s3: Any, unique: Callable[[str], str]) -> None:
    bucket = name(unique)
    s3.create_bucket(Bucket=bucket)
    not_found = {
        s3.get_bucket_cors: ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
        s3.get_bucket_website: ("NoSuchWebsiteConfiguration",
                                "The specified bucket does not have a website configuration"),
        s3.get_bucket_lifecycle_configuration: ("NoSuchLifecycleConfiguration",
                                                "The lifecycle configuration does not exist"),
        s3.get_bucket_replication: ("ReplicationConfigurationNotFoundError",
                                    "The replication configuration was not found"),
        s3.get_object_lock_configuration: ("ObjectLockConfigurationNotFoundError",
                                           "Object Lock configuration does not exist for this bucket"),
    }
    for call, (code, message) in not_found.items():
        assert error_of(call, Bucket=bucket) == (code, message, 404)
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"] == [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]
    versioning = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in versioning and "MFADelete" not in versioning
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert acl["Grants"][0]["Permission"] == "FULL_CONTROL"
    assert acl["Grants"][0]["Grantee"] == {"Type": "CanonicalUser", "ID": acl["Owner"]["ID"]}
    for call in (s3.get_bucket_cors, s3.get_bucket_encryption, s3.get_bucket_acl):
        assert error_of(call, Bucket=bucket + "-missing")[0] == "NoSuchBucket"


def test_a_client_of_another_region_is_sent_to_the_bucket_region(server: Server, unique: Callable[[str], str]
                                                                 ) -> None:
    west = server.client("s3", region="eu-west-1")
    bucket = name(unique)
    west.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    west.put_object(Bucket=bucket, Key="k", Body=b"west")
    east = server.client("s3", region="us-east-1")
    sent: list[str] = []
    east.meta.events.register("before-send.s3", lambda request, **_: sent.append(request.headers["Authorization"]))
    # botocore reads <Region> from AuthorizationHeaderMalformed and signs again for eu-west-1, as with AWS.
    assert east.get_object(Bucket=bucket, Key="k")["Body"].read() == b"west"
    assert "/us-east-1/s3/" in sent[0].decode() and "/eu-west-1/s3/" in sent[-1].decode()
    # The answer itself, to a request signed by hand for us-east-1 (no SDK redirect in between).
    signed = Signed("GET", f"/{bucket}/k", {"host": f"127.0.0.1:{server.port}"}, "UNSIGNED-PAYLOAD")
    status, body = send(server.port, "GET", f"/{bucket}/k", signed.headers, b"")
    assert status == 400
    assert b"<Code>AuthorizationHeaderMalformed</Code>" in body and b"<Region>eu-west-1</Region>" in body
    assert (b"<Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting "
            b"'eu-west-1'</Message>") in body


def test_health_lists_s3(server: Server) -> None:
    import urllib.request

    with urllib.request.urlopen(server.endpoint + "/_turnout/health", timeout=5) as response:
        assert json.loads(response.read())["services"]["s3"] == "available"
