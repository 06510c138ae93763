"""Routing of S3 requests: recognise them, read the bucket and key (path-style or virtual-hosted-style), and
choose the operation from method, path and query markers (:mod:`turnout.wire.restxml_routes`).

A request is S3's when its SigV4 credential scope names the service ``s3`` (``Authorization`` header or presigned
``X-Amz-Credential``), or when it is unsigned and looks like no other protocol (no ``X-Amz-Target``, no
``Action``, no form POST): S3 answers anonymous requests itself (``AccessDenied``).

Addressing as SDKs send it with an endpoint URL:

* path-style: ``http://127.0.0.1:PORT/bucket/key``;
* virtual-hosted-style: ``Host: bucket.localhost:PORT``, ``bucket.s3.localhost:PORT`` or AWS's own host names
  (``bucket.s3.amazonaws.com``, ``bucket.s3.<region>.amazonaws.com``): the bucket is the host's first labels.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import unquote

from ..core.context import HttpRequest, RequestContext
from ..wire.errors import ServiceError
from ..wire.models import SERVICES
from ..wire.restxml_routes import find, path_shape

_S3_SCOPE = "/s3/aws4_request"
_FORM_ACTION = re.compile(rb"(?:^|&)Action=")
_VIRTUAL_HOST = re.compile(
    r"^(?P<bucket>.+?)(?:\.s3)?(?:\.localhost|\.s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com|\.s3\.amazonaws\.com)$"
)
_PATH_STYLE_HOSTS = re.compile(r"^(?:localhost|s3\.localhost|s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com)$")


def is_s3(http: HttpRequest, query: Mapping[str, str]) -> bool:
    """Whether the request is S3's (see the module docstring). A request signed for S3 that names another service
    itself (``X-Amz-Target``, an ``Action``) is not S3's; one signed for another service that has the shape of an S3
    request (no ``X-Amz-Target``, no ``Action``, not a POST) is, and S3 refuses its credential scope."""
    names_other = http.header("x-amz-target") is not None or "Action" in query
    auth = http.header("authorization")
    scope = auth if auth is not None else unquote(http.query_string) if "X-Amz-Credential" in query else None
    if scope is not None and _S3_SCOPE in scope:
        return not names_other and not (_is_form_post(http) and _FORM_ACTION.search(http.body) is not None)
    if scope is not None:
        return not names_other and http.method in ("GET", "HEAD", "PUT", "DELETE")
    return not names_other and not _is_form_post(http)


def _is_form_post(http: HttpRequest) -> bool:
    content_type = http.header("content-type") or ""
    return http.method == "POST" and content_type.startswith("application/x-www-form-urlencoded")


def bucket_of_host(host: str) -> str | None:
    """The bucket a virtual-hosted-style ``Host`` names; None for path-style hosts."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    name = name.lower().rstrip(".")
    if not name or _PATH_STYLE_HOSTS.match(name):
        return None
    try:
        ipaddress.ip_address(name.strip("[]"))
        return None
    except ValueError:
        pass
    found = _VIRTUAL_HOST.match(name)
    return found.group("bucket") if found else None


def address(http: HttpRequest) -> tuple[str | None, str | None]:
    """(bucket, key) of the request, decoded; None for what it does not name."""
    path = http.path.split("?", 1)[0]
    bucket = bucket_of_host(http.header("host") or "")
    if bucket is not None:
        key = path[1:] if path.startswith("/") else path
        return bucket, unquote(key) or None
    rest = path[1:] if path.startswith("/") else path
    if not rest:
        return None, None
    name, _, key = rest.partition("/")
    return unquote(name) or None, unquote(key) or None


def route_s3(ctx: RequestContext) -> None:
    """Set the service, operation and URI labels of an S3 request (``ctx.query_pairs`` already read)."""
    http = ctx.http
    assert http is not None
    spec = SERVICES["s3"]
    ctx.service = spec
    bucket, key = address(http)
    labels: dict[str, str] = {}
    if bucket is not None:
        labels["Bucket"] = bucket
    if key is not None:
        labels["Key"] = key
    ctx.labels = labels
    shape = path_shape(bucket, key, http.path)
    query = dict(ctx.query_pairs)
    name = find(spec.model, http.method, shape, query, http.headers.keys())
    if name is None:
        if http.method not in ("GET", "HEAD", "PUT", "POST", "DELETE"):
            raise ServiceError("MethodNotAllowed", "The specified method is not allowed against this resource.",
                               405, fields={"Method": http.method, "ResourceType": "OBJECT" if key else "BUCKET"})
        raise ServiceError("MethodNotAllowed", "The specified method is not allowed against this resource.", 405)
    ctx.operation = spec.operation(name)
