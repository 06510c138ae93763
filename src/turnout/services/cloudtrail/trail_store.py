"""Temporary re-exports for ``trail_tags.py``, which the tags-hooks move rewrites at the same time (issue 12): the
trail records and their SQL are :mod:`.store.trails`'s, the rules :mod:`.trail_rules`'s. Drop this module once
``trail_tags.py`` imports from those."""

from __future__ import annotations

from .store.trails import Trail, by_arn
from .trail_rules import TAGS_PER_TRAIL, TRAIL_ARN, error, home_region_error, invalid_arn

__all__ = ["TAGS_PER_TRAIL", "TRAIL_ARN", "Trail", "by_arn", "error", "home_region_error", "invalid_arn"]
