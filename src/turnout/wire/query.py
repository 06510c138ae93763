"""The ``query`` and ``ec2`` protocols: form-encoded requests in, XML responses out.

Both directions are driven by botocore's shapes; the EC2 variant differs only in member naming on input
(``queryName``, capitalised ``locationName``), flattened lists, and the response and error envelopes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from .errors import ServiceError
from .values import BadValue, encode_blob, iso8601, scalar_from_text


class QueryInputParser:
    """Turns flat ``Name.member.1.Key=value`` parameters into the nested input of an operation."""

    def __init__(self, ec2: bool = False) -> None:
        self.ec2 = ec2

    def parse(self, shape: StructureShape | None, params: Mapping[str, str]) -> dict[str, Any]:
        if shape is None:
            return {}
        return self._structure(shape, "", params)

    def _name(self, shape: Shape, default: str) -> str:
        ser = shape.serialization
        if self.ec2:
            if "queryName" in ser:
                return str(ser["queryName"])
            if "name" in ser:
                name = str(ser["name"])
                return name[0].upper() + name[1:]
            return default
        return str(ser.get("name", default))

    def _structure(self, shape: StructureShape, prefix: str, params: Mapping[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for member_name, member in shape.members.items():
            key = self._name(member, member_name)
            if prefix:
                key = f"{prefix}.{key}"
            value = self._value(member, key, params)
            if value is not None:
                out[member_name] = value
        return out

    def _has_prefix(self, prefix: str, params: Mapping[str, str]) -> bool:
        dotted = prefix + "."
        return any(k.startswith(dotted) for k in params)

    def _value(self, shape: Shape, key: str, params: Mapping[str, str]) -> Any:
        type_name = shape.type_name
        if type_name == "structure":
            assert isinstance(shape, StructureShape)
            if not self._has_prefix(key, params):
                return None
            return self._structure(shape, key, params)
        if type_name == "list":
            assert isinstance(shape, ListShape)
            return self._list(shape, key, params)
        if type_name == "map":
            assert isinstance(shape, MapShape)
            return self._map(shape, key, params)
        text = params.get(key)
        if text is None:
            return None
        try:
            return scalar_from_text(type_name, text)
        except BadValue:
            raise ServiceError(
                "ValidationError" if not self.ec2 else "InvalidParameterValue",
                f"1 validation error detected: Value '{text}' at '{_camel(key)}' failed to satisfy "
                f"constraint: Member must be a valid {type_name}",
            ) from None

    def _list(self, shape: ListShape, key: str, params: Mapping[str, str]) -> list[Any] | None:
        if self.ec2:
            base = key
        elif shape.serialization.get("flattened"):
            base = key
            member_name = shape.member.serialization.get("name")
            if member_name:
                base = ".".join([*key.split(".")[:-1], member_name])
        else:
            base = f"{key}.{shape.member.serialization.get('name', 'member')}"
        items: list[Any] = []
        index = 1
        while True:
            item = self._value(shape.member, f"{base}.{index}", params)
            if item is None:
                break
            items.append(item)
            index += 1
        if items:
            return items
        if params.get(key) == "":
            return []  # botocore sends an empty list as ``Name=``
        return None

    def _map(self, shape: MapShape, key: str, params: Mapping[str, str]) -> dict[str, Any] | None:
        base = key if shape.serialization.get("flattened") else f"{key}.entry"
        key_name = self._name(shape.key, "key")
        value_name = self._name(shape.value, "value")
        out: dict[str, Any] = {}
        index = 1
        while True:
            k = self._value(shape.key, f"{base}.{index}.{key_name}", params)
            if k is None:
                break
            out[k] = self._value(shape.value, f"{base}.{index}.{value_name}", params)
            index += 1
        if out:
            return out
        if params.get(key) == "":
            return {}
        return None


def _camel(key: str) -> str:
    return ".".join(part[:1].lower() + part[1:] for part in key.split("."))


class XmlSerializer:
    """Writes an operation's output (or an error) as the XML AWS sends for query and ec2 services."""

    def __init__(self, namespace: str, ec2: bool = False, url_encoded_shapes: frozenset[str] = frozenset()):
        self.namespace = namespace
        self.ec2 = ec2
        self.url_encoded_shapes = url_encoded_shapes

    def response(self, operation: OperationModel, data: Mapping[str, Any] | None, request_id: str) -> bytes:
        name = operation.name
        shape = operation.output_shape
        parts: list[str] = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{name}Response xmlns="{self.namespace}">']
        if self.ec2:
            parts.append(f"<requestId>{request_id}</requestId>")
            if shape is not None and data:
                self._members(shape, data, parts)
        else:
            if shape is not None:
                wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
                parts.append(f"<{wrapper}>")
                if data:
                    self._members(shape, data, parts)
                parts.append(f"</{wrapper}>")
            parts.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>")
        parts.append(f"</{name}Response>")
        return "".join(parts).encode()

    def error(self, error: ServiceError, request_id: str) -> bytes:
        code = escape(error.code)
        message = escape(error.message)
        if self.ec2:
            return (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>"
            ).encode()
        kind = "Sender" if error.sender_fault else "Receiver"
        extra = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in error.fields.items())
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{self.namespace}"><Error>'
            f"<Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>{extra}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()

    # -- shapes ---------------------------------------------------------------------------------------

    def _members(self, shape: StructureShape, data: Mapping[str, Any], parts: list[str]) -> None:
        for member_name, member in shape.members.items():
            value = data.get(member_name)
            if value is None:
                continue
            if member.type_name == "list" and member.serialization.get("flattened"):
                assert isinstance(member, ListShape)
                tag = member.member.serialization.get("name") or member.serialization.get("name", member_name)
                for item in value:
                    parts.append(f"<{tag}>")
                    self._body(member.member, item, parts)
                    parts.append(f"</{tag}>")
                continue
            tag = member.serialization.get("name", member_name)
            parts.append(f"<{tag}>")
            self._body(member, value, parts)
            parts.append(f"</{tag}>")

    def _body(self, shape: Shape, value: Any, parts: list[str]) -> None:
        type_name = shape.type_name
        if type_name == "structure":
            assert isinstance(shape, StructureShape)
            self._members(shape, value, parts)
        elif type_name == "list":
            assert isinstance(shape, ListShape)
            tag = shape.member.serialization.get("name", "member")
            for item in value:
                parts.append(f"<{tag}>")
                self._body(shape.member, item, parts)
                parts.append(f"</{tag}>")
        elif type_name == "map":
            assert isinstance(shape, MapShape)
            key_tag = shape.key.serialization.get("name", "key")
            value_tag = shape.value.serialization.get("name", "value")
            flat = shape.serialization.get("flattened")
            for k, v in value.items():
                if not flat:
                    parts.append("<entry>")
                parts.append(f"<{key_tag}>{escape(str(k))}</{key_tag}>")
                parts.append(f"<{value_tag}>")
                self._body(shape.value, v, parts)
                parts.append(f"</{value_tag}>")
                if not flat:
                    parts.append("</entry>")
        else:
            parts.append(self._scalar(shape, value))

    def _scalar(self, shape: Shape, value: Any) -> str:
        type_name = shape.type_name
        if type_name == "boolean":
            return "true" if value else "false"
        if type_name == "timestamp":
            if isinstance(value, datetime):
                return iso8601(value, millis=self.ec2)
            return escape(str(value))
        if type_name == "blob":
            return encode_blob(value)
        if type_name == "string" and shape.name in self.url_encoded_shapes:
            return escape(quote(str(value), safe=""))
        return escape(str(value))
