"""The owners of the identity tables outside IAM: STS's sessions (services/sts/store.py) and the database layer's
accounts and denials (store/accounts.py, store/denials.py), read back as typed records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from turnout.auth.credentials import CredentialResolver, UnknownAccessKey
from turnout.auth.ports import TemporaryCredentials
from turnout.core.principal import Session
from turnout.services.iam.store.views import IdentityViews
from turnout.services.sts.store import SessionStore
from turnout.store import accounts, denials
from turnout.store.db import Database

ACCOUNT = "123456789012"
WHEN = datetime(2026, 1, 1, tzinfo=UTC)
SESSION = Session(issuer_type="Role", issuer_arn=f"arn:aws:iam::{ACCOUNT}:role/App", issuer_id="AROAAPP",
                  issuer_name="App", session_name="s", issued_at=WHEN.isoformat(),
                  expires_at="2026-01-01T01:00:00+00:00", policy_arns=("arn:aws:iam::aws:policy/X",),
                  tags={"team": "blue"}, transitive_tag_keys=("team",))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "t.db")
    yield database
    database.close()


def test_a_session_round_trips_and_authenticates(db: Database) -> None:
    stored = TemporaryCredentials("ASIAEXAMPLE", ACCOUNT, "secret", "token", datetime(2026, 1, 1, 1, tzinfo=UTC),
                                  "AssumedRole", f"arn:aws:sts::{ACCOUNT}:assumed-role/App/s", "AROAAPP:s", "s",
                                  SESSION)
    with db.transaction():
        SessionStore(db).insert(stored)
    assert SessionStore(db).temporary_credentials("ASIAEXAMPLE") == stored
    assert SessionStore(db).temporary_credentials("ASIAOTHER") is None

    resolver = CredentialResolver(IdentityViews(db), SessionStore(db))
    found = resolver.resolve("ASIAEXAMPLE")
    assert (found.secret, found.session_token, found.expires_at) == ("secret", "token", stored.expires_at)
    assert found.principal.arn == stored.arn and found.principal.session == SESSION
    with pytest.raises(UnknownAccessKey):
        resolver.resolve("ASIAOTHER")


def test_a_users_session_dies_with_the_user(db: Database) -> None:
    with db.transaction():
        SessionStore(db).insert(TemporaryCredentials(
            "ASIAUSER", ACCOUNT, "secret", "token", WHEN, "IAMUser", f"arn:aws:iam::{ACCOUNT}:user/gone",
            "AIDAGONE", "gone", SESSION))
    with pytest.raises(UnknownAccessKey):
        CredentialResolver(IdentityViews(db), SessionStore(db)).resolve("ASIAUSER")


def test_accounts_are_created_once(db: Database) -> None:
    assert not accounts.exists(db, ACCOUNT) and accounts.get(db, ACCOUNT) is None
    with db.transaction():
        accounts.ensure(db, ACCOUNT, WHEN)
        accounts.ensure(db, ACCOUNT, datetime(2027, 1, 1, tzinfo=UTC))  # the first creation date stays
    assert accounts.exists(db, ACCOUNT)
    assert accounts.get(db, ACCOUNT) == accounts.Account(ACCOUNT, WHEN)


def test_denials_keep_the_newest_of_each_account(db: Database) -> None:
    def denial(request_id: str) -> denials.StoredDenial:
        return denials.StoredDenial(request_id, ACCOUNT, WHEN.isoformat(), None, "iam:GetRole", "*",
                                    "ImplicitDeny", None, "AccessDenied", "no", {"operation": "iam:GetRole"})

    for request_id in ("r1", "r2", "r3"):
        denials.save(db, denial(request_id), keep=2)
    assert denials.get(db, "r1") is None
    assert denials.get(db, "r3") == denial("r3")
