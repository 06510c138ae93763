"""STS's table, ``sts_sessions``: one row per set of temporary credentials.

A row's ``context`` JSON holds whom the credentials stand for: ``type``, ``arn``, ``principal_id``, ``name`` and
``session`` (:meth:`turnout.core.principal.Session.to_json`). Records cross as
:class:`turnout.auth.ports.TemporaryCredentials`: :class:`SessionStore` is what authentication asks
(:class:`turnout.auth.ports.Sessions`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from ...auth.ports import TemporaryCredentials
from ...core.principal import Session
from ...store.db import Database

__all__ = ["SessionStore", "TemporaryCredentials"]


@dataclass(frozen=True, slots=True)
class SessionStore:
    db: Database

    def insert(self, credentials: TemporaryCredentials) -> None:
        context = {
            "type": credentials.principal_type,
            "arn": credentials.arn,
            "principal_id": credentials.principal_id,
            "name": credentials.name,
            "session": credentials.session.to_json(),
        }
        self.db.execute(
            "INSERT INTO sts_sessions (access_key_id, account_id, secret, session_token, expires_at, context) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (credentials.access_key_id, credentials.account_id, credentials.secret, credentials.session_token,
             credentials.expires_at.isoformat(), json.dumps(context, separators=(",", ":"))),
        )

    def temporary_credentials(self, access_key_id: str) -> TemporaryCredentials | None:
        row = self.db.one(
            "SELECT account_id, secret, session_token, expires_at, context FROM sts_sessions WHERE access_key_id = ?",
            (access_key_id,),
        )
        if row is None:
            return None
        context = json.loads(row["context"])
        return TemporaryCredentials(
            access_key_id, row["account_id"], row["secret"], row["session_token"],
            datetime.fromisoformat(row["expires_at"]), context["type"], context["arn"], context["principal_id"],
            context.get("name"), Session.from_json(context["session"]),
        )
