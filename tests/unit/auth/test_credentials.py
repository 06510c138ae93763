"""From an access key id to its secret and principal (turnout.auth.credentials), against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest

from turnout.auth import credentials
from turnout.services.iam.store.views import IdentityViews
from turnout.services.sts.store import SessionStore
from turnout.store.db import Database

ACCOUNT = "123456789012"


def resolver(db: Database) -> credentials.CredentialResolver:
    return credentials.CredentialResolver(IdentityViews(db), SessionStore(db))


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "t.db")
    with database.transaction():
        database.execute("INSERT INTO accounts (account_id, created_at) VALUES (?, '2026-01-01T00:00:00+00:00')",
                         (ACCOUNT,))
        database.execute(
            "INSERT INTO iam_users (account_id, name_lower, name, user_id, path, arn, created_at) "
            "VALUES (?, 'alice', 'Alice', 'AIDAALICE0000000000X', '/team/', ?, '2026-01-01T00:00:00+00:00')",
            (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/team/Alice"),
        )
        for key, owner, status in (("AKIAALICE", "alice", "Active"), ("AKIAOFF", "alice", "Inactive"),
                                   ("AKIAROOT", credentials.ROOT_KEY_OWNER, "Active"), ("AKIAGONE", "bob", "Active")):
            database.execute(
                "INSERT INTO iam_access_keys (access_key_id, account_id, user_lower, secret, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, '2026-01-01T00:00:00+00:00')",
                (key, ACCOUNT, owner, f"secret-{key}", status),
            )
    return database


def test_an_iam_users_key_resolves_to_that_user(db: Database) -> None:
    found = resolver(db).resolve("AKIAALICE")
    assert found.secret == "secret-AKIAALICE"
    assert found.session_token is None and found.expires_at is None
    principal = found.principal
    assert (principal.account_id, principal.type, principal.arn, principal.principal_id, principal.name,
            principal.access_key_id, principal.session) == (
        ACCOUNT, "IAMUser", f"arn:aws:iam::{ACCOUNT}:user/team/Alice", "AIDAALICE0000000000X", "Alice",
        "AKIAALICE", None)


def test_a_root_users_key_resolves_to_the_root(db: Database) -> None:
    found = resolver(db).resolve("AKIAROOT")
    assert found.secret == "secret-AKIAROOT"
    assert found.principal.is_root and found.principal.account_id == ACCOUNT
    assert found.principal.access_key_id == "AKIAROOT"


@pytest.mark.parametrize("key", ["AKIAOFF", "AKIAGONE", "AKIANONE"])
def test_inactive_orphaned_and_unknown_keys_are_refused(db: Database, key: str) -> None:
    with pytest.raises(credentials.UnknownAccessKey):
        resolver(db).resolve(key)
