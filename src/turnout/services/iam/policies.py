"""Customer managed policies and versions, AWS managed policies, attachments and inline policies of roles, users and groups."""

from __future__ import annotations

from typing import Any


class PolicyOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any
