"""From an access key id to a secret and a principal, following the product's credential contract.

* ``test`` / ``test``: the root of the default account ``000000000000``.
* a 12-digit access key id with secret ``test``: the root of that account, created on first use.
* ``AKIA...``: an IAM user's access key (``CreateAccessKey``); inactive keys are refused.
* ``ASIA...``: STS temporary credentials, valid only with their session token and before their expiry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from .. import DEFAULT_ACCOUNT
from ..store.db import Database
from .principal import Principal, Session

ROOT_SECRET = "test"


@dataclass(frozen=True, slots=True)
class Credential:
    secret: str
    principal: Principal
    session_token: str | None = None
    expires_at: datetime | None = None


class UnknownAccessKey(LookupError):
    pass


def ensure_account(db: Database, account_id: str, now: datetime) -> None:
    db.execute(
        "INSERT INTO accounts (account_id, created_at) VALUES (?, ?) ON CONFLICT (account_id) DO NOTHING",
        (account_id, now.isoformat()),
    )


def resolve(db: Database, access_key_id: str) -> Credential:
    """The credential behind ``access_key_id``; raises :class:`UnknownAccessKey` when there is none."""
    if access_key_id == "test":
        return Credential(ROOT_SECRET, Principal.root(DEFAULT_ACCOUNT, access_key_id))
    if len(access_key_id) == 12 and access_key_id.isdigit():
        return Credential(ROOT_SECRET, Principal.root(access_key_id, access_key_id))
    if access_key_id.startswith("ASIA"):
        return _session(db, access_key_id)
    return _user_key(db, access_key_id)


def _user_key(db: Database, access_key_id: str) -> Credential:
    row = db.one(
        "SELECT k.secret, k.status, u.account_id, u.name, u.user_id, u.arn FROM iam_access_keys k "
        "JOIN iam_users u ON u.account_id = k.account_id AND u.name_lower = k.user_lower "
        "WHERE k.access_key_id = ?",
        (access_key_id,),
    )
    if row is None or row["status"] != "Active":
        raise UnknownAccessKey(access_key_id)
    principal = Principal(row["account_id"], "IAMUser", row["arn"], row["user_id"], row["name"], access_key_id)
    return Credential(row["secret"], principal)


def _session(db: Database, access_key_id: str) -> Credential:
    row = db.one(
        "SELECT account_id, secret, session_token, expires_at, context FROM sts_sessions WHERE access_key_id = ?",
        (access_key_id,),
    )
    if row is None:
        raise UnknownAccessKey(access_key_id)
    context = json.loads(row["context"])
    session = Session.from_json(context["session"])
    principal = Principal(
        row["account_id"], context["type"], context["arn"], context["principal_id"],
        context.get("name"), access_key_id, session,
    )
    return Credential(row["secret"], principal, row["session_token"], datetime.fromisoformat(row["expires_at"]))
