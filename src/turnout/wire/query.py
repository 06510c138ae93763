"""The ``query`` and ``ec2`` protocols: form-encoded requests in, XML responses out.

Both directions are driven by botocore's shapes, compiled once per shape into small reader/writer closures
(botocore keeps one shape object per operation, so they are cached by identity). The EC2 variant differs only
in member naming on input (``queryName``, capitalised ``locationName``), lists without ``.member``, and the
response and error envelopes.

Parsing first folds the flat ``Name.member.1.Key=value`` parameters into a tree (one pass over the parameters),
then walks the tree with the operation's readers: the cost follows what the request carries, not the size of
the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from .errors import ServiceError
from .values import (
    SCALAR_PARSERS,
    XML_SPECIAL,
    BadValue,
    bad_value_error,
    encode_blob,
    float_text,
    iso8601,
    url_encode,
    xml_text,
)

Node = dict[str | None, Any]  # children by name; the value sent for exactly this key under None
Reader = Callable[[Node], Any]
Emit = Callable[[Any, list[str]], None]
ABSENT: Any = object()  # what a reader returns when the request says nothing about its shape
_EMPTY = {"structure": dict, "list": list, "map": dict}
_NEEDS_ESCAPE = XML_SPECIAL.search


class _Bad(Exception):
    """A scalar that does not convert; carries the member path, built while unwinding."""

    def __init__(self, text: str, type_name: str) -> None:
        super().__init__(text)
        self.text = text
        self.type_name = type_name
        self.path: list[tuple[str, str]] = []  # (AWS path segment, wire segment), innermost first


def fold(params: Mapping[str, str]) -> Node:
    """``{"A.member.1.B": "x"}`` -> ``{"A": {"member": {"1": {"B": {None: "x"}}}}}``."""
    root: Node = {}
    for key, value in params.items():
        if "." not in key:  # most parameters of most requests
            node = root.get(key)
            if node is None:
                root[key] = {None: value}
            else:
                node[None] = value
            continue
        node = root
        for part in key.split("."):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            node = child
        node[None] = value
    return root


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


class QueryInputParser:
    """Turns flat ``Name.member.1.Key=value`` parameters into the nested input of an operation."""

    def __init__(self, ec2: bool = False) -> None:
        self.ec2 = ec2
        self._readers: dict[int, tuple[Shape, Reader]] = {}

    def parse(self, shape: StructureShape | None, params: Mapping[str, str]) -> dict[str, Any]:
        if shape is None:
            return {}
        try:
            value = self.reader(shape)(fold(params))
        except _Bad as bad:
            path = ".".join(segment[1 if self.ec2 else 0] for segment in reversed(bad.path))
            raise bad_value_error("ec2" if self.ec2 else "query", path, bad.text, bad.type_name) from None
        return {} if value is ABSENT else value

    def reader(self, shape: Shape) -> Reader:
        cached = self._readers.get(id(shape))
        if cached is not None and cached[0] is shape:
            return cached[1]
        kind = shape.type_name
        if kind == "structure":
            read = self._structure(shape)
        elif kind == "list":
            read = self._list(shape)
        elif kind == "map":
            read = self._map(shape)
        else:
            read = _scalar(kind)
        self._readers[id(shape)] = (shape, read)  # the shape is kept, so its id stays its own
        return read

    def wire_name(self, shape: Shape, default: str) -> str:
        ser = shape.serialization
        if self.ec2:
            if "queryName" in ser:
                return str(ser["queryName"])
            if "name" in ser:
                name = str(ser["name"])
                return name[0].upper() + name[1:]
            return default
        return str(ser.get("name", default))

    def _structure(self, shape: StructureShape) -> Reader:
        table: dict[str | None, tuple[str, Reader]] | None = None

        def read(node: Node) -> Any:
            nonlocal table
            if table is None:
                table = self._table(shape)
            if len(node) == 1 and None in node:
                return ABSENT  # ``Name=value`` where a structure was expected: nothing under it
            out: dict[str, Any] = {}
            for wire, child in node.items():
                entry = table.get(wire)
                if entry is None:
                    continue  # AWS ignores parameters it does not model (Action, Version, X-Amz-*, ...)
                name, member_read = entry
                try:
                    value = member_read(child)
                except _Bad as bad:
                    bad.path.append((_camel(name), str(wire)))
                    raise
                if value is not ABSENT:
                    out[name] = value
            return out

        return read

    def _table(self, shape: StructureShape) -> dict[str | None, tuple[str, Reader]]:
        table: dict[str | None, tuple[str, Reader]] = {}
        for name, member in shape.members.items():
            wire = self.wire_name(member, name)
            if not self.ec2 and isinstance(member, ListShape) and member.serialization.get("flattened"):
                # A flattened list is sent under its member's name when it has one (botocore replaces the
                # last segment of the key).
                wire = str(member.member.serialization.get("name", wire))
            table[wire] = (name, self.reader(member))
        return table

    def _list(self, shape: ListShape) -> Reader:
        flat = self.ec2 or bool(shape.serialization.get("flattened"))
        item_wire = None if flat else str(shape.member.serialization.get("name", "member"))
        member = shape.member

        def read(node: Node) -> Any:
            items = node if item_wire is None else node.get(item_wire)
            out: list[Any] = []
            if items is not None:
                item_read = self.reader(member)
                index = 1
                while True:
                    key = str(index)
                    child = items.get(key)
                    if child is None:
                        break  # items are numbered from 1 without gaps
                    try:
                        value = item_read(child)
                    except _Bad as bad:
                        bad.path.append((f"{index}.member", key if item_wire is None else f"{item_wire}.{key}"))
                        raise
                    if value is ABSENT:
                        break
                    out.append(value)
                    index += 1
            if out:
                return out
            return [] if node.get(None) == "" else ABSENT  # botocore sends an empty list as ``Name=``

        return read

    def _map(self, shape: MapShape) -> Reader:
        flat = bool(shape.serialization.get("flattened"))
        key_wire = self.wire_name(shape.key, "key")
        value_wire = self.wire_name(shape.value, "value")
        empty = _EMPTY.get(shape.value.type_name)

        def read(node: Node) -> Any:
            entries = node if flat else node.get("entry")
            out: dict[str, Any] = {}
            if entries is not None:
                key_read, value_read = self.reader(shape.key), self.reader(shape.value)
                index = 1
                while True:
                    entry = entries.get(str(index))
                    key_node = entry.get(key_wire) if entry is not None else None
                    if entry is None or key_node is None:
                        break
                    key = key_read(key_node)  # keys are strings: they always read
                    if key is ABSENT:
                        break
                    value_node = entry.get(value_wire)
                    try:
                        value = value_read(value_node) if value_node is not None else ABSENT
                    except _Bad as bad:
                        wire = f"{index}.{value_wire}" if flat else f"entry.{index}.{value_wire}"
                        bad.path.append((f"{key}.value", wire))  # the AWS path validate.py uses for map values
                        raise
                    if value is not ABSENT:
                        out[key] = value
                    elif empty is not None:
                        out[key] = empty()  # an empty structure puts nothing on the wire
                    index += 1
            if out:
                return out
            return {} if node.get(None) == "" else ABSENT

        return read


def _scalar(kind: str) -> Reader:
    if kind == "string":
        return lambda node: node.get(None, ABSENT)
    convert = SCALAR_PARSERS.get(kind, str)

    def read(node: Node) -> Any:
        text = node.get(None)
        if text is None:
            return ABSENT
        try:
            return convert(text)
        except (BadValue, ValueError, OverflowError):
            raise _Bad(text, kind) from None

    return read


# -- responses ------------------------------------------------------------------------------------------------

Text = Callable[[Any], str]


class XmlSerializer:
    """Writes an operation's output (or an error) as the XML AWS sends for query and ec2 services.

    ``timestamp_millis``: whether timestamps carry milliseconds (EC2 and ELBv2 write them, IAM and STS write
    whole seconds); defaults to the EC2 flavour's choice.
    """

    def __init__(
        self,
        namespace: str,
        ec2: bool = False,
        url_encoded_shapes: frozenset[str] = frozenset(),
        timestamp_millis: bool | None = None,
    ) -> None:
        self.namespace = namespace
        self.ec2 = ec2
        self.url_encoded_shapes = url_encoded_shapes
        self.millis = ec2 if timestamp_millis is None else timestamp_millis
        self._bodies: dict[int, tuple[Shape, Emit]] = {}
        self._envelopes: dict[int, tuple[OperationModel, str, str, str, Emit | None]] = {}

    def response(self, operation: OperationModel, data: Mapping[str, Any] | None, request_id: str) -> bytes:
        cached = self._envelopes.get(id(operation))
        if cached is None or cached[0] is not operation:
            cached = self._envelopes[id(operation)] = (operation, *self._envelope(operation))
        _, head, middle, tail, body = cached
        if self.ec2:  # <XResponse><requestId>id</requestId>members</XResponse>
            parts = [head, request_id, middle]
            if body is not None and data:
                body(data, parts)
        else:  # <XResponse><XResult>members</XResult><ResponseMetadata><RequestId>id</...></XResponse>
            parts = [head]
            if body is not None and data:
                body(data, parts)
            parts.append(middle)
            parts.append(request_id)
        parts.append(tail)
        return "".join(parts).encode()

    def _envelope(self, operation: OperationModel) -> tuple[str, str, str, Emit | None]:
        name = operation.name
        shape = operation.output_shape
        body = self.emitter(shape) if shape is not None else None
        head = f'<?xml version="1.0" encoding="UTF-8"?>\n<{name}Response xmlns="{self.namespace}">'
        if self.ec2:
            return head + "<requestId>", "</requestId>", f"</{name}Response>", body
        middle = "<ResponseMetadata><RequestId>"
        tail = f"</RequestId></ResponseMetadata></{name}Response>"
        if shape is None:
            return head, middle, tail, None
        wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
        return f"{head}<{wrapper}>", f"</{wrapper}>{middle}", tail, body

    def error(self, error: ServiceError, request_id: str) -> bytes:
        code = xml_text(error.code)
        message = xml_text(error.message)
        if self.ec2:
            return (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>"
            ).encode()
        kind = "Sender" if error.sender_fault else "Receiver"
        extra = "".join(f"<{k}>{xml_text(str(v))}</{k}>" for k, v in error.fields.items())
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{self.namespace}"><Error>'
            f"<Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>{extra}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()

    # -- compiled writers ---------------------------------------------------------------------------------

    def emitter(self, shape: Shape) -> Emit:
        """A function appending the XML content of a ``shape`` value (without its own element)."""
        cached = self._bodies.get(id(shape))
        if cached is not None and cached[0] is shape:
            return cached[1]
        kind = shape.type_name
        if kind == "structure":
            emit = self._structure(shape)
        elif kind == "list":
            emit = self._list(shape)
        elif kind == "map":
            emit = self._map(shape)
        else:
            text = self.text(shape)

            def emit(value: Any, parts: list[str]) -> None:
                parts.append(text(value))

        self._bodies[id(shape)] = (shape, emit)
        return emit

    def text(self, shape: Shape) -> Text:
        """A function rendering a scalar ``shape`` value as XML character data."""
        kind = shape.type_name
        if kind == "string":
            if shape.name in self.url_encoded_shapes:
                return lambda v: url_encode(str(v))
            return lambda v: xml_text(v if type(v) is str else str(v))
        if kind == "boolean":
            return lambda v: "true" if v else "false"
        if kind in ("integer", "long"):
            return str
        if kind in ("float", "double"):
            return float_text
        if kind == "timestamp":
            millis = self.millis
            return lambda v: iso8601(v, millis) if isinstance(v, datetime) else xml_text(str(v))
        if kind == "blob":
            return encode_blob
        return lambda v: xml_text(str(v))

    def _structure(self, shape: StructureShape) -> Emit:
        plan: list[tuple[str, Emit]] | None = None

        def emit(value: Any, parts: list[str]) -> None:
            nonlocal plan
            if plan is None:
                plan = [(name, self._member(name, member)) for name, member in shape.members.items()]
            get = value.get
            for name, member_emit in plan:
                item = get(name)
                if item is not None:
                    member_emit(item, parts)

        return emit

    def _member(self, name: str, member: Shape) -> Emit:
        """Writes a structure member, its own element(s) included."""
        ser = member.serialization
        if isinstance(member, ListShape) and ser.get("flattened"):
            tag = member.member.serialization.get("name") or ser.get("name", name)
            return _repeated(tag, self.emitter(member.member))
        if isinstance(member, MapShape) and ser.get("flattened"):
            return self._map(member, ser.get("name", name))
        tag = ser.get("name", name)
        open_tag, close_tag = f"<{tag}>", f"</{tag}>"
        if member.type_name in ("structure", "list", "map"):
            body = self.emitter(member)

            def emit(value: Any, parts: list[str]) -> None:
                parts.append(open_tag)
                body(value, parts)
                parts.append(close_tag)

            return emit
        if member.type_name == "string" and member.name not in self.url_encoded_shapes:

            def emit_string(value: Any, parts: list[str]) -> None:  # the commonest member: one call, not two
                if type(value) is not str:
                    value = str(value)
                if _NEEDS_ESCAPE(value) is not None:
                    value = xml_text(value)
                parts.append(f"{open_tag}{value}{close_tag}")

            return emit_string
        text = self.text(member)
        return lambda value, parts: parts.append(f"{open_tag}{text(value)}{close_tag}")

    def _list(self, shape: ListShape) -> Emit:
        return _repeated(shape.member.serialization.get("name", "member"), self.emitter(shape.member))

    def _map(self, shape: MapShape, flat_tag: str | None = None) -> Emit:
        """Entries of a map: inside ``<entry>`` elements, or each in its own ``flat_tag`` element."""
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        open_entry, close_entry = ("<entry>", "</entry>") if flat_tag is None else (f"<{flat_tag}>", f"</{flat_tag}>")
        key_text = self.text(shape.key)
        value_emit = self.emitter(shape.value)

        def emit(value: Any, parts: list[str]) -> None:
            for k, v in value.items():
                parts.append(f"{open_entry}<{key_tag}>{key_text(k)}</{key_tag}><{value_tag}>")
                value_emit(v, parts)
                parts.append(f"</{value_tag}>{close_entry}")

        return emit


def _repeated(tag: str, item_emit: Emit) -> Emit:
    open_tag, close_tag = f"<{tag}>", f"</{tag}>"

    def emit(value: Any, parts: list[str]) -> None:
        for item in value:
            parts.append(open_tag)
            item_emit(item, parts)
            parts.append(close_tag)

    return emit
