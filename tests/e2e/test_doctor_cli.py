"""``turnout doctor`` run as a command against a served Turnout: a healthy blue/green service passes (exit 0); each
breakage fails (exit 1) naming it, and applying the fix it prints makes it pass again. Also the check before
CreateService (``--role-arn`` with ``--listener-rule``), ``--json``, and the caller's PassRole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Server
from tests.e2e.ecs_deploy_support import MANAGED, Setup, build

EC2_ONLY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("doctor") / "data", ["--time-scale", "600", "--guard", "off"]).start()
    yield srv
    srv.stop()


def doctor(server: Server, *args: str, key: str | None = None, secret: str = "test"
           ) -> subprocess.CompletedProcess[str]:
    """The command, with no AWS credentials in its environment (it then signs with test/test) unless ``key``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    if key is not None:
        env.update({"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret})
    return subprocess.run([sys.executable, "-m", "turnout", "doctor", "--endpoint-url", server.endpoint,
                           "--region", "us-east-1", *args], env=env, capture_output=True, text=True, timeout=120)


def _service(server: Server, unique: Callable[[str], str]) -> Setup:
    setup = build(server, unique)
    service = setup.create_service({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    assert setup.wait_final(service["currentServiceDeployment"])["status"] == "SUCCESSFUL"
    return setup


def _check(server: Server, setup: Setup, *extra: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return doctor(server, "--cluster", setup.cluster, "--service", setup.name, *extra, **kwargs)


def _fixes(server: Server, setup: Setup) -> list[dict[str, Any]]:
    result = _check(server, setup, "--json")
    report = json.loads(result.stdout)
    return [c for c in report["checks"] if not c["ok"]]


def test_a_healthy_service_passes(served: Server, unique: Callable[[str], str]) -> None:
    setup = _service(served, unique)
    result = _check(served, setup)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert all(line.startswith("[ok]") for line in lines if line.startswith("["))
    for group in ("trust:", "permissions:", "passrole:", "topology:"):
        assert any(group in line for line in lines), group
    assert any("elasticloadbalancing:ModifyRule on " + setup.prod_rule in line for line in lines)
    assert "0 failed" in lines[-1]
    report = json.loads(_check(served, setup, "--json").stdout)
    assert report["ok"] is True and report["checks"]


def test_trust_without_ecs_fails_and_the_printed_trust_statement_fixes_it(served: Server,
                                                                          unique: Callable[[str], str]) -> None:
    setup = _service(served, unique)
    iam = served.client("iam")
    iam.update_assume_role_policy(RoleName=setup.role_name, PolicyDocument=EC2_ONLY)
    result = _check(served, setup)
    assert result.returncode == 1
    assert "[FAIL] trust: ecs.amazonaws.com may assume " + setup.role_name in result.stdout
    assert "no statement of the trust policy allows sts:AssumeRole" in result.stdout
    failed = _fixes(served, setup)
    assert [c["group"] for c in failed] == ["trust"]
    fix = failed[0]["fix"]  # the whole trust policy, corrected: EC2's statement kept, ECS's added
    assert fix["Statement"][:-1] == json.loads(EC2_ONLY)["Statement"]
    statement = fix["Statement"][-1]
    assert statement["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "000000000000"}
    iam.update_assume_role_policy(RoleName=setup.role_name, PolicyDocument=json.dumps(fix))
    assert _check(served, setup).returncode == 0


def test_a_detached_policy_fails_each_elb_call_and_the_fix_restores_them(served: Server,
                                                                         unique: Callable[[str], str]) -> None:
    setup = _service(served, unique)
    iam = served.client("iam")
    iam.detach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
    result = _check(served, setup)
    assert result.returncode == 1
    assert f"no policy of the role allows elasticloadbalancing:ModifyRule on {setup.prod_rule}" in result.stdout
    failed = _fixes(served, setup)
    assert {c["group"] for c in failed} == {"permissions"}
    fixes = [c["fix"] for c in failed if "fix" in c]
    assert len(fixes) == 1
    actions = {a for s in fixes[0]["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                           else s["Action"])}
    assert {"elasticloadbalancing:ModifyRule", "elasticloadbalancing:RegisterTargets",
            "elasticloadbalancing:DescribeRules"} <= actions
    iam.put_role_policy(RoleName=setup.role_name, PolicyName="doctor-fix", PolicyDocument=json.dumps(fixes[0]))
    assert _check(served, setup).returncode == 0


def test_a_deny_on_a_tagged_rule_names_the_statement(served: Server, unique: Callable[[str], str]) -> None:
    setup = _service(served, unique)
    setup.elb.add_tags(ResourceArns=[setup.prod_rule], Tags=[{"Key": "frozen", "Value": "yes"}])
    iam = served.client("iam")
    iam.put_role_policy(RoleName=setup.role_name, PolicyName="freeze", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Action": "elasticloadbalancing:ModifyRule", "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/frozen": "yes"}}}]}))
    result = _check(served, setup)
    assert result.returncode == 1
    assert f"elasticloadbalancing:ModifyRule on {setup.prod_rule} is denied by an explicit Deny" in result.stdout
    assert f"elasticloadbalancing:ModifyRule on {setup.test_rule}" not in result.stdout.split("[FAIL]", 1)[1]
    iam.delete_role_policy(RoleName=setup.role_name, PolicyName="freeze")
    assert _check(served, setup).returncode == 0


def test_the_role_deleted_is_named(served: Server, unique: Callable[[str], str]) -> None:
    setup = _service(served, unique)
    iam = served.client("iam")
    iam.detach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
    iam.delete_role(RoleName=setup.role_name)
    result = _check(served, setup)
    assert result.returncode == 1
    assert f"the role {setup.role_arn} does not exist" in result.stdout
    failed = _fixes(served, setup)
    trust = failed[0]["fix"]
    iam.create_role(RoleName=setup.role_name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
    assert _check(served, setup).returncode == 0


def test_topology_another_rule_forwarding_to_the_alternate_group(served: Server,
                                                                  unique: Callable[[str], str]) -> None:
    setup = _service(served, unique)
    serving = setup.weights(setup.prod_rule)
    alternate = next(tg for tg, weight in serving.items() if weight == 0)
    stray = setup.elb.create_rule(ListenerArn=setup.prod_listener, Priority=7, Conditions=[
        {"Field": "path-pattern", "Values": ["/stray/*"]}], Actions=[{"Type": "forward", "TargetGroupArn": alternate}]
    )["Rules"][0]["RuleArn"]
    result = _check(served, setup)
    assert result.returncode == 1
    assert "[FAIL] topology: no other rule forwards to the group the next deployment shifts to" in result.stdout
    assert stray in result.stdout
    setup.elb.delete_rule(RuleArn=stray)
    assert _check(served, setup).returncode == 0


def test_before_create_service_and_the_callers_passrole(served: Server, unique: Callable[[str], str]) -> None:
    setup = build(served, unique)
    args = ("--cluster", setup.cluster, "--service", setup.name, "--role-arn", setup.role_arn,
            "--listener-rule", setup.prod_rule, "--listener-rule", setup.test_rule)
    result = doctor(served, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the caller is the account's root user" not in result.stdout  # details are shown for failures only
    iam = served.client("iam")
    user = unique("deployer")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    iam.put_user_policy(UserName=user, PolicyName="doctor", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "sts:GetCallerIdentity", "ecs:DescribeServices", "iam:GetRole", "iam:SimulatePrincipalPolicy",
            "elasticloadbalancing:Describe*"], "Resource": "*"}]}))
    as_user = doctor(served, *args, key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert as_user.returncode == 1
    assert "[FAIL] passrole: the caller may iam:PassRole " + setup.role_name in as_user.stdout
    failed = [c for c in json.loads(doctor(served, *args, "--json", key=key["AccessKeyId"],
                                           secret=key["SecretAccessKey"]).stdout)["checks"] if not c["ok"]]
    assert [c["group"] for c in failed] == ["passrole"]
    fix = failed[0]["fix"]
    assert fix["Statement"][0]["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}}
    iam.put_user_policy(UserName=user, PolicyName="pass", PolicyDocument=json.dumps(fix))
    assert doctor(served, *args, key=key["AccessKeyId"], secret=key["SecretAccessKey"]).returncode == 0


def test_errors_are_one_line_and_exit_1(served: Server, unique: Callable[[str], str]) -> None:
    result = doctor(served, "--cluster", "nope", "--service", unique("missing"))
    assert result.returncode == 1
    assert result.stderr.startswith("turnout doctor: ")
    assert "Traceback" not in result.stderr


FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:hook"


def test_a_hook_role_without_invoke_fails_and_the_fix_allows_it(served: Server,
                                                                unique: Callable[[str], str]) -> None:
    setup = build(served, unique)
    iam = served.client("iam")
    hook_role = unique("hookrole")
    role_arn = iam.create_role(RoleName=hook_role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    hooks = [{"targetType": "AWS_LAMBDA", "hookTargetArn": FUNCTION, "roleArn": role_arn,
              "lifecycleStages": ["POST_SCALE_UP"]}]
    setup.ecs.create_service(
        cluster=setup.cluster, serviceName=setup.name, taskDefinition=setup.revisions[0], desiredCount=0,
        launchType="FARGATE", loadBalancers=setup.load_balancers(),
        networkConfiguration={"awsvpcConfiguration": {"subnets": setup.subnets}},
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": hooks})
    result = _check(served, setup)
    assert result.returncode == 1
    assert f"[FAIL] hooks: {hook_role} may lambda:InvokeFunction on {FUNCTION}" in result.stdout
    assert f"[ok] trust: ecs.amazonaws.com may assume {hook_role}" in result.stdout
    failed = _fixes(served, setup)
    assert [c["group"] for c in failed] == ["hooks"]
    fix = failed[0]["fix"]
    assert fix["Statement"] == [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": FUNCTION}]
    iam.put_role_policy(RoleName=hook_role, PolicyName="invoke", PolicyDocument=json.dumps(fix))
    assert _check(served, setup).returncode == 0


def test_doctor_makes_only_read_only_calls_and_the_simulator(served: Server, unique: Callable[[str], str]) -> None:
    """What CloudTrail recorded of a doctor run by its own user: only the calls the README lists."""
    import time

    setup = _service(served, unique)
    iam = served.client("iam")
    user = unique("doctor")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "sts:GetCallerIdentity", "ecs:Describe*", "iam:Get*", "iam:Simulate*", "iam:PassRole",
            "elasticloadbalancing:Describe*"], "Resource": "*"}]}))
    result = _check(served, setup, key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert result.returncode == 0, result.stdout + result.stderr
    trail = served.client("cloudtrail")
    allowed = {"GetCallerIdentity", "DescribeServices", "GetRole", "SimulatePrincipalPolicy", "DescribeRules",
               "DescribeListeners", "DescribeTargetGroups", "DescribeTags"}
    deadline = time.monotonic() + 15
    names: set[str] = set()
    while time.monotonic() < deadline:
        found = trail.lookup_events(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": user}],
                                    MaxResults=50)["Events"]
        names = {e["EventName"] for e in found}
        if {"SimulatePrincipalPolicy", "DescribeTags", "DescribeServices"} <= names:
            break
        time.sleep(0.2)
    assert {"SimulatePrincipalPolicy", "DescribeTags", "DescribeServices", "GetRole"} <= names
    assert names <= allowed, names - allowed
