"""S3: the action each operation is authorized as, its resources, and the bucket policy.

Bucket actions name ``arn:aws:s3:::<bucket>``, object actions ``arn:aws:s3:::<bucket>/<key>``. S3 ARNs carry no
region and no account: the resource account is the bucket owner's (the caller's own for a bucket that does not
exist), and the bucket's policy is the resource-based policy of every check on the bucket or its objects
(``ServiceRules.resource_policies``). The bucket lookup is the S3 store's (:func:`bucket_facts`), registered
by the provider so that this module reads no S3 table.

Operations whose name is not their action (the Service Authorization Reference's table "Actions defined by Amazon
S3" lists the API operations each action covers): ListObjects/ListObjectsV2/HeadBucket are ``s3:ListBucket``,
HeadObject is ``s3:GetObject``, the multipart operations and CopyObject are ``s3:PutObject``, a
``DeleteBucket<Config>`` is the ``Put`` action of that configuration, DeleteObjects is ``s3:DeleteObject`` on
each key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..store.db import Database
from .resources_base import Custom, Env, Extra, ServiceRules, Spec, Target, custom, has, value_of

BUCKET_ARN = "arn:aws:s3:::{}"


@dataclass(frozen=True, slots=True)
class BucketFacts:
    owner: str
    policy: str | None


# Filled by the S3 provider: the owner and policy of a bucket, None when it does not exist.
BucketLookup = Callable[[Database, str], BucketFacts | None]
_lookup: list[BucketLookup] = []


def register_bucket_lookup(lookup: BucketLookup) -> None:
    _lookup[:] = [lookup]


def bucket_facts(db: Database, bucket: str) -> BucketFacts | None:
    return _lookup[0](db, bucket) if _lookup else None


def bucket_arn(bucket: str) -> str:
    return BUCKET_ARN.format(bucket)


def object_arn(bucket: str, key: str) -> str:
    return f"{BUCKET_ARN.format(bucket)}/{key}"


def _target(env: Env, bucket: str, arn: str, type_name: str) -> Target:
    facts = bucket_facts(env.db, bucket)
    if facts is None:
        return Target(arn, type_name, tags={}, account=env.account or None, exists=False)
    return Target(arn, type_name, tags={}, account=facts.owner, policy=facts.policy)


def _bucket(env: Env) -> Iterable[Target]:
    bucket = env.params.get("Bucket")
    if not isinstance(bucket, str) or not bucket:
        return ()
    return (_target(env, bucket, bucket_arn(bucket), "bucket"),)


def _new_bucket(env: Env) -> Iterable[Target]:
    """CreateBucket: the bucket the caller would own (an existing one, even another account's, answers
    BucketAlreadyExists / BucketAlreadyOwnedByYou after authorization, not AccessDenied)."""
    bucket = env.params.get("Bucket")
    if not isinstance(bucket, str) or not bucket:
        return ()
    return (Target(bucket_arn(bucket), "bucket", tags={}, account=env.account or None, exists=False),)


def _object(env: Env) -> Iterable[Target]:
    bucket, key = env.params.get("Bucket"), env.params.get("Key")
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        return ()
    return (_target(env, bucket, object_arn(bucket, key), "object"),)


def _deleted_objects(env: Env) -> Iterable[Target]:
    bucket = env.params.get("Bucket")
    delete = env.params.get("Delete")
    if not isinstance(bucket, str) or not isinstance(delete, dict):
        return ()
    keys = [item.get("Key") for item in delete.get("Objects") or () if isinstance(item, dict)]
    return [_target(env, bucket, object_arn(bucket, key), "object") for key in keys if isinstance(key, str) and key]


def _copy_source(env: Env) -> Iterable[Target]:
    source = env.params.get("CopySource")
    if not isinstance(source, str):
        return ()
    from urllib.parse import unquote

    path = unquote(source.split("?", 1)[0]).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        return ()
    return (_target(env, bucket, object_arn(bucket, key), "object"),)


BUCKET: Custom = custom(_bucket, "bucket", needs=("Bucket",))
OBJECT: Custom = custom(_object, "object", needs=("Bucket",))
DEFAULTS: dict[str, tuple[Spec, ...]] = {"bucket": (BUCKET,), "object": (OBJECT,)}

_PUT_CONFIG = {
    "Cors": "PutBucketCORS",
    "Encryption": "PutEncryptionConfiguration",
    "Lifecycle": "PutLifecycleConfiguration",
    "Replication": "PutReplicationConfiguration",
    "Tagging": "PutBucketTagging",
    "OwnershipControls": "PutBucketOwnershipControls",
    "AnalyticsConfiguration": "PutAnalyticsConfiguration",
    "IntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "InventoryConfiguration": "PutInventoryConfiguration",
    "MetricsConfiguration": "PutMetricsConfiguration",
}

ACTIONS: dict[str, str] = {
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListBuckets": "ListAllMyBuckets",
    "ListDirectoryBuckets": "ListAllMyBuckets",
    "HeadObject": "GetObject",
    "GetPart": "GetObject",
    "SelectObjectContent": "GetObject",
    "CopyObject": "PutObject",
    "UploadPartCopy": "PutObject",
    "RenameObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "ListParts": "ListMultipartUploadParts",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "DeleteObjects": "DeleteObject",
    "GetBucketCors": "GetBucketCORS",
    "PutBucketCors": "PutBucketCORS",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
    "GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
    "PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
    "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
    "CreateBucketMetadataConfiguration": "CreateBucketMetadataTableConfiguration",
    "GetBucketMetadataConfiguration": "GetBucketMetadataTableConfiguration",
    "DeleteBucketMetadataConfiguration": "DeleteBucketMetadataTableConfiguration",
    "UpdateBucketMetadataAnnotationTableConfiguration": "UpdateBucketMetadataJournalTableConfiguration",
    **{f"DeleteBucket{name}": action for name, action in _PUT_CONFIG.items()},
}

# Operations of the model the reference has no action for (newer than its scrape): checked as their own name.
UNCATALOGUED = frozenset({
    "CreateSession", "GetBucketDefaultStorageClass", "PutBucketDefaultStorageClass", "GetObjectAnnotation",
    "PutObjectAnnotation", "DeleteObjectAnnotation", "ListObjectAnnotations", "WriteGetObjectResponse",
})

OPS: dict[str, tuple[Spec, ...]] = {
    "DeleteObjects": (custom(_deleted_objects, "object", needs=("Delete",)),),
    "CreateBucket": (custom(_new_bucket, "bucket", needs=("Bucket",)),),
    "ListBuckets": (),
    "ListDirectoryBuckets": (),
    "CreateSession": (BUCKET,),
    "GetBucketDefaultStorageClass": (BUCKET,),
    "PutBucketDefaultStorageClass": (BUCKET,),
    "GetObjectAnnotation": (OBJECT,),
    "PutObjectAnnotation": (OBJECT,),
    "DeleteObjectAnnotation": (OBJECT,),
    "ListObjectAnnotations": (OBJECT,),
}

COPY_SOURCE = custom(_copy_source, "object", needs=("CopySource",))

RULES = ServiceRules(
    prefix="s3",
    defaults=DEFAULTS,
    ops=OPS,
    actions=ACTIONS,
    request_keys={
        "s3:x-amz-acl": value_of("ACL"),
        "s3:prefix": value_of("Prefix"),
        "s3:delimiter": value_of("Delimiter"),
        "s3:max-keys": value_of("MaxKeys"),
        "s3:x-amz-server-side-encryption": value_of("ServerSideEncryption"),
        "s3:x-amz-storage-class": value_of("StorageClass"),
        "s3:x-amz-copy-source": value_of("CopySource"),
    },
    extras={"CopyObject": (Extra("GetObject", has("CopySource"), specs=(COPY_SOURCE,)),)},
    resource_policies=True,
)
