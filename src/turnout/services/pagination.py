"""``Marker``/``IsTruncated``/``MaxItems`` pagination (IAM, ELBv2) and ``NextToken`` pagination.

Markers are opaque to clients: the base64 of the sort key of the last item returned.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import TypeVar

from ..wire.errors import ServiceError

T = TypeVar("T")


def encode_marker(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_marker(marker: str, error: Callable[[str], ServiceError]) -> str:
    try:
        return base64.urlsafe_b64decode(marker.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise error("Invalid Marker.") from None


def page(
    items: Sequence[T],
    key: Callable[[T], str],
    marker: str | None,
    max_items: int | None,
    *,
    default: int = 100,
    error: Callable[[str], ServiceError],
) -> tuple[list[T], str | None]:
    """Items after ``marker`` (sorted by ``key``), at most ``max_items``; and the next marker, if any."""
    ordered = sorted(items, key=key)
    if marker:
        after = decode_marker(marker, error)
        ordered = [item for item in ordered if key(item) > after]
    limit = max_items if max_items is not None else default
    chunk = ordered[:limit]
    next_marker = encode_marker(key(chunk[-1])) if len(ordered) > limit and chunk else None
    return chunk, next_marker
