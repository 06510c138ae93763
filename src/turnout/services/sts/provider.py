"""The STS provider."""

from __future__ import annotations

from typing import Any

from ...gateway.context import RequestContext
from ..base import Provider


class StsProvider(Provider):
    service = "sts"

    def get_caller_identity(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        principal = ctx.principal
        assert principal is not None
        return {"UserId": principal.principal_id, "Account": principal.account_id, "Arn": principal.arn}
