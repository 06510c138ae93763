"""IAM groups and membership."""

from __future__ import annotations

from typing import Any


class GroupOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any
