"""The IAM store's users and groups (services/iam/store/users.py, groups.py): records read back as written, names
any case, a rename carries every row keyed by the name, members both ways."""

from __future__ import annotations

from datetime import UTC, datetime

from turnout.services.iam.store import access_keys, attachments, groups, inline_policies, login_profiles, tags, users
from turnout.services.iam.store.records import AccessKey, Group, InlinePolicy, LoginProfile, Tag, User
from turnout.store.db import Database

ACCOUNT = "111122223333"
CREATED = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)


def user(name: str, path: str = "/", boundary: str | None = None) -> User:
    return User(ACCOUNT, name.lower(), name, f"AIDA{name.upper()}", path, f"arn:aws:iam::{ACCOUNT}:user{path}{name}",
                boundary, CREATED)


def group(name: str, path: str = "/") -> Group:
    return Group(ACCOUNT, name.lower(), name, f"AGPA{name.upper()}", path,
                 f"arn:aws:iam::{ACCOUNT}:group{path}{name}", CREATED)


def test_a_user_reads_back_as_written_under_any_case(db: Database) -> None:
    written = user("Tim", "/ops/", "arn:aws:iam::aws:policy/ReadOnlyAccess")
    users.insert(db, written)
    assert users.get(db, ACCOUNT, "tim") == written
    assert users.get(db, ACCOUNT, "TIM") == written
    assert users.exists(db, ACCOUNT, "tIm")
    assert users.get(db, ACCOUNT, "tom") is None
    assert users.arn_and_id(db, ACCOUNT, "TIM") == (written.arn, written.user_id)
    assert users.arn_of_id(db, written.user_id) == written.arn
    users.set_boundary(db, ACCOUNT, "tim", None)
    found = users.get(db, ACCOUNT, "Tim")
    assert found is not None and found.permissions_boundary is None


def test_a_group_reads_back_as_written_under_any_case(db: Database) -> None:
    written = group("Admins", "/it/")
    groups.insert(db, written)
    assert groups.get(db, ACCOUNT, "ADMINS") == written
    assert groups.get(db, ACCOUNT, "admins2") is None
    assert groups.by_keys(db, ACCOUNT, ["admins", "nobody"]) == {"admins": written}


def test_renaming_a_user_carries_every_row_keyed_by_its_name(db: Database) -> None:
    users.insert(db, user("Tim"))
    groups.insert(db, group("Ops"))
    groups.add_member(db, ACCOUNT, "ops", "tim", CREATED)
    access_keys.insert(db, AccessKey("AKIATIM", ACCOUNT, "tim", "secret", "Active", CREATED))
    attachments.attach(db, ACCOUNT, "user", "tim", "arn:aws:iam::aws:policy/ReadOnlyAccess")
    inline_policies.put(db, InlinePolicy(ACCOUNT, "user", "tim", "p", "{}"))
    tags.put(db, ACCOUNT, "user", "tim", [Tag("team", "ops")])
    login_profiles.insert(db, LoginProfile(ACCOUNT, "tim", "scrypt$x$y", False, None, CREATED))
    users.rename(db, ACCOUNT, "tim", "Timothy", "/new/", f"arn:aws:iam::{ACCOUNT}:user/new/Timothy")
    assert users.get(db, ACCOUNT, "tim") is None
    renamed = users.get(db, ACCOUNT, "timothy")
    assert renamed is not None and (renamed.name, renamed.path, renamed.user_id) == ("Timothy", "/new/", "AIDATIM")
    assert [u.name for u in users.members(db, ACCOUNT, "ops")] == ["Timothy"]
    assert [k.access_key_id for k in access_keys.of_user(db, ACCOUNT, "timothy")] == ["AKIATIM"]
    assert attachments.any_of(db, ACCOUNT, "user", "timothy")
    assert inline_policies.names(db, ACCOUNT, "user", "timothy") == ["p"]
    assert tags.of(db, ACCOUNT, "user", "timothy") == [Tag("team", "ops")]
    assert login_profiles.get(db, ACCOUNT, "timothy") is not None


def test_renaming_a_group_carries_its_members_and_policies(db: Database) -> None:
    users.insert(db, user("Tim"))
    groups.insert(db, group("Ops"))
    groups.add_member(db, ACCOUNT, "ops", "tim", CREATED)
    attachments.attach(db, ACCOUNT, "group", "ops", "arn:aws:iam::aws:policy/ReadOnlyAccess")
    inline_policies.put(db, InlinePolicy(ACCOUNT, "group", "ops", "p", "{}"))
    groups.rename(db, ACCOUNT, "ops", "SRE", "/", f"arn:aws:iam::{ACCOUNT}:group/SRE")
    assert groups.get(db, ACCOUNT, "ops") is None
    assert [g.name for g in groups.of_user(db, ACCOUNT, "tim")] == ["SRE"]
    assert attachments.any_of(db, ACCOUNT, "group", "sre")
    assert inline_policies.any_of(db, ACCOUNT, "group", "sre")


def test_members_both_ways(db: Database) -> None:
    for name in ("Tim", "ann"):
        users.insert(db, user(name))
    for name in ("b-group", "A-group"):
        groups.insert(db, group(name))
    groups.add_member(db, ACCOUNT, "b-group", "tim", CREATED)
    groups.add_member(db, ACCOUNT, "a-group", "tim", CREATED)
    assert groups.is_member(db, ACCOUNT, "a-group", "tim")
    assert not groups.is_member(db, ACCOUNT, "a-group", "ann")
    assert groups.memberships(db, ACCOUNT, "tim") == 2
    assert groups.has_members(db, ACCOUNT, "b-group")
    assert groups.names_of_users(db, ACCOUNT, ["tim", "ann"]) == {"tim": ["A-group", "b-group"], "ann": []}
    assert groups.remove_member(db, ACCOUNT, "b-group", "tim")
    assert not groups.remove_member(db, ACCOUNT, "b-group", "tim")
    assert not groups.has_members(db, ACCOUNT, "b-group")


def test_deleting_a_user_drops_its_tags(db: Database) -> None:
    users.insert(db, user("Tim"))
    users.insert(db, user("Ann"))
    tags.put(db, ACCOUNT, "user", "tim", [Tag("k", "v")])
    tags.put(db, ACCOUNT, "user", "ann", [Tag("k", "v")])
    users.delete(db, ACCOUNT, "tim")
    assert users.get(db, ACCOUNT, "tim") is None
    assert tags.of(db, ACCOUNT, "user", "tim") == []
    assert tags.of(db, ACCOUNT, "user", "ann") == [Tag("k", "v")]
