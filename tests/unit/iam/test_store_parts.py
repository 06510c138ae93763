"""The IAM store's smaller tables: tags, attachments, inline policies, access keys, login profiles, instance
profiles and the account counts: records read back as written, keys compared as IAM compares them."""

from __future__ import annotations

from datetime import UTC, datetime

from turnout.services.iam.store import (
    access_keys,
    account,
    attachments,
    inline_policies,
    instance_profiles,
    login_profiles,
    roles,
    tags,
)
from turnout.services.iam.store.records import (
    AccessKey,
    Attachment,
    DeletionTask,
    InlinePolicy,
    InstanceProfile,
    LoginProfile,
    Role,
    Tag,
)
from turnout.store.db import Database

ACCOUNT = "111122223333"
CREATED = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
POWER = "arn:aws:iam::aws:policy/PowerUserAccess"


def test_tag_keys_are_case_insensitive_and_keep_their_place(db: Database) -> None:
    tags.put(db, ACCOUNT, "role", "app", [Tag("Env", "dev"), Tag("team", "ops")])
    tags.put(db, ACCOUNT, "role", "app", [Tag("ENV", "prod")])
    assert tags.of(db, ACCOUNT, "role", "app") == [Tag("ENV", "prod"), Tag("team", "ops")]
    tags.remove(db, ACCOUNT, "role", "app", ["TEAM", "absent"])
    assert tags.of(db, ACCOUNT, "role", "app") == [Tag("ENV", "prod")]
    assert tags.of_many(db, ACCOUNT, "role", ["app", "none"]) == {"app": [Tag("ENV", "prod")], "none": []}
    assert tags.of(db, ACCOUNT, "user", "app") == []  # another resource type
    tags.drop(db, ACCOUNT, "role", "app")
    assert tags.of(db, ACCOUNT, "role", "app") == []


def test_attachments_keep_their_order(db: Database) -> None:
    attachments.attach(db, ACCOUNT, "role", "app", POWER)
    attachments.attach(db, ACCOUNT, "role", "app", READ_ONLY)
    assert attachments.of_entity(db, ACCOUNT, "role", "app") == [
        Attachment(ACCOUNT, "role", "app", POWER, 1), Attachment(ACCOUNT, "role", "app", READ_ONLY, 2)]
    assert attachments.is_attached(db, ACCOUNT, "role", "app", READ_ONLY)
    assert not attachments.is_attached(db, ACCOUNT, "user", "app", READ_ONLY)
    assert attachments.count(db, ACCOUNT, "role", "app") == 2
    assert attachments.detach(db, ACCOUNT, "role", "app", POWER)
    assert not attachments.detach(db, ACCOUNT, "role", "app", POWER)
    attachments.attach(db, ACCOUNT, "role", "app", POWER)
    assert [a.policy_arn for a in attachments.of_entities(db, ACCOUNT, "role", ["app"])["app"]] == [READ_ONLY, POWER]


def test_inline_policies_are_replaced_by_name(db: Database) -> None:
    inline_policies.put(db, InlinePolicy(ACCOUNT, "user", "tim", "p", '{"a":1}'))
    inline_policies.put(db, InlinePolicy(ACCOUNT, "user", "tim", "p", '{"a":2}'))
    assert inline_policies.get(db, ACCOUNT, "user", "tim", "p") == InlinePolicy(ACCOUNT, "user", "tim", "p", '{"a":2}')
    assert inline_policies.get(db, ACCOUNT, "user", "tim", "q") is None
    assert inline_policies.get(db, ACCOUNT, "role", "tim", "p") is None
    inline_policies.put(db, InlinePolicy(ACCOUNT, "user", "tim", "a", "{}"))
    assert [p.policy_name for p in inline_policies.of_entities(db, ACCOUNT, "user", ["tim"])["tim"]] == ["a", "p"]
    inline_policies.delete(db, ACCOUNT, "user", "tim", "p")
    assert inline_policies.names(db, ACCOUNT, "user", "tim") == ["a"]


