"""Date operators: DateEquals, DateLessThan(Equals), DateGreaterThan(Equals).

Values are W3C ISO 8601 (``2024``, ``2024-01``, ``2024-01-01``, ``2024-01-01T10:00Z``,
``2024-01-01T10:00:00.5+02:00``; a time without a zone is UTC) or epoch numbers. AWS documents epoch seconds;
sources also use epoch milliseconds, so a number of 10^11 or more (a date after 5138 in seconds, after 1973
in milliseconds) is read as milliseconds, and four digits alone are a year (our choices; AWS does not say).
Compared at millisecond precision.
Policy variables are not substituted.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from turnout.policy.conditions.base import INVALID, Operator, Parsed, text_of
from turnout.policy.variables import Resolved

_ISO = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)?)?)?)?$"
)
_EPOCH = re.compile(r"^\d+(?:\.\d+)?$")
_MILLIS_FROM = 10**11
_EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)


def _zone(text: str | None) -> timezone:
    if not text or text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
    return timezone(sign * timedelta(minutes=minutes))


def parse_date(value: str) -> Parsed:
    """Epoch milliseconds (an int) for a readable date, else INVALID."""
    text = value.strip()
    if _EPOCH.match(text) and len(text) != 4:  # four digits alone are a W3C year ("YYYY"), not an epoch
        number = float(text)
        return int(number if number >= _MILLIS_FROM else number * 1000)
    found = _ISO.match(text)
    if not found:
        return INVALID
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    try:
        when = datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")), tzinfo=_zone(zone),
        )
    except ValueError:
        return INVALID
    delta = when - _EPOCH_START
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _policy(pieces: Resolved) -> Parsed:
    return parse_date(text_of(pieces))


def _operator(name: str, compare: Callable[[int, int], bool]) -> Operator:
    return Operator(name, _policy, parse_date, compare, variables=False)


OPERATORS = (
    _operator("DateEquals", operator.eq),
    _operator("DateLessThan", operator.lt),
    _operator("DateLessThanEquals", operator.le),
    _operator("DateGreaterThan", operator.gt),
    _operator("DateGreaterThanEquals", operator.ge),
)
