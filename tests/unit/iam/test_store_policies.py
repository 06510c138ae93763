"""The IAM store's managed policies and versions (services/iam/store/policies.py) and the usage counts
(attachments.py): records read back as written, versions newest first by number, deletion takes versions and
tags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from turnout.services.iam.store import attachments, policies, roles, tags, users
from turnout.services.iam.store.records import ManagedPolicy, PolicyEntity, PolicyVersion, Role, Tag, User
from turnout.store.db import Database

ACCOUNT = "111122223333"
CREATED = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
ARN = f"arn:aws:iam::{ACCOUNT}:policy/team/Deploy"


def policy(name: str = "Deploy", path: str = "/team/") -> ManagedPolicy:
    return ManagedPolicy(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:policy{path}{name}", name, name.lower(), f"ANPA{name}",
                         path, None, "v1", 2, CREATED, CREATED)


def test_a_policy_and_its_first_version_read_back_as_written(db: Database) -> None:
    written = policy()
    first = PolicyVersion(ACCOUNT, ARN, "v1", '{"Version":"2012-10-17"}', CREATED)
    policies.insert(db, written, first)
    assert policies.get(db, ACCOUNT, ARN) == written
    assert policies.versions(db, ACCOUNT, ARN) == [first]
    assert policies.version(db, ACCOUNT, ARN, "v1") == first
    assert policies.version(db, ACCOUNT, ARN, "v2") is None
    assert policies.get(db, ACCOUNT, ARN + "x") is None
    assert policies.name_taken(db, ACCOUNT, "DEPLOY")
    assert not policies.name_taken(db, ACCOUNT, "other")


def test_versions_newest_first_by_number_and_the_default(db: Database) -> None:
    policies.insert(db, policy(), PolicyVersion(ACCOUNT, ARN, "v1", "{}", CREATED))
    for number in range(2, 12):
        policies.add_version(db, PolicyVersion(ACCOUNT, ARN, f"v{number}", "{}", CREATED))
    later = CREATED + timedelta(hours=1)
    policies.set_versions(db, ACCOUNT, ARN, default_version="v11", next_version=12, updated_at=later)
    found = policies.get(db, ACCOUNT, ARN)
    assert found is not None and (found.default_version, found.next_version, found.updated_at) == ("v11", 12, later)
    policies.set_versions(db, ACCOUNT, ARN, default_version="v3")
    found = policies.get(db, ACCOUNT, ARN)
    assert found is not None and (found.default_version, found.next_version) == ("v3", 12)
    newest = policies.versions_of(db, ACCOUNT, [ARN, "arn:aws:iam::111122223333:policy/none"])
    assert [v.version_id for v in newest[ARN]][:3] == ["v11", "v10", "v9"]
    assert newest["arn:aws:iam::111122223333:policy/none"] == []
    policies.delete_version(db, ACCOUNT, ARN, "v11")
    assert policies.version_count(db, ACCOUNT, ARN) == 10


def test_deleting_a_policy_takes_its_versions_and_tags(db: Database) -> None:
    policies.insert(db, policy(), PolicyVersion(ACCOUNT, ARN, "v1", "{}", CREATED))
    tags.put(db, ACCOUNT, "policy", ARN, [Tag("k", "v")])
    policies.delete(db, ACCOUNT, ARN)
    assert policies.get(db, ACCOUNT, ARN) is None
    assert policies.version_count(db, ACCOUNT, ARN) == 0
    assert tags.of(db, ACCOUNT, "policy", ARN) == []


def test_listing_reads_by_name_from_a_bound(db: Database) -> None:
    for name in ("c", "A", "b"):
        p = policy(name, "/")
        policies.insert(db, p, PolicyVersion(ACCOUNT, p.arn, "v1", "{}", CREATED))
    assert [p.name for p in policies.by_name_after(db, ACCOUNT, None)] == ["A", "b", "c"]
    assert [p.name for p in policies.by_name_after(db, ACCOUNT, "a")] == ["b", "c"]
    assert policies.arns_after(db, ACCOUNT, None, 2) == [f"arn:aws:iam::{ACCOUNT}:policy/A",
                                                         f"arn:aws:iam::{ACCOUNT}:policy/b"]
    assert policies.count(db, ACCOUNT) == 3


def test_usage_counts_and_the_entities_of_a_policy(db: Database) -> None:
    users.insert(db, User(ACCOUNT, "tim", "Tim", "AIDATIM", "/", f"arn:aws:iam::{ACCOUNT}:user/Tim", ARN, CREATED))
    roles.insert(db, Role(ACCOUNT, "app", "App", "AROAAPP", "/svc/", f"arn:aws:iam::{ACCOUNT}:role/svc/App", "{}",
                          None, None, 3600, None, None, None, CREATED))
    attachments.attach(db, ACCOUNT, "role", "app", ARN)
    attachments.attach(db, ACCOUNT, "user", "tim", ARN)
    assert attachments.usage_of(db, ACCOUNT, [ARN, "other"]) == {ARN: (2, 1), "other": (0, 0)}
    assert attachments.attachment_counts(db, ACCOUNT) == {ARN: 2}
    assert attachments.boundary_counts(db, ACCOUNT, ARN) == {ARN: 1}
    assert attachments.policies_in_use(db, ACCOUNT) == {ARN}
    # Tim is both attached and bounded by the policy: listed once.
    assert attachments.entities_for_policy(db, ACCOUNT, "user", ARN, "/", None, 10, attached=True,
                                           bounded=True) == [PolicyEntity("user", "Tim", "tim", "AIDATIM")]
    assert attachments.entities_for_policy(db, ACCOUNT, "role", ARN, "/other/", None, 10, attached=True,
                                           bounded=True) == []
    assert attachments.entities_for_policy(db, ACCOUNT, "user", ARN, "/", "tim", 10, attached=True,
                                           bounded=True) == []
