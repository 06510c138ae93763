"""The nullable forms of the storage codec (:mod:`turnout.store.codec`) the ECS tables need: a column that may
hold no JSON or no instant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ....store.codec import dumps, iso


def dumps_or_none(value: Any) -> str | None:
    return None if value is None else dumps(value)


def iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso(value)
