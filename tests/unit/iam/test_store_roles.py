"""The IAM store's roles (services/iam/store/roles.py): records read back as written, names any case, a role's
deletion takes what hangs off it, pages by path and key, and the records' builder."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from turnout.services.iam.store import attachments, inline_policies, instance_profiles, roles, tags
from turnout.services.iam.store.records import InlinePolicy, InstanceProfile, Role, Tag, builder
from turnout.store.db import Database

ACCOUNT = "111122223333"
CREATED = datetime(2026, 12, 6, 22, 0, 0, 123456, tzinfo=UTC)


def role(name: str = "App-Role", path: str = "/", **changes: object) -> Role:
    base = Role(
        account_id=ACCOUNT, name_lower=name.lower(), name=name, role_id=f"AROA{name.upper():0<17}"[:21], path=path,
        arn=f"arn:aws:iam::{ACCOUNT}:role{path}{name}", trust_policy='{"Version":"2012-10-17","Statement":[]}',
        trust_policy_saved=None, description="the app", max_session_duration=3600,
        max_signin_session_duration=None, permissions_boundary=None, linked_service=None, created_at=CREATED,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_role_reads_back_as_written(db: Database) -> None:
    written = role(trust_policy_saved='{"saved":1}', max_signin_session_duration=7200,
                   permissions_boundary="arn:aws:iam::aws:policy/ReadOnlyAccess", linked_service="ecs.amazonaws.com")
    roles.insert(db, written)
    assert roles.get(db, ACCOUNT, "App-Role") == written
    assert isinstance(written.created_at, datetime)


def test_names_are_case_insensitive_and_missing_roles_are_none(db: Database) -> None:
    roles.insert(db, role())
    found = roles.get(db, ACCOUNT, "APP-role")
    assert found is not None and found.name == "App-Role"
    assert roles.exists(db, ACCOUNT, "app-ROLE")
    assert roles.get(db, ACCOUNT, "nobody") is None
    assert not roles.exists(db, ACCOUNT, "nobody")
    assert roles.get(db, "999999999999", "App-Role") is None  # another account's namespace


def test_timestamps_are_stored_in_utc(db: Database) -> None:
    local = datetime(2026, 12, 7, 1, 0, tzinfo=timezone(timedelta(hours=3)))
    roles.insert(db, role(created_at=local))
    found = roles.get(db, ACCOUNT, "App-Role")
    assert found is not None
    assert found.created_at == local and found.created_at.utcoffset() == timedelta(0)


def test_save_writes_what_the_role_operations_change(db: Database) -> None:
    roles.insert(db, role())
    changed = role(description=None, max_session_duration=43200, max_signin_session_duration=900,
                   permissions_boundary="arn:aws:iam::aws:policy/PowerUserAccess", trust_policy="{}",
                   trust_policy_saved='{"x":1}')
    roles.save(db, changed)
    assert roles.get(db, ACCOUNT, "app-role") == changed


def test_a_role_and_its_tags_read_together_in_the_order_added(db: Database) -> None:
    roles.insert(db, role())
    assert roles.get_with_tags(db, ACCOUNT, "app-role") == (role(), [])
    tags.put(db, ACCOUNT, "role", "app-role", [Tag("b", "2"), Tag("a", "1")])
    assert roles.get_with_tags(db, ACCOUNT, "APP-ROLE") == (role(), [Tag("b", "2"), Tag("a", "1")])
    assert roles.get_with_tags(db, ACCOUNT, "nobody") is None


def test_deleting_a_role_takes_what_hangs_off_it_and_nothing_else(db: Database) -> None:
    roles.insert(db, role())
    roles.insert(db, role("Other"))
    for name in ("app-role", "other"):
        attachments.attach(db, ACCOUNT, "role", name, "arn:aws:iam::aws:policy/ReadOnlyAccess")
        inline_policies.put(db, InlinePolicy(ACCOUNT, "role", name, "p", "{}"))
        tags.put(db, ACCOUNT, "role", name, [Tag("k", "v")])
    instance_profiles.insert(db, InstanceProfile(ACCOUNT, "web", "web", "AIPA1", "/",
                                                 f"arn:aws:iam::{ACCOUNT}:instance-profile/web", CREATED))
    instance_profiles.add_role(db, ACCOUNT, "web", "app-role")
    roles.delete(db, ACCOUNT, "app-role")
    assert roles.get(db, ACCOUNT, "app-role") is None
    assert not attachments.any_of(db, ACCOUNT, "role", "app-role")
    assert not inline_policies.any_of(db, ACCOUNT, "role", "app-role")
    assert tags.of(db, ACCOUNT, "role", "app-role") == []
    assert instance_profiles.role_of(db, ACCOUNT, "web") is None
    assert attachments.any_of(db, ACCOUNT, "role", "other")
    assert inline_policies.any_of(db, ACCOUNT, "role", "other")
    assert tags.of(db, ACCOUNT, "role", "other") == [Tag("k", "v")]


def test_pages_by_path_prefix_and_key(db: Database) -> None:
    for name, path in (("c", "/team/"), ("A", "/"), ("b", "/team/x/"), ("d", "/other/")):
        roles.insert(db, role(name, path))
    assert [r.name for r in roles.page(db, ACCOUNT, "/", None, 10)] == ["A", "b", "c", "d"]
    assert [r.name for r in roles.page(db, ACCOUNT, "/team/", None, 10)] == ["b", "c"]
    assert [r.name for r in roles.page(db, ACCOUNT, "/", "b", 2)] == ["c", "d"]
    assert roles.keys_after(db, ACCOUNT, "a", 2) == ["b", "c"]
    assert set(roles.by_keys(db, ACCOUNT, ["a", "d", "zz"])) == {"a", "d"}


def test_unique_ids_and_arns(db: Database) -> None:
    written = role()
    roles.insert(db, written)
    assert roles.arn_and_id(db, ACCOUNT, "APP-ROLE") == (written.arn, written.role_id)
    assert roles.arn_of_id(db, written.role_id) == written.arn
    assert roles.arn_of_id(db, "AROANOBODY") is None
    assert roles.arn_and_id(db, ACCOUNT, "nobody") is None


def test_the_builder_makes_the_same_frozen_record() -> None:
    values = [getattr(role(), field.name) for field in dataclasses.fields(Role)]
    built = builder(Role)(*values)
    assert built == role() and type(built) is Role and hash(built) == hash(role())
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.name = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        builder(Role)(*values[:-1])  # every field must be given
