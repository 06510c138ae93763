"""Objects: put, get (ranges, conditions), head, delete, delete many, copy.

An object's ETag is the quoted MD5 of its body (a multipart object's: :mod:`.multipart`); its headers
(Content-Type, Content-Encoding, Cache-Control..., ``x-amz-meta-*``) are stored with it and answered back.
Buckets are unversioned: deletes remove the object, and a version id, when a caller sends one, is ``null``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ...auth.s3payload import checksum_of
from . import errors, store
from .buckets import require

if TYPE_CHECKING:
    from ...core.context import RequestContext
    from .provider import S3Provider

DEFAULT_CONTENT_TYPE = "binary/octet-stream"  # what S3 stores when a PUT has no Content-Type
# Request members stored with an object and answered by GET and HEAD under the same names.
STORED = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "Expires",
          "WebsiteRedirectLocation", "StorageClass")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def etag_of(body: bytes) -> str:
    return '"' + hashlib.md5(body).hexdigest() + '"'  # S3's ETag is the MD5 of the body


def attributes_of(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for name in STORED:
        value = params.get(name)
        if isinstance(value, datetime):
            value = value.isoformat()
        if name == "ContentEncoding" and isinstance(value, str):
            # aws-chunked is the transfer's encoding, not the object's (sigv4-streaming.html)
            value = ",".join(v.strip() for v in value.split(",") if v.strip() != "aws-chunked") or None
        if value:
            attributes[name] = value
    if params.get("Metadata"):
        attributes["Metadata"] = dict(params["Metadata"])
    checksums = ctx.annotations.get("s3.checksums")
    if isinstance(checksums, dict) and checksums:
        attributes["Checksums"] = dict(checksums)
    return attributes


DEFAULT_CHECKSUM = "crc64nvme"


def with_default_checksum(attributes: dict[str, Any], body: bytes) -> dict[str, Any]:
    """``attributes`` with the CRC64NVME checksum of ``body`` when the upload carried no checksum: S3 adds that
    default checksum to every object uploaded without one (botocore's S3 model, PutObjectOutput
    ``ChecksumCRC64NVME``: "or if it was uploaded without a checksum (and Amazon S3 added the default checksum,
    CRC64NVME, to the uploaded object)")."""
    if attributes.get("Checksums"):
        return attributes
    value = checksum_of(DEFAULT_CHECKSUM, body)
    assert value is not None
    return {**attributes, "Checksums": {DEFAULT_CHECKSUM: value}}


MAX_KEY_BYTES = 1024


def check_key(key: str) -> None:
    if len(key.encode()) > MAX_KEY_BYTES:
        raise errors.key_too_long(key)


