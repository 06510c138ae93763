"""The calls the Terraform AWS provider (v6.x) makes for ``aws_s3_bucket`` and ``aws_s3_bucket_policy``, replayed
with boto3 in the provider's order (internal/service/s3/bucket.go and bucket_policy.go).

A read returns the state Terraform would store from the answers, so that a test can compare it with the
configuration (a field that differs is a perpetual diff). The not-found codes are the ones the provider's
``find*`` functions turn into "no such configuration" (``tfawserr.ErrCodeEquals``) or "resource gone".
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

# Codes the provider's bucket read treats as "not configured" for each sub-resource it reads.
NOT_CONFIGURED = {
    "get_bucket_policy": ("NoSuchBucketPolicy",),
    "get_bucket_cors": ("NoSuchCORSConfiguration",),
    "get_bucket_website": ("NoSuchWebsiteConfiguration",),
    "get_bucket_lifecycle_configuration": ("NoSuchLifecycleConfiguration",),
    "get_bucket_replication": ("ReplicationConfigurationNotFoundError",),
    "get_bucket_encryption": ("ServerSideEncryptionConfigurationNotFoundError",),
    "get_object_lock_configuration": ("ObjectLockConfigurationNotFoundError",),
    "get_bucket_tagging": ("NoSuchTagSet",),
    # Transfer acceleration, request payment and logging are not in every partition: tolerated as such.
    "get_bucket_accelerate_configuration": ("NotImplemented", "UnsupportedArgument", "MethodNotAllowed"),
}


class Gone(Exception):
    """The provider's NotFound: the bucket is removed from state (HeadBucket 404 / NoSuchBucket)."""


