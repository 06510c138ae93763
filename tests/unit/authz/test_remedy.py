"""The fix logic of `turnout explain` (turnout.authz.remedy), on denials built by hand."""

from __future__ import annotations

import json
from typing import Any

from turnout.authz.diagnostics import Denial, MatchedInfo
from turnout.authz.remedy import (
    Facts,
    fix_for,
    narrowed_conditions,
    policy_name,
    with_statement,
    without_statement,
)
from turnout.policy import compile_policy

ACCOUNT = "123456789012"
USER = f"arn:aws:iam::{ACCOUNT}:user/dev/alice"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/worker"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
BUCKET_ACTION = "s3:GetObject"


def _denial(**fields: Any) -> Denial:
    base: dict[str, Any] = {
        "request_id": "r-1", "account_id": ACCOUNT, "denied_at": "2026-01-01T00:00:00+00:00",
        "principal_arn": USER, "action": "iam:GetRole", "resource": ROLE, "effect": "ImplicitDeny",
        "denied_by": "identity-based policy", "error_code": "AccessDenied", "message": "denied",
    }
    base.update(fields)
    return Denial(**base)


def _policy(*statements: dict[str, Any], policy_id: str = "p") -> Any:
    return compile_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}), policy_id=policy_id)


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# -- conditions narrowed to the request ------------------------------------------------------------------


def test_keys_tested_by_allow_statements_for_the_action_are_pinned_to_the_request() -> None:
    policy = _policy(
        {"Effect": "Allow", "Action": "iam:Get*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}, "Bool": {"aws:SecureTransport": "true"},
                       "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "ForAnyValue:StringEquals": {"aws:TagKeys": "x"},
                       "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}},
        # Another action's keys, and a Deny's, are not the caller's way to this call.
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/level": "x"}}},
        {"Effect": "Deny", "Action": "iam:GetRole", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}},
    )
    denial = _denial(context={
        "aws:ResourceTag/team": "red", "aws:SecureTransport": "true", "aws:SourceIp": "10.1.2.3",
        "aws:TagKeys": ["a", "b"], "aws:CurrentTime": "2026-01-01T00:00:00Z", "aws:PrincipalTag/level": "x",
        "aws:RequestedRegion": "us-east-1",
    })
    assert narrowed_conditions(denial, [policy]) == {
        "StringEquals": {"aws:ResourceTag/team": "red"},
        "Bool": {"aws:SecureTransport": "true"},
        "IpAddress": {"aws:SourceIp": "10.1.2.3"},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]},
    }


