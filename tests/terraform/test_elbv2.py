"""The seed's load balancer, replayed as the Terraform AWS provider (v6.x) applies, refreshes, updates and destroys
it: ``aws_lb`` (application, internet-facing, default-VPC subnets, a security group), two ``aws_lb_target_group``
(blue and green, target type ip, with a health check block), an ``aws_lb_listener`` (HTTP:80 forwarding to blue)
and two ``aws_lb_listener_rule`` (production: path-pattern, test: http-header; ``ignore_changes = [action]``
because ECS rewrites their actions).

Every test runs in an account of its own (a 12-digit access key is that account's root). A "plan" is a refresh
(the provider's Read calls, flattened as the provider flattens them) compared with the configuration: it must
show no change right after apply and after each update.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Server
from tests.terraform.elbv2_support import (
    HEALTH_CHECK_DEFAULTS,
    LB_DEFAULTS,
    TG_DEFAULTS,
    ListenerReplay,
    LoadBalancerReplay,
    RuleReplay,
    TargetGroupReplay,
    code_of,
    forward,
    plan_diff,
    rule_plan,
)


@dataclass
class Account:
    elb: Any
    ec2: Any
    vpc: str
    subnets: list[str]
    group: str

    @property
    def lbs(self) -> LoadBalancerReplay:
        return LoadBalancerReplay(self.elb, self.ec2)

    @property
    def tgs(self) -> TargetGroupReplay:
        return TargetGroupReplay(self.elb)

    @property
    def listeners(self) -> ListenerReplay:
        return ListenerReplay(self.elb)

    @property
    def rules(self) -> RuleReplay:
        return RuleReplay(self.elb)


@pytest.fixture
def acct(server: Server, unique: Callable[[str], str]) -> Account:
    key = f"{secrets.randbelow(10**11) + 10**11:012d}"
    ec2 = server.client("ec2", key=key)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = sorted(s["SubnetId"] for s in
                     ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"])
    group = ec2.create_security_group(GroupName=unique("alb"), Description="seed ALB", VpcId=vpc)["GroupId"]
    return Account(server.client("elbv2", key=key), ec2, vpc, subnets, group)


def lb_config(acct: Account, name: str, **changes: Any) -> dict[str, Any]:
    return {**LB_DEFAULTS, "name": name, "internal": False, "subnets": set(acct.subnets[:3]),
            "security_groups": {acct.group}, "idle_timeout": 120,
            "tags": {"Name": name, "Project": "turnout-seed"}, **changes}


def tg_config(acct: Account, name: str, **changes: Any) -> dict[str, Any]:
    check = {**HEALTH_CHECK_DEFAULTS, "path": "/health", "matcher": "200", "interval": 15, "healthy_threshold": 2,
             "timeout": 5}
    return {**TG_DEFAULTS, "name": name, "port": 80, "protocol": "HTTP", "target_type": "ip", "vpc_id": acct.vpc,
            "deregistration_delay": "30", "health_check": [check], "tags": {"Name": name}, **changes}


def test_aws_lb_apply_plan_update_destroy(acct: Account, unique: Callable[[str], str]) -> None:
    lbs = acct.lbs
    config = lb_config(acct, unique("seed-alb"))
    arn = lbs.create(config)

    state = lbs.read(arn)
    assert plan_diff(config, state) == {}
    assert state["ip_address_type"] == "ipv4" and state["vpc_id"] == acct.vpc
    assert state["access_logs"] == [{"enabled": False, "bucket": "", "prefix": ""}]
    assert state["connection_logs"] == [{"enabled": False, "bucket": "", "prefix": ""}]
    assert state["minimum_load_balancer_capacity"] == []  # DescribeCapacityReservation: no reservation
    assert state["dns_name"].startswith(config["name"] + "-")

    # A second refresh (terraform plan) reads the same.
    assert lbs.read(arn) == state

    second = acct.ec2.create_security_group(GroupName=unique("alb2"), Description="second",
                                            VpcId=acct.vpc)["GroupId"]
    updated = {**config, "idle_timeout": 300, "drop_invalid_header_fields": True, "enable_http2": False,
               "client_keep_alive": 7200, "desync_mitigation_mode": "strictest",
               "xff_header_processing_mode": "preserve", "security_groups": {acct.group, second},
               "subnets": set(acct.subnets[:2]), "tags": {"Name": config["name"], "Environment": "test"}}
    lbs.update(arn, config, updated)
    assert plan_diff(updated, lbs.read(arn)) == {}

    lbs.delete(arn)
    assert lbs.gone(arn)


def test_aws_lb_deletion_protection_blocks_destroy_until_turned_off(acct: Account,
                                                                   unique: Callable[[str], str]) -> None:
    lbs = acct.lbs
    config = lb_config(acct, unique("seed-alb"), enable_deletion_protection=True)
    arn = lbs.create(config)
    assert plan_diff(config, lbs.read(arn)) == {}
    assert code_of(acct.elb.delete_load_balancer, LoadBalancerArn=arn) == "OperationNotPermitted"
    off = {**config, "enable_deletion_protection": False}
    lbs.update(arn, config, off)
    assert plan_diff(off, lbs.read(arn)) == {}
    lbs.delete(arn)
    assert lbs.gone(arn)


def test_aws_lb_target_group_blue_and_green_apply_plan_update_destroy(acct: Account,
                                                                      unique: Callable[[str], str]) -> None:
    tgs = acct.tgs
    configs = {color: tg_config(acct, unique(f"seed-{color}")) for color in ("blue", "green")}
    arns = {color: tgs.create(config) for color, config in configs.items()}

    for color, config in configs.items():
        state = tgs.read(arns[color])
        assert plan_diff(config, state) == {}
        # Computed members the configuration leaves to AWS.
        assert state["protocol_version"] == "HTTP1" and state["ip_address_type"] == "ipv4"
        assert state["load_balancer_arns"] == set()
        assert state["stickiness"] == [{"enabled": False, "type": "lb_cookie", "cookie_duration": 86400}]
        assert state["load_balancing_algorithm_type"] == "round_robin"

    blue = configs["blue"]
    check = {**blue["health_check"][0], "path": "/ready", "interval": 10, "unhealthy_threshold": 2,
             "matcher": "200-299"}
    updated = {**blue, "health_check": [check], "deregistration_delay": "0", "slow_start": 30,
               "tags": {"Name": blue["name"], "Color": "blue"}}
    tgs.update(arns["blue"], blue, updated)
    assert plan_diff(updated, tgs.read(arns["blue"])) == {}

    for arn in arns.values():
        tgs.delete(arn)
        assert tgs.gone(arn)


def test_aws_lb_listener_apply_plan_update_destroy(acct: Account, unique: Callable[[str], str]) -> None:
    lb = acct.lbs.create(lb_config(acct, unique("seed-alb")))
    blue = acct.tgs.create(tg_config(acct, unique("seed-blue")))
    green = acct.tgs.create(tg_config(acct, unique("seed-green")))
    listeners = acct.listeners

    config = {"load_balancer_arn": lb, "port": 80, "protocol": "HTTP", "default_action": forward(blue),
              "tags": {"Name": "seed-http"}}
    arn = listeners.create(config)
    state = listeners.read(arn)
    assert plan_diff(config, state) == {}
    assert state["ssl_policy"] == "" and state["routing_http_response_server_enabled"] is False
    # The target group's refresh now shows the load balancer (load_balancer_arns is computed).
    assert acct.tgs.read(blue)["load_balancer_arns"] == {lb}

    updated = {**config, "default_action": forward(green), "tags": {"Name": "seed-http", "Stage": "green"}}
    listeners.update(arn, config, updated)
    assert plan_diff(updated, listeners.read(arn)) == {}

    # Destroying the target group before the listener is refused with the code and words the provider retries on.
    code = code_of(acct.tgs.delete, green)
    assert code == "ResourceInUse"
    with pytest.raises(Exception, match="is currently in use by a listener or a rule"):
        acct.tgs.delete(green)

    listeners.delete(arn)
    assert listeners.gone(arn)
    for group in (blue, green):
        acct.tgs.delete(group)
    acct.lbs.delete(lb)


def test_aws_lb_listener_rules_production_and_test_ignore_ecs_rewrites(acct: Account,
                                                                       unique: Callable[[str], str]) -> None:
    lb = acct.lbs.create(lb_config(acct, unique("seed-alb")))
    blue = acct.tgs.create(tg_config(acct, unique("seed-blue")))
    green = acct.tgs.create(tg_config(acct, unique("seed-green")))
    listener = acct.listeners.create({"load_balancer_arn": lb, "port": 80, "protocol": "HTTP",
                                      "default_action": forward(blue)})
    rules = acct.rules

    production = {"listener_arn": listener, "priority": 1, "action": forward(blue),
                  "condition": [{"path_pattern": {"values": ["/*"]}}], "tags": {"Name": "production"}}
    test = {"listener_arn": listener, "priority": 2, "action": forward(green),
            "condition": [{"http_header": {"http_header_name": "X-Environment", "values": ["test"]}}],
            "tags": {"Name": "test"}}
    arns = {"production": rules.create(production), "test": rules.create(test)}
    configs = {"production": production, "test": test}
    for name, config in configs.items():
        assert rule_plan(config, rules.read(arns[name])) == {}

    # ECS rewrites the production rule to a weighted forward between blue and green (its traffic shift).
    acct.elb.modify_rule(RuleArn=arns["production"], Actions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": 0}, {"TargetGroupArn": green, "Weight": 100}]}}])
    rewritten = rules.read(arns["production"])
    assert [g["Weight"] for g in rewritten["action"][0]["ForwardConfig"]["TargetGroups"]] == [0, 100]
    assert rule_plan(production, rewritten) == {}  # ignore_changes = [action]: no plan

    # An update of what is not ignored: a new priority and conditions, new tags.
    updated = {**production, "priority": 5,
               "condition": [{"path_pattern": {"values": ["/api/*", "/*"]}}], "tags": {"Name": "prod", "Tier": "web"}}
    rules.update(arns["production"], production, updated)
    state = rules.read(arns["production"])
    assert rule_plan(updated, state) == {}
    assert [g["Weight"] for g in state["action"][0]["ForwardConfig"]["TargetGroups"]] == [0, 100]  # untouched

    updated_test = {**test, "condition": [{"http_header": {"http_header_name": "X-Environment",
                                                           "values": ["test", "staging"]}}]}
    rules.update(arns["test"], test, updated_test)
    assert rule_plan(updated_test, rules.read(arns["test"])) == {}

    for arn in arns.values():
        rules.delete(arn)
        assert rules.gone(arn)
    # A rule already gone: the provider's delete tolerates RuleNotFound.
    assert code_of(acct.elb.delete_rule, RuleArn=arns["test"]) == "RuleNotFound"
    acct.listeners.delete(listener)
    for group in (blue, green):
        acct.tgs.delete(group)
    acct.lbs.delete(lb)


def test_seed_stack_apply_then_destroy_in_dependency_order(acct: Account, unique: Callable[[str], str]) -> None:
    """``terraform apply`` then ``terraform destroy`` of the whole stack: rules, listener, then the target groups
    and the load balancer; every resource's refresh afterwards answers the not-found code the provider expects."""
    lb = acct.lbs.create(lb_config(acct, unique("seed-alb")))
    blue = acct.tgs.create(tg_config(acct, unique("seed-blue")))
    green = acct.tgs.create(tg_config(acct, unique("seed-green")))
    listener = acct.listeners.create({"load_balancer_arn": lb, "port": 80, "protocol": "HTTP",
                                      "default_action": forward(blue)})
    rules = [acct.rules.create({"listener_arn": listener, "priority": 1, "action": forward(blue),
                                "condition": [{"path_pattern": {"values": ["/*"]}}]}),
             acct.rules.create({"listener_arn": listener, "priority": 2, "action": forward(green),
                                "condition": [{"http_header": {"http_header_name": "X-Environment",
                                                               "values": ["test"]}}]})]
    assert acct.tgs.read(green)["load_balancer_arns"] == {lb}  # used by the test rule

    for rule in rules:
        acct.rules.delete(rule)
    acct.listeners.delete(listener)
    for group in (blue, green):
        acct.tgs.delete(group)
    acct.lbs.delete(lb)

    assert all(acct.rules.gone(rule) for rule in rules)
    assert acct.listeners.gone(listener)
    assert acct.tgs.gone(blue) and acct.tgs.gone(green)
    assert acct.lbs.gone(lb)
