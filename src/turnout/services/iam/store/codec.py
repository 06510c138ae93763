"""How the IAM tables hold values: timestamps as ISO 8601 text in UTC, lists of keys bound as one JSON array."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime

# ``column IN`` the JSON array bound to the parameter: one statement whatever the number of keys.
IN_JSON = "IN (SELECT value FROM json_each(?))"


def text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def stamp(value: str) -> datetime:
    return datetime.fromisoformat(value)


def maybe_stamp(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def json_keys(keys: Collection[str]) -> str:
    return json.dumps(list(keys))