def test_keys_the_request_lacked_are_never_required() -> None:
    policy = _policy({"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*",
                      "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}}})
    denial = _denial(action="iam:CreateRole", missing_context_keys=["aws:RequestTag/team"], context={})
    assert narrowed_conditions(denial, [policy]) == {}
    fix = fix_for(denial, Facts(identity=[policy]))
    assert "Condition" not in fix["statement"]
    assert fix["statement"]["Resource"] == ROLE


# -- implicit deny: the Allow, and where it goes ------------------------------------------------------------


def test_identity_fix_is_a_new_inline_policy_of_the_user() -> None:
    fix = fix_for(_denial(), Facts())
    assert fix["kind"] == "add-statement"
    assert fix["statement"] == {"Sid": "AllowGetRole", "Effect": "Allow", "Action": "iam:GetRole", "Resource": ROLE}
    assert fix["target"] == {"entityType": "user", "UserName": "alice", "policyName": "turnout-fix-iam-GetRole"}
    assert fix["apply"]["operation"] == "PutUserPolicy"
    params = fix["apply"]["parameters"]
    assert params["UserName"] == "alice" and params["PolicyName"] == "turnout-fix-iam-GetRole"
    assert json.loads(params["PolicyDocument"]) == {"Version": "2012-10-17", "Statement": [fix["statement"]]}


def test_a_session_fix_goes_to_its_role() -> None:
    fix = fix_for(_denial(principal_arn=SESSION, action=BUCKET_ACTION, resource="arn:aws:s3:::b/k"), Facts())
    assert fix["apply"]["operation"] == "PutRolePolicy"
    assert fix["apply"]["parameters"]["RoleName"] == "app"
    assert fix["statement"]["Resource"] == "arn:aws:s3:::b/k"


def test_boundary_fix_is_a_new_default_version_of_a_customer_boundary() -> None:
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/limits"
    current = _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    denial = _denial(denied_by="permissions boundary", considered={"permissions boundary": [boundary]})
    fix = fix_for(denial, Facts(documents={boundary: current}))
    assert fix["target"] == {"policyArn": boundary}
    assert fix["apply"]["operation"] == "CreatePolicyVersion"
    assert fix["apply"]["parameters"]["SetAsDefault"] is True
    assert [s["Action"] for s in fix["document"]["Statement"]] == ["s3:*", "iam:GetRole"]


def test_an_aws_managed_boundary_cannot_be_edited() -> None:
    boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    denial = _denial(denied_by="permissions boundary", considered={"permissions boundary": [boundary]})
    fix = fix_for(denial, Facts())
    assert "apply" not in fix
    assert "cannot be edited" in fix["summary"]


def test_session_policy_fix_says_to_assume_again() -> None:
    fix = fix_for(_denial(principal_arn=SESSION, denied_by="session policy"), Facts())
    assert "apply" not in fix
    assert "assume the role again" in fix["summary"]


def test_service_principal_trust_fix_is_scoped_and_keeps_the_current_trust_policy() -> None:
    current = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    service = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/c/web"
    denial = _denial(principal_arn="ecs.amazonaws.com", action="sts:AssumeRole", denied_by="role trust policy",
                     context={"aws:SourceAccount": ACCOUNT, "aws:SourceArn": service})
    fix = fix_for(denial, Facts(trust_policy=_doc(current)))
    assert fix["document"]["Statement"] == [current, {
        "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": service}}}]
    assert fix["apply"] == {"service": "iam", "operation": "UpdateAssumeRolePolicy",
                            "parameters": {"RoleName": "app", "PolicyDocument": json.dumps(fix["document"])}}


def test_user_trust_fix_names_the_caller_and_a_missing_role_is_to_be_created() -> None:
    denial = _denial(action="sts:AssumeRole", denied_by="role trust policy")
    fix = fix_for(denial, Facts(trust_policy=_doc()))
    assert fix["statement"] == {"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "sts:AssumeRole"}
    gone = fix_for(denial, Facts(role_exists=False))
    assert gone["kind"] == "create-role"
    assert gone["apply"]["operation"] == "CreateRole"
    assert json.loads(gone["apply"]["parameters"]["AssumeRolePolicyDocument"])["Statement"] == [gone["statement"]]


def test_a_built_in_rule_has_no_policy_fix() -> None:
    reason = "Roles may not be assumed by root accounts."
    fix = fix_for(_denial(denied_by=None, reason=reason), Facts())
    assert fix == {"kind": "none", "summary": reason}


# -- explicit deny: the Deny to remove -----------------------------------------------------------------------


def _deny(policy_id: str, index: int, policy_type: str = "identity-based policy") -> MatchedInfo:
    return MatchedInfo(policy_type, policy_id, index, "NoGet", "Deny", (3, 5), (8, 6))


def test_an_inline_deny_is_named_and_removed_from_its_document() -> None:
    policy_id = f"{USER}#guard"
    text = _doc({"Sid": "Keep", "Effect": "Deny", "Action": "iam:DeleteRole", "Resource": "*"},
                {"Sid": "NoGet", "Effect": "Deny", "Action": "iam:GetRole", "Resource": "*"})
    denial = _denial(effect="ExplicitDeny", matched=[_deny(policy_id, 1)])
    fix = fix_for(denial, Facts(documents={policy_id: text}))
    assert fix["kind"] == "remove-deny"
    assert "statement 1 (Sid NoGet) of identity-based policy inline policy guard" in fix["summary"]
    assert "no Allow statement can override an explicit deny" in fix["summary"]
    [removal] = fix["remove"]
    assert removal["statement"]["policyName"] == "guard" and removal["statement"]["position"] == {
        "line": 3, "column": 5}
    assert [s["Sid"] for s in removal["document"]["Statement"]] == ["Keep"]
    assert removal["apply"]["operation"] == "PutUserPolicy"
    assert removal["apply"]["parameters"]["UserName"] == "alice"


def test_a_deny_left_alone_in_its_inline_policy_deletes_the_policy() -> None:
    policy_id = f"{ROLE}#guard"
    denial = _denial(effect="ExplicitDeny", matched=[_deny(policy_id, 0)])
    text = json.dumps({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}})
    [removal] = fix_for(denial, Facts(documents={policy_id: text}))["remove"]
    assert removal["apply"] == {"service": "iam", "operation": "DeleteRolePolicy",
                                "parameters": {"RoleName": "app", "PolicyName": "guard"}}


