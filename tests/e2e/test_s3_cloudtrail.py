"""CloudTrail and S3 together: CreateTrail/UpdateTrail check the bucket and its policy as AWS does, log files are
objects of the bucket (read back with ``aws s3 cp ... -``), a bucket whose policy no longer allows CloudTrail
fails the delivery until it does again, and S3 calls are recorded as management events (buckets) or not at all
(object-level data events). A server whose clock runs 600 times faster delivers every half second."""

from __future__ import annotations

import gzip
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, aws_cli, error_of

WAIT = 30.0


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("s3-trail") / "data", ["--time-scale", "600"]).start()
    yield srv
    srv.stop()


def account_id() -> str:
    return f"{secrets.randbelow(10**11) + 10**11:012d}"


def statements(bucket: str, write_resource: str, condition: dict[str, Any] | None = None) -> str:
    extra = {"Condition": condition} if condition else {}
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}", **extra},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": write_resource, **extra},
    ]})


def test_create_trail_checks_the_bucket_and_its_policy(fast: Server) -> None:
    account = account_id()
    s3 = fast.client("s3", key=account)
    ct = fast.client("cloudtrail", key=account)
    bucket = f"trail-checks-{account}"
    assert error_of(ct.create_trail, Name="trail-t", S3BucketName=bucket) == (
        "S3BucketDoesNotExistException", f"S3 bucket does not exist: {bucket}", 400)
    s3.create_bucket(Bucket=bucket)
    insufficient = ("InsufficientS3BucketPolicyException",
                    f"Incorrect S3 bucket policy is detected for bucket: {bucket}", 400)
    assert error_of(ct.create_trail, Name="trail-t", S3BucketName=bucket) == insufficient
    # Writes allowed only under another account's folder.
    s3.put_bucket_policy(Bucket=bucket, Policy=statements(bucket, f"arn:aws:s3:::{bucket}/AWSLogs/111122223333/*"))
    assert error_of(ct.create_trail, Name="trail-t", S3BucketName=bucket) == insufficient
    # AWS's example policy: the trail's own ARN as aws:SourceArn, the prefix in the resource.
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/trail-t"
    s3.put_bucket_policy(Bucket=bucket, Policy=statements(
        bucket, f"arn:aws:s3:::{bucket}/audit/AWSLogs/{account}/*", {"StringEquals": {"aws:SourceArn": trail_arn}}))
    assert error_of(ct.create_trail, Name="other", S3BucketName=bucket, S3KeyPrefix="audit")[0] == insufficient[0]
    assert error_of(ct.create_trail, Name="trail-t", S3BucketName=bucket)[0] == insufficient[0]  # no prefix: elsewhere
    assert ct.create_trail(Name="trail-t", S3BucketName=bucket, S3KeyPrefix="audit")["TrailARN"] == trail_arn
    # UpdateTrail checks again when the bucket or prefix changes; the trail is left as it was.
    assert error_of(ct.update_trail, Name="trail-t", S3KeyPrefix="elsewhere")[0] == insufficient[0]
    assert ct.get_trail(Name="trail-t")["Trail"]["S3KeyPrefix"] == "audit"
    assert error_of(ct.update_trail, Name="trail-t", S3BucketName=f"missing-{account}")[0] == \
        "S3BucketDoesNotExistException"


def wait_for(reader: Any, what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while True:
        found = reader()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not seen within {WAIT}s")
        time.sleep(0.1)


def test_log_files_are_objects_of_the_bucket(fast: Server, tmp_path: Path) -> None:
    account = account_id()
    s3 = fast.client("s3", key=account)
    ct = fast.client("cloudtrail", key=account)
    bucket = f"trail-logs-{account}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=statements(bucket, f"arn:aws:s3:::{bucket}/logs/AWSLogs/{account}/*"))
    ct.create_trail(Name="to-s3", S3BucketName=bucket, S3KeyPrefix="logs")
    ct.start_logging(Name="to-s3")
    marker = fast.client("iam", key=account).create_user(UserName="logged")["ResponseMetadata"]["RequestId"]

    def logs() -> list[str]:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"logs/AWSLogs/{account}/CloudTrail/us-east-1/")
        return [o["Key"] for o in listed.get("Contents", [])]

    def delivered() -> list[dict[str, Any]]:
        records = []
        for key in logs():
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            records.extend(json.loads(gzip.decompress(body))["Records"])
        return [r for r in records if r["requestID"] == marker]

    record = wait_for(delivered, "the CreateUser record")[0]
    assert record["eventName"] == "CreateUser" and record["recipientAccountId"] == account
    key = logs()[0]
    assert key.split("/")[-1].startswith(f"{account}_CloudTrail_us-east-1_") and key.endswith(".json.gz")
    # The AWS CLI reads a log file from the bucket.
    target = tmp_path / "log.json.gz"
    copied = aws_cli(fast, tmp_path, "s3", "cp", f"s3://{bucket}/{key}", str(target), key=account)
    assert copied.returncode == 0, copied.stderr
    assert json.loads(gzip.decompress(target.read_bytes()))["Records"]
    streamed = subprocess.run(
        [sys.executable, "-m", "awscli", "s3", "cp", f"s3://{bucket}/{key}", "-", "--endpoint-url", fast.endpoint],
        env={**os.environ, "AWS_ACCESS_KEY_ID": account, "AWS_SECRET_ACCESS_KEY": "test",
             "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
             "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")},
        capture_output=True, timeout=120, check=False,
    )
    assert streamed.returncode == 0, streamed.stderr
    assert json.loads(gzip.decompress(streamed.stdout))["Records"]  # `aws s3 cp s3://... -` prints the file

    # The policy taken away: the next delivery fails with AccessDenied; put back, the events are delivered.
    s3.delete_bucket_policy(Bucket=bucket)
    held = fast.client("iam", key=account).create_user(UserName="held")["ResponseMetadata"]["RequestId"]
    status = wait_for(lambda: (lambda s: s if s.get("LatestDeliveryError") else None)(
        ct.get_trail_status(Name="to-s3")), "the delivery error")
    assert status["LatestDeliveryError"] == "AccessDenied"
    s3.put_bucket_policy(Bucket=bucket, Policy=statements(bucket, f"arn:aws:s3:::{bucket}/logs/AWSLogs/{account}/*"))

    def held_delivered() -> bool:
        for key in logs():
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            if any(r["requestID"] == held for r in json.loads(gzip.decompress(body))["Records"]):
                return True
        return False

    wait_for(held_delivered, "the held record")
    assert "LatestDeliveryError" not in ct.get_trail_status(Name="to-s3")


def test_bucket_calls_are_management_events_and_object_calls_are_not(server: Server) -> None:
    account = account_id()
    s3 = server.client("s3", key=account)
    bucket = f"events-{account}"
    created = s3.create_bucket(Bucket=bucket)["ResponseMetadata"]["RequestId"]
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ResponseMetadata"]["RequestId"]
    ct = server.client("cloudtrail", key=account)
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventSource",
                                                 "AttributeValue": "s3.amazonaws.com"}])["Events"]
    by_request = {json.loads(e["CloudTrailEvent"])["requestID"]: e for e in events}
    assert by_request[created]["EventName"] == "CreateBucket"
    assert by_request[created]["Resources"] == [{"ResourceType": "AWS::S3::Bucket",
                                                 "ResourceName": f"arn:aws:s3:::{bucket}"}]
    assert put not in by_request  # PutObject is a data event
