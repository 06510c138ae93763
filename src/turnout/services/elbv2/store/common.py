"""What the ELB store's modules share: the ARN forms, the lookup of a resource by its ARN, and a nullable instant.

Nested structures (availability zones, security groups, attributes, health checks, actions, conditions) are stored
as JSON text, timestamps as ISO 8601 text in UTC (:mod:`turnout.store.codec`). Records hold them decoded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from ....store.codec import when
from ....store.db import Database
from ..errors import invalid_arn

T = TypeVar("T")

_ARN = r"arn:aws[a-z-]*:elasticloadbalancing:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
LB_ARN = re.compile(_ARN + r"loadbalancer/(?P<kind>app|net|gwy)/(?P<name>[A-Za-z0-9-]{1,32})/(?P<id>[0-9a-f]{16})$")
TG_ARN = re.compile(_ARN + r"targetgroup/(?P<name>[A-Za-z0-9-]{1,32})/(?P<id>[0-9a-f]{16})$")
LISTENER_ARN = re.compile(_ARN + r"listener/(app|net|gwy)/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}/[0-9a-f]{16}$")
RULE_ARN = re.compile(_ARN + r"listener-rule/(app|net)/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}/[0-9a-f]{16}/[0-9a-f]{16}$")
TRUST_STORE_ARN = re.compile(_ARN + r"truststore/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$")

KINDS = {"application": "app", "network": "net", "gateway": "gwy"}


def maybe_when(text: str | None) -> datetime | None:
    """A stored instant; None or empty text: none."""
    return when(text) if text else None


def owned(match: re.Match[str] | None, account: str, region: str) -> bool:
    """Whether an ARN (matched) is of the caller's account and region."""
    return match is not None and match["account"] == account and match["region"] == region


def by_arn(db: Database, account: str, region: str, arn: str, form: re.Pattern[str], kind: str,
           lookup: Callable[[Database, str, str, str], T | None]) -> T | None:
    """The resource ``arn`` through ``lookup`` when it is of the caller's account and region (None otherwise or when
    it does not exist); ValidationError when ``arn`` is not of the ``form`` of a ``kind`` ARN."""
    match = form.match(arn)
    if match is None:
        raise invalid_arn(arn, kind)
    return lookup(db, account, region, arn) if owned(match, account, region) else None
