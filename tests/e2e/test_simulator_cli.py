"""``aws iam simulate-principal-policy`` (and the other simulator commands) with the AWS CLI: the seed's PassRole
policy on a user, context entries in shorthand and JSON, the CLI's own pagination over Marker, and an error."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.conftest import CLI_CLIENT_ERROR, Server, aws_cli, cli_ok

ACCOUNT = "000000000000"
INFRA = f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers"
CLIENT_ERROR = CLI_CLIENT_ERROR
SEED_PASS_ROLE = (
    '{ "Version": "2012-10-17", "Statement": [ { "Action": "iam:PassRole", "Effect": "Allow",\n'
    '  "Resource": ["arn:aws:iam::*:role/ecsInfrastructureRoleForLoadBalancers"],\n'
    '  "Condition": { "StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"} } } ] }'
)


def aws(server: Server, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return aws_cli(server, cwd, "iam", *args)


ok = cli_ok


def make_user(server: Server, unique: Callable[[str], str]) -> tuple[str, str]:
    iam = server.client("iam")
    name = unique("cli-deployer")
    arn: str = iam.create_user(UserName=name)["User"]["Arn"]
    iam.put_user_policy(UserName=name, PolicyName="pass-infra", PolicyDocument=SEED_PASS_ROLE)
    return name, arn


def test_simulate_principal_policy_with_context_entries(server: Server, tmp_path: Path,
                                                        unique: Callable[[str], str]) -> None:
    name, arn = make_user(server, unique)
    ecs = ok(aws(server, tmp_path, "simulate-principal-policy", "--policy-source-arn", arn,
                 "--action-names", "iam:PassRole", "--resource-arns", INFRA, "--context-entries",
                 "ContextKeyName=iam:PassedToService,ContextKeyValues=ecs.amazonaws.com,ContextKeyType=string"))
    (result,) = ecs["EvaluationResults"]
    assert result["EvalActionName"] == "iam:PassRole"
    assert result["EvalDecision"] == "allowed"
    assert result["EvalResourceName"] == "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}"
    assert result["MatchedStatements"] == [{
        "SourcePolicyId": f"user_{name}_pass-infra", "SourcePolicyType": "IAM Policy",
        "StartPosition": {"Line": 1, "Column": 43}, "EndPosition": {"Line": 3, "Column": 81},
    }]
    assert result["MissingContextValues"] == []
    assert result["ResourceSpecificResults"] == [{
        "EvalResourceName": INFRA, "EvalResourceDecision": "allowed",
        "MatchedStatements": result["MatchedStatements"], "MissingContextValues": [], "EvalDecisionDetails": {},
    }]

    entries = json.dumps([{"ContextKeyName": "iam:PassedToService", "ContextKeyValues": ["ec2.amazonaws.com"],
                           "ContextKeyType": "string"}])
    ec2 = ok(aws(server, tmp_path, "simulate-principal-policy", "--policy-source-arn", arn,
                 "--action-names", "iam:PassRole", "--resource-arns", INFRA, "--context-entries", entries))
    assert ec2["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    assert ec2["EvaluationResults"][0]["MatchedStatements"] == []

    missing = ok(aws(server, tmp_path, "simulate-principal-policy", "--policy-source-arn", arn,
                     "--action-names", "iam:PassRole", "--resource-arns", INFRA))
    assert missing["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    assert missing["EvaluationResults"][0]["MissingContextValues"] == ["iam:PassedToService"]


def test_the_cli_pages_through_every_action(server: Server, tmp_path: Path, unique: Callable[[str], str]) -> None:
    _, arn = make_user(server, unique)
    actions = ["iam:PassRole", "iam:GetRole", "iam:ListRoles", "iam:CreateRole", "ec2:DescribeVpcs"]
    out = ok(aws(server, tmp_path, "simulate-principal-policy", "--policy-source-arn", arn,
                 "--action-names", *actions, "--page-size", "2", "--context-entries",
                 "ContextKeyName=iam:PassedToService,ContextKeyValues=ecs.amazonaws.com,ContextKeyType=string"))
    assert [r["EvalActionName"] for r in out["EvaluationResults"]] == actions
    assert all(r["EvalDecision"] == "implicitDeny" for r in out["EvaluationResults"])  # "*" is not the role


def test_simulate_custom_policy_and_context_keys(server: Server, tmp_path: Path) -> None:
    # The policy is given inline, as AWS's examples give it (CLI v1 reads a list parameter's file:// content as
    # a list of its characters).
    out = ok(aws(server, tmp_path, "simulate-custom-policy", "--policy-input-list", SEED_PASS_ROLE,
                 "--action-names", "iam:PassRole", "--resource-arns", INFRA, "--context-entries",
                 "ContextKeyName=iam:PassedToService,ContextKeyValues=ecs.amazonaws.com,ContextKeyType=string"))
    assert out["EvaluationResults"][0]["EvalDecision"] == "allowed"
    assert out["EvaluationResults"][0]["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    keys = ok(aws(server, tmp_path, "get-context-keys-for-custom-policy", "--policy-input-list", SEED_PASS_ROLE))
    assert keys == {"ContextKeyNames": ["iam:PassedToService"]}


def test_unknown_source_is_an_error(server: Server, tmp_path: Path) -> None:
    result = aws(server, tmp_path, "simulate-principal-policy", "--policy-source-arn",
                 f"arn:aws:iam::{ACCOUNT}:role/no-such-role-here", "--action-names", "iam:PassRole")
    assert result.returncode == CLIENT_ERROR
    assert ("An error occurred (NoSuchEntity) when calling the SimulatePrincipalPolicy operation: "
            "The role with name no-such-role-here cannot be found.") in result.stderr
