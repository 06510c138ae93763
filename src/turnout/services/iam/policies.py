"""Managed policies (customer and AWS), their versions and attachments; inline policies of roles, users, groups."""

from __future__ import annotations

from typing import Any


class PolicyOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any
