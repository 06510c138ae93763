"""`turnout explain <service-deployment-arn> --endpoint-url ... --json` finds the call of ECS that failed a
deployment and gives the fix; applying it with boto3 and deploying again succeeds (the seed's broken trust policy,
a refused ModifyRule, a deleted role)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from tests.conftest import Server
from tests.e2e.ecs_deploy_support import MANAGED, Setup, build, pause_hooks

ACCOUNT = "000000000000"
BLUE_GREEN = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}


def _deployed(fast: Server, unique: Callable[[str], str]) -> Setup:
    setup = build(fast, unique)
    service = setup.create_service(BLUE_GREEN)
    assert setup.wait_final(service["currentServiceDeployment"])["status"] == "SUCCESSFUL"
    return setup


def _explain(fast: Server, arn: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "turnout", "explain", arn, "--endpoint-url", fast.endpoint, "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _redeploy(setup: Setup) -> dict[str, Any]:
    again = setup.deploy(2, {**BLUE_GREEN, "lifecycleHooks": []}, force=True)
    return setup.wait_final(again)


def test_broken_trust_policy_gets_a_corrected_trust_policy(fast: Server, unique: Callable[[str], str]) -> None:
    setup = _deployed(fast, unique)
    arn = setup.deploy(2, {**BLUE_GREEN, "lifecycleHooks": pause_hooks(["POST_SCALE_UP"])})
    _, hook = setup.wait_hook(arn, "POST_SCALE_UP")
    iam = fast.client("iam")
    ec2_only = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    iam.update_assume_role_policy(RoleName=setup.role_name, PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [ec2_only]}))
    setup.proceed(arn, hook)
    assert setup.wait_final(arn)["status"] == "ROLLBACK_SUCCESSFUL"

    found = _explain(fast, arn)
    assert found["kind"] == "deployment" and found["status"] == "ROLLBACK_SUCCESSFUL"
    assert found["infrastructureRoles"] == [setup.role_arn]
    failed = found["failedCall"]
    assert failed["action"] == "sts:AssumeRole" and failed["resource"] == setup.role_arn
    assert failed["principal"] == "ecs.amazonaws.com"
    assert failed["requestId"] == found["explanation"]["requestId"]
    assert found["explanation"]["decidedBy"] == "role trust policy"
    fix = found["fix"]
    service_arn = found["serviceArn"]
    # The role's trust policy as it is, with ECS added back, scoped to this account and service.
    assert fix["document"] == {"Version": "2012-10-17", "Statement": [ec2_only, {
        "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": service_arn}}}]}
    assert fix["apply"]["operation"] == "UpdateAssumeRolePolicy"
    assert fix["apply"]["parameters"]["RoleName"] == setup.role_name

    iam.update_assume_role_policy(**fix["apply"]["parameters"])
    final = _redeploy(setup)
    assert final["status"] == "SUCCESSFUL", final.get("statusReason")


def test_refused_modify_rule_gets_an_allow_on_the_service_rules(fast: Server, unique: Callable[[str], str]) -> None:
    setup = _deployed(fast, unique)
    iam = fast.client("iam")
    # Everything the managed policy allowed but ModifyRule.
    iam.put_role_policy(RoleName=setup.role_name, PolicyName="all-but-modify-rule", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "NotAction": "elasticloadbalancing:ModifyRule", "Resource": "*"}]}))
    iam.detach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
    arn = setup.deploy(2, BLUE_GREEN)
    done = setup.wait_final(arn)
    assert done["status"] in ("ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")

    found = _explain(fast, arn)
    failed = found["failedCall"]
    assert failed["action"] == "elasticloadbalancing:ModifyRule"
    assert failed["principal"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{setup.role_name}/ECSNetworkingWithELB"
    assert found["explanation"]["decidedBy"] == "identity-based policy"
    fix = found["fix"]
    assert fix["statement"]["Action"] == "elasticloadbalancing:ModifyRule"
    assert sorted(fix["statement"]["Resource"]) == sorted([setup.prod_rule, setup.test_rule])
    assert fix["apply"]["operation"] == "PutRolePolicy"
    assert fix["apply"]["parameters"]["RoleName"] == setup.role_name

    iam.put_role_policy(**fix["apply"]["parameters"])
    final = _redeploy(setup)
    assert final["status"] == "SUCCESSFUL", final.get("statusReason")
    assert setup.weights(setup.prod_rule) == {setup.green: 0, setup.blue: 100}


def test_a_deny_on_modify_rule_is_named_and_removed(fast: Server, unique: Callable[[str], str]) -> None:
    setup = _deployed(fast, unique)
    iam = fast.client("iam")
    iam.put_role_policy(RoleName=setup.role_name, PolicyName="freeze", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Sid": "NoRuleChanges", "Effect": "Deny",
                                                 "Action": "elasticloadbalancing:ModifyRule", "Resource": "*"}]}))
    arn = setup.deploy(2, BLUE_GREEN)
    assert setup.wait_final(arn)["status"] != "SUCCESSFUL"

    found = _explain(fast, arn)
    assert found["failedCall"]["action"] == "elasticloadbalancing:ModifyRule"
    [deciding] = found["explanation"]["decidingStatements"]
    assert (deciding["policyName"], deciding["sid"], deciding["statementIndex"]) == ("freeze", "NoRuleChanges", 0)
    fix = found["fix"]
    assert fix["kind"] == "remove-deny"
    [removal] = fix["remove"]
    # Its only statement: the policy goes.
    assert removal["apply"] == {"service": "iam", "operation": "DeleteRolePolicy",
                                "parameters": {"RoleName": setup.role_name, "PolicyName": "freeze"}}
    iam.delete_role_policy(**removal["apply"]["parameters"])
    final = _redeploy(setup)
    assert final["status"] == "SUCCESSFUL", final.get("statusReason")


def test_deleted_role_is_said_to_be_gone_with_what_to_create(fast: Server, unique: Callable[[str], str]) -> None:
    setup = _deployed(fast, unique)
    iam = fast.client("iam")
    iam.detach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
    iam.delete_role(RoleName=setup.role_name)
    arn = setup.deploy(2, BLUE_GREEN)
    assert setup.wait_final(arn)["status"] != "SUCCESSFUL"

    found = _explain(fast, arn)
    fix = found["fix"]
    assert fix["kind"] == "create-role"
    assert "does not exist" in fix["summary"]
    assert fix["attach"] == [MANAGED]
    iam.create_role(**fix["apply"]["parameters"])
    iam.attach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
    final = _redeploy(setup)
    assert final["status"] == "SUCCESSFUL", final.get("statusReason")


def test_hook_role_without_invoke_gets_an_allow_on_the_function(fast: Server, unique: Callable[[str], str]) -> None:
    setup = _deployed(fast, unique)
    iam = fast.client("iam")
    role_name = unique("hookrole")
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:hook"
    hooks = [{"targetType": "AWS_LAMBDA", "hookTargetArn": function, "roleArn": role,
              "lifecycleStages": ["PRE_SCALE_UP"]}]
    arn = setup.deploy(2, {**BLUE_GREEN, "lifecycleHooks": hooks})
    assert setup.wait_final(arn)["status"] != "SUCCESSFUL"

    found = _explain(fast, arn)
    assert found["hookRoles"] == [role]
    failed = found["failedCall"]
    assert failed["action"] == "lambda:InvokeFunction" and failed["resource"] == function
    assert failed["principal"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/ECS-Lambda-Execution"
    fix = found["fix"]
    assert fix["statement"] == {"Sid": "AllowInvokeFunction", "Effect": "Allow", "Action": "lambda:InvokeFunction",
                                "Resource": function}
    iam.put_role_policy(**fix["apply"]["parameters"])
    again = setup.deploy(2, {**BLUE_GREEN, "lifecycleHooks": hooks}, force=True)
    final = setup.wait_final(again)
    assert final["status"] == "SUCCESSFUL", final.get("statusReason")


def test_a_successful_deployment_has_nothing_to_explain(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    arn = setup.create_service(BLUE_GREEN)["currentServiceDeployment"]
    assert setup.wait_final(arn)["status"] == "SUCCESSFUL"
    found = _explain(fast, arn)
    assert found["summary"] == "The deployment is SUCCESSFUL: nothing failed."
    assert "fix" not in found
    missing = subprocess.run(
        [sys.executable, "-m", "turnout", "explain", arn + "0", "--endpoint-url", fast.endpoint],
        capture_output=True, text=True, timeout=60,
    )
    assert missing.returncode == 1
    assert "no service deployment" in missing.stderr
