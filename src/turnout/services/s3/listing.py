"""Listing objects: ListObjectsV2, ListObjects (v1) and ListObjectVersions, with prefix, delimiter (common
prefixes), page size, continuation and ``EncodingType=url``.

Keys come in UTF-8 byte order. With a delimiter, keys sharing the part up to the first delimiter after the
prefix roll up into one common prefix, which counts once against MaxKeys. Continuation tokens are opaque: here
the base64 of the last key or common prefix the page ended on. Buckets are unversioned, so every version listed
is the object itself, version id ``null``, latest.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import errors, store
from .buckets import owner, require

if TYPE_CHECKING:
    from ...core.context import RequestContext
    from .provider import S3Provider

DEFAULT_MAX_KEYS = 1000
_BATCH = 1000


def _page(p: S3Provider, bucket: str, prefix: str, delimiter: str, after: str | None, max_keys: int
          ) -> tuple[list[store.StoredObject], list[str], bool, str | None]:
    """(objects, common prefixes, truncated, last entry) of one page."""
    objects: list[store.StoredObject] = []
    prefixes: list[str] = []
    last: str | None = None
    cursor = after
    while True:
        batch = store.objects_after(p.db, bucket, prefix, cursor, _BATCH)
        if not batch:
            return objects, prefixes, False, last
        for obj in batch:
            cursor = obj.key
            if delimiter:
                cut = obj.key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = obj.key[:cut + len(delimiter)]
                    if prefixes and prefixes[-1] == common:
                        continue
                    if after is not None and common <= after:
                        continue  # the common prefix the previous page ended on
                    if len(objects) + len(prefixes) >= max_keys:
                        return objects, prefixes, True, last
                    prefixes.append(common)
                    last = common
                    continue
            if len(objects) + len(prefixes) >= max_keys:
                return objects, prefixes, True, last
            objects.append(obj)
            last = obj.key
        if len(batch) < _BATCH:
            return objects, prefixes, False, last


def _encode(value: str, url: bool) -> str:
    return quote(value, safe="/") if url else value


def _contents(obj: store.StoredObject, url: bool) -> dict[str, Any]:
    return {
        "Key": _encode(obj.key, url),
        "LastModified": datetime.fromisoformat(obj.last_modified),
        "ETag": obj.etag,
        "Size": obj.size,
        "StorageClass": obj.attributes.get("StorageClass") or "STANDARD",
    }


def _max_keys(params: dict[str, Any]) -> int:
    value = params.get("MaxKeys")
    if value is None:
        return DEFAULT_MAX_KEYS
    if value < 0:
        raise errors.invalid_argument("Argument maxKeys must be an integer between 0 and 2147483647", "maxKeys",
                                      str(value))
    return min(int(value), DEFAULT_MAX_KEYS)


def _token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _untoken(token: str) -> str:
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise errors.invalid_argument("The continuation token provided is incorrect", "continuation-token",
                                      token) from None


def _encoding(params: dict[str, Any]) -> bool:
    kind = params.get("EncodingType")
    if kind is not None and kind != "url":
        raise errors.invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", kind)
    return kind == "url"


def list_objects_v2(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = require(p, params["Bucket"])
    prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or ""
    url = _encoding(params)
    max_keys = _max_keys(params)
    token = params.get("ContinuationToken")
    start_after = params.get("StartAfter")
    after = _untoken(token) if token else start_after
    objects, prefixes, truncated, last = _page(p, bucket.name, prefix, delimiter, after, max_keys)
    result: dict[str, Any] = {
        "Name": bucket.name,
        "Prefix": _encode(prefix, url),
        "MaxKeys": params.get("MaxKeys", DEFAULT_MAX_KEYS),
        "KeyCount": len(objects) + len(prefixes),
        "IsTruncated": truncated,
        "Contents": [_contents(o, url) for o in objects] or None,
        "CommonPrefixes": [{"Prefix": _encode(c, url)} for c in prefixes] or None,
    }
    if delimiter:
        result["Delimiter"] = _encode(delimiter, url)
    if url:
        result["EncodingType"] = "url"
    if token:
        result["ContinuationToken"] = token
    if start_after:
        result["StartAfter"] = _encode(start_after, url)
    if truncated and last is not None:
        result["NextContinuationToken"] = _token(last)
    if params.get("FetchOwner") and result["Contents"]:
        for item in result["Contents"]:
            item["Owner"] = owner(bucket.account_id)
    return result


def list_objects(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = require(p, params["Bucket"])
    prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or ""
    url = _encoding(params)
    marker = params.get("Marker") or None
    objects, prefixes, truncated, last = _page(p, bucket.name, prefix, delimiter, marker, _max_keys(params))
    contents = [_contents(o, url) for o in objects]
    for item in contents:
        item["Owner"] = owner(bucket.account_id)
    result: dict[str, Any] = {
        "Name": bucket.name,
        "Prefix": _encode(prefix, url),
        "Marker": _encode(marker or "", url),
        "MaxKeys": params.get("MaxKeys", DEFAULT_MAX_KEYS),
        "IsTruncated": truncated,
        "Contents": contents or None,
        "CommonPrefixes": [{"Prefix": _encode(c, url)} for c in prefixes] or None,
    }
    if delimiter:
        result["Delimiter"] = _encode(delimiter, url)
        if truncated and last is not None:
            result["NextMarker"] = _encode(last, url)  # given only with a delimiter (ListObjects API reference)
    if url:
        result["EncodingType"] = "url"
    return result


def list_object_versions(p: S3Provider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = require(p, params["Bucket"])
    prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or ""
    url = _encoding(params)
    marker = params.get("KeyMarker") or None
    objects, prefixes, truncated, last = _page(p, bucket.name, prefix, delimiter, marker, _max_keys(params))
    versions = []
    for obj in objects:
        item = _contents(obj, url)
        item.update(VersionId="null", IsLatest=True, Owner=owner(bucket.account_id))
        versions.append(item)
    result: dict[str, Any] = {
        "Name": bucket.name,
        "Prefix": _encode(prefix, url),
        "KeyMarker": _encode(marker or "", url),
        "VersionIdMarker": params.get("VersionIdMarker") or "",
        "MaxKeys": params.get("MaxKeys", DEFAULT_MAX_KEYS),
        "IsTruncated": truncated,
        "Versions": versions or None,
        "CommonPrefixes": [{"Prefix": _encode(c, url)} for c in prefixes] or None,
    }
    if delimiter:
        result["Delimiter"] = _encode(delimiter, url)
    if url:
        result["EncodingType"] = "url"
    if truncated and last is not None:
        result["NextKeyMarker"] = _encode(last, url)
        result["NextVersionIdMarker"] = "null"
    return result
