"""Column codecs of the ECS tables: JSON text and ISO 8601 timestamps, as the provider has always written them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def dumps_or_none(value: Any) -> str | None:
    return None if value is None else dumps(value)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def stamp(value: datetime) -> str:
    """A timestamp as stored: ISO 8601 of the instant in UTC."""
    return value.astimezone(UTC).isoformat()


def stamp_or_none(value: datetime | None) -> str | None:
    return None if value is None else stamp(value)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def instant_or_none(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
