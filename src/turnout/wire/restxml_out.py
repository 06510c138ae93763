"""The ``rest-xml`` protocol (S3), response side: status code, headers, and an XML or raw payload written from
the operation's output shape; and S3's error document.

* Members located in ``header``/``headers``/``statusCode`` go to the status line and headers (timestamps as HTTP
  dates unless the model says otherwise, ``x-amz-meta-*`` maps expanded).
* A ``payload`` member that is a blob or string is the body as it is (GetObject, GetBucketPolicy); a structure
  payload is an XML document rooted at its ``locationName``.
* Otherwise the body members form an XML document whose root is the element AWS's API reference shows for the
  operation (``ListBucketResult``, ``ListAllMyBucketsResult``...), in S3's namespace.
* Errors: ``<Error><Code/><Message/>...<RequestId/><HostId/></Error>`` with the error's extra fields, and no body
  at all for a HEAD request (HTTP forbids one; SDKs read the status).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from .errors import ServiceError
from .values import encode_blob, float_text, iso8601, xml_text

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# Root elements of responses whose body members have no wrapper in the model (S3 API reference, "Response
# Syntax" of each operation).
ROOTS = {
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListObjectVersions": "ListVersionsResult",
    "GetBucketLocation": "LocationConstraint",
    "GetBucketAcl": "AccessControlPolicy",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketVersioning": "VersioningConfiguration",
    "DeleteObjects": "DeleteResult",
    "GetBucketTagging": "Tagging",
    "GetObjectTagging": "Tagging",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListParts": "ListPartsResult",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
}

Headers = list[tuple[bytes, bytes]]


def http_date(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _header_text(shape: Shape, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        fmt = shape.serialization.get("timestampFormat")
        if fmt == "iso8601":
            return iso8601(value)
        if fmt == "unixTimestamp":
            return str(int(value.timestamp()))
        return http_date(value)
    if isinstance(value, list):
        return ", ".join(_header_text(shape, v) for v in value)
    if isinstance(value, bytes | bytearray):
        return encode_blob(value)
    if isinstance(value, float):
        return float_text(value)
    return str(value)


class RestXmlSerializer:
    """Writes rest-xml responses and errors."""

    def response(self, operation: OperationModel, data: Mapping[str, Any] | None,
                 request_id: str) -> tuple[int, Headers, bytes]:
        data = data or {}
        status = int(data.get("__status", 200))  # a provider's status for a response without a statusCode member
        headers: Headers = []
        shape = operation.output_shape
        body = b""
        if shape is not None:
            payload = shape.serialization.get("payload")
            body_members: dict[str, Shape] = {}
            for name, member in shape.members.items():
                value = data.get(name)
                where = member.serialization.get("location")
                wire = member.serialization.get("name", name)
                if where == "statusCode":
                    if isinstance(value, int):
                        status = value
                elif where == "header":
                    if value is not None:  # header text goes out as UTF-8 (HTTP clients read it as latin-1)
                        headers.append((wire.lower().encode(), _header_text(member, value).encode()))
                elif where == "headers":
                    for key, item in (value or {}).items():
                        headers.append(((wire + key).lower().encode(), str(item).encode()))
                elif name != payload:
                    body_members[name] = member
            if payload is not None:
                body = self._payload(shape.members[payload], data.get(payload))
            elif body_members:
                root = ROOTS.get(operation.name) or shape.serialization.get("name") or operation.name + "Result"
                body = self._document(root, shape, body_members, data)
        headers.append((b"x-amz-request-id", request_id.encode()))
        headers.append((b"x-amz-id-2", host_id(request_id).encode()))
        if body and not any(name == b"content-type" for name, _ in headers):
            headers.append((b"content-type", b"application/xml"))
        return status, headers, body

    def _payload(self, member: Shape, value: Any) -> bytes:
        if value is None:
            return b""
        if member.type_name == "blob":
            return bytes(value) if isinstance(value, bytes | bytearray) else str(value).encode()
        if member.type_name == "string":
            return str(value).encode()
        assert isinstance(member, StructureShape)
        root = member.serialization.get("name", member.name)
        return self._document(root, member, dict(member.members), value)

    def _document(self, root: str, shape: StructureShape, members: Mapping[str, Shape],
                  data: Mapping[str, Any]) -> bytes:
        parts = [DECLARATION, f'<{root} xmlns="{NAMESPACE}">']
        if root == "LocationConstraint":  # GetBucketLocation: the root's text is the value
            parts.append(xml_text(str(data.get("LocationConstraint") or "")))
        else:
            for name, member in members.items():
                value = data.get(name)
                if value is not None:
                    self._member(parts, name, member, value)
        parts.append(f"</{root}>")
        return "".join(parts).encode()

    def _member(self, parts: list[str], name: str, shape: Shape, value: Any) -> None:
        wire = shape.serialization.get("name", name)
        if isinstance(shape, ListShape):
            item = shape.member
            if shape.serialization.get("flattened"):
                for entry in value:
                    self._element(parts, wire, item, entry)
                return
            parts.append(f"<{wire}>")
            item_name = item.serialization.get("name", "member")
            for entry in value:
                self._element(parts, item_name, item, entry)
            parts.append(f"</{wire}>")
            return
        self._element(parts, wire, shape, value)

    def _element(self, parts: list[str], tag: str, shape: Shape, value: Any) -> None:
        if isinstance(shape, StructureShape):
            attrs = ""
            namespace = shape.serialization.get("xmlNamespace")
            if isinstance(namespace, Mapping) and namespace.get("prefix"):
                attrs += f' xmlns:{namespace["prefix"]}="{namespace["uri"]}"'
            inner: list[str] = []
            for name, member in shape.members.items():
                item = value.get(name)
                if item is None:
                    continue
                if member.serialization.get("xmlAttribute"):
                    attrs += f' {member.serialization.get("name", name)}="{_attribute(str(item))}"'
                else:
                    self._member(inner, name, member, item)
            parts.append(f"<{tag}{attrs}>")
            parts.extend(inner)
            parts.append(f"</{tag}>")
        elif isinstance(shape, ListShape):
            self._member(parts, tag, shape, value)
        elif isinstance(shape, MapShape):
            parts.append(f"<{tag}>")
            for key, item in value.items():
                parts.append("<entry>")
                self._element(parts, shape.key.serialization.get("name", "key"), shape.key, key)
                self._element(parts, shape.value.serialization.get("name", "value"), shape.value, item)
                parts.append("</entry>")
            parts.append(f"</{tag}>")
        else:
            parts.append(f"<{tag}>{_scalar_text(value)}</{tag}>")

    def error(self, error: ServiceError, request_id: str, *, head: bool = False) -> tuple[int, Headers, bytes]:
        headers: Headers = [
            (b"x-amz-request-id", request_id.encode()),
            (b"x-amz-id-2", host_id(request_id).encode()),
        ]
        # Fields named as headers (x-amz-bucket-region, a 304's ETag) are sent as headers, not in the error document.
        headers.extend((k.lower().encode(), str(v).encode()) for k, v in error.fields.items() if _is_header(k))
        if head or error.status == NOT_MODIFIED:
            # No body: HTTP forbids one on a HEAD answer and on a 304 (RFC 9110, 15.4.5); a client does not read
            # one, so its bytes would be taken for the start of the next response on the connection.
            return error.status, headers, b""
        parts = [DECLARATION, "<Error>", f"<Code>{xml_text(error.code)}</Code>",
                 f"<Message>{xml_text(error.message)}</Message>"]
        for key, value in error.fields.items():
            if value is not None and not _is_header(key):
                parts.append(f"<{key}>{_scalar_text(value)}</{key}>")
        parts.append(f"<RequestId>{request_id}</RequestId><HostId>{host_id(request_id)}</HostId></Error>")
        headers.append((b"content-type", b"application/xml"))
        return error.status, headers, "".join(parts).encode()


NOT_MODIFIED = 304
# Error fields that are response headers rather than elements of the error document.
_HEADER_FIELDS = frozenset({"ETag", "Last-Modified"})


def _is_header(field: str) -> bool:
    return field.startswith("x-amz-") or field in _HEADER_FIELDS


def _attribute(text: str) -> str:
    """An attribute value: XML normalises raw whitespace in attributes, so it is written as references."""
    return xml_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso8601(value, millis=True)
    if isinstance(value, bytes | bytearray):
        return encode_blob(value)
    if isinstance(value, float):
        return float_text(value)
    return xml_text(str(value))


def host_id(request_id: str) -> str:
    """S3's ``x-amz-id-2`` (an opaque id of the front end that answered): derived from the request id here."""
    return encode_blob(request_id.encode())
