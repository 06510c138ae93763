"""What the ELB store's modules share: the JSON and timestamp codecs of the stored text, and the ARN forms.

Nested structures (availability zones, security groups, attributes, health checks, actions, conditions) are stored
as JSON text; timestamps as ISO 8601 text in UTC. Records hold them decoded.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

_ARN = r"arn:aws[a-z-]*:elasticloadbalancing:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
LB_ARN = re.compile(_ARN + r"loadbalancer/(?P<kind>app|net|gwy)/(?P<name>[A-Za-z0-9-]{1,32})/(?P<id>[0-9a-f]{16})$")
TG_ARN = re.compile(_ARN + r"targetgroup/(?P<name>[A-Za-z0-9-]{1,32})/(?P<id>[0-9a-f]{16})$")
LISTENER_ARN = re.compile(_ARN + r"listener/(app|net|gwy)/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}/[0-9a-f]{16}$")
RULE_ARN = re.compile(_ARN + r"listener-rule/(app|net)/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}/[0-9a-f]{16}/[0-9a-f]{16}$")
TRUST_STORE_ARN = re.compile(_ARN + r"truststore/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$")

KINDS = {"application": "app", "network": "net", "gateway": "gwy"}


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def maybe_when(text: str | None) -> datetime | None:
    return when(text) if text else None


def owned(match: re.Match[str] | None, account: str, region: str) -> bool:
    """Whether an ARN (matched) is of the caller's account and region."""
    return match is not None and match["account"] == account and match["region"] == region