def code_of(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def status_of(error: ClientError) -> int:
    return int(error.response["ResponseMetadata"]["HTTPStatusCode"])


def find_bucket(s3: Any, bucket: str) -> dict[str, Any]:
    """findBucket: HeadBucket; a 404 (no body, so no code) or NoSuchBucket is NotFound."""
    try:
        return dict(s3.head_bucket(Bucket=bucket))
    except ClientError as exc:
        if status_of(exc) == 404 or code_of(exc) == "NoSuchBucket":
            raise Gone(bucket) from None
        raise


def _optional(s3: Any, call: str, bucket: str) -> dict[str, Any] | None:
    try:
        return dict(getattr(s3, call)(Bucket=bucket))
    except ClientError as exc:
        if code_of(exc) == "NoSuchBucket":
            raise Gone(bucket) from None
        if code_of(exc) in NOT_CONFIGURED.get(call, ()):
            return None
        raise


def create_bucket(s3: Any, bucket: str, region: str, tags: dict[str, str], force_destroy: bool) -> dict[str, Any]:
    """resourceBucketCreate: CreateBucket (the location constraint outside us-east-1, the tags in the bucket
    configuration), then the wait until findBucket sees it, then the read."""
    configuration: dict[str, Any] = {}
    if region != "us-east-1":
        configuration["LocationConstraint"] = region
    if tags:
        configuration["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    params: dict[str, Any] = {"Bucket": bucket}
    if configuration:
        params["CreateBucketConfiguration"] = configuration
    s3.create_bucket(**params)
    find_bucket(s3, bucket)  # bucketCreatedTimeout: retried on NotFound; found at once here
    return read_bucket(s3, bucket, force_destroy)


def read_bucket(s3: Any, bucket: str, force_destroy: bool) -> dict[str, Any]:
    """resourceBucketRead: every read, in the provider's order, into the attributes Terraform stores."""
    find_bucket(s3, bucket)
    state: dict[str, Any] = {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "force_destroy": force_destroy}
    policy = _optional(s3, "get_bucket_policy", bucket)
    state["policy"] = policy["Policy"] if policy else None
    acl = _optional(s3, "get_bucket_acl", bucket)
    assert acl is not None
    state["grant"] = [{"id": g["Grantee"].get("ID"), "type": g["Grantee"]["Type"], "permissions": [g["Permission"]]}
                      for g in acl["Grants"]]
    cors = _optional(s3, "get_bucket_cors", bucket)
    state["cors_rule"] = cors["CORSRules"] if cors else []
    website = _optional(s3, "get_bucket_website", bucket)
    state["website"] = [website] if website else []
    versioning = _optional(s3, "get_bucket_versioning", bucket) or {}
    state["versioning"] = [{"enabled": versioning.get("Status") == "Enabled",
                            "mfa_delete": versioning.get("MFADelete") == "Enabled"}]
    accelerate = _optional(s3, "get_bucket_accelerate_configuration", bucket) or {}
    state["acceleration_status"] = accelerate.get("Status", "")
    payer = _optional(s3, "get_bucket_request_payment", bucket) or {}
    state["request_payer"] = payer.get("Payer", "")
    logging = _optional(s3, "get_bucket_logging", bucket) or {}
    state["logging"] = [logging["LoggingEnabled"]] if logging.get("LoggingEnabled") else []
    lifecycle = _optional(s3, "get_bucket_lifecycle_configuration", bucket)
    state["lifecycle_rule"] = lifecycle["Rules"] if lifecycle else []
    replication = _optional(s3, "get_bucket_replication", bucket)
    state["replication_configuration"] = [replication["ReplicationConfiguration"]] if replication else []
    encryption = _optional(s3, "get_bucket_encryption", bucket)
    rules = encryption["ServerSideEncryptionConfiguration"]["Rules"] if encryption else []
    state["server_side_encryption_configuration"] = [{"rule": [
        {"apply_server_side_encryption_by_default": [
            {"sse_algorithm": r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
             "kms_master_key_id": r["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID", "")}],
         "bucket_key_enabled": r.get("BucketKeyEnabled", False)} for r in rules]}]
    lock = _optional(s3, "get_object_lock_configuration", bucket)
    state["object_lock_enabled"] = bool(lock and lock["ObjectLockConfiguration"].get("ObjectLockEnabled"))
    # The bucket's region: manager.GetBucketRegion reads HeadBucket's x-amz-bucket-region.
    head = find_bucket(s3, bucket)
    state["region"] = head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"]
    tagging = _optional(s3, "get_bucket_tagging", bucket)
    state["tags"] = {t["Key"]: t["Value"] for t in tagging["TagSet"]} if tagging else {}
    return state


def update_tags(s3: Any, bucket: str, tags: dict[str, str]) -> None:
    """bucketUpdateTags: the whole tag set is put again, or deleted when the configuration has none."""
    if tags:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    else:
        s3.delete_bucket_tagging(Bucket=bucket)


def empty_bucket(s3: Any, bucket: str) -> int:
    """emptyBucket (force_destroy): every object version and delete marker, listed page by page with
    ListObjectVersions, deleted with DeleteObjects (quiet) naming each version id."""
    deleted = 0
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        entries = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        if not entries:
            continue
        objects = [{"Key": e["Key"], "VersionId": e["VersionId"]} for e in entries]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
        assert not answer.get("Errors"), answer
        deleted += len(objects)
    return deleted


def delete_bucket(s3: Any, bucket: str, force_destroy: bool) -> None:
    """resourceBucketDelete: DeleteBucket; BucketNotEmpty with force_destroy empties it and tries again; then the
    wait until findBucket answers NotFound."""
    try:
        s3.delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if code_of(exc) == "NoSuchBucket":
            return
        if code_of(exc) != "BucketNotEmpty" or not force_destroy:
            raise
        empty_bucket(s3, bucket)
        s3.delete_bucket(Bucket=bucket)
    try:
        find_bucket(s3, bucket)
    except Gone:
        return
    raise AssertionError(f"bucket {bucket} still found after delete")


# -- aws_s3_bucket_policy --------------------------------------------------------------------------------------


def put_bucket_policy(s3: Any, bucket: str, policy: str) -> dict[str, Any]:
    """resourceBucketPolicyPut (create and update): PutBucketPolicy, then the wait until the policy read back is
    equivalent, then the read."""
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    state = read_bucket_policy(s3, bucket)
    assert equivalent(state["policy"], policy)
    return state


def read_bucket_policy(s3: Any, bucket: str) -> dict[str, Any]:
    """resourceBucketPolicyRead: findBucketPolicy; NoSuchBucketPolicy or NoSuchBucket remove it from state."""
    try:
        policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as exc:
        if code_of(exc) in ("NoSuchBucketPolicy", "NoSuchBucket"):
            raise Gone(bucket) from None
        raise
    return {"bucket": bucket, "policy": policy}


def delete_bucket_policy(s3: Any, bucket: str) -> None:
    """resourceBucketPolicyDelete: DeleteBucketPolicy (NoSuchBucket tolerated), then the wait until the policy
    read answers NotFound."""
    try:
        s3.delete_bucket_policy(Bucket=bucket)
    except ClientError as exc:
        if code_of(exc) != "NoSuchBucket":
            raise
    try:
        read_bucket_policy(s3, bucket)
    except Gone:
        return
    raise AssertionError(f"bucket policy of {bucket} still found after delete")


def equivalent(stored: str, configured: str) -> bool:
    """The provider compares policies as JSON documents (verify.PolicyStringsEquivalent), not as text."""
    return bool(json.loads(stored) == json.loads(configured))


# -- aws_cloudtrail's dependency on the bucket ------------------------------------------------------------------


def create_trail(ct: Any, name: str, bucket: str, prefix: str | None, enable_logging: bool) -> dict[str, Any]:
    """resourceTrailCreate: CreateTrail (retried only on CloudWatch Logs "Access denied.", not on the bucket
    checks: the configuration must order the bucket policy first), StartLogging when enabled, then the read."""
    params: dict[str, Any] = {"Name": name, "S3BucketName": bucket, "IncludeGlobalServiceEvents": True,
                              "IsMultiRegionTrail": False, "EnableLogFileValidation": False}
    if prefix:
        params["S3KeyPrefix"] = prefix
    arn = ct.create_trail(**params)["TrailARN"]
    if enable_logging:
        ct.start_logging(Name=arn)
    return read_trail(ct, arn)


def read_trail(ct: Any, arn: str) -> dict[str, Any]:
    """resourceTrailRead: DescribeTrails by ARN (one trail or NotFound), then GetTrailStatus."""
    found = ct.describe_trails(trailNameList=[arn])["trailList"]
    if len(found) != 1:
        raise Gone(arn)
    trail = found[0]
    return {
        "arn": trail["TrailARN"], "name": trail["Name"], "s3_bucket_name": trail["S3BucketName"],
        "s3_key_prefix": trail.get("S3KeyPrefix"), "home_region": trail["HomeRegion"],
        "enable_logging": ct.get_trail_status(Name=arn)["IsLogging"],
    }


def delete_trail(ct: Any, arn: str) -> None:
    """resourceTrailDelete: DeleteTrail; TrailNotFoundException is success."""
    try:
        ct.delete_trail(Name=arn)
    except ClientError as exc:
        if code_of(exc) != "TrailNotFoundException":
            raise