def test_managed_and_trust_denies() -> None:
    customer = f"arn:aws:iam::{ACCOUNT}:policy/guard"
    aws = "arn:aws:iam::aws:policy/AWSDenyAll"
    text = _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "iam:GetRole", "Resource": "*"})
    denial = _denial(effect="ExplicitDeny", matched=[_deny(customer, 1), _deny(aws, 0)])
    first, second = fix_for(denial, Facts(documents={customer: text}))["remove"]
    assert first["apply"]["operation"] == "CreatePolicyVersion"
    assert first["document"]["Statement"] == [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
    assert "cannot be edited: detach it" in second["note"] and "apply" not in second
    trust = _denial(effect="ExplicitDeny", action="sts:AssumeRole",
                    matched=[_deny(f"{ROLE}#trust", 1, "role trust policy")])
    current = _doc({"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "sts:AssumeRole"},
                   {"Effect": "Deny", "Principal": {"AWS": USER}, "Action": "sts:AssumeRole"})
    [removal] = fix_for(trust, Facts(trust_policy=current))["remove"]
    assert removal["apply"]["operation"] == "UpdateAssumeRolePolicy"
    assert [s["Effect"] for s in removal["document"]["Statement"]] == ["Allow"]
    assert removal["statement"]["resourceArn"] == ROLE and "entityArn" not in removal["statement"]


# -- documents and names -----------------------------------------------------------------------------------


def test_policy_names_and_document_edits() -> None:
    assert policy_name(f"{USER}#guard") == {"policyName": "guard", "entityArn": USER, "entityType": "user"}
    assert policy_name(ROLE) == {"policyArn": ROLE}
    assert policy_name("session-policy") == {"policyName": "session-policy"}
    assert policy_name(f"{ROLE}#trust", "role trust policy") == {"policyName": f"trust policy of {ROLE}",
                                                                  "resourceArn": ROLE}
    assert without_statement(_doc({"Effect": "Allow"}), 3) is None
    assert without_statement("not json", 0) is None
    assert with_statement(None, {"Effect": "Allow"}) == {"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}
    single = json.dumps({"Version": "2008-10-17", "Statement": {"Effect": "Deny"}})
    assert with_statement(single, {"Effect": "Allow"}) == {
        "Version": "2008-10-17", "Statement": [{"Effect": "Deny"}, {"Effect": "Allow"}]}


def test_near_misses_are_the_allow_statements_for_the_action_that_did_not_apply() -> None:
    from turnout.authz.remedy import near_misses

    policy = _policy(
        {"Sid": "BlueOnly", "Effect": "Allow", "Action": "iam:GetRole", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}},
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"},
        policy_id=f"{USER}#reads",
    )
    [near] = near_misses(_denial(), Facts(identity=[policy]))
    assert near["sid"] == "BlueOnly" and near["policyName"] == "reads" and near["statementIndex"] == 0
    assert near["conditionKeys"] == ["aws:ResourceTag/team"] and near["position"]["line"] == 1
    assert near_misses(_denial(effect="ExplicitDeny"), Facts(identity=[policy])) == []
    assert near_misses(_denial(denied_by="session policy"), Facts(identity=[policy])) == []
