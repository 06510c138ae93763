"""turnout.deploy.needs: what ECS will do with a service's roles, in the order a deployment does it."""

from __future__ import annotations

from typing import Any

from turnout.deploy import needs, scheduler, traffic

ACCOUNT = "111122223333"
REGION = "us-east-1"
SERVICE = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/c/web"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/infra"
HOOK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/hooks"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:check"
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
BLUE, GREEN = f"{ELB}:targetgroup/blue/1111", f"{ELB}:targetgroup/green/2222"
PROD, TEST = f"{ELB}:listener-rule/app/lb/aaaa/bbbb/0001", f"{ELB}:listener-rule/app/lb/aaaa/bbbb/0002"


def _config(*, test: str | None = TEST, production: str = PROD, hooks: bool = False) -> dict[str, Any]:
    advanced = {"alternateTargetGroupArn": GREEN, "productionListenerRule": production, "roleArn": ROLE}
    if test:
        advanced["testListenerRule"] = test
    config: dict[str, Any] = {"loadBalancers": [{"targetGroupArn": BLUE, "containerName": "web", "containerPort": 8080,
                                                 "advancedConfiguration": advanced}]}
    if hooks:
        config["deploymentConfiguration"] = {"lifecycleHooks": [
            {"hookTargetArn": FUNCTION, "roleArn": HOOK_ROLE, "lifecycleStages": ["POST_SCALE_UP"]},
            {"hookTargetArn": FUNCTION, "lifecycleStages": ["PRE_SCALE_UP"]},  # no role: nothing assumed
        ]}
    return config


def _needs(config: dict[str, Any], **kwargs: Any) -> list[needs.Need]:
    return needs.needs_of(needs.setup_of(ACCOUNT, REGION, SERVICE, config), **kwargs)


def test_trust_comes_first_with_the_source_keys_ecs_sends() -> None:
    first = _needs(_config())[0]
    assert (first.kind, first.action, first.resource, first.role_arn) == ("trust", "sts:AssumeRole", ROLE, ROLE)
    assert first.context == {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": SERVICE}


def test_elb_calls_follow_the_engine_on_exact_arns() -> None:
    found = [(n.operation, n.target, n.resource, n.session) for n in _needs(_config()) if n.kind == "elb"]
    assert found == [
        (traffic.DESCRIBE_RULES, PROD, "*", "ECSNetworkingWithELB"),
        (traffic.DESCRIBE_RULES, TEST, "*", "ECSNetworkingWithELB"),
        (scheduler.REGISTER_TARGETS, GREEN, GREEN, "ecs-service-scheduler"),
        (scheduler.DESCRIBE_TARGET_HEALTH, GREEN, "*", "ecs-service-scheduler"),
        (scheduler.REGISTER_TARGETS, BLUE, BLUE, "ecs-service-scheduler"),
        (scheduler.DESCRIBE_TARGET_HEALTH, BLUE, "*", "ecs-service-scheduler"),
        (traffic.MODIFY_RULE, TEST, TEST, "ECSNetworkingWithELB"),
        (traffic.MODIFY_RULE, PROD, PROD, "ECSNetworkingWithELB"),
        (scheduler.DEREGISTER_TARGETS, GREEN, GREEN, "ecs-service-scheduler"),
        (scheduler.DEREGISTER_TARGETS, BLUE, BLUE, "ecs-service-scheduler"),
    ]
    modify = next(n for n in _needs(_config()) if n.operation == traffic.MODIFY_RULE)
    assert modify.action == "elasticloadbalancing:ModifyRule"
    assert modify.params["RuleArn"] == TEST
    groups = modify.params["Actions"][0]["ForwardConfig"]["TargetGroups"]
    assert [g["TargetGroupArn"] for g in groups] == [BLUE, GREEN]


def test_a_default_rule_and_a_listener_are_rewritten_through_modify_listener() -> None:
    listener = traffic.listener_of(PROD)
    found = _needs(_config(test=None), defaults={PROD})
    writes = [(n.operation, n.target) for n in found if n.operation.startswith("Modify")]
    assert writes == [(traffic.MODIFY_LISTENER, listener)]
    nlb = f"{ELB}:listener/net/lb/aaaa/cccc"
    found = _needs(_config(test=None, production=nlb))
    assert [(n.operation, n.target) for n in found if n.operation in (traffic.DESCRIBE_LISTENERS,
                                                                     traffic.MODIFY_LISTENER)] == [
        (traffic.DESCRIBE_LISTENERS, nlb), (traffic.MODIFY_LISTENER, nlb)]


def test_hook_roles_are_assumed_and_invoke_their_function() -> None:
    found = _needs(_config(hooks=True))
    assert [n.role_arn for n in found if n.kind == "trust"] == [ROLE, HOOK_ROLE]
    invoke = [n for n in found if n.kind == "invoke"]
    assert [(n.action, n.resource, n.role_arn, n.session) for n in invoke] == [
        ("lambda:InvokeFunction", FUNCTION, HOOK_ROLE, "ECS-Lambda-Execution")]


def test_only_the_roles_asked_for() -> None:
    found = _needs(_config(hooks=True), roles={HOOK_ROLE})
    assert {n.role_arn for n in found} == {HOOK_ROLE}
    assert [n.kind for n in found] == ["trust", "invoke"]


def test_a_service_without_advanced_configuration_needs_nothing() -> None:
    assert _needs({"loadBalancers": [{"targetGroupArn": BLUE, "containerName": "web", "containerPort": 80}]}) == []
    assert needs.setup_of(ACCOUNT, REGION, SERVICE, {}).roles == []