def test_an_access_key_reads_back_as_written(db: Database) -> None:
    key = AccessKey("AKIAEXAMPLE", ACCOUNT, "tim", "secret", "Active", CREATED)
    access_keys.insert(db, key)
    assert access_keys.get(db, ACCOUNT, "AKIAEXAMPLE") == key
    assert access_keys.get(db, "999999999999", "AKIAEXAMPLE") is None  # not the other account's
    assert access_keys.count(db, ACCOUNT, "tim") == 1 and access_keys.any_of(db, ACCOUNT, "tim")
    access_keys.set_status(db, "AKIAEXAMPLE", "Inactive")
    found = access_keys.get(db, ACCOUNT, "AKIAEXAMPLE")
    assert found is not None and found.status == "Inactive" and found.last_used_at is None
    access_keys.delete(db, "AKIAEXAMPLE")
    assert access_keys.of_user(db, ACCOUNT, "tim") == []


def test_a_login_profile_reads_back_as_written(db: Database) -> None:
    profile = LoginProfile(ACCOUNT, "tim", "scrypt$a$b", True, 3600, CREATED)
    login_profiles.insert(db, profile)
    assert login_profiles.get(db, ACCOUNT, "tim") == profile
    changed = LoginProfile(ACCOUNT, "tim", "scrypt$c$d", False, None, CREATED)
    login_profiles.save(db, changed)
    assert login_profiles.get(db, ACCOUNT, "tim") == changed
    login_profiles.delete(db, ACCOUNT, "tim")
    assert login_profiles.get(db, ACCOUNT, "tim") is None


def test_an_instance_profile_and_its_role(db: Database) -> None:
    profile = InstanceProfile(ACCOUNT, "web", "Web", "AIPAWEB", "/", f"arn:aws:iam::{ACCOUNT}:instance-profile/Web",
                              CREATED)
    instance_profiles.insert(db, profile)
    assert instance_profiles.get(db, ACCOUNT, "WEB") == profile
    assert instance_profiles.get(db, ACCOUNT, "db") is None
    app = Role(ACCOUNT, "app", "App", "AROAAPP", "/", f"arn:aws:iam::{ACCOUNT}:role/App", "{}", None, None, 3600,
               None, None, None, CREATED)
    roles.insert(db, app)
    instance_profiles.add_role(db, ACCOUNT, "web", "app")
    assert instance_profiles.role_of(db, ACCOUNT, "web") == "app"
    assert instance_profiles.of_role(db, ACCOUNT, "app") == [profile]
    assert instance_profiles.of_roles(db, ACCOUNT, ["app", "other"]) == {"app": [profile], "other": []}
    assert roles.in_profiles(db, ACCOUNT, ["web"]) == {"web": [app]}
    assert instance_profiles.remove_role(db, ACCOUNT, "web", "app")
    assert not instance_profiles.role_in_a_profile(db, ACCOUNT, "app")
    tags.put(db, ACCOUNT, instance_profiles.TAG_TYPE, "web", [Tag("k", "v")])
    instance_profiles.delete(db, ACCOUNT, "web")
    assert instance_profiles.get(db, ACCOUNT, "web") is None
    assert tags.of(db, ACCOUNT, instance_profiles.TAG_TYPE, "web") == []


def test_deletion_tasks_and_account_counts(db: Database) -> None:
    task = DeletionTask(ACCOUNT, "task/aws-service-role/ecs.amazonaws.com/R/1", "R", "SUCCEEDED", None, CREATED)
    roles.add_deletion_task(db, task)
    assert roles.deletion_task(db, ACCOUNT, task.task_id) == task
    assert roles.deletion_task(db, ACCOUNT, "task/none") is None
    attachments.attach(db, ACCOUNT, "role", "app", READ_ONLY)
    counts = account.counts(db, ACCOUNT)
    assert (counts.users, counts.groups, counts.roles, counts.policies, counts.attachments,
            counts.instance_profiles) == (0, 0, 0, 0, 1, 0)
