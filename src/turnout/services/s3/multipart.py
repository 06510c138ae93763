"""Multipart uploads (the AWS CLI's and boto3's transfer manager for large files): create, upload part, list
parts, complete, abort, list uploads.

Parts are numbered 1-10000; every part but the last must be at least 5 MiB (``EntityTooSmall``); completion
lists parts in ascending order (``InvalidPartOrder``) with their ETags (``InvalidPart``). The object's ETag is
the MD5 of the parts' binary MD5s followed by ``-<part count>`` (S3 user guide, "Checking object integrity").
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...core import ids
from . import errors, store
from .buckets import owner, require
from .objects import (
    DEFAULT_CONTENT_TYPE,
    attributes_of,
    check_key,
    checksum_fields,
    checksum_members,
    etag_of,
    with_default_checksum,
)

if TYPE_CHECKING:
    from ...core.context import RequestContext
    from .provider import S3Provider

MIN_PART = 5 * 1024 * 1024
# The upload's attribute naming the checksum algorithm CreateMultipartUpload asked for (not kept on the object).
ALGORITHM = "ChecksumAlgorithm"
MAX_PART_NUMBER = 10000


def _upload(p: S3Provider, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    bucket = require(p, params["Bucket"])
    found = store.upload(p.db, params["UploadId"], bucket.name, params["Key"])
    if found is None:
        raise errors.no_such_upload(params["UploadId"])
    return found


def create_multipart_upload(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = require(p, params["Bucket"])
    check_key(params["Key"])
    upload_id = ids.hex_id(32)
    attributes = {k: v for k, v in attributes_of(ctx, params).items() if k != "Checksums"}
    if params.get("ChecksumAlgorithm"):
        attributes[ALGORITHM] = params["ChecksumAlgorithm"]
    store.create_upload(p.db, upload_id, bucket.name, params["Key"], params.get("ContentType") or
                        DEFAULT_CONTENT_TYPE, attributes, p.now())
    return {"Bucket": bucket.name, "Key": params["Key"], "UploadId": upload_id, "ServerSideEncryption": "AES256"}


def upload_part(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _upload(p, params)
    number = params["PartNumber"]
    if not 1 <= number <= MAX_PART_NUMBER:
        raise errors.invalid_argument("Part number must be an integer between 1 and 10000, inclusive",
                                      "partNumber", str(number))
    body = params.get("Body") or b""
    etag = etag_of(body)
    store.put_part(p.db, params["UploadId"], number, body, etag, p.now())
    # The part's checksum, verified by the gateway, is answered back when the request carried one (botocore's
    # S3 model, UploadPartOutput ChecksumCRC32: "only be present if the checksum was provided in the request").
    sent = ctx.annotations.get("s3.checksums")
    part_checksums = checksum_members(dict(sent)) if isinstance(sent, dict) else {}
    part_checksums.pop("ChecksumType", None)
    return {"ETag": etag, "ServerSideEncryption": "AES256", **part_checksums}


def list_parts(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _upload(p, params)
    bucket = require(p, params["Bucket"])
    marker = params.get("PartNumberMarker") or 0
    limit = min(params.get("MaxParts") or 1000, 1000)
    found = [part for part in store.parts(p.db, params["UploadId"]) if part[0] > int(marker)]
    page = found[:limit]
    result: dict[str, Any] = {
        "Bucket": bucket.name, "Key": params["Key"], "UploadId": params["UploadId"],
        "PartNumberMarker": int(marker), "MaxParts": limit, "IsTruncated": len(found) > limit,
        "Parts": [{"PartNumber": n, "ETag": e, "Size": s, "LastModified": datetime.fromisoformat(m)}
                  for n, e, s, m, _ in page] or None,
        "Owner": owner(bucket.account_id), "Initiator": owner(bucket.account_id), "StorageClass": "STANDARD",
    }
    if len(found) > limit:
        result["NextPartNumberMarker"] = page[-1][0]
    return result


def complete_multipart_upload(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    content_type, attributes = _upload(p, params)
    wanted = (params.get("MultipartUpload") or {}).get("Parts") or []
    if not wanted:
        raise errors.malformed_xml()
    stored = {n: (e, b) for n, e, _, _, b in store.parts(p.db, params["UploadId"], with_body=True)}
    numbers = [part.get("PartNumber") for part in wanted]
    if any(not isinstance(n, int) for n in numbers) or numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
        raise errors.invalid_part_order()
    chunks: list[bytes] = []
    digests: list[bytes] = []
    for index, part in enumerate(wanted):
        found = stored.get(part["PartNumber"])
        if found is None or (part.get("ETag") or "").strip('"') != found[0].strip('"'):
            raise errors.invalid_part()
        if index < len(wanted) - 1 and len(found[1]) < MIN_PART:
            raise errors.entity_too_small()
        chunks.append(found[1])
        digests.append(hashlib.md5(found[1]).digest())  # S3's multipart ETag
    body = b"".join(chunks)
    etag = '"' + hashlib.md5(b"".join(digests)).hexdigest() + f'-{len(wanted)}"'
    bucket, key = params["Bucket"], params["Key"]
    requested = attributes.pop(ALGORITHM, None)
    if requested is None:
        # An upload created without a checksum algorithm gets S3's default full-object CRC64NVME (objects.py).
        # Composite checksums of an upload that asked for an algorithm are not computed here.
        attributes = with_default_checksum(attributes, body)
    obj = store.StoredObject(bucket, key, len(body), etag, content_type, p.now().isoformat(), attributes, body)
    store.put_object(p.db, obj)
    store.delete_upload(p.db, params["UploadId"])
    return {"Location": f"/{bucket}/{key}", "Bucket": bucket, "Key": key, "ETag": etag,
            "ServerSideEncryption": "AES256", **checksum_fields(obj)}


def abort_multipart_upload(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _upload(p, params)
    store.delete_upload(p.db, params["UploadId"])
    return {"__status": 204}


def list_multipart_uploads(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = require(p, params["Bucket"])
    prefix = params.get("Prefix") or ""
    uploads = [u for u in store.uploads_of(p.db, bucket.name) if u[0].startswith(prefix)]
    return {
        "Bucket": bucket.name, "KeyMarker": "", "UploadIdMarker": "", "Prefix": prefix, "MaxUploads": 1000,
        "IsTruncated": False,
        "Uploads": [{"Key": k, "UploadId": u, "Initiated": datetime.fromisoformat(when),
                     "StorageClass": "STANDARD", "Owner": owner(bucket.account_id),
                     "Initiator": owner(bucket.account_id)} for k, u, when in uploads] or None,
    }
