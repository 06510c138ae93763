"""IAM users."""

from __future__ import annotations

from typing import Any


class UserOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any
