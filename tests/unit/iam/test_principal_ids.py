"""The saved form of a resource-based policy (services/iam/principal_ids.py): which entries are bound, which
are left alone, and how the policy reads back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from turnout.services.iam import principal_ids
from turnout.store.db import Database

ACCOUNT = "000000000000"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/ops/tim"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/app"
USER_ID = "AIDAAAAAAAAAAAAAAAAA1"
ROLE_ID = "AROAAAAAAAAAAAAAAAAA1"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "t.db")
    with database.transaction():
        database.execute("INSERT INTO iam_users (account_id, name_lower, name, user_id, path, arn, created_at) "
                         "VALUES (?, 'tim', 'tim', ?, '/ops/', ?, '2026-01-01T00:00:00Z')",
                         (ACCOUNT, USER_ID, USER_ARN))
        database.execute("INSERT INTO iam_roles (account_id, name_lower, name, role_id, path, arn, trust_policy, "
                         "max_session_duration, created_at) VALUES (?, 'app', 'app', ?, '/', ?, '{}', 3600, "
                         "'2026-01-01T00:00:00Z')", (ACCOUNT, ROLE_ID, ROLE_ARN))
    return database


def document(principal: Any, key: str = "Principal", **extra: Any) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", key: principal, "Action": "sts:AssumeRole", **extra}]})


def test_user_and_role_arns_are_bound_and_nothing_else(db: Database) -> None:
    condition = {"ArnEquals": {"aws:PrincipalArn": USER_ARN}}
    written = document({"AWS": [USER_ARN, ROLE_ARN, ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root"],
                        "Service": "ecs.amazonaws.com"}, Condition=condition)
    saved = principal_ids.bind(db, written)
    assert saved is not None
    statement = json.loads(saved)["Statement"][0]
    assert statement["Principal"] == {"AWS": [USER_ID, ROLE_ID, ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root"],
                                      "Service": "ecs.amazonaws.com"}
    assert statement["Condition"] == condition  # conditions name ARNs as text, as in AWS


@pytest.mark.parametrize("principal", [USER_ARN, {"AWS": USER_ARN}])
@pytest.mark.parametrize("key", ["Principal", "NotPrincipal"])
def test_every_shape_of_the_principal_element_is_bound(db: Database, principal: Any, key: str) -> None:
    saved = principal_ids.bind(db, document(principal, key))
    assert saved is not None and USER_ID in saved and USER_ARN not in saved


def test_arns_compare_case_insensitively_as_iam_validates_them(db: Database) -> None:
    saved = principal_ids.bind(db, document({"AWS": f"arn:aws:iam::{ACCOUNT}:user/OPS/Tim"}))
    assert saved is not None and USER_ID in saved


def test_nothing_to_bind_leaves_no_saved_form(db: Database) -> None:
    assert principal_ids.bind(db, document({"AWS": f"arn:aws:iam::{ACCOUNT}:user/nobody"})) is None
    assert principal_ids.bind(db, document("*")) is None
    assert principal_ids.bind(db, document({"Service": "ecs.amazonaws.com"})) is None


def test_the_policy_reads_as_written_until_a_principal_is_deleted(db: Database) -> None:
    written = document({"AWS": [USER_ARN, ROLE_ARN]})
    saved = principal_ids.bind(db, written)
    assert principal_ids.render(db, written, saved) == written
    with db.transaction():
        db.execute("DELETE FROM iam_users WHERE user_id = ?", (USER_ID,))
    shown = json.loads(principal_ids.render(db, written, saved))
    assert shown["Statement"][0]["Principal"] == {"AWS": [USER_ID, ROLE_ARN]}


def test_missing_names_same_account_users_and_roles_that_do_not_exist(db: Database) -> None:
    ghost = f"arn:aws:iam::{ACCOUNT}:role/ghost"
    elsewhere = "arn:aws:iam::111111111111:user/someone"
    assert principal_ids.missing(db, document({"AWS": [USER_ARN, ghost, elsewhere]}), ACCOUNT) == [ghost]
