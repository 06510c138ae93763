"""S3's errors, built in one place: AWS's codes, HTTP statuses and messages (S3 API reference, "Error responses";
wordings AWS does not document are the observed ones of facts file 2, section 6), with the fields S3 adds to its
error document (``BucketName``, ``Key``...)."""

from __future__ import annotations

from datetime import datetime

from ...wire.errors import ServiceError
from ...wire.restxml_out import http_date


def no_such_bucket(bucket: str) -> ServiceError:
    return ServiceError("NoSuchBucket", "The specified bucket does not exist", 404, fields={"BucketName": bucket})


def no_such_key(key: str) -> ServiceError:
    return ServiceError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": key})


def bucket_already_exists(bucket: str) -> ServiceError:
    return ServiceError(
        "BucketAlreadyExists",
        "The requested bucket name is not available. The bucket namespace is shared by all users of the system. "
        "Please select a different name and try again.", 409, fields={"BucketName": bucket},
    )


def bucket_already_owned(bucket: str) -> ServiceError:
    return ServiceError("BucketAlreadyOwnedByYou",
                        "Your previous request to create the named bucket succeeded and you already own it.", 409,
                        fields={"BucketName": bucket})


def bucket_not_empty(bucket: str) -> ServiceError:
    return ServiceError("BucketNotEmpty", "The bucket you tried to delete is not empty", 409,
                        fields={"BucketName": bucket})


def invalid_bucket_name(bucket: str) -> ServiceError:
    return ServiceError("InvalidBucketName", "The specified bucket is not valid.", 400, fields={"BucketName": bucket})


def not_configured(code: str, message: str, bucket: str) -> ServiceError:
    """A bucket sub-resource that is not configured (``NoSuchCORSConfiguration``...): 404 naming the bucket."""
    return ServiceError(code, message, 404, fields={"BucketName": bucket})


def malformed_policy(message: str) -> ServiceError:
    return ServiceError("MalformedPolicy", message, 400)


def invalid_tag(message: str) -> ServiceError:
    return ServiceError("InvalidTag", message, 400)


def invalid_argument(message: str, name: str, value: str) -> ServiceError:
    return ServiceError("InvalidArgument", message, 400, fields={"ArgumentName": name, "ArgumentValue": value})


def no_such_upload(upload_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have "
        "been aborted or completed.", 404, fields={"UploadId": upload_id},
    )


def invalid_part() -> ServiceError:
    return ServiceError(
        "InvalidPart", "One or more of the specified parts could not be found.  The part may not have been "
        "uploaded, or the specified entity tag may not match the part's entity tag.", 400,
    )


def invalid_part_order() -> ServiceError:
    return ServiceError("InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered "
                        "by part number.", 400)


def entity_too_small() -> ServiceError:
    return ServiceError("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.",
                        400)


def invalid_range(requested: str, size: int) -> ServiceError:
    return ServiceError("InvalidRange", "The requested range is not satisfiable", 416,
                        fields={"RangeRequested": requested, "ActualObjectSize": size})


def precondition_failed(condition: str) -> ServiceError:
    return ServiceError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                        fields={"Condition": condition})


def not_modified(etag: str, last_modified: datetime) -> ServiceError:
    """304, written without a body; it carries the ETag and Last-Modified a 200 would have (RFC 9110, 15.4.5)."""
    return ServiceError("NotModified", "Not Modified", 304,
                        fields={"ETag": etag, "Last-Modified": http_date(last_modified)})


def malformed_xml() -> ServiceError:
    from ...wire.restxml import malformed_xml as wire_malformed

    return wire_malformed()


def copy_to_itself() -> ServiceError:
    return ServiceError(
        "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without "
        "changing the object's metadata, storage class, website redirect location or encryption attributes.", 400,
    )


def acl_not_supported() -> ServiceError:
    return ServiceError("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)


def wrong_region(sent: str, region: str, *, presigned: bool) -> ServiceError:
    """A request signed for ``sent`` to a bucket of ``region`` (observed wordings, facts file 2, section 8). The
    ``x-amz-bucket-region`` field is written as a header (HEAD answers have no body to carry ``<Region>``)."""
    fields = {"Region": region, "x-amz-bucket-region": region}
    if presigned:
        return ServiceError("AuthorizationQueryParametersError", f"Error parsing the X-Amz-Credential parameter; "
                            f"the region '{sent}' is wrong; expecting '{region}'", 400, fields=fields)
    return ServiceError("AuthorizationHeaderMalformed", f"The authorization header is malformed; the region "
                        f"'{sent}' is wrong; expecting '{region}'", 400, fields=fields)


def key_too_long(key: str) -> ServiceError:
    """Keys are at most 1024 bytes of UTF-8 (S3 user guide, "Naming Amazon S3 objects")."""
    return ServiceError("KeyTooLongError", "Your key is too long", 400,
                        fields={"Size": len(key.encode()), "MaxSizeAllowed": 1024})


def public_policy_blocked(caller_arn: str, bucket: str) -> ServiceError:
    """PutBucketPolicy of a public policy while BlockPublicPolicy is on: AccessDenied, 403 (S3 user guide, "Blocking
    public access"); the wording is S3's reported one, UNCONFIRMED by the facts files."""
    return ServiceError("AccessDenied", f'User: {caller_arn} is not authorized to perform: s3:PutBucketPolicy on '
                        f'resource: "arn:aws:s3:::{bucket}" because public policies are blocked by the '
                        "BlockPublicPolicy block public access setting.", 403)
