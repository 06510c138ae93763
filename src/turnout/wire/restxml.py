"""The ``rest-xml`` protocol (S3), request side: an operation's input read from URI labels, the query string,
headers (``x-amz-meta-*`` maps too) and an XML or blob payload, all as botocore's model places them.

Which operation a request is, and the values of its URI labels, come from :mod:`turnout.wire.restxml_routes`;
responses and errors are written by :mod:`turnout.wire.restxml_out`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from xml.etree import ElementTree

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from .errors import ServiceError
from .values import BadValue, parse_blob, parse_bool, parse_float, parse_int, parse_timestamp

MALFORMED_XML = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)


def malformed_xml() -> ServiceError:
    return ServiceError("MalformedXML", MALFORMED_XML, 400)


def invalid_argument(message: str, name: str | None = None, value: str | None = None) -> ServiceError:
    fields = {"ArgumentName": name, "ArgumentValue": value} if name is not None else {}
    return ServiceError("InvalidArgument", message, 400, fields=fields)


def parse_http_date(text: str) -> datetime:
    """An HTTP date (``Wed, 12 Oct 2009 17:50:00 GMT``), or ISO 8601 / epoch seconds as botocore may send."""
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return parse_timestamp(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _scalar(shape: Shape, text: str, *, header: bool = False) -> Any:
    kind = shape.type_name
    if kind == "string":
        return text
    if kind in ("integer", "long"):
        return parse_int(text.strip())
    if kind in ("float", "double"):
        return parse_float(text.strip())
    if kind == "boolean":
        return parse_bool(text.strip())
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat")
        if fmt == "rfc822" or (header and fmt is None):  # rest protocols: headers default to HTTP dates
            return parse_http_date(text)
        return parse_timestamp(text.strip())
    if kind == "blob":
        return parse_blob(text)
    return text


def _convert(name: str, shape: Shape, text: str, *, header: bool = False) -> Any:
    try:
        return _scalar(shape, text, header=header)
    except (BadValue, ValueError, OverflowError):
        raise invalid_argument(f"Invalid value for {name}: {text}", name, text) from None


class RestXmlParser:
    """Reads the input of a rest-xml operation."""

    def parse(
        self,
        operation: OperationModel,
        labels: Mapping[str, str],
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, list[str]],
        body: bytes,
    ) -> dict[str, Any]:
        shape = operation.input_shape
        if shape is None:
            return {}
        params: dict[str, Any] = {}
        by_query: dict[str, list[str]] = {}
        for key, value in query:
            by_query.setdefault(key, []).append(value)
        payload = shape.serialization.get("payload")
        body_members = False
        for name, member in shape.members.items():
            where = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if where == "uri":
                if wire in labels:
                    params[name] = _convert(wire, member, labels[wire])
            elif where == "querystring":
                self._query_member(params, name, member, wire, by_query)
            elif where == "header":
                values = [v for v in headers.get(wire.lower()) or () if v.strip()]
                if values:  # an empty header says nothing
                    self._header_member(params, name, member, wire, values)
            elif where == "headers":
                prefix = wire.lower()
                found = {h[len(prefix):]: v[0] for h, v in headers.items() if h.startswith(prefix) and v}
                if found:
                    params[name] = found
            elif name == payload:
                value = self._payload(member, body)
                if value is not None:
                    params[name] = value
            elif payload is None:
                body_members = True
        if body_members and body.strip():
            # No payload member: the body members are the children of a root named after the input shape
            # (SelectObjectContent's SelectObjectContentRequest).
            params.update(self._structure_body(shape, body))
        return params

    def _structure_body(self, shape: StructureShape, body: bytes) -> dict[str, Any]:
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise malformed_xml() from None
        members = {n: m for n, m in shape.members.items() if m.serialization.get("location") is None}
        parsed = self._structure(shape, root)
        return {n: v for n, v in parsed.items() if n in members}

    @staticmethod
    def _query_member(params: dict[str, Any], name: str, member: Shape, wire: str,
                      by_query: dict[str, list[str]]) -> None:
        if isinstance(member, MapShape):
            return  # S3 has no query-string maps
        values = by_query.get(wire)
        if not values:
            return
        if isinstance(member, ListShape):
            params[name] = [_convert(wire, member.member, v) for v in values]
        else:
            params[name] = _convert(wire, member, values[0])

    @staticmethod
    def _header_member(params: dict[str, Any], name: str, member: Shape, wire: str, values: list[str]) -> None:
        if isinstance(member, ListShape):
            items = [part.strip() for value in values for part in value.split(",") if part.strip()]
            params[name] = [_convert(wire, member.member, item, header=True) for item in items]
        else:
            params[name] = _convert(wire, member, values[0], header=True)

    def _payload(self, member: Shape, body: bytes) -> Any:
        if member.type_name == "blob":
            return body
        if member.type_name == "string":
            try:
                return body.decode()
            except UnicodeDecodeError:
                raise malformed_xml() from None
        if not body.strip():
            return None
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise malformed_xml() from None
        expected = member.serialization.get("name", member.name)
        if _local(root.tag) != expected:
            raise malformed_xml()
        return self._node(member, root)

    def _node(self, shape: Shape, node: ElementTree.Element) -> Any:
        if isinstance(shape, StructureShape):
            return self._structure(shape, node)
        if isinstance(shape, ListShape):
            item = shape.member.serialization.get("name", "member")
            return [self._node(shape.member, child) for child in node if _local(child.tag) == item]
        if isinstance(shape, MapShape):
            out: dict[str, Any] = {}
            for entry in node:
                key = entry.find("./{*}" + shape.key.serialization.get("name", "key"))
                value = entry.find("./{*}" + shape.value.serialization.get("name", "value"))
                if key is not None and value is not None:
                    out[key.text or ""] = self._node(shape.value, value)
            return out
        return _convert(shape.name, shape, node.text or "")

    def _structure(self, shape: StructureShape, node: ElementTree.Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        children: dict[str, list[ElementTree.Element]] = {}
        for child in node:
            children.setdefault(_local(child.tag), []).append(child)
        for name, member in shape.members.items():
            if member.serialization.get("xmlAttribute"):
                attr = member.serialization.get("name", name).split(":")[-1]
                for key, value in node.attrib.items():
                    if _local(key) == attr:
                        out[name] = value
                continue
            wire = member.serialization.get("name", name)
            if isinstance(member, ListShape) and member.serialization.get("flattened"):
                flat_name = member.serialization.get("name") or member.member.serialization.get("name", name)
                found = children.get(flat_name, [])
                if found:
                    out[name] = [self._node(member.member, item) for item in found]
                continue
            elements = children.get(wire)
            if elements:
                out[name] = self._node(member, elements[0])
        return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
