"""``turnout doctor``'s checks that need no server: the trust policy judged with its conditions, and the
topology of the rules and target groups as the read-only calls found them."""

from __future__ import annotations

from typing import Any

from turnout.cli.doctor_checks import Facts, check_topology, check_trust
from turnout.deploy import needs

ACCOUNT, REGION = "111122223333", "us-east-1"
SERVICE = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/c/web"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/infra"
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
LB = f"{ELB}:loadbalancer/app/lb/1111"
LISTENER = f"{ELB}:listener/app/lb/1111/2222"
PROD, STRAY = f"{LISTENER.replace(':listener/', ':listener-rule/')}/0001", \
    f"{LISTENER.replace(':listener/', ':listener-rule/')}/0009"
BLUE, GREEN = f"{ELB}:targetgroup/blue/1", f"{ELB}:targetgroup/green/2"


def _facts(trust: dict[str, Any] | None, *, stray: bool = False, weights: tuple[int, int] = (100, 0)) -> Facts:
    config = {"loadBalancers": [{"targetGroupArn": BLUE, "advancedConfiguration": {
        "alternateTargetGroupArn": GREEN, "productionListenerRule": PROD, "roleArn": ROLE}}]}
    facts = Facts(needs.setup_of(ACCOUNT, REGION, SERVICE, config), f"arn:aws:iam::{ACCOUNT}:root", True)
    facts.trust[ROLE] = trust
    forward = {"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": BLUE, "Weight": weights[0]}, {"TargetGroupArn": GREEN, "Weight": weights[1]}]}}
    facts.rules[PROD] = {"RuleArn": PROD, "Actions": [forward], "IsDefault": False}
    facts.listeners[LISTENER] = {"ListenerArn": LISTENER, "LoadBalancerArn": LB}
    facts.groups = {arn: {"TargetGroupArn": arn, "LoadBalancerArns": [LB], "TargetType": "ip"} for arn in (BLUE, GREEN)}
    facts.lb_rules = [facts.rules[PROD]]
    if stray:
        facts.lb_rules.append({"RuleArn": STRAY, "Actions": [{"Type": "forward", "TargetGroupArn": GREEN}]})
    return facts


def _trust(condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
                                 "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def test_trust_conditions_are_evaluated_with_the_keys_ecs_sends() -> None:
    [ok] = check_trust(_facts(_trust({"StringEquals": {"aws:SourceAccount": ACCOUNT},
                                      "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/c/*"}})))
    assert ok.ok
    [wrong] = check_trust(_facts(_trust({"StringEquals": {"aws:SourceAccount": "999999999999"}})))
    assert not wrong.ok and "no statement of the trust policy allows" in wrong.detail
    assert wrong.fix is not None  # the whole policy: the statement that did not match kept, ECS's added
    assert len(wrong.fix["Statement"]) == 2
    assert wrong.fix["Statement"][-1]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                                                       "ArnLike": {"aws:SourceArn": SERVICE}}


def test_a_deny_in_the_trust_policy_is_named() -> None:
    document = _trust()
    document["Statement"].append({"Sid": "NoEcs", "Effect": "Deny", "Principal": {"Service": "ecs.amazonaws.com"},
                                  "Action": "sts:AssumeRole"})
    [result] = check_trust(_facts(document))
    assert not result.ok and "statement 2 (Sid NoEcs)" in result.detail
    assert result.fix is not None  # the Deny left out, ECS allowed
    assert [item["Effect"] for item in result.fix["Statement"]] == ["Allow", "Allow"]
    assert result.fix["Statement"][-1]["Principal"] == {"Service": "ecs.amazonaws.com"}


def test_a_missing_role_fails_trust() -> None:
    [result] = check_trust(_facts(None))
    assert not result.ok and "does not exist" in result.detail


def test_topology_passes_then_names_a_stray_rule_and_bad_weights() -> None:
    assert all(r.ok for r in check_topology(_facts(_trust())))
    stray = [r for r in check_topology(_facts(_trust(), stray=True)) if not r.ok]
    assert len(stray) == 1 and STRAY in stray[0].detail
    split = [r for r in check_topology(_facts(_trust(), weights=(50, 50))) if not r.ok]
    assert len(split) == 1 and "exactly one target group serving traffic" in split[0].detail


def test_target_type_must_suit_awsvpc() -> None:
    facts = _facts(_trust())
    facts.groups[GREEN]["TargetType"] = "instance"
    failed = [r for r in check_topology(facts) if not r.ok]
    assert len(failed) == 1 and "TargetType=ip" in failed[0].detail
