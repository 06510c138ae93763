"""Access keys of IAM users."""

from __future__ import annotations

from typing import Any


class AccessKeyOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any