def put_object(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = require(p, params["Bucket"])
    body = params.get("Body") or b""
    if isinstance(body, str):
        body = body.encode()
    key = params["Key"]
    check_key(key)
    if_none_match = params.get("IfNoneMatch")
    if if_none_match == "*" and store.get_object(p.db, bucket.name, key, with_body=False) is not None:
        raise errors.precondition_failed("If-None-Match")
    obj = store.StoredObject(
        bucket.name, key, len(body), etag_of(body), params.get("ContentType") or DEFAULT_CONTENT_TYPE,
        p.now().isoformat(), with_default_checksum(attributes_of(ctx, params), body), body,
    )
    store.put_object(p.db, obj)
    return {"ETag": obj.etag, "ServerSideEncryption": "AES256", **checksum_fields(obj)}


# x-amz-checksum-<algorithm> -> the response member (those Turnout does not compute are stored as sent).
_CHECKSUM_MEMBERS = {"crc32": "ChecksumCRC32", "crc32c": "ChecksumCRC32C", "sha1": "ChecksumSHA1",
                     "sha256": "ChecksumSHA256", "crc64nvme": "ChecksumCRC64NVME", "sha512": "ChecksumSHA512",
                     "md5": "ChecksumMD5", "xxhash64": "ChecksumXXHASH64", "xxhash3": "ChecksumXXHASH3",
                     "xxhash128": "ChecksumXXHASH128"}


def checksum_fields(obj: store.StoredObject) -> dict[str, Any]:
    """The object's stored checksums as response members; a single-part object's checksum covers the whole
    object, ``ChecksumType`` ``FULL_OBJECT`` (botocore's S3 model, PutObjectOutput ``ChecksumType``: "For PutObject
    uploads, the checksum type is always FULL_OBJECT")."""
    return checksum_members(obj.attributes.get("Checksums") or {})


def checksum_members(checksums: dict[str, str]) -> dict[str, Any]:
    """Checksums (algorithm -> base64 value) as response members, with their type."""
    out: dict[str, Any] = {}
    for algorithm, value in checksums.items():
        name = _CHECKSUM_MEMBERS.get(algorithm)
        if name is not None:
            out[name] = value
    if out:
        out["ChecksumType"] = "FULL_OBJECT"
    return out


def _load(p: S3Provider, params: dict[str, Any], with_body: bool) -> store.StoredObject:
    bucket = require(p, params["Bucket"])
    key = params["Key"]
    version = params.get("VersionId")
    obj = store.get_object(p.db, bucket.name, key, with_body=with_body)
    if obj is None or (version is not None and version != "null"):
        raise errors.no_such_key(key)
    return obj


def _conditions(params: dict[str, Any], obj: store.StoredObject) -> None:
    modified = datetime.fromisoformat(obj.last_modified).replace(microsecond=0)
    if_match = params.get("IfMatch")
    if if_match is not None and if_match.strip() not in ("*", obj.etag, obj.etag.strip('"')):
        raise errors.precondition_failed("If-Match")
    since = params.get("IfUnmodifiedSince")
    if if_match is None and since is not None and modified > since:
        raise errors.precondition_failed("If-Unmodified-Since")
    none_match = params.get("IfNoneMatch")
    if none_match is not None and none_match.strip() in ("*", obj.etag, obj.etag.strip('"')):
        raise errors.not_modified(obj.etag, modified)
    modified_since = params.get("IfModifiedSince")
    if none_match is None and modified_since is not None and modified <= modified_since:
        raise errors.not_modified(obj.etag, modified)


def _describe(obj: store.StoredObject) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ETag": obj.etag,
        "LastModified": datetime.fromisoformat(obj.last_modified),
        "ContentLength": obj.size,
        "ContentType": obj.content_type,
        "AcceptRanges": "bytes",
        "ServerSideEncryption": "AES256",
    }
    for name in STORED:
        value = obj.attributes.get(name)
        if value is not None and name != "StorageClass":
            out[name] = datetime.fromisoformat(value) if name == "Expires" else value
    if obj.attributes.get("StorageClass") not in (None, "STANDARD"):
        out["StorageClass"] = obj.attributes["StorageClass"]
    if obj.attributes.get("Metadata"):
        out["Metadata"] = obj.attributes["Metadata"]
    return out


def _checksum_mode(params: dict[str, Any]) -> bool:
    """``x-amz-checksum-mode: ENABLED`` asks GetObject and HeadObject for the object's checksums, which they
    otherwise leave out (GetObject/HeadObject API reference, ``ChecksumMode``); SDKs then check the body."""
    return params.get("ChecksumMode") == "ENABLED"


# The response-* query parameters of GetObject and HeadObject, and the response header each one overrides
# (GetObject API reference, "Overriding response header values through the request").
_OVERRIDES = {"ResponseCacheControl": "CacheControl", "ResponseContentDisposition": "ContentDisposition",
              "ResponseContentEncoding": "ContentEncoding", "ResponseContentLanguage": "ContentLanguage",
              "ResponseContentType": "ContentType", "ResponseExpires": "Expires"}


def _overrides(params: dict[str, Any]) -> dict[str, Any]:
    """The response headers the request overrides. (S3 refuses them on unsigned requests; Turnout answers every
    unsigned request AccessDenied before it gets here.)"""
    return {member: params[name] for name, member in _OVERRIDES.items() if params.get(name) is not None}


