"""S3 on Turnout's endpoint: buckets, their policy and tags, the sub-resources Terraform reads, objects, listings
and multipart uploads. Each concern is a module of this package; this class binds the operations to them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...auth import regions
from ...authz.resources_s3 import BucketFacts, register_bucket_lookup
from ...core.provider import Provider
from ...store.db import Database
from ..iam import principal_ids
from . import buckets, defaults, errors, listing, multipart, objects, store

if TYPE_CHECKING:
    from ...core.context import RequestContext
    from ...gateway.gateway import Gateway

Params = dict[str, Any]
# Operations that name no bucket's region: the global bucket list, and CreateBucket (which answers
# BucketAlreadyOwnedByYou / BucketAlreadyExists for a bucket of another region).
BUCKET_REGION = "x-amz-bucket-region"  # a response header, kept in the annotations for the writer
REGIONLESS = frozenset({"ListBuckets", "ListDirectoryBuckets", "CreateBucket"})


def _bucket_facts(db: Database, name: str) -> BucketFacts | None:
    found = store.bucket(db, name)
    return BucketFacts(found.account_id, found.evaluated_policy) if found is not None else None


class S3Provider(Provider):
    service = "s3"

    def __init__(self, gateway: Gateway) -> None:
        super().__init__(gateway)
        register_bucket_lookup(_bucket_facts)

    def startup(self) -> None:
        """Bind the bucket policies saved before migration 0032 to the IAM principals they name (as
        ``principal_ids.bind_saved_before`` does for trust policies)."""
        super().startup()
        with self.db.transaction():
            for name, policy in store.policies_without_saved_form(self.db):
                saved = principal_ids.bind(self.db, policy)
                if saved is not None:
                    store.set_saved_policy(self.db, name, saved)

    def precheck(self, ctx: RequestContext) -> None:
        """A request signed for another region than its bucket's is refused before authorization, naming the
        bucket's region, which SDKs read to send the request again to the right region (facts file 2, section
        8: ``AuthorizationHeaderMalformed`` / ``AuthorizationQueryParametersError`` with ``<Region>``)."""
        if ctx.operation is None:
            return
        name = ctx.params.get("Bucket")
        found = store.bucket(self.db, name) if isinstance(name, str) else None
        if ctx.signature is not None and not regions.exists(ctx.region):
            # A Region that does not exist (an empty or path-like one included) is a wrong Region: S3 names the
            # bucket's, or us-east-1's where there is no bucket (the global endpoint's).
            raise errors.wrong_region(ctx.region, found.region if found is not None else buckets.US_EAST_1,
                                      presigned=ctx.signature.presigned)
        if ctx.operation.name in REGIONLESS:
            return
        if found is not None and ctx.operation.name == "HeadBucket":
            # HeadBucket names the bucket's region whatever the answer, a 403 included (facts file 2, section 6)
            ctx.annotations[BUCKET_REGION] = found.region
        if found is not None and found.region != ctx.region:
            raise errors.wrong_region(ctx.region, found.region,
                                      presigned=ctx.signature is not None and ctx.signature.presigned)

    # -- buckets ---------------------------------------------------------------------------------------------

    def create_bucket(self, ctx: RequestContext, params: Params) -> Params:
        return buckets.create_bucket(self, ctx, params)

    def head_bucket(self, ctx: RequestContext, params: Params) -> Params:
        return buckets.head_bucket(self, ctx, params)

    def delete_bucket(self, ctx: RequestContext, params: Params) -> Params:
        return buckets.delete_bucket(self, ctx, params)

    def list_buckets(self, ctx: RequestContext, params: Params) -> Params:
        return buckets.list_buckets(self, ctx, params)

    def get_bucket_location(self, ctx: RequestContext, params: Params) -> Params:
        return buckets.get_bucket_location(self, ctx, params)

    def put_bucket_tagging(self, ctx: RequestContext, params: Params) -> Params:
        return buckets.put_bucket_tagging(self, ctx, params)

    def get_bucket_tagging(self, ctx: RequestContext, params: Params) -> Params:
        return buckets.get_bucket_tagging(self, ctx, params)

    def delete_bucket_tagging(self, ctx: RequestContext, params: Params) -> Params:
        return buckets.delete_bucket_tagging(self, ctx, params)

    def put_bucket_policy(self, ctx: RequestContext, params: Params) -> Params:
        return buckets.put_bucket_policy(self, ctx, params)

    def get_bucket_policy(self, ctx: RequestContext, params: Params) -> Params:
        return buckets.get_bucket_policy(self, ctx, params)

    def get_bucket_policy_status(self, ctx: RequestContext, params: Params) -> Params:
        return buckets.get_bucket_policy_status(self, ctx, params)

    def delete_bucket_policy(self, ctx: RequestContext, params: Params) -> Params:
        return buckets.delete_bucket_policy(self, ctx, params)

    # -- sub-resources with nothing configured ---------------------------------------------------------------

    def get_bucket_acl(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.get_bucket_acl(self, ctx, params)

    def put_bucket_acl(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.put_bucket_acl(self, ctx, params)

    def get_bucket_versioning(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.get_bucket_versioning(self, ctx, params)

    def get_bucket_accelerate_configuration(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.get_bucket_accelerate_configuration(self, ctx, params)

    def get_bucket_request_payment(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.get_bucket_request_payment(self, ctx, params)

    def get_bucket_logging(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.get_bucket_logging(self, ctx, params)

    def get_bucket_encryption(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.get_bucket_encryption(self, ctx, params)

    def get_bucket_ownership_controls(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.get_bucket_ownership_controls(self, ctx, params)

    def get_public_access_block(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.get_public_access_block(self, ctx, params)

    def get_bucket_notification_configuration(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.get_bucket_notification_configuration(self, ctx, params)

    def get_bucket_cors(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.not_configured(self, "GetBucketCors", params)

    def get_bucket_website(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.not_configured(self, "GetBucketWebsite", params)

    def get_bucket_lifecycle_configuration(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.not_configured(self, "GetBucketLifecycleConfiguration", params)

    def get_bucket_lifecycle(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.not_configured(self, "GetBucketLifecycle", params)

    def get_bucket_replication(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.not_configured(self, "GetBucketReplication", params)

    def get_object_lock_configuration(self, ctx: RequestContext, params: Params) -> Params:
        return defaults.not_configured(self, "GetObjectLockConfiguration", params)

    # -- objects ---------------------------------------------------------------------------------------------

    def put_object(self, ctx: RequestContext, params: Params) -> Params:
        return objects.put_object(self, ctx, params)

    def get_object(self, ctx: RequestContext, params: Params) -> Params:
        return objects.get_object(self, ctx, params)

    def head_object(self, ctx: RequestContext, params: Params) -> Params:
        return objects.head_object(self, ctx, params)

    def delete_object(self, ctx: RequestContext, params: Params) -> Params:
        return objects.delete_object(self, ctx, params)

    def delete_objects(self, ctx: RequestContext, params: Params) -> Params:
        return objects.delete_objects(self, ctx, params)

    def copy_object(self, ctx: RequestContext, params: Params) -> Params:
        return objects.copy_object(self, ctx, params)

    def list_objects_v2(self, ctx: RequestContext, params: Params) -> Params:
        return listing.list_objects_v2(self, ctx, params)

    def list_objects(self, ctx: RequestContext, params: Params) -> Params:
        return listing.list_objects(self, ctx, params)

    def list_object_versions(self, ctx: RequestContext, params: Params) -> Params:
        return listing.list_object_versions(self, ctx, params)

    # -- multipart uploads -----------------------------------------------------------------------------------

    def create_multipart_upload(self, ctx: RequestContext, params: Params) -> Params:
        return multipart.create_multipart_upload(self, ctx, params)

    def upload_part(self, ctx: RequestContext, params: Params) -> Params:
        return multipart.upload_part(self, ctx, params)

    def list_parts(self, ctx: RequestContext, params: Params) -> Params:
        return multipart.list_parts(self, ctx, params)

    def complete_multipart_upload(self, ctx: RequestContext, params: Params) -> Params:
        return multipart.complete_multipart_upload(self, ctx, params)

    def abort_multipart_upload(self, ctx: RequestContext, params: Params) -> Params:
        return multipart.abort_multipart_upload(self, ctx, params)

    def list_multipart_uploads(self, ctx: RequestContext, params: Params) -> Params:
        return multipart.list_multipart_uploads(self, ctx, params)
