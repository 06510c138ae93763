"""Account-wide reads: GetAccountSummary, GetAccountAuthorizationDetails."""

from __future__ import annotations

from typing import Any


class AccountOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any
