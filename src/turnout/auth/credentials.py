"""From an access key id to a secret and a principal, following the product's credential contract.

* ``test`` / ``test``: the root of the default account ``000000000000``.
* a 12-digit access key id with secret ``test``: the root of that account, created on first use.
* ``AKIA...``: an access key made by ``CreateAccessKey``, of an IAM user or (``user_lower`` empty) of the
  account's root; inactive keys are refused.
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
ROOT_KEY_OWNER = ""  # iam_access_keys.user_lower of the root user's own access keys


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


def account_exists(db: Database, account_id: str) -> bool:
    """Whether Turnout holds ``account_id`` (some request was made in it)."""
    return db.one("SELECT 1 FROM accounts WHERE account_id = ?", (account_id,)) is not None


def resolve(db: Database, access_key_id: str) -> Credential:
    """The credential behind ``access_key_id``; raises :class:`UnknownAccessKey` when there is none."""
    if access_key_id == "test":
        return Credential(ROOT_SECRET, Principal.root(DEFAULT_ACCOUNT, access_key_id))
    if len(access_key_id) == 12 and access_key_id.isdigit():
        return Credential(ROOT_SECRET, Principal.root(access_key_id, access_key_id))
    if access_key_id.startswith("ASIA"):
        return _session(db, access_key_id)
    return _long_term_key(db, access_key_id)


def user_principal(db: Database, account_id: str, user_id: str, access_key_id: str | None,
                   session: Session | None = None) -> Principal | None:
    """The IAM user ``user_id`` as it is now (a renamed user keeps its id), or None when it was deleted."""
    row = db.one(
        "SELECT name, arn FROM iam_users WHERE account_id = ? AND user_id = ?", (account_id, user_id)
    )
    if row is None:
        return None
    return Principal(account_id, "IAMUser", row["arn"], user_id, row["name"], access_key_id, session)


def _long_term_key(db: Database, access_key_id: str) -> Credential:
    """An ``AKIA...`` key and its owner as they are now, in one statement (every request of an IAM user makes it)."""
    key = db.one(
        "SELECT k.secret, k.status, k.account_id, k.user_lower, u.user_id, u.name, u.arn FROM iam_access_keys k "
        "LEFT JOIN iam_users u ON u.account_id = k.account_id AND u.name_lower = k.user_lower "
        "WHERE k.access_key_id = ?",
        (access_key_id,),
    )
    if key is None or key["status"] != "Active":
        raise UnknownAccessKey(access_key_id)
    if key["user_lower"] == ROOT_KEY_OWNER:
        return Credential(key["secret"], Principal.root(key["account_id"], access_key_id))
    if key["user_id"] is None:  # the user was deleted (its keys go with it; a key without its user is refused)
        raise UnknownAccessKey(access_key_id)
    principal = Principal(key["account_id"], "IAMUser", key["arn"], key["user_id"], key["name"], access_key_id)
    return Credential(key["secret"], principal)


def _session(db: Database, access_key_id: str) -> Credential:
    row = db.one(
        "SELECT account_id, secret, session_token, expires_at, context FROM sts_sessions WHERE access_key_id = ?",
        (access_key_id,),
    )
    if row is None:
        raise UnknownAccessKey(access_key_id)
    context = json.loads(row["context"])
    session = Session.from_json(context["session"])
    principal: Principal | None
    if context["type"] == "IAMUser":
        # GetSessionToken of an IAM user: the user as it is now; its credentials die with the user.
        principal = user_principal(db, row["account_id"], context["principal_id"], access_key_id, session)
        if principal is None:
            raise UnknownAccessKey(access_key_id)
    else:
        principal = Principal(
            row["account_id"], context["type"], context["arn"], context["principal_id"],
            context.get("name"), access_key_id, session,
        )
    return Credential(row["secret"], principal, row["session_token"], datetime.fromisoformat(row["expires_at"]))
