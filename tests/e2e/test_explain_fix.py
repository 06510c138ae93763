"""`turnout explain <request-id>` names what decided a denial and gives the fix; applying that fix with boto3 makes
the same call succeed (an implicit deny, a condition key the request lacked, an explicit deny)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, doc

ACCOUNT = "000000000000"


def _explain(server: Server, target: str, *, endpoint: bool = False, as_json: bool = True) -> Any:
    where = ["--endpoint-url", server.endpoint] if endpoint else ["--data-dir", str(server.data_dir)]
    result = subprocess.run(
        [sys.executable, "-m", "turnout", "explain", target, *where, *(["--json"] if as_json else [])],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if as_json else result.stdout


def _denied(call: Callable[..., Any], **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    return str(caught.value.response["ResponseMetadata"]["RequestId"])


def _user(server: Server, iam: Any, unique: Callable[[str], str]) -> tuple[str, Any]:
    name = unique("fixme")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def _apply(iam: Any, apply: dict[str, Any]) -> None:
    """Make the fix's write with boto3 (as root): ``PutUserPolicy`` -> ``iam.put_user_policy(**parameters)``."""
    assert apply["service"] == "iam"
    method = "".join("_" + c.lower() if c.isupper() else c for c in apply["operation"]).lstrip("_")
    getattr(iam, method)(**apply["parameters"])


def test_implicit_deny_fix_is_an_allow_on_the_exact_resource_narrowed_by_the_request(
    server: Server, iam: Any, unique: Callable[[str], str]
) -> None:
    role = unique("tagged")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
        Tags=[{"Key": "team", "Value": "red"}])["Role"]["Arn"]
    name, as_user = _user(server, iam, unique)
    # The user may read blue roles only: this red one is refused, implicitly.
    iam.put_user_policy(UserName=name, PolicyName="blue-only", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}}))
    request_id = _denied(as_user.get_role, RoleName=role)

    found = _explain(server, request_id)
    assert found["effect"] == "ImplicitDeny"
    assert found["decidedBy"] == "identity-based policy"
    assert found["decidingStatements"] == []
    # The user's statement for GetRole that did not apply, and the key it tests.
    [near] = found["nearMisses"]
    assert near["policyName"] == "blue-only" and near["statementIndex"] == 0
    assert near["conditionKeys"] == ["aws:ResourceTag/team"]
    fix = found["fix"]
    assert fix["kind"] == "add-statement" and fix["policyType"] == "identity-based policy"
    # The exact role, and the tag key the user's statement tests pinned to what this request carried.
    assert fix["statement"] == {"Sid": "AllowGetRole", "Effect": "Allow", "Action": "iam:GetRole",
                                "Resource": role_arn,
                                "Condition": {"StringEquals": {"aws:ResourceTag/team": "red"}}}
    assert fix["target"] == {"entityType": "user", "UserName": name, "policyName": "turnout-fix-iam-GetRole"}
    assert fix["apply"]["operation"] == "PutUserPolicy"

    text = _explain(server, request_id, as_json=False)
    assert "fix: Add this statement to an identity-based policy of user" in text
    assert '"aws:ResourceTag/team": "red"' in text
    assert "did not apply: Allow statement 0 of identity-based policy inline policy blue-only" in text

    _apply(iam, fix["apply"])
    assert as_user.get_role(RoleName=role)["Role"]["Arn"] == role_arn


def test_missing_context_key_is_named_and_left_out_of_the_fix(
    server: Server, iam: Any, unique: Callable[[str], str]
) -> None:
    name, as_user = _user(server, iam, unique)
    iam.put_user_policy(UserName=name, PolicyName="tagged-roles", PolicyDocument=doc(
        {"Sid": "CreateTeamRoles", "Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}}}))
    role = unique("untagged")
    trust = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
    request_id = _denied(as_user.create_role, RoleName=role, AssumeRolePolicyDocument=trust)

    found = _explain(server, request_id, endpoint=True)
    assert found["kind"] == "request" and found["requestId"] == request_id
    assert found["missingContextKeys"] == ["aws:RequestTag/team"]
    statement = found["fix"]["statement"]
    assert statement["Resource"] == f"arn:aws:iam::{ACCOUNT}:role/{role}"
    assert "Condition" not in statement  # the request carried no tag: a condition on it could never match

    _apply(iam, found["fix"]["apply"])
    assert as_user.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["RoleName"] == role


def test_explicit_deny_names_the_deny_statement_and_its_removal(
    server: Server, iam: Any, unique: Callable[[str], str]
) -> None:
    name, as_user = _user(server, iam, unique)
    iam.put_user_policy(UserName=name, PolicyName="everything", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}))
    guard = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": "iam:DeleteRole", "Resource": "*"},
        {"Sid": "NoUserList", "Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"},
    ]}, indent=2)
    iam.put_user_policy(UserName=name, PolicyName="guard", PolicyDocument=guard)
    request_id = _denied(as_user.list_users)

    found = _explain(server, request_id)
    assert found["effect"] == "ExplicitDeny"
    [deciding] = found["decidingStatements"]
    assert deciding["policyName"] == "guard" and deciding["sid"] == "NoUserList"
    assert deciding["statementIndex"] == 1 and deciding["effect"] == "Deny"
    assert deciding["entityArn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"
    assert deciding["position"]["line"] == 10  # where the statement's "{" is in the document as written
    fix = found["fix"]
    assert fix["kind"] == "remove-deny"
    assert "no Allow statement can override an explicit deny" in fix["summary"]
    [removal] = fix["remove"]
    assert [s["Sid"] for s in removal["document"]["Statement"]] == ["NoDeletes"]

    text = _explain(server, request_id, as_json=False)
    assert "deciding: Deny statement 1 (Sid NoUserList) of identity-based policy inline policy guard" in text

    _apply(iam, removal["apply"])
    assert any(u["UserName"] == name for u in as_user.list_users()["Users"])
    # The other Deny is still there.
    _denied(as_user.delete_role, RoleName="anything")


def test_trust_policy_denial_gets_the_whole_corrected_trust_policy(
    server: Server, iam: Any, unique: Callable[[str], str]
) -> None:
    name, _ = _user(server, iam, unique)
    iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    role = unique("untrusting")
    original = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=doc(original))["Role"]["Arn"]
    request_id = _denied(sts.assume_role, RoleArn=role_arn, RoleSessionName="fixed")

    found = _explain(server, request_id)
    assert found["decidedBy"] == "role trust policy"
    fix = found["fix"]
    assert fix["apply"]["operation"] == "UpdateAssumeRolePolicy"
    assert fix["document"]["Statement"] == [
        original, {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{name}"},
                   "Action": "sts:AssumeRole"}]
    _apply(iam, fix["apply"])
    session = sts.assume_role(RoleArn=role_arn, RoleSessionName="fixed")["AssumedRoleUser"]["Arn"]
    assert session.endswith(f"/{role}/fixed")
