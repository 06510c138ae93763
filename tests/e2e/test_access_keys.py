"""Access keys through boto3: creation, quota, status, deletion, last use; keys authenticate their user."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import Server, assumer, error_of, grant

INVALID_TOKEN = "The security token included in the request is invalid."
TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                   "Action": "sts:AssumeRole"}],
})



def test_create_key_and_use_it(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("kuser")
    user = iam.create_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", key["AccessKeyId"])
    assert len(key["SecretAccessKey"]) == 40
    assert key["Status"] == "Active"
    assert key["UserName"] == name
    assert abs(key["CreateDate"] - datetime.now(UTC)) < timedelta(minutes=1)

    identity = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).get_caller_identity()
    assert identity == {
        "UserId": user["UserId"], "Account": "000000000000", "Arn": user["Arn"],
        "ResponseMetadata": identity["ResponseMetadata"],
    }

    listed = iam.list_access_keys(UserName=name)
    assert listed["IsTruncated"] is False
    assert [(k["AccessKeyId"], k["Status"], k["UserName"]) for k in listed["AccessKeyMetadata"]] == [
        (key["AccessKeyId"], "Active", name),
    ]
    assert "SecretAccessKey" not in listed["AccessKeyMetadata"][0]


def test_quota_and_defaults_to_caller(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("quota")
    iam.create_user(UserName=name)
    grant(iam, ["iam:CreateAccessKey", "iam:ListAccessKeys"], user=name)
    first = iam.create_access_key(UserName=name)["AccessKey"]
    as_user = server.client("iam", key=first["AccessKeyId"], secret=first["SecretAccessKey"])
    second = as_user.create_access_key()["AccessKey"]  # no UserName: the calling user's own key
    assert second["UserName"] == name
    assert error_of(iam.create_access_key, UserName=name) == (
        "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409,
    )
    # Inactive keys still count against the quota.
    iam.update_access_key(UserName=name, AccessKeyId=second["AccessKeyId"], Status="Inactive")
    assert error_of(as_user.create_access_key)[0] == "LimitExceeded"
    own = as_user.list_access_keys()["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in own) == sorted([first["AccessKeyId"], second["AccessKeyId"]])
    page = iam.list_access_keys(UserName=name, MaxItems=1)
    assert page["IsTruncated"] is True
    rest = iam.list_access_keys(UserName=name, Marker=page["Marker"])
    assert len(page["AccessKeyMetadata"] + rest["AccessKeyMetadata"]) == 2
    assert error_of(iam.list_access_keys, UserName=unique("ghost"))[0] == "NoSuchEntity"


def test_inactive_key_is_refused(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("inactive")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    sts.get_caller_identity()
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    assert error_of(sts.get_caller_identity) == ("InvalidClientTokenId", INVALID_TOKEN, 403)
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Active")
    assert sts.get_caller_identity()["Arn"].endswith(f":user/{name}")


def test_delete_key(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    name, other = unique("delkey"), unique("other")
    iam.create_user(UserName=name)
    iam.create_user(UserName=other)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    key_id = key["AccessKeyId"]
    not_found = ("NoSuchEntity", f"The Access Key with id {key_id} cannot be found.", 404)
    # A key is addressed through its own user only.
    assert error_of(iam.delete_access_key, UserName=other, AccessKeyId=key_id) == not_found
    assert error_of(iam.update_access_key, UserName=other, AccessKeyId=key_id, Status="Inactive") == not_found
    iam.delete_access_key(UserName=name, AccessKeyId=key_id)
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"] == []
    assert error_of(iam.delete_access_key, UserName=name, AccessKeyId=key_id) == not_found
    sts = server.client("sts", key=key_id, secret=key["SecretAccessKey"])
    assert error_of(sts.get_caller_identity) == ("InvalidClientTokenId", INVALID_TOKEN, 403)


def _last_used(iam: Any, key_id: str, service: str) -> dict[str, Any]:
    """The key's last use once it names ``service``: a read's bookkeeping is written within a fraction of a second
    (server.DEFERRED_WITHIN), not with the call (AWS too reports it later than the call)."""
    deadline = time.monotonic() + 10
    while True:
        used: dict[str, Any] = iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]
        if used["ServiceName"] == service or time.monotonic() > deadline:
            assert used["ServiceName"] == service
            return used
        time.sleep(0.05)


def test_last_used(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("lastused")
    iam.create_user(UserName=name)
    grant(iam, ["iam:ListAccessKeys"], user=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    never = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert never["UserName"] == name
    assert never["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}

    before = datetime.now(UTC) - timedelta(seconds=5)
    server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"],
                  region="eu-west-1").get_caller_identity()
    used = _last_used(iam, key["AccessKeyId"], "sts")
    assert used["Region"] == "eu-west-1"
    assert before <= used["LastUsedDate"] <= datetime.now(UTC) + timedelta(seconds=5)

    server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).list_access_keys()
    used = _last_used(iam, key["AccessKeyId"], "iam")
    assert (used["ServiceName"], used["Region"]) == ("iam", "us-east-1")

    unknown = "AKIA" + "A" * 16
    assert error_of(iam.get_access_key_last_used, AccessKeyId=unknown) == (
        "NoSuchEntity", f"The Access Key with id {unknown} cannot be found.", 404,
    )


def test_update_status_values(iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("status")
    iam.create_user(UserName=name)
    key_id = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    code, message, status = error_of(iam.update_access_key, UserName=name, AccessKeyId=key_id, Status="Bogus")
    assert (code, status) == ("ValidationError", 400)
    assert "Member must satisfy enum value set: [Active, Inactive, Expired]" in message
    assert error_of(iam.update_access_key, UserName=name, AccessKeyId=key_id, Status="Expired")[0] == "InvalidInput"


def test_root_access_keys(fresh_server: Any) -> None:
    """Root, calling without UserName, manages the root user's own keys; they authenticate as root."""
    iam = fresh_server.client("iam", key="123456789012")
    key = iam.create_access_key()["AccessKey"]
    assert "UserName" not in key
    root_sts = fresh_server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert root_sts.get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:root"
    assert [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == [key["AccessKeyId"]]
    # Another account cannot see or touch it.
    other = fresh_server.client("iam")
    assert other.list_access_keys()["AccessKeyMetadata"] == []
    assert error_of(other.get_access_key_last_used, AccessKeyId=key["AccessKeyId"])[0] == "NoSuchEntity"
    iam.delete_access_key(AccessKeyId=key["AccessKeyId"])
    assert error_of(root_sts.get_caller_identity)[0] == "InvalidClientTokenId"


def test_role_session_must_name_the_user(server: Any, iam: Any, unique: Callable[[str], str]) -> None:
    role = iam.create_role(RoleName=unique("kr"), AssumeRolePolicyDocument=TRUST)["Role"]
    grant(iam, ["iam:ListAccessKeys", "iam:CreateAccessKey"], role=role["RoleName"])
    creds = assumer(server, iam, unique).assume_role(RoleArn=role["Arn"], RoleSessionName="keys")["Credentials"]
    as_role = server.client("iam", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                            token=creds["SessionToken"])
    expected = ("ValidationError", "Must specify userName when calling with non-User credentials", 400)
    assert error_of(as_role.list_access_keys) == expected
    assert error_of(as_role.create_access_key) == expected


def test_last_used_is_written_by_a_server_that_only_reads(tmp_path: Path) -> None:
    """The last use is bookkeeping written with the next write transaction; a server that answers only reads, with
    CloudTrail off (no event written either), writes it within a second all the same."""
    server = Server(tmp_path / "data", ["--no-cloudtrail"]).start()
    try:
        iam = server.client("iam")
        iam.create_user(UserName="reader")
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).get_caller_identity()
        deadline = time.monotonic() + 10
        used: dict[str, Any] = {}
        while time.monotonic() < deadline:
            used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
            if used["ServiceName"] != "N/A":
                break
            time.sleep(0.1)
        assert (used["ServiceName"], used["Region"]) == ("sts", "us-east-1")
    finally:
        server.stop()
