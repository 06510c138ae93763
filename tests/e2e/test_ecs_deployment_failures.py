"""The seed's three "Important" failures provoked mid-deployment, Lambda hooks served by a local endpoint, and
ROLLING deployments. Each failure ends in the state and statusReason AWS documents (aws-facts 2.11, 2.12)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.conftest import LambdaEndpoint, Server
from tests.e2e.ecs_deploy_support import MANAGED, Setup, build, pause_hooks

ROLE_REASON = ("Service deployment rolled back because of invalid networking configuration. ECS was unable to manage "
               "the ELB resources due to missing permissions on ECS Infrastructure Role '{}'.")


Endpoint = LambdaEndpoint


def _deployed(fast: Server, unique: Callable[[str], str], **kwargs: Any) -> Setup:
    setup = build(fast, unique, **kwargs)
    service = setup.create_service({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    assert setup.wait_final(service["currentServiceDeployment"])["status"] == "SUCCESSFUL"
    return setup


def _events(setup: Setup) -> list[str]:
    service = setup.ecs.describe_services(cluster=setup.cluster, services=[setup.name])["services"][0]
    return [e["message"] for e in service["events"]]


def test_trust_policy_without_ecs_fails_the_deployment(fast: Server, unique: Callable[[str], str]) -> None:
    setup = _deployed(fast, unique)
    arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                           "lifecycleHooks": pause_hooks(["POST_SCALE_UP"])})
    _, hook = setup.wait_hook(arn, "POST_SCALE_UP")
    iam = fast.client("iam")
    iam.update_assume_role_policy(RoleName=setup.role_name, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    setup.proceed(arn, hook)
    done = setup.wait_final(arn)
    assert done["statusReason"] == ROLE_REASON.format(setup.role_arn)
    # Traffic never moved, so the rollback had nothing to put back; green's tasks stopped.
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert setup.weights(setup.prod_rule) == {setup.green: 100, setup.blue: 0}
    assert {t["taskDefinitionArn"] for t in setup.tasks()} == {setup.revisions[0]}
    # ECS could not deregister green's targets either: the service's events say so.
    assert any("failed to deregister targets" in m for m in _events(setup))
    trail = fast.client("cloudtrail")
    denied = [json.loads(e["CloudTrailEvent"]) for e in trail.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}], MaxResults=50)["Events"]]
    failed = [r for r in denied if r.get("errorCode") == "AccessDenied"
              and r["requestParameters"]["roleArn"] == setup.role_arn]
    assert failed and failed[0]["userIdentity"] == {"type": "AWSService", "invokedBy": "ecs.amazonaws.com"}


def test_role_deleted_after_test_shift_leaves_rollback_failed(fast: Server, unique: Callable[[str], str]) -> None:
    setup = _deployed(fast, unique)
    arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                           "lifecycleHooks": pause_hooks(["POST_TEST_TRAFFIC_SHIFT"])})
    _, hook = setup.wait_hook(arn, "POST_TEST_TRAFFIC_SHIFT")
    iam = fast.client("iam")
    iam.detach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
    iam.delete_role(RoleName=setup.role_name)
    setup.proceed(arn, hook)
    done = setup.wait_final(arn)
    assert done["status"] == "ROLLBACK_FAILED"
    assert done["statusReason"].startswith(ROLE_REASON.format(setup.role_arn))
    # The test rule still sends test traffic to green, and the deployment says so.
    assert setup.weights(setup.test_rule) == {setup.green: 0, setup.blue: 100}
    assert f"Test listener rule {setup.test_rule} is left forwarding to" in done["statusReason"]
    assert setup.weights(setup.prod_rule) == {setup.green: 100, setup.blue: 0}
    assert any("rollback failed" in m for m in _events(setup))


def test_managed_policy_detached_mid_deployment(fast: Server, unique: Callable[[str], str]) -> None:
    setup = _deployed(fast, unique)
    arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                           "lifecycleHooks": pause_hooks(["POST_TEST_TRAFFIC_SHIFT"])})
    _, hook = setup.wait_hook(arn, "POST_TEST_TRAFFIC_SHIFT")
    fast.client("iam").detach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
    setup.proceed(arn, hook)
    done = setup.wait_final(arn)
    session = f"arn:aws:sts::000000000000:assumed-role/{setup.role_name}/ECSNetworkingWithELB"
    assert done["statusReason"].startswith(
        f"Service deployment rolled back because PRODUCTION_TRAFFIC_SHIFT lifecycle hook(s) failed. User: {session} "
        "is not authorized to perform: elasticloadbalancing:")
    assert "because no identity-based policy allows" in done["statusReason"]
    # The rollback needed the same permissions to put test traffic back: it failed, and says where things are.
    assert done["status"] == "ROLLBACK_FAILED"
    assert setup.weights(setup.test_rule) == {setup.green: 0, setup.blue: 100}
    # Re-attaching the policy and deploying again recovers.
    fast.client("iam").attach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
    again = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": []}, force=True)
    assert again != arn
    final = setup.wait_final(again)
    assert final["status"] == "SUCCESSFUL", final.get("statusReason")
    assert setup.weights(setup.prod_rule) == {setup.green: 0, setup.blue: 100}


def _lambda_role(fast: Server, unique: Callable[[str], str], *, allowed: bool) -> str:
    iam = fast.client("iam")
    name = unique("hookrole")
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ["ecs.amazonaws.com"]},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"])
    if allowed:
        iam.put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                                    "Resource": "*"}]}))
    return arn


FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:hook"


def test_lambda_hook_in_progress_then_succeeded(fast: Server, unique: Callable[[str], str],
                                                endpoint: Endpoint) -> None:
    setup = _deployed(fast, unique)
    role = _lambda_role(fast, unique, allowed=True)
    calls: dict[str, int] = {}

    def answer(event: dict[str, Any]) -> dict[str, Any]:
        calls[event["executionId"]] = calls.get(event["executionId"], 0) + 1
        if calls[event["executionId"]] == 1:
            return {"hookStatus": "IN_PROGRESS", "callBackDelay": 5, "hookDetails": {"seen": 1}}
        return {"hookStatus": "SUCCEEDED"}

    endpoint.answer = answer
    before = len(endpoint.events)
    hooks = [{"targetType": "AWS_LAMBDA", "hookTargetArn": FUNCTION, "roleArn": role,
              "lifecycleStages": ["TEST_TRAFFIC_SHIFT"], "hookDetails": {"team": "web"}}]
    arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": hooks})
    done = setup.wait_final(arn)
    assert done["status"] == "SUCCESSFUL", done.get("statusReason")
    mine = [e for e in endpoint.events[before:] if e["resourceArn"] == arn]
    assert len(mine) == 2 and mine[0]["executionId"] == mine[1]["executionId"]
    first = mine[0]
    assert first["lifecycleStage"] == "TEST_TRAFFIC_SHIFT"
    assert first["hookDetails"] == {"team": "web"} and mine[1]["hookDetails"] == {"seen": 1}
    details = first["executionDetails"]
    assert details["serviceArn"].endswith(f"/{setup.name}")
    assert details["testTrafficWeights"][details["targetServiceRevisionArn"]] == 100.0
    assert [h["status"] for h in done["lifecycleHookDetails"]] == ["SUCCEEDED"]
    assert done["lifecycleHookDetails"][0]["targetArn"] == FUNCTION


def test_lambda_hook_failed_rolls_back_and_is_reinvoked(fast: Server, unique: Callable[[str], str],
                                                        endpoint: Endpoint) -> None:
    setup = _deployed(fast, unique)
    role = _lambda_role(fast, unique, allowed=True)

    def answer(event: dict[str, Any]) -> dict[str, Any]:
        green = event["executionDetails"]["targetServiceRevisionArn"]
        shifted = event["executionDetails"]["productionTrafficWeights"].get(green) == 100.0
        return {"hookStatus": "FAILED" if shifted else "SUCCEEDED"}

    endpoint.answer = answer
    before = len(endpoint.events)
    hooks = [{"targetType": "AWS_LAMBDA", "hookTargetArn": FUNCTION, "roleArn": role,
              "lifecycleStages": ["PRODUCTION_TRAFFIC_SHIFT"]}]
    arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": hooks})
    done = setup.wait_final(arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert done["statusReason"] == ("Service deployment rolled back because PRODUCTION_TRAFFIC_SHIFT lifecycle "
                                    f"hook(s) failed. Lifecycle hook target {FUNCTION} returned FAILED status.")
    mine = [e for e in endpoint.events[before:] if e["resourceArn"] == arn]
    green = mine[0]["executionDetails"]["targetServiceRevisionArn"]
    # Invoked at the shift (green 100), then again by the rollback with the weights reversed.
    assert [e["executionDetails"]["productionTrafficWeights"][green] for e in mine] == [100.0, 0.0]
    assert setup.weights(setup.prod_rule) == {setup.green: 100, setup.blue: 0}


def test_lambda_hook_unknown_function_and_denied_role(fast: Server, unique: Callable[[str], str]) -> None:
    setup = _deployed(fast, unique)
    missing = "arn:aws:lambda:us-east-1:000000000000:function:nowhere"
    role = _lambda_role(fast, unique, allowed=True)
    arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": [
        {"targetType": "AWS_LAMBDA", "hookTargetArn": missing, "roleArn": role,
         "lifecycleStages": ["PRE_SCALE_UP"]}]})
    done = setup.wait_final(arn)
    assert done["statusReason"].startswith(
        "Service deployment rolled back because PRE_SCALE_UP lifecycle hook(s) failed. ECS was unable to invoke "
        f"hook target {missing} due to")
    assert "Function not found" in done["statusReason"]
    denied = _lambda_role(fast, unique, allowed=False)
    arn = setup.deploy(2, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": [
        {"targetType": "AWS_LAMBDA", "hookTargetArn": FUNCTION, "roleArn": denied,
         "lifecycleStages": ["PRE_SCALE_UP"]}]})
    done = setup.wait_final(arn)
    assert done["statusReason"].startswith(
        "Service deployment rolled back because PRE_SCALE_UP lifecycle hook(s) failed. ECS was unable to invoke "
        f"hook target {FUNCTION} due to User: arn:aws:sts::000000000000:assumed-role/")
    assert "/ECS-Lambda-Execution is not authorized to perform: lambda:InvokeFunction" in done["statusReason"]


def test_rolling_replaces_tasks(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique)
    service = setup.create_service({"strategy": "ROLLING", "maximumPercent": 200, "minimumHealthyPercent": 100},
                                   loadBalancers=[{"targetGroupArn": setup.blue, "containerName": "web",
                                                   "containerPort": 80}])
    first = setup.wait_final(service["currentServiceDeployment"])
    assert first["status"] == "SUCCESSFUL"
    arn = setup.deploy(2)
    done = setup.wait_final(arn)
    assert done["status"] == "SUCCESSFUL"
    running = setup.tasks()
    assert len(running) == 2 and {t["taskDefinitionArn"] for t in running} == {setup.revisions[1]}
    ips = {t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] for t in running}
    healthy = {d["Target"]["Id"] for d in setup.targets(setup.blue) if d["TargetHealth"]["State"] == "healthy"}
    assert healthy == ips
    # Registered through the service-linked role's scheduler session.
    trail = fast.client("cloudtrail")
    records = [json.loads(e["CloudTrailEvent"]) for e in trail.lookup_events(LookupAttributes=[
        {"AttributeKey": "Username", "AttributeValue": "ecs-service-scheduler"}], MaxResults=50)["Events"]]
    assert any("assumed-role/AWSServiceRoleForECS/ecs-service-scheduler" in r["userIdentity"]["arn"]
               for r in records)


def test_rolling_circuit_breaker_rolls_back(fast: Server, unique: Callable[[str], str]) -> None:
    setup = build(fast, unique, image_labels=[{}, {"turnout.exit-after": "5"}])
    config = {"strategy": "ROLLING", "maximumPercent": 200, "minimumHealthyPercent": 100,
              "deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    service = setup.create_service(config, loadBalancers=[{"targetGroupArn": setup.blue, "containerName": "web",
                                                           "containerPort": 80}])
    assert setup.wait_final(service["currentServiceDeployment"])["status"] == "SUCCESSFUL"
    arn = setup.deploy(2)
    done = setup.wait_final(arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert done["statusReason"] == "Service deployment rolled back because the circuit breaker threshold was exceeded."
    assert done["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    running = setup.tasks()
    assert len(running) == 2 and {t["taskDefinitionArn"] for t in running} == {setup.revisions[0]}
    stopped = [t for t in setup.tasks("STOPPED") if t["taskDefinitionArn"] == setup.revisions[1]]
    # The failures that tripped the breaker exited; a new task still running when the rollback began is stopped by
    # the scheduler (which tasks are which depends on how the launches and exits interleave).
    exited = [t for t in stopped if t["stopCode"] == "EssentialContainerExited"]
    assert len(exited) >= 3
    assert {t["stopCode"] for t in stopped} <= {"EssentialContainerExited", "ServiceSchedulerInitiated"}


def test_rules_changed_behind_ecs_fail_the_next_deployment(fast: Server, unique: Callable[[str], str]) -> None:
    """AWS's asynchronous networking checks: production must forward to exactly one of the service's groups."""
    setup = _deployed(fast, unique)
    elb = setup.elb
    elb.modify_rule(RuleArn=setup.prod_rule, Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": setup.blue, "Weight": 50}, {"TargetGroupArn": setup.green, "Weight": 50}]}}])
    arn = setup.deploy(2)
    done = setup.wait_final(arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert done["statusReason"] == (
        "Service deployment rolled back because of invalid networking configuration. productionListenerRule "
        f"{setup.prod_rule} should have exactly one target group serving traffic but found 2 target groups which "
        "are serving traffic")
    assert {t["taskDefinitionArn"] for t in setup.tasks()} == {setup.revisions[0]}
    vpc = fast.client("ec2").describe_subnets(SubnetIds=setup.subnets[:1])["Subnets"][0]["VpcId"]
    other = elb.create_target_group(Name=f"{setup.name}-x"[:32], Protocol="HTTP", Port=80, VpcId=vpc,
                                    TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_rule(RuleArn=setup.prod_rule, Actions=[{"Type": "forward", "TargetGroupArn": other}])
    # The rollback put the service back on revision 1: deploying revision 2 again is a new deployment.
    service = setup.ecs.describe_services(cluster=setup.cluster, services=[setup.name])["services"][0]
    assert service["taskDefinition"] == setup.revisions[0]
    arn = setup.deploy(2)
    done = setup.wait_final(arn)
    assert done["statusReason"] == (
        "Service deployment rolled back because of invalid networking configuration. Production listener rule is "
        f"forwarding traffic to unexpected target group {other}. Expected traffic to be forwarded to either "
        f"targetGroupArn: {setup.blue} or alternateTargetGroupArn: {setup.green}")


def test_policy_detached_before_a_deployment(fast: Server, unique: Callable[[str], str]) -> None:
    setup = _deployed(fast, unique)
    fast.client("iam").detach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
    arn = setup.deploy(2)
    done = setup.wait_final(arn)
    session = f"arn:aws:sts::000000000000:assumed-role/{setup.role_name}/ECSNetworkingWithELB"
    assert done["statusReason"] == (
        f"{ROLE_REASON.format(setup.role_arn)} User: {session} is not authorized to perform: "
        "elasticloadbalancing:DescribeRules because no identity-based policy allows the "
        "elasticloadbalancing:DescribeRules action")
    # Nothing had moved: the rollback only had to stop what it launched (none), and production is untouched.
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert setup.weights(setup.prod_rule) == {setup.green: 100, setup.blue: 0}


def test_turnout_explain_tells_why_ecs_was_denied(fast: Server, unique: Callable[[str], str]) -> None:
    """ECS's denied call is in CloudTrail with its request id, and `turnout explain` tells why it was denied."""
    import subprocess
    import sys
    import time

    setup = _deployed(fast, unique)
    fast.client("iam").detach_role_policy(RoleName=setup.role_name, PolicyArn=MANAGED)
    setup.wait_final(setup.deploy(2))
    trail = fast.client("cloudtrail")
    session = f"assumed-role/{setup.role_name}/ECSNetworkingWithELB"
    denied: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while not denied and time.monotonic() < deadline:  # CloudTrail records are written in batches
        records = [json.loads(e["CloudTrailEvent"]) for e in trail.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "DescribeRules"}], MaxResults=50)["Events"]]
        denied = [r for r in records if r.get("errorCode") == "AccessDenied" and session in r["userIdentity"]["arn"]]
        time.sleep(0.1)
    assert denied, "the denied DescribeRules of ECS is not in CloudTrail"
    explained = subprocess.run(
        [sys.executable, "-m", "turnout", "explain", denied[0]["requestID"], "--data-dir", str(fast.data_dir)],
        capture_output=True, text=True, timeout=60)
    assert explained.returncode == 0, explained.stderr
    assert "elasticloadbalancing:DescribeRules" in explained.stdout
    assert session in explained.stdout
    assert "identity-based policy" in explained.stdout
