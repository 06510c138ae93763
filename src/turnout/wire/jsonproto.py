"""The ``json`` 1.1 protocol (ECS, CloudTrail): JSON bodies in and out, driven by botocore's shapes.

As for the query protocol, each shape is compiled once into a small converter (cached by shape identity):
structures keep a table from wire name to member, so a request costs what it carries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from .errors import ServiceError, malformed_input
from .jsontext import has_lone_surrogate, loads
from .values import SPECIAL_FLOATS, BadValue, bad_value_error, encode_blob, epoch, parse_blob, parse_timestamp

Convert = Callable[[Any], Any]


class _Bad(Exception):
    def __init__(self, type_name: str) -> None:
        super().__init__(type_name)
        self.type_name = type_name
        self.path: list[str] = []  # innermost first


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad("string")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad("boolean")
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad("integer")
    return value


def _float(value: Any) -> float:
    if isinstance(value, str):
        special = SPECIAL_FLOATS.get(value)  # botocore sends inf and NaN as these strings
        if special is not None:
            return special
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad("double")
    return float(value)


def _timestamp(value: Any) -> datetime:
    try:
        return parse_timestamp(value)
    except BadValue:
        raise _Bad("timestamp") from None


def _blob(value: Any) -> bytes:
    try:
        return parse_blob(value)
    except BadValue:
        raise _Bad("blob") from None


_SCALARS: dict[str, Convert] = {
    "string": _string,
    "boolean": _boolean,
    "integer": _integer,
    "long": _integer,
    "float": _float,
    "double": _float,
    "timestamp": _timestamp,
    "blob": _blob,
}


class JsonInputParser:
    """Parses a JSON request body into the input of an operation (timestamps, blobs converted)."""

    def __init__(self) -> None:
        self._converters: dict[int, tuple[Shape, Convert]] = {}

    def parse(self, shape: StructureShape | None, body: bytes) -> dict[str, Any]:
        if not body.strip():
            data: Any = {}
        else:
            try:
                data = loads(body)
            except (ValueError, UnicodeDecodeError):
                raise malformed_input("json", "Start of structure or map found where not expected.") from None
            if has_lone_surrogate(body, data):
                # A string AWS cannot hold as text (a lone UTF-16 surrogate has no UTF-8 form): refused here, as
                # a malformed body, before it reaches storage or CloudTrail (our choice of message).
                raise malformed_input("json", "Invalid UTF-8 text: a string holds a lone surrogate.")
        if not isinstance(data, dict):
            raise malformed_input("json", "Start of structure or map found where not expected.")
        if shape is None:
            return {}
        try:
            result: dict[str, Any] = self.converter(shape)(data)
        except _Bad as bad:
            raise bad_value_error("json", ".".join(reversed(bad.path)), None, bad.type_name) from None
        return result

    def converter(self, shape: Shape) -> Convert:
        cached = self._converters.get(id(shape))
        if cached is not None and cached[0] is shape:
            return cached[1]
        kind = shape.type_name
        if kind == "structure":
            convert = _document if shape.is_document_type else self._structure(shape)
        elif kind == "list":
            convert = self._list(shape)
        elif kind == "map":
            convert = self._map(shape)
        else:
            convert = _SCALARS.get(kind, _document)
        self._converters[id(shape)] = (shape, convert)
        return convert

    def _structure(self, shape: StructureShape) -> Convert:
        table: dict[str, tuple[str, Convert]] | None = None

        def convert(data: Any) -> dict[str, Any]:
            nonlocal table
            if not isinstance(data, dict):
                raise _Bad("structure")
            if table is None:
                table = {
                    str(m.serialization.get("name", name)): (name, self.converter(m))
                    for name, m in shape.members.items()
                }
            out: dict[str, Any] = {}
            for key, value in data.items():
                entry = table.get(key)
                if entry is None or value is None:
                    continue  # AWS ignores members it does not know, and nulls
                name, member_convert = entry
                try:
                    out[name] = member_convert(value)
                except _Bad as bad:
                    bad.path.append(key)
                    raise
            return out

        return convert

    def _list(self, shape: ListShape) -> Convert:
        member = shape.member

        def convert(data: Any) -> list[Any]:
            if not isinstance(data, list):
                raise _Bad("list")
            item_convert = self.converter(member)
            out = []
            for index, item in enumerate(data, 1):
                try:
                    out.append(item_convert(item))
                except _Bad as bad:
                    bad.path.append(str(index))
                    raise
            return out

        return convert

    def _map(self, shape: MapShape) -> Convert:
        def convert(data: Any) -> dict[str, Any]:
            if not isinstance(data, dict):
                raise _Bad("map")
            value_convert = self.converter(shape.value)
            out = {}
            for key, item in data.items():
                try:
                    out[key] = value_convert(item)
                except _Bad as bad:
                    bad.path.append(key)
                    raise
            return out

        return convert


def _document(value: Any) -> Any:
    return value


class JsonSerializer:
    """Writes outputs and errors the way JSON 1.1 services answer."""

    content_type = "application/x-amz-json-1.1"

    def __init__(self) -> None:
        self._converters: dict[int, tuple[Shape, Convert | None]] = {}

    def response(self, operation: OperationModel, data: Mapping[str, Any] | None, request_id: str) -> bytes:
        shape = operation.output_shape
        if shape is None or not data:
            return b"{}"
        convert = self.converter(shape)
        assert convert is not None
        return json.dumps(convert(data), separators=(",", ":")).encode()

    def error(self, error: ServiceError, request_id: str) -> bytes:
        body: dict[str, Any] = {"__type": error.code, "message": error.message}
        body.update(error.fields)
        return json.dumps(body, separators=(",", ":"), default=str).encode()

    def converter(self, shape: Shape) -> Convert | None:
        """How to turn a ``shape`` value into JSON-ready data; None when it is already (strings, numbers...)."""
        cached = self._converters.get(id(shape))
        if cached is not None and cached[0] is shape:
            return cached[1]
        kind = shape.type_name
        convert: Convert | None
        if kind == "structure":
            convert = None if shape.is_document_type else self._structure(shape)
        elif kind == "list":
            convert = self._list(shape)
        elif kind == "map":
            convert = self._map(shape)
        elif kind == "timestamp":
            convert = _epoch
        elif kind == "blob":
            convert = encode_blob
        else:
            convert = None
        self._converters[id(shape)] = (shape, convert)
        return convert

    def _structure(self, shape: StructureShape) -> Convert:
        plan: list[tuple[str, str, Convert | None]] | None = None

        def convert(data: Any) -> dict[str, Any]:
            nonlocal plan
            if plan is None:
                plan = [
                    (name, str(m.serialization.get("name", name)), self.converter(m))
                    for name, m in shape.members.items()
                ]
            out: dict[str, Any] = {}
            get = data.get
            for name, wire, member_convert in plan:
                value = get(name)
                if value is not None:
                    out[wire] = value if member_convert is None else member_convert(value)
            return out

        return convert

    def _list(self, shape: ListShape) -> Convert:
        def convert(data: Any) -> list[Any]:
            item_convert = self.converter(shape.member)
            if item_convert is None:
                return data if isinstance(data, list) else list(data)
            return [item_convert(v) for v in data]

        return convert

    def _map(self, shape: MapShape) -> Convert:
        def convert(data: Any) -> dict[str, Any]:
            value_convert = self.converter(shape.value)
            if value_convert is None:
                return dict(data)
            return {k: value_convert(v) for k, v in data.items()}

        return convert


def _epoch(value: Any) -> Any:
    return epoch(value) if isinstance(value, datetime) else value
