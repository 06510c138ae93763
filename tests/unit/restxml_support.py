"""The rest-xml (S3) side of the wire round trips: a botocore-serialised request as the server receives it, and
what a rest-xml server can read back or answer of a sampled value (the protocol's own limits, not Turnout's)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from turnout.core.context import HttpRequest
from turnout.gateway.s3route import address
from turnout.wire.restxml import RestXmlParser


def send_rest_xml(operation: OperationModel, request: dict[str, Any]) -> dict[str, Any]:
    pairs: list[tuple[str, str]] = []
    for key, value in request["query_string"].items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, str(item)))  # botocore leaves numbers as numbers: on the wire they are text
    path = request["url_path"].split("?", 1)[0]
    headers = {k.lower(): [str(v)] for k, v in request["headers"].items()}
    body = request["body"] if isinstance(request["body"], bytes) else str(request["body"] or "").encode()
    http = HttpRequest(request["method"], path, urlencode(pairs), headers, body)
    bucket, key = address(http)
    labels = {name: value for name, value in (("Bucket", bucket), ("Key", key)) if value is not None}
    return RestXmlParser().parse(operation, labels, pairs, headers, body)


def _location(member: Shape) -> str | None:
    location = member.serialization.get("location")
    return location if isinstance(location, str) else None


def xml_value(shape: Shape, value: Any, *, request: bool) -> Any:
    """What an XML body carries back: XML parsers normalise line ends in text (requests are written by
    botocore with raw CRs; Turnout writes CR as a reference), and an empty flattened list is no element at all."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        out = {}
        for name, item in value.items():
            member = shape.members[name]
            if isinstance(member, ListShape) and member.serialization.get("flattened") and item == []:
                continue
            out[name] = xml_value(member, item, request=request)
        return out
    if kind == "list":
        assert isinstance(shape, ListShape)
        return [xml_value(shape.member, item, request=request) for item in value]
    if kind == "map":
        assert isinstance(shape, MapShape)
        return {k: xml_value(shape.value, v, request=request) for k, v in value.items()}
    if kind == "timestamp" and shape.serialization.get("timestampFormat") == "rfc822":
        return value.replace(microsecond=0)  # an HTTP date has whole seconds
    if kind == "string" and request and isinstance(value, str) and not shape.serialization.get("xmlAttribute"):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def expected_rest_request(shape: StructureShape, params: dict[str, Any]) -> dict[str, Any]:
    """Header and query values are text: timestamps in headers keep whole seconds; empty lists and maps, empty
    header values and empty URI labels put nothing on the wire; a list header is comma-joined, its items
    trimmed; ``x-amz-meta-*`` names are case-insensitive (lower case)."""
    out: dict[str, Any] = {}
    payload = shape.serialization.get("payload")
    if payload is not None and shape.members[payload].type_name == "blob" and payload not in params:
        out[payload] = b""  # an absent body is an empty one
    for name, value in params.items():
        member = shape.members[name]
        location = _location(member)
        if location == "uri":
            if value != "":
                out[name] = value
        elif location == "header":
            if isinstance(member, ListShape):
                value = [part.strip() for item in value for part in str(item).split(",") if part.strip()]
            if value in ([], "") or (isinstance(value, str) and not value.strip()):
                continue
            if member.type_name == "timestamp":
                value = value.replace(microsecond=0)
            out[name] = value
        elif location == "headers":
            if value:
                out[name] = {k.lower(): v for k, v in value.items()}
        elif location == "querystring":
            if member.type_name == "timestamp" and member.serialization.get("timestampFormat") == "rfc822":
                value = value.replace(microsecond=0)
            if value not in ([], {}):
                out[name] = value
        elif name == payload and member.type_name not in ("blob", "string"):
            out[name] = xml_value(member, value, request=True)
        elif name == payload:
            out[name] = value
        else:
            kept = xml_value(shape, {name: value}, request=True)
            out.update(kept)
    return out


def _as_read(text: str) -> str:
    """Header text as an HTTP client reads it: sent as UTF-8, read as latin-1 (non-ASCII metadata is mangled
    this way with AWS too, which is why S3 documents ASCII-only user metadata)."""
    return text.encode().decode("latin-1")


def expected_rest_response(shape: StructureShape, expected: dict[str, Any]) -> dict[str, Any]:
    """Header timestamps are HTTP dates (whole seconds), ``x-amz-meta-*`` names come back in lower case; botocore
    gives an absent structure payload as ``{}`` and an absent string payload as ``""``."""
    out: dict[str, Any] = {}
    payload = shape.serialization.get("payload")
    for name, value in expected.items():
        member = shape.members[name]
        location = _location(member)
        if location == "header" and member.type_name == "timestamp":
            out[name] = value.replace(microsecond=0)
        elif location == "header" and isinstance(value, str):
            out[name] = _as_read(value)
        elif location == "headers":
            out[name] = {_as_read(k.lower()): _as_read(v) for k, v in value.items()}
        elif location is None and name != payload:
            out.update(xml_value(shape, {name: value}, request=False))
        elif name == payload and member.type_name == "structure":
            out[name] = xml_value(member, value, request=False)
        else:
            out[name] = value
    for name, member in shape.members.items():
        if _location(member) == "headers" and name not in out:
            out[name] = {}  # botocore always gives a header map
    if payload is not None and isinstance(out.get(payload), bytes):
        # botocore's parser, handed the body as bytes rather than a stream, gives it as text
        out[payload] = out[payload].decode("utf-8", "replace")
    if payload is not None and payload not in out:
        kind = shape.members[payload].type_name
        if kind == "structure":
            out[payload] = {}
        elif kind in ("string", "blob"):
            out[payload] = ""
    return out
