"""The ``json`` 1.1 protocol (ECS, CloudTrail): JSON bodies in and out, driven by botocore's shapes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from .errors import ServiceError, malformed_input
from .values import BadValue, encode_blob, epoch, parse_blob, parse_timestamp


class JsonInputParser:
    """Parses a JSON request body into the input of an operation (timestamps, blobs converted)."""

    def parse(self, shape: StructureShape | None, body: bytes) -> dict[str, Any]:
        if not body.strip():
            data: Any = {}
        else:
            try:
                data = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise malformed_input("json", "Start of structure or map found where not expected.") from None
        if not isinstance(data, dict):
            raise malformed_input("json", "Start of structure or map found where not expected.")
        if shape is None:
            return {}
        return self._structure(shape, data, "")

    def _structure(self, shape: StructureShape, data: Mapping[str, Any], path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        members = shape.members
        for key, value in data.items():
            member = members.get(key)
            if member is None or value is None:
                continue  # AWS ignores members it does not know
            out[key] = self._value(member, value, f"{path}.{key}" if path else key)
        return out

    def _value(self, shape: Shape, value: Any, path: str) -> Any:
        type_name = shape.type_name
        try:
            if type_name == "structure":
                assert isinstance(shape, StructureShape)
                if not isinstance(value, dict):
                    raise BadValue(value)
                return self._structure(shape, value, path)
            if type_name == "list":
                assert isinstance(shape, ListShape)
                if not isinstance(value, list):
                    raise BadValue(value)
                return [self._value(shape.member, v, f"{path}.{i}") for i, v in enumerate(value, 1)]
            if type_name == "map":
                assert isinstance(shape, MapShape)
                if not isinstance(value, dict):
                    raise BadValue(value)
                return {k: self._value(shape.value, v, f"{path}.{k}") for k, v in value.items()}
            if type_name == "timestamp":
                return parse_timestamp(value)
            if type_name == "blob":
                return parse_blob(value)
            if type_name == "string":
                if not isinstance(value, str):
                    raise BadValue(value)
                return value
            if type_name == "boolean":
                if not isinstance(value, bool):
                    raise BadValue(value)
                return value
            if type_name in ("integer", "long"):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise BadValue(value)
                return value
            if type_name in ("float", "double"):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise BadValue(value)
                return float(value)
        except BadValue:
            raise ServiceError(
                "SerializationException",
                f"Unexpected value type in payload at '{path}' (expected {type_name})",
            ) from None
        return value


class JsonSerializer:
    """Writes outputs and errors the way JSON 1.1 services answer."""

    content_type = "application/x-amz-json-1.1"

    def response(self, operation: OperationModel, data: Mapping[str, Any] | None, request_id: str) -> bytes:
        shape = operation.output_shape
        if shape is None or not data:
            return b"{}"
        return json.dumps(self._structure(shape, data), separators=(",", ":")).encode()

    def error(self, error: ServiceError, request_id: str) -> bytes:
        body: dict[str, Any] = {"__type": error.code, "message": error.message}
        body.update(error.fields)
        return json.dumps(body).encode()

    def _structure(self, shape: StructureShape, data: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            value = data.get(name)
            if value is not None:
                out[name] = self._value(member, value)
        return out

    def _value(self, shape: Shape, value: Any) -> Any:
        type_name = shape.type_name
        if type_name == "structure":
            assert isinstance(shape, StructureShape)
            return self._structure(shape, value)
        if type_name == "list":
            assert isinstance(shape, ListShape)
            return [self._value(shape.member, v) for v in value]
        if type_name == "map":
            assert isinstance(shape, MapShape)
            return {k: self._value(shape.value, v) for k, v in value.items()}
        if type_name == "timestamp" and isinstance(value, datetime):
            return epoch(value)
        if type_name == "blob":
            return encode_blob(value)
        return value
