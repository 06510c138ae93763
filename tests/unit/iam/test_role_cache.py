"""GetRole's cache (services/iam/store/roles.py): reads outside a write transaction are answered from it until a
role of the account is written, by any store function, through any connection; a write transaction always reads
the database."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from turnout.services.iam.store import roles, tags
from turnout.services.iam.store.records import Role, Tag
from turnout.services.iam.store.views import AssumableRole, IdentityViews
from turnout.store.db import Database

ACCOUNT = "111122223333"
OTHER = "444455556666"
CREATED = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)


def role(name: str = "App", account: str = ACCOUNT, **changes: object) -> Role:
    role_id = "AROA" + hashlib.sha256(f"{account}/{name}".encode()).hexdigest()[:17].upper()  # unique everywhere
    base = Role(
        account_id=account, name_lower=name.lower(), name=name, role_id=role_id, path="/",
        arn=f"arn:aws:iam::{account}:role/{name}", trust_policy="{}", trust_policy_saved=None, description="first",
        max_session_duration=3600, max_signin_session_duration=None, permissions_boundary=None,
        linked_service=None, created_at=CREATED,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "iam.db")
    with database.transaction():
        roles.insert(database, role())
        roles.insert(database, role(account=OTHER))
    yield database
    database.close()


def read(db: Database, name: str = "App", account: str = ACCOUNT) -> tuple[Role, list[Tag]] | None:
    with db.transaction(write=False):  # as GetRole reads it
        return roles.get_with_tags(db, account, name)


def write_behind_its_back(db: Database, description: str) -> None:
    """A change that no store function made (so no generation moved): only the database has it."""
    with db.transaction():
        db.execute("UPDATE iam_roles SET description = ? WHERE account_id = ?", (description, ACCOUNT))


def description(found: tuple[Role, list[Tag]] | None) -> str | None:
    assert found is not None
    return found[0].description


def test_a_read_is_answered_from_the_cache_until_a_role_is_written(db: Database) -> None:
    assert description(read(db)) == "first"
    write_behind_its_back(db, "unseen")
    assert description(read(db)) == "first"  # the cache answered: the database was not read again
    with db.transaction():  # a write transaction reads the database: it may write back what it read
        assert description(roles.get_with_tags(db, ACCOUNT, "app")) == "unseen"
    with db.transaction():
        roles.save(db, role(description="second"))
    assert description(read(db)) == "second"


def test_a_read_outside_any_transaction_uses_the_cache_too(db: Database) -> None:
    assert description(roles.get_with_tags(db, ACCOUNT, "APP")) == "first"
    write_behind_its_back(db, "unseen")
    assert description(roles.get_with_tags(db, ACCOUNT, "app")) == "first"


Found = tuple[Role, list[Tag]]
WRITES: dict[str, tuple[Callable[[Database], None], Callable[[Found], bool]]] = {
    # each write, and what it shows of the role App itself (nothing, when it writes another role)
    "insert": (lambda db: roles.insert(db, role("Third")), lambda found: True),
    "save": (lambda db: roles.save(db, role(description="behind", max_session_duration=7200)),
             lambda found: found[0].max_session_duration == 7200),
    "delete": (lambda db: roles.delete(db, ACCOUNT, "another"), lambda found: True),
    "trust policy's saved form": (lambda db: roles.set_trust_policy_saved(db, ACCOUNT, "app", '{"saved":1}'),
                                  lambda found: found[0].trust_policy_saved == '{"saved":1}'),
    "last use": (lambda db: IdentityViews(db).note_role_used(
        AssumableRole(ACCOUNT, "App", "app", "AROAAPP", f"arn:aws:iam::{ACCOUNT}:role/App", 3600), CREATED,
        "eu-west-1"), lambda found: found[0].last_used_region == "eu-west-1"),
    "tags put": (lambda db: tags.put(db, ACCOUNT, "role", "app", [Tag("team", "blue")]),
                 lambda found: found[1] == [Tag("team", "blue")]),
    "tags removed": (lambda db: tags.remove(db, ACCOUNT, "role", "app", ["team"]), lambda found: found[1] == []),
    "tags dropped": (lambda db: tags.drop(db, ACCOUNT, "role", "app"), lambda found: found[1] == []),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_every_write_of_a_role_or_its_tags_is_seen_at_the_next_read(db: Database, name: str) -> None:
    with db.transaction():
        tags.put(db, ACCOUNT, "role", "app", [Tag("team", "red")])
        roles.insert(db, role("Another"))
    before = read(db)
    assert before is not None and before[1] == [Tag("team", "red")]
    write_behind_its_back(db, "behind")  # shows only once the cache is dropped
    write, shows = WRITES[name]
    with db.transaction():
        write(db)
    after = read(db)
    assert after is not None
    assert after[0].description == "behind"  # read again from the database, not from the cache
    assert shows(after)


def test_tags_of_other_kinds_leave_the_cache_alone(db: Database) -> None:
    read(db)
    write_behind_its_back(db, "unseen")
    with db.transaction():
        tags.put(db, ACCOUNT, "user", "app", [Tag("k", "v")])
        tags.put(db, ACCOUNT, "policy", f"arn:aws:iam::{ACCOUNT}:policy/p", [Tag("k", "v")])
    assert description(read(db)) == "first"


def test_a_write_in_one_account_leaves_anothers_cache_alone(db: Database) -> None:
    read(db)
    write_behind_its_back(db, "unseen")
    with db.transaction():
        roles.save(db, role(account=OTHER, description="other's"))
    assert description(read(db)) == "first"
    assert description(read(db, account=OTHER)) == "other's"


def test_a_write_rolled_back_leaves_a_valid_cache(db: Database) -> None:
    read(db)
    with pytest.raises(RuntimeError), db.transaction():
        roles.save(db, role(description="never"))
        raise RuntimeError("the call failed")
    assert description(read(db)) == "first"


def test_a_write_through_another_connection_is_seen(db: Database, tmp_path: Path) -> None:
    """Another process's write: a connection of its own, whose commit this one sees (SQLite's data_version)."""
    read(db)
    other = Database(tmp_path / "iam.db")
    try:
        with other.transaction():
            roles.save(other, role(description="from elsewhere"))
            tags.put(other, ACCOUNT, "role", "app", [Tag("where", "elsewhere")])
    finally:
        other.close()
    found = read(db)
    assert found is not None
    assert found[0].description == "from elsewhere" and found[1] == [Tag("where", "elsewhere")]


def test_a_role_deleted_is_gone_and_one_never_created_is_none(db: Database) -> None:
    read(db)
    with db.transaction():
        roles.delete(db, ACCOUNT, "app")
    assert read(db) is None
    assert read(db, "nobody") is None


def test_tags_handed_out_are_copies(db: Database) -> None:
    with db.transaction():
        tags.put(db, ACCOUNT, "role", "app", [Tag("a", "1")])
    found = read(db)
    assert found is not None
    found[1].append(Tag("b", "2"))
    again = read(db)
    assert again is not None and again[1] == [Tag("a", "1")]


def test_the_cache_keeps_at_most_its_size(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roles, "CACHE_SIZE", 16)
    with db.transaction():
        for n in range(40):
            roles.insert(db, role(f"r{n}"))
    for n in range(40):
        assert read(db, f"r{n}") is not None
    cached = roles._Cache.of(db).entries
    assert len(cached) <= 16
    assert (ACCOUNT, "r39") in cached  # the newest stay
