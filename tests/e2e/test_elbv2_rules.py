"""ELBv2 listener rules with real boto3 clients against a real server: conditions in both their legacy and typed
forms as AWS returns them, AWS's condition rules and quotas, priorities, DescribeRules order and paging,
ModifyRule, DeleteRule, SetRulePriorities, the default rule's protection, NLB listeners, tags and quotas."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import error_of

RULE_ARN = re.compile(r"^arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/app/[\w-]+/"
                      r"[0-9a-f]{16}/[0-9a-f]{16}/[0-9a-f]{16}$")
PATH = [{"Field": "path-pattern", "Values": ["/api/*"]}]



def forward(tg_arn: str) -> list[dict[str, Any]]:
    return [{"Type": "forward", "TargetGroupArn": tg_arn}]


def stored_forward(tg_arn: str) -> dict[str, Any]:
    return {"Type": "forward", "TargetGroupArn": tg_arn, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": tg_arn, "Weight": 1}], "TargetGroupStickinessConfig": {"Enabled": False}}}


FIXED = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]








@pytest.fixture
def make_tg(elb: Any, network: dict[str, Any], cleanup: list[tuple[str, str]], unique: Callable[[str], str]
            ) -> Callable[..., str]:
    def make(**kwargs: Any) -> str:
        kwargs = {"Name": unique("tg"), "Protocol": "HTTP", "Port": 80, "VpcId": network["vpc"], **kwargs}
        arn: str = elb.create_target_group(**kwargs)["TargetGroups"][0]["TargetGroupArn"]
        cleanup.append(("tg", arn))
        return arn

    return make


@pytest.fixture
def listener(elb: Any, network: dict[str, Any], cleanup: list[tuple[str, str]], unique: Callable[[str], str]
             ) -> Callable[..., str]:
    """A new HTTP listener (port 80) on a new application load balancer (or a TCP one on a network one)."""
    def make(lb_type: str = "application", actions: list[dict[str, Any]] | None = None) -> str:
        lb = elb.create_load_balancer(Name=unique("lb"), Subnets=network["ids"][:2], Type=lb_type)
        lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
        cleanup.append(("lb", lb_arn))
        protocol = "HTTP" if lb_type == "application" else "TCP"
        arn: str = elb.create_listener(LoadBalancerArn=lb_arn, Protocol=protocol, Port=80,
                                       DefaultActions=actions or FIXED)["Listeners"][0]["ListenerArn"]
        return arn

    return make


# -- CreateRule and conditions -------------------------------------------------------------------------------


def test_create_rule_as_aws_returns_it(elb: Any, listener: Callable[..., str], make_tg: Callable[..., str]) -> None:
    arn = listener()
    tg = make_tg(TargetType="ip")
    rule = elb.create_rule(ListenerArn=arn, Priority=10, Conditions=PATH, Actions=forward(tg),
                           Tags=[{"Key": "team", "Value": "web"}])["Rules"][0]
    assert RULE_ARN.match(rule["RuleArn"])
    assert rule["RuleArn"].startswith(arn.replace(":listener/", ":listener-rule/") + "/")
    assert rule == {"RuleArn": rule["RuleArn"], "Priority": "10", "IsDefault": False, "Actions": [stored_forward(tg)],
                    "Conditions": [{"Field": "path-pattern", "Values": ["/api/*"],
                                    "PathPatternConfig": {"Values": ["/api/*"]}}]}
    assert elb.describe_rules(RuleArns=[rule["RuleArn"]])["Rules"] == [rule]
    assert elb.describe_tags(ResourceArns=[rule["RuleArn"]])["TagDescriptions"][0]["Tags"] == [
        {"Key": "team", "Value": "web"}]
    lb = elb.describe_listeners(ListenerArns=[arn])["Listeners"][0]["LoadBalancerArn"]
    assert elb.describe_target_groups(TargetGroupArns=[tg])["TargetGroups"][0]["LoadBalancerArns"] == [lb]


def test_every_condition_type(elb: Any, listener: Callable[..., str]) -> None:
    arn = listener()
    conditions = [
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["api.example.com", "*.example.org"]}},
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Environment", "Values": ["test"]}},
    ]
    rule = elb.create_rule(ListenerArn=arn, Priority=1, Conditions=conditions, Actions=FIXED)["Rules"][0]
    assert rule["Conditions"] == [
        {"Field": "host-header", "Values": ["api.example.com", "*.example.org"],
         "HostHeaderConfig": {"Values": ["api.example.com", "*.example.org"]}},
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Environment", "Values": ["test"]}}]
    others = [
        {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "version", "Value": "v2"},
                                                                   {"Value": "beta"}]}},
        {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET", "HEAD"]}},
        {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}},
    ]
    rule = elb.create_rule(ListenerArn=arn, Priority=2, Conditions=others, Actions=FIXED)["Rules"][0]
    assert rule["Conditions"] == others
    regex = [{"Field": "path-pattern", "PathPatternConfig": {"RegexValues": ["^/v[0-9]+/orders$"]}}]
    rule = elb.create_rule(ListenerArn=arn, Priority=3, Conditions=regex, Actions=FIXED)["Rules"][0]
    assert rule["Conditions"] == regex


@pytest.mark.parametrize(("conditions", "message"), [
    ([{"Values": ["/a"]}], "A condition field must be specified"),
    ([{"Field": "cookie", "Values": ["a"]}], "Condition field 'cookie' must be one of '[http-header, "
     "http-request-method, host-header, path-pattern, query-string, source-ip]'"),
    ([{"Field": "host-header", "Values": ["a.example.com"], "HostHeaderConfig": {"Values": ["b.example.com"]}}],
     "You cannot provide both Values and 'HostHeaderConfig' for a condition of type 'host-header'"),
    ([{"Field": "path-pattern", "PathPatternConfig": {"Values": []}}], "A condition value must be specified"),
    ([{"Field": "path-pattern", "PathPatternConfig": {"Values": [f"/{i}" for i in range(6)]}}],
     "A rule can only have '5' condition values"),
    ([{"Field": "path-pattern", "Values": ["/a"]}, {"Field": "host-header", "HostHeaderConfig": {
        "Values": ["a.example.com", "b.example.com", "c.example.com", "d.example.com", "e.example.com"]}}],
     "A rule can only have '5' condition values"),
    ([{"Field": "path-pattern", "Values": ["/a"]}, {"Field": "path-pattern", "Values": ["/b"]}],
     "A rule can only have one 'path-pattern' condition"),
    ([{"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.300/8"]}}],
     "The value '10.0.0.300/8' is not a valid CIDR block for a condition of type 'source-ip'"),
    ([{"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["get"]}}],
     "The value 'get' is not valid for a condition of type 'http-request-method'"),
    ([{"Field": "host-header", "Values": ["bad host!"]}],
     "The value 'bad host!' is not valid for a condition of type 'host-header'"),
    ([{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "Bad Header", "Values": ["x"]}}],
     "The HTTP header name 'Bad Header' is not valid"),
    ([{"Field": "path-pattern", "HostHeaderConfig": {"Values": ["a.example.com"]}}],
     "You cannot provide 'HostHeaderConfig' for a condition of type 'path-pattern'"),
    ([{"Field": "http-request-method", "Values": ["GET"]}],
     "You must provide 'HttpRequestMethodConfig' rather than Values for a condition of type 'http-request-method'"),
    ([{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*/*/*", "/?/?/?"]}}],
     "A rule can only have '5' wildcards"),
    ([], "At least one condition must be specified"),
])
def test_condition_validation(elb: Any, listener: Callable[..., str], conditions: list[dict[str, Any]],
                              message: str) -> None:
    arn = listener()
    assert error_of(elb.create_rule, ListenerArn=arn, Priority=1, Conditions=conditions, Actions=FIXED) == (
        "ValidationError", message, 400)
    assert [r["IsDefault"] for r in elb.describe_rules(ListenerArn=arn)["Rules"]] == [True]


def test_priorities_are_unique_per_listener_and_listed_in_order(elb: Any, listener: Callable[..., str]) -> None:
    arn = listener()
    made = {p: elb.create_rule(ListenerArn=arn, Priority=p, Conditions=[
        {"Field": "path-pattern", "Values": [f"/{p}"]}], Actions=FIXED)["Rules"][0]["RuleArn"] for p in (30, 5, 10)}
    assert error_of(elb.create_rule, ListenerArn=arn, Priority=10, Conditions=PATH, Actions=FIXED) == (
        "PriorityInUse", "Priority '10' is currently in use", 400)
    elb.create_rule(ListenerArn=listener(), Priority=10, Conditions=PATH, Actions=FIXED)  # another listener: fine
    assert [r["Priority"] for r in elb.describe_rules(ListenerArn=arn)["Rules"]] == ["5", "10", "30", "default"]
    first = elb.describe_rules(ListenerArn=arn, PageSize=3)
    assert [r["Priority"] for r in first["Rules"]] == ["5", "10", "30"]
    rest = elb.describe_rules(ListenerArn=arn, PageSize=3, Marker=first["NextMarker"])
    assert [r["Priority"] for r in rest["Rules"]] == ["default"] and "NextMarker" not in rest
    assert [r["RuleArn"] for r in elb.describe_rules(RuleArns=[made[30], made[5]])["Rules"]] == [made[5], made[30]]
    assert error_of(elb.describe_rules, RuleArns=[made[5][:-16] + "0123456789abcdef"]) == (
        "RuleNotFound", "One or more rules not found", 400)
    assert error_of(elb.describe_rules, ListenerArn=arn[:-16] + "0123456789abcdef") == (
        "ListenerNotFound", "One or more listeners not found", 400)
    assert error_of(elb.describe_rules) == ("ValidationError", "You must specify either rule ARNs or a listener ARN",
                                            400)
    assert error_of(elb.describe_rules, RuleArns=["arn:aws:elasticloadbalancing:nope"])[0] == "ValidationError"


# -- ModifyRule, DeleteRule, the default rule ----------------------------------------------------------------


def test_modify_rule_to_a_weighted_forward_and_back(elb: Any, listener: Callable[..., str],
                                                    make_tg: Callable[..., str]) -> None:
    arn = listener()
    blue, green = make_tg(TargetType="ip"), make_tg(TargetType="ip")
    rule = elb.create_rule(ListenerArn=arn, Priority=1, Conditions=PATH, Actions=forward(blue))["Rules"][0]
    actions = [{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": 0}, {"TargetGroupArn": green, "Weight": 100}],
        "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 300}}}]
    modified = elb.modify_rule(RuleArn=rule["RuleArn"], Actions=actions)["Rules"][0]
    assert modified["Actions"] == actions and modified["Conditions"] == rule["Conditions"]
    assert elb.describe_rules(RuleArns=[rule["RuleArn"]])["Rules"][0] == modified
    conditions = [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Environment",
                                                                "Values": ["test"]}}]
    again = elb.modify_rule(RuleArn=rule["RuleArn"], Conditions=conditions, Actions=forward(green))["Rules"][0]
    assert (again["Conditions"], again["Actions"], again["Priority"]) == (conditions, [stored_forward(green)], "1")
    assert error_of(elb.modify_rule, RuleArn=rule["RuleArn"], Actions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": 1000}]}}]) == (
        "ValidationError", "The weight for each target group must be between 0 and 999, inclusive", 400)
    assert elb.describe_rules(RuleArns=[rule["RuleArn"]])["Rules"][0] == again  # unchanged by the failure
    assert error_of(elb.modify_rule, RuleArn=rule["RuleArn"], Transforms=[{"Type": "url-rewrite", "UrlRewriteConfig": {
        "Rewrites": [{"Regex": "^/a$", "Replace": "/b"}]}}]) == (
        "InvalidConfigurationRequest", "Rule transforms (host header and URL rewrites) are not supported by Turnout",
        400)


def test_default_rule_cannot_be_modified_deleted_or_reprioritised(elb: Any, listener: Callable[..., str]) -> None:
    arn = listener()
    default = elb.describe_rules(ListenerArn=arn)["Rules"][0]["RuleArn"]
    assert error_of(elb.modify_rule, RuleArn=default, Actions=FIXED) == (
        "OperationNotPermitted", f"Default rule '{default}' cannot be modified", 400)
    assert error_of(elb.delete_rule, RuleArn=default) == (
        "OperationNotPermitted", f"Default rule '{default}' cannot be deleted", 400)
    assert error_of(elb.set_rule_priorities, RulePriorities=[{"RuleArn": default, "Priority": 5}]) == (
        "OperationNotPermitted", f"Default rule '{default}' cannot be modified", 400)


def test_delete_rule(elb: Any, listener: Callable[..., str], make_tg: Callable[..., str]) -> None:
    arn = listener()
    tg = make_tg()
    rule = elb.create_rule(ListenerArn=arn, Priority=1, Conditions=PATH, Actions=forward(tg))["Rules"][0]["RuleArn"]
    assert error_of(elb.delete_target_group, TargetGroupArn=tg)[0] == "ResourceInUse"
    elb.delete_rule(RuleArn=rule)
    assert error_of(elb.delete_rule, RuleArn=rule) == ("RuleNotFound", "One or more rules not found", 400)
    assert elb.describe_target_groups(TargetGroupArns=[tg])["TargetGroups"][0]["LoadBalancerArns"] == []
    elb.delete_target_group(TargetGroupArn=tg)


def test_set_rule_priorities_is_atomic(elb: Any, listener: Callable[..., str]) -> None:
    arn = listener()
    one, two, three = (elb.create_rule(ListenerArn=arn, Priority=p, Conditions=[
        {"Field": "path-pattern", "Values": [f"/{p}"]}], Actions=FIXED)["Rules"][0]["RuleArn"] for p in (1, 2, 3))
    swapped = elb.set_rule_priorities(RulePriorities=[{"RuleArn": one, "Priority": 2},
                                                      {"RuleArn": two, "Priority": 1}])["Rules"]
    assert [(r["RuleArn"], r["Priority"]) for r in swapped] == [(one, "2"), (two, "1")]
    assert error_of(elb.set_rule_priorities, RulePriorities=[{"RuleArn": one, "Priority": 7},
                                                             {"RuleArn": two, "Priority": 7}]) == (
        "PriorityInUse", "Priority '7' is currently in use", 400)
    assert error_of(elb.set_rule_priorities, RulePriorities=[{"RuleArn": one, "Priority": 9},
                                                             {"RuleArn": two, "Priority": 3}]) == (
        "PriorityInUse", "Priority '3' is currently in use", 400)
    assert error_of(elb.set_rule_priorities, RulePriorities=[{"RuleArn": one, "Priority": 9},
                                                             {"RuleArn": one[:-16] + "0123456789abcdef",
                                                              "Priority": 8}]) == (
        "RuleNotFound", "One or more rules not found", 400)
    rules = elb.describe_rules(ListenerArn=arn)["Rules"]
    assert [(r["RuleArn"], r["Priority"]) for r in rules] == [(two, "1"), (one, "2"), (three, "3"),
                                                              (rules[-1]["RuleArn"], "default")]


# -- where rules are allowed, quotas -------------------------------------------------------------------------


def test_network_listeners_have_only_their_default_rule(elb: Any, listener: Callable[..., str],
                                                        make_tg: Callable[..., str]) -> None:
    tg = make_tg(Protocol="TCP")
    arn = listener("network", forward(tg))
    rules = elb.describe_rules(ListenerArn=arn)["Rules"]
    assert [(r["Priority"], r["IsDefault"]) for r in rules] == [("default", True)]
    assert ":listener-rule/net/" in rules[0]["RuleArn"]
    assert error_of(elb.create_rule, ListenerArn=arn, Priority=1, Conditions=PATH, Actions=forward(tg)) == (
        "InvalidConfigurationRequest", "Rules are not supported for listeners of load balancers of type 'network' "
        "by Turnout; change the listener's default actions instead", 400)


def test_too_many_rules_per_load_balancer(elb: Any, listener: Callable[..., str]) -> None:
    arn = listener()
    for priority in range(1, 101):
        elb.create_rule(ListenerArn=arn, Priority=priority, Conditions=PATH, Actions=FIXED)
    assert error_of(elb.create_rule, ListenerArn=arn, Priority=101, Conditions=PATH, Actions=FIXED) == (
        "TooManyRules", "You've reached the limit on the number of rules per load balancer.", 400)
    pages = elb.get_paginator("describe_rules").paginate(ListenerArn=arn, PaginationConfig={"PageSize": 40})
    priorities = [rule["Priority"] for page in pages for rule in page["Rules"]]
    assert priorities == [str(p) for p in range(1, 101)] + ["default"]


def test_rules_forward_only_to_suitable_target_groups(elb: Any, listener: Callable[..., str],
                                                      make_tg: Callable[..., str]) -> None:
    arn = listener()
    tcp = make_tg(Protocol="TCP")
    assert error_of(elb.create_rule, ListenerArn=arn, Priority=1, Conditions=PATH, Actions=forward(tcp)) == (
        "IncompatibleProtocols",
        f"Target group '{tcp}' has protocol 'TCP', which is not supported by load balancers of type 'application'", 400)
    shared = make_tg()
    elb.create_rule(ListenerArn=listener(), Priority=1, Conditions=PATH, Actions=forward(shared))
    assert error_of(elb.create_rule, ListenerArn=arn, Priority=1, Conditions=PATH, Actions=forward(shared)) == (
        "TargetGroupAssociationLimit",
        f"The following target groups cannot be associated with more than one load balancer: {shared}", 400)
    assert error_of(elb.create_rule, ListenerArn=arn[:-16] + "0123456789abcdef", Priority=1, Conditions=PATH,
                    Actions=FIXED) == ("ListenerNotFound", "One or more listeners not found", 400)
