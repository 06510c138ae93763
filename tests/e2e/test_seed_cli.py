"""The seed's walkthrough, verbatim, with the AWS CLI: create the ECS infrastructure role for load balancers
from ``ecs-infrastructure-trust-policy.json`` and attach ``AmazonECSInfrastructureRolePolicyForLoadBalancers``."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.conftest import CLI_CLIENT_ERROR, aws_cli, cli_ok, shared_path

ACCOUNT = "000000000000"
ROLE = "ecsInfrastructureRoleForLoadBalancers"
POLICY_ARN = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
# Step 1 of the seed, byte for byte.
CLIENT_ERROR = CLI_CLIENT_ERROR
SEED_TRUST = (
    '{ "Version": "2012-10-17", "Statement": [ { "Sid": "AllowAccessToECSForInfrastructureManagement", '
    '"Effect": "Allow", "Principal": { "Service": "ecs.amazonaws.com" }, "Action": "sts:AssumeRole" } ] }'
)


def aws(server: Any, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return aws_cli(server, cwd, "iam", *args)


ok = cli_ok


def test_seed_walkthrough(fresh_server: Any, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "ecs-infrastructure-trust-policy.json").write_text(SEED_TRUST + "\n")

    # Step 2: aws iam create-role --role-name ... --assume-role-policy-document file://...
    created = ok(aws(fresh_server, work, "create-role", "--role-name", ROLE,
                     "--assume-role-policy-document", "file://ecs-infrastructure-trust-policy.json"))["Role"]
    assert created["RoleName"] == ROLE
    assert created["Path"] == "/"
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
    assert created["RoleId"].startswith("AROA") and len(created["RoleId"]) == 21
    assert created["AssumeRolePolicyDocument"] == json.loads(SEED_TRUST)
    assert created["MaxSessionDuration"] == 3600
    datetime.fromisoformat(created["CreateDate"])

    # Step 3: aws iam attach-role-policy --role-name ... --policy-arn arn:aws:iam::aws:policy/...
    assert ok(aws(fresh_server, work, "attach-role-policy", "--role-name", ROLE, "--policy-arn", POLICY_ARN)) is None

    role = ok(aws(fresh_server, work, "get-role", "--role-name", ROLE))["Role"]
    assert role["Arn"] == created["Arn"] and role["RoleId"] == created["RoleId"]
    assert role["AssumeRolePolicyDocument"] == json.loads(SEED_TRUST)
    assert role["RoleLastUsed"] == {}

    attached = ok(aws(fresh_server, work, "list-attached-role-policies", "--role-name", ROLE))
    # The CLI walks the pages itself and prints the merged list.
    assert attached == {
        "AttachedPolicies": [{"PolicyName": "AmazonECSInfrastructureRolePolicyForLoadBalancers",
                              "PolicyArn": POLICY_ARN}],
    }

    version = ok(aws(fresh_server, work, "get-policy-version", "--policy-arn", POLICY_ARN,
                     "--version-id", "v6"))["PolicyVersion"]
    expected = json.loads(
        shared_path("data", "aws-managed-policies", "AmazonECSInfrastructureRolePolicyForLoadBalancers.v6.json")
        .read_text()
    )
    assert version["Document"] == expected
    assert version["VersionId"] == "v6"
    assert version["IsDefaultVersion"] is True
    assert datetime.fromisoformat(version["CreateDate"]) == datetime.fromisoformat("2026-02-12T18:01:05+00:00")


def test_seed_walkthrough_mistakes(fresh_server: Any, tmp_path: Path) -> None:
    (tmp_path / "ecs-infrastructure-trust-policy.json").write_text(SEED_TRUST)
    # Without file:// the CLI sends the file's name as the document.
    result = aws(fresh_server, tmp_path, "create-role", "--role-name", ROLE,
                 "--assume-role-policy-document", "ecs-infrastructure-trust-policy.json")
    assert result.returncode == CLIENT_ERROR
    assert ("An error occurred (MalformedPolicyDocument) when calling the CreateRole operation: "
            "This policy contains invalid Json") in result.stderr
    ok(aws(fresh_server, tmp_path, "create-role", "--role-name", ROLE,
           "--assume-role-policy-document", "file://ecs-infrastructure-trust-policy.json"))
    again = aws(fresh_server, tmp_path, "create-role", "--role-name", ROLE.lower(),
                "--assume-role-policy-document", "file://ecs-infrastructure-trust-policy.json")
    assert again.returncode == CLIENT_ERROR
    assert ("An error occurred (EntityAlreadyExists) when calling the CreateRole operation: "
            f"Role with name {ROLE.lower()} already exists.") in again.stderr
    # A role with an attached policy cannot be deleted before the policy is detached.
    ok(aws(fresh_server, tmp_path, "attach-role-policy", "--role-name", ROLE, "--policy-arn", POLICY_ARN))
    conflict = aws(fresh_server, tmp_path, "delete-role", "--role-name", ROLE)
    assert conflict.returncode == CLIENT_ERROR
    assert ("An error occurred (DeleteConflict) when calling the DeleteRole operation: "
            "Cannot delete entity, must detach all policies first.") in conflict.stderr
    ok(aws(fresh_server, tmp_path, "detach-role-policy", "--role-name", ROLE, "--policy-arn", POLICY_ARN))
    ok(aws(fresh_server, tmp_path, "delete-role", "--role-name", ROLE))
