"""Column codecs of the ECS tables: JSON text and ISO 8601 timestamps, as the provider has always written them
(the JSON and date helpers are :mod:`..common`'s; these add the forms of nullable columns)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..common import dumps, loads
from ..common import iso as stamp
from ..common import when as instant_or_none

__all__ = ["dumps", "dumps_or_none", "instant", "instant_or_none", "loads", "stamp", "stamp_or_none"]


def dumps_or_none(value: Any) -> str | None:
    return None if value is None else dumps(value)


def stamp_or_none(value: datetime | None) -> str | None:
    return None if value is None else stamp(value)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)
