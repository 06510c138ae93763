"""How stored values are written in SQLite, in one place for every store.

- Instants are ISO 8601 text in UTC (``2026-12-06T22:44:08.123456+00:00``): they sort as text in time order and
  read back as aware datetimes.
- Nested structures (a rule's actions, a deployment's configuration) are compact JSON text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, overload


def iso(value: datetime) -> str:
    """An instant as stored: ISO 8601 in UTC."""
    return value.astimezone(UTC).isoformat()


@overload
def when(text: str) -> datetime: ...
@overload
def when(text: None) -> None: ...
def when(text: str | None) -> datetime | None:
    """A stored instant (None stays None)."""
    return None if text is None else datetime.fromisoformat(text)


def dumps(value: Any) -> str:
    """A nested structure as stored: compact JSON."""
    return json.dumps(value, separators=(",", ":"))


def loads(text: str | None) -> Any:
    """A stored nested structure (None stays None)."""
    return None if text is None else json.loads(text)
