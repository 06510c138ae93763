"""Bucket sub-resources as AWS answers them for a bucket with nothing configured: the reads the Terraform
provider's ``aws_s3_bucket`` makes on every refresh.

Not configured answers 404 with the sub-resource's own code (facts file 2, section 6; S3 API reference, "Error
responses"): CORS, website, lifecycle, replication, object lock. The others answer a default document: the
owner's full control ACL, no versioning status (the empty ``VersioningConfiguration``), no acceleration status,
``BucketOwner`` pays, no logging, SSE-S3 ``AES256`` default encryption with ``BucketKeyEnabled`` false (every
bucket since 5 January 2023), ``BucketOwnerEnforced`` object ownership and all four public access blocks on
(S3's defaults for buckets created since April 2023, S3 user guide "Default settings for new S3 buckets").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from .buckets import canonical_id, owner, require

if TYPE_CHECKING:
    from ...core.context import RequestContext
    from .provider import S3Provider

_NOT_CONFIGURED = {
    "GetBucketCors": ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
    "GetBucketWebsite": ("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"),
    "GetBucketLifecycleConfiguration": ("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    "GetBucketLifecycle": ("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    "GetBucketReplication": ("ReplicationConfigurationNotFoundError", "The replication configuration was not found"),
    "GetObjectLockConfiguration": ("ObjectLockConfigurationNotFoundError",
                                   "Object Lock configuration does not exist for this bucket"),
}


def not_configured(p: S3Provider, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    bucket = require(p, params["Bucket"])
    code, message = _NOT_CONFIGURED[operation]
    raise errors.not_configured(code, message, bucket.name)


def get_bucket_acl(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = require(p, params["Bucket"])
    return {
        "Owner": owner(bucket.account_id),
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": canonical_id(bucket.account_id)},
                    "Permission": "FULL_CONTROL"}],
    }


def get_bucket_versioning(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    require(p, params["Bucket"])
    return {}


def get_bucket_accelerate_configuration(p: S3Provider, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
    require(p, params["Bucket"])
    return {}


def get_bucket_request_payment(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    require(p, params["Bucket"])
    return {"Payer": "BucketOwner"}


def get_bucket_logging(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    require(p, params["Bucket"])
    return {}


def get_bucket_encryption(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    require(p, params["Bucket"])
    return {"ServerSideEncryptionConfiguration": {"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False},
    ]}}


def get_bucket_ownership_controls(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    require(p, params["Bucket"])
    return {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}


def get_public_access_block(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    require(p, params["Bucket"])
    return {"PublicAccessBlockConfiguration": {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
    }}


def get_bucket_notification_configuration(p: S3Provider, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
    require(p, params["Bucket"])
    return {}


def put_bucket_acl(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    """Only the private canned ACL is accepted: with BucketOwnerEnforced ownership S3 refuses any ACL granting
    others access (``AccessControlListNotSupported``, S3 user guide "Controlling ownership of objects")."""
    require(p, params["Bucket"])
    acl = params.get("ACL")
    grants = (params.get("AccessControlPolicy") or {}).get("Grants") or []
    others = [g for g in grants if (g.get("Grantee") or {}).get("Type") != "CanonicalUser"]
    if (acl not in (None, "private", "bucket-owner-full-control")) or others or any(
        params.get(name) for name in ("GrantRead", "GrantWrite", "GrantReadACP", "GrantWriteACP")
    ):
        raise errors.acl_not_supported()
    return {}
