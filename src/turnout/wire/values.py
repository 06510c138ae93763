"""Scalar conversions shared by the protocol parsers and serializers."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from .errors import ServiceError


class BadValue(ValueError):
    """A wire value that does not convert to its modelled type."""


def parse_timestamp(text: str | float | int) -> datetime:
    if isinstance(text, int | float):
        return datetime.fromtimestamp(float(text), UTC)
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadValue(text) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso8601(value: datetime, millis: bool = False) -> str:
    value = value.astimezone(UTC)
    if millis:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(value: datetime) -> float:
    return round(value.timestamp(), 3)


def parse_blob(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadValue(text) from exc


def encode_blob(value: bytes | str) -> str:
    if isinstance(value, str):
        value = value.encode()
    return base64.b64encode(value).decode()


def parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise BadValue(text)


def scalar_from_text(type_name: str, text: str) -> object:
    """Convert query-string text to the Python value of a modelled scalar type."""
    try:
        if type_name == "string":
            return text
        if type_name in ("integer", "long"):
            return int(text)
        if type_name in ("float", "double"):
            return float(text)
        if type_name == "boolean":
            return parse_bool(text)
        if type_name == "timestamp":
            return parse_timestamp(text)
        if type_name == "blob":
            return parse_blob(text)
    except ValueError as exc:
        raise BadValue(text) from exc
    return text


def bad_value_error(protocol: str, path: str, text: object) -> ServiceError:
    code = "ValidationException" if protocol == "json" else "ValidationError"
    return ServiceError(
        code,
        f"1 validation error detected: Value '{text}' at '{path}' failed to satisfy constraint: "
        "Member must be of the modelled type",
    )