def get_object(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    overrides = _overrides(params)
    obj = _load(p, params, with_body=True)
    _conditions(params, obj)
    body = obj.body or b""
    out = _describe(obj)
    requested = params.get("Range")
    if requested:
        found = _RANGE.match(requested.strip())
        if found is not None and (found.group(1) or found.group(2)):
            first, last = _span(found.group(1), found.group(2), len(body), requested)
            # No whole-object checksum for a part of the object: a client would check the part against it.
            out["Body"] = body[first:last + 1]
            out["ContentLength"] = last - first + 1
            out["ContentRange"] = f"bytes {first}-{last}/{len(body)}"
            out["__status"] = 206
            return out
        # A Range S3 cannot read is ignored: the whole object is answered (RFC 9110 allows it).
    out["Body"] = body
    if _checksum_mode(params):
        out.update(checksum_fields(obj))
    out.update(overrides)  # "included only in a successful response, that is, when ... 200 OK is returned"
    return out


def _span(start: str, end: str, size: int, requested: str) -> tuple[int, int]:
    if not start:  # the last N bytes
        count = int(end)
        if count == 0 or size == 0:
            raise errors.invalid_range(requested, size)
        return max(size - count, 0), size - 1
    first = int(start)
    if first >= size:
        raise errors.invalid_range(requested, size)
    last = min(int(end), size - 1) if end else size - 1
    if last < first:
        raise errors.invalid_range(requested, size)
    return first, last


def head_object(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    overrides = _overrides(params)
    obj = _load(p, params, with_body=False)
    _conditions(params, obj)
    out = _describe(obj)
    if _checksum_mode(params):
        out.update(checksum_fields(obj))
    out.update(overrides)
    return out


def delete_object(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = require(p, params["Bucket"])
    store.delete_object(p.db, bucket.name, params["Key"])  # deleting a missing key succeeds (204)
    out: dict[str, Any] = {"__status": 204}
    if params.get("VersionId") is not None:
        out["VersionId"] = params["VersionId"]
    return out


def delete_objects(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = require(p, params["Bucket"])
    delete = params["Delete"]
    items = delete.get("Objects") or []
    if len(items) > 1000:
        raise errors.malformed_xml()
    deleted: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for item in items:
        key = item.get("Key", "")
        version = item.get("VersionId")
        if version is not None and version != "null":
            failed.append({"Key": key, "VersionId": version, "Code": "NoSuchVersion",
                           "Message": "The specified version does not exist."})
            continue
        store.delete_object(p.db, bucket.name, key)
        entry: dict[str, Any] = {"Key": key}
        if version is not None:
            entry["VersionId"] = version
        deleted.append(entry)
    result: dict[str, Any] = {}
    if not delete.get("Quiet"):  # quiet mode answers only the failures (DeleteObjects API reference)
        result["Deleted"] = deleted
    if failed:
        result["Errors"] = failed
    return result


def copy_object(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    target = require(p, params["Bucket"])
    source = unquote(params["CopySource"].split("?", 1)[0]).lstrip("/")
    source_bucket, _, source_key = source.partition("/")
    if not source_bucket or not source_key:
        raise errors.invalid_argument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                                      "x-amz-copy-source", params["CopySource"])
    require(p, source_bucket)
    check_key(params["Key"])
    original = store.get_object(p.db, source_bucket, source_key)
    if original is None:
        raise errors.no_such_key(source_key)
    replace = params.get("MetadataDirective") == "REPLACE"
    if source_bucket == target.name and source_key == params["Key"] and not replace:
        raise errors.copy_to_itself()
    attributes = attributes_of(ctx, params) if replace else dict(original.attributes)
    attributes = with_default_checksum(attributes, original.body or b"")
    content_type = (params.get("ContentType") or DEFAULT_CONTENT_TYPE) if replace else original.content_type
    now = p.now()
    copy = store.StoredObject(target.name, params["Key"], original.size, original.etag, content_type,
                              now.isoformat(), attributes, original.body)
    store.put_object(p.db, copy)
    return {"CopyObjectResult": {"ETag": copy.etag, "LastModified": now, **checksum_fields(copy)},
            "ServerSideEncryption": "AES256"}
