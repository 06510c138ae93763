"""STS sessions: issuing temporary credentials, and the checks AssumeRole makes on session inputs.

A session is one ``sts_sessions`` row (:mod:`turnout.services.sts.store`), which :mod:`turnout.auth.credentials`
reads back to authenticate the ``ASIA`` key.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ...core import ids
from ...core.principal import Principal, Session
from ...store.db import Database
from ...wire import jsontext
from ...wire.errors import ServiceError
from .store import SessionStore, TemporaryCredentials

# AWS packs session policies, policy ARNs and session tags into a binary form with its own limit and does not
# publish the format. Raw deflate of the inputs against this allotment gives the magnitudes seen in practice
# (a short policy uses a few tens of percent; a ~40-action policy or fifty long tags exceed 100%).
PACKED_ALLOTMENT = 400
SESSION_POLICY_MAX = 2048  # "The plaintext ... can't exceed 2,048 characters" (AssumeRole reference)
POLICY_ARNS_MAX = 10


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def access_denied(message: str) -> ServiceError:
    return ServiceError("AccessDenied", message, 403)


@dataclass(frozen=True, slots=True)
class Issued:
    access_key_id: str
    secret: str
    token: str
    expires_at: datetime

    def credentials(self) -> dict[str, Any]:
        return {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret,
            "SessionToken": self.token,
            "Expiration": self.expires_at,
        }


def issue(db: Database, principal: Principal, session: Session, expires_at: datetime) -> Issued:
    """Store a session for ``principal`` (its access key id is the new ASIA key) and return its credentials."""
    issued = Issued(ids.access_key_id(temporary=True), ids.secret_access_key(), ids.session_token(), expires_at)
    SessionStore(db).insert(TemporaryCredentials(
        issued.access_key_id, principal.account_id, issued.secret, issued.token, expires_at, principal.type,
        principal.arn, principal.principal_id, principal.name, session,
    ))
    return issued


def expiry(now: datetime, seconds: int) -> datetime:
    # Expiration is reported in whole seconds.
    return (now + timedelta(seconds=seconds)).replace(microsecond=0)


def length_error(member: str, value: str, limit: int) -> ServiceError:
    return validation(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
        f"Member must have length less than or equal to {limit}"
    )


def session_tags(
    tags: list[dict[str, str]], transitive_keys: list[str], caller: Session | None
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The session's tags and transitive keys: the request's, plus those a role chain passes on."""
    own: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for tag in tags:
        key_lower = tag["Key"].lower()
        if key_lower in lowered:
            # AWS documents no message for duplicate session tag keys; IAM's tag wording is used.
            raise validation("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        lowered[key_lower] = tag["Key"]
        own[tag["Key"]] = tag["Value"]
    transitive: list[str] = []
    for key in transitive_keys:
        if key.lower() not in lowered:
            # AWS documents no message here; a transitive key must name one of the request's tags.
            raise validation(f"The transitive tag key {key} is not a session tag key of this request.")
        transitive.append(lowered[key.lower()])
    if caller is not None:
        for key in caller.transitive_tag_keys:
            if key.lower() in lowered:
                # "you can't override the value of a transitive tag" (IAM User Guide, session tags).
                raise validation(f"Cannot override the transitive tag key {key} set by the calling session.")
            own[key] = caller.tags[key]
            transitive.append(key)
    return own, tuple(transitive)


def packed_percent(policy: str | None, policy_arns: list[str], tags: dict[str, str]) -> int:
    """How much of the packed-policy allotment the session's policies and tags use, in percent."""
    parts: list[str] = []
    if policy is not None:
        parts.append(json.dumps(jsontext.loads(policy), separators=(",", ":")))
    parts.extend(policy_arns)
    parts.extend(f"{k}={v}" for k, v in tags.items())
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    size = len(packer.compress("\n".join(parts).encode()) + packer.flush())
    return max(1, math.ceil(100 * size / PACKED_ALLOTMENT))
