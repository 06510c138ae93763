"""ELBv2 listeners with real boto3 clients against a real server: protocols per load balancer type, certificates and
security policies, default actions as AWS stores and returns them (forward, weighted forward, redirect,
fixed-response), the default rule, target group rules (type, protocol, VPC, one load balancer), Describe paging,
ModifyListener, DeleteListener, attributes, certificate lists, tags, quotas, and the target groups' view."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Server, error_of
from turnout.store.db import Database

ACCOUNT = "000000000000"
LISTENER_ARN = re.compile(
    r"^arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/(app|net)/[\w-]+/[0-9a-f]{16}/[0-9a-f]{16}$")
RULE_ARN = re.compile(r"^arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/(app|net)/[\w-]+/"
                      r"[0-9a-f]{16}/[0-9a-f]{16}/[0-9a-f]{16}$")
CERT = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555"
CERT2 = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/66666666-7777-8888-9999-000000000000"



def forward(tg_arn: str) -> list[dict[str, Any]]:
    return [{"Type": "forward", "TargetGroupArn": tg_arn}]


def stored_forward(tg_arn: str, weight: int = 1) -> dict[str, Any]:
    """What AWS returns for a forward to one target group."""
    return {"Type": "forward", "TargetGroupArn": tg_arn, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": tg_arn, "Weight": weight}],
        "TargetGroupStickinessConfig": {"Enabled": False}}}




@pytest.fixture(scope="module")
def raw(server: Server) -> Any:
    """A client that does not validate parameters itself, so the server's validation answers."""
    return server.client("elbv2", parameter_validation=False)






@pytest.fixture
def make_tg(elb: Any, network: dict[str, Any], cleanup: list[tuple[str, str]], unique: Callable[[str], str]
            ) -> Callable[..., str]:
    def make(**kwargs: Any) -> str:
        kwargs.setdefault("Name", unique("tg"))
        if kwargs.get("TargetType") != "lambda":
            kwargs.setdefault("Protocol", "HTTP")
            kwargs.setdefault("Port", 80)
            kwargs.setdefault("VpcId", network["vpc"])
        arn: str = elb.create_target_group(**kwargs)["TargetGroups"][0]["TargetGroupArn"]
        cleanup.append(("tg", arn))
        return arn

    return make


@pytest.fixture
def make_lb(elb: Any, network: dict[str, Any], cleanup: list[tuple[str, str]], unique: Callable[[str], str]
            ) -> Callable[..., str]:
    def make(**kwargs: Any) -> str:
        kwargs.setdefault("Name", unique("lb"))
        kwargs.setdefault("Subnets", network["ids"][:2])
        arn: str = elb.create_load_balancer(**kwargs)["LoadBalancers"][0]["LoadBalancerArn"]
        cleanup.append(("lb", arn))
        return arn

    return make


# -- CreateListener ------------------------------------------------------------------------------------------


def test_http_listener_forward_and_its_default_rule(elb: Any, make_lb: Callable[..., str],
                                                    make_tg: Callable[..., str]) -> None:
    lb = make_lb()
    tg = make_tg(TargetType="ip")
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=forward(tg),
                                   Tags=[{"Key": "env", "Value": "prod"}])["Listeners"][0]
    arn = listener["ListenerArn"]
    assert LISTENER_ARN.match(arn) and arn.startswith(lb.replace(":loadbalancer/", ":listener/") + "/")
    assert listener == {"ListenerArn": arn, "LoadBalancerArn": lb, "Port": 80, "Protocol": "HTTP",
                        "DefaultActions": [stored_forward(tg)]}
    assert elb.describe_listeners(ListenerArns=[arn])["Listeners"] == [listener]
    rules = elb.describe_rules(ListenerArn=arn)["Rules"]
    assert len(rules) == 1 and RULE_ARN.match(rules[0]["RuleArn"])
    assert rules[0]["RuleArn"].startswith(arn.replace(":listener/", ":listener-rule/") + "/")
    assert rules[0] == {"RuleArn": rules[0]["RuleArn"], "Priority": "default", "Conditions": [],
                        "Actions": [stored_forward(tg)], "IsDefault": True}
    assert elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"] == [{"Key": "env", "Value": "prod"}]
    group = elb.describe_target_groups(TargetGroupArns=[tg])["TargetGroups"][0]
    assert group["LoadBalancerArns"] == [lb]


def test_target_health_leaves_unused_once_a_listener_forwards(elb: Any, make_lb: Callable[..., str],
                                                              make_tg: Callable[..., str]) -> None:
    lb = make_lb()
    tg = make_tg(TargetType="ip")
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "172.31.0.10"}])
    health = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0]["TargetHealth"]
    assert (health["State"], health["Reason"]) == ("unused", "Target.NotInUse")
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                                   DefaultActions=forward(tg))["Listeners"][0]["ListenerArn"]
    health = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0]["TargetHealth"]
    assert health["State"] in ("initial", "healthy")
    elb.delete_listener(ListenerArn=listener)
    health = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0]["TargetHealth"]
    assert (health["State"], health["Reason"]) == ("unused", "Target.NotInUse")
    assert elb.describe_target_groups(TargetGroupArns=[tg])["TargetGroups"][0]["LoadBalancerArns"] == []


def test_create_is_idempotent_and_a_port_is_taken_once(elb: Any, make_lb: Callable[..., str],
                                                       make_tg: Callable[..., str]) -> None:
    lb = make_lb()
    tg = make_tg()
    first = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=forward(tg))
    again = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=forward(tg))
    assert again["Listeners"] == first["Listeners"]
    assert error_of(elb.create_listener, LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]) == (
        "DuplicateListener", f"A listener already exists on this port for this load balancer '{lb}'", 400)
    assert len(elb.describe_listeners(LoadBalancerArn=lb)["Listeners"]) == 1


@pytest.mark.parametrize(("lb_type", "protocol", "message"), [
    ("application", "TCP", "Listener protocol 'TCP' must be one of 'HTTP, HTTPS'"),
    ("network", "HTTP", "Listener protocol 'HTTP' must be one of 'TLS, TCP, TCP_UDP, UDP'"),
])
def test_protocol_must_suit_the_load_balancer(elb: Any, make_lb: Callable[..., str], make_tg: Callable[..., str],
                                              lb_type: str, protocol: str, message: str) -> None:
    lb = make_lb(Type=lb_type)
    tg = make_tg(Protocol="TCP" if lb_type == "network" else "HTTP")
    assert error_of(elb.create_listener, LoadBalancerArn=lb, Protocol=protocol, Port=80,
                    DefaultActions=forward(tg)) == ("ValidationError", message, 400)


def test_port_range_and_missing_members(raw: Any, make_lb: Callable[..., str], make_tg: Callable[..., str]) -> None:
    lb = make_lb()
    tg = make_tg()
    code, message, status = error_of(raw.create_listener, LoadBalancerArn=lb, Protocol="HTTP", Port=0,
                                     DefaultActions=forward(tg))
    assert (code, status) == ("ValidationError", 400) and "greater than or equal to 1" in message
    code, message, status = error_of(raw.create_listener, LoadBalancerArn=lb, Protocol="HTTP", Port=65536,
                                     DefaultActions=forward(tg))
    assert (code, status) == ("ValidationError", 400) and "less than or equal to 65535" in message
    assert error_of(raw.create_listener, LoadBalancerArn=lb, Protocol="HTTP", DefaultActions=forward(tg)) == (
        "ValidationError", "A listener port must be specified", 400)
    assert error_of(raw.create_listener, LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[]) == (
        "ValidationError", "At least one action must be specified", 400)
    missing = lb[:-16] + "0123456789abcdef"
    assert error_of(raw.create_listener, LoadBalancerArn=missing, Protocol="HTTP", Port=80,
                    DefaultActions=forward(tg)) == ("LoadBalancerNotFound", "One or more load balancers not found", 400)


def test_https_listener_certificate_and_policy(elb: Any, make_lb: Callable[..., str], make_tg: Callable[..., str]
                                               ) -> None:
    lb = make_lb()
    tg = make_tg()
    assert error_of(elb.create_listener, LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                    DefaultActions=forward(tg)) == (
        "ValidationError", "A certificate must be specified for HTTPS listeners", 400)
    assert error_of(elb.create_listener, LoadBalancerArn=lb, Protocol="HTTPS", Port=443, DefaultActions=forward(tg),
                    Certificates=[{"CertificateArn": "not-a-certificate"}]) == (
        "CertificateNotFound", "Certificate 'not-a-certificate' not found", 400)
    assert error_of(elb.create_listener, LoadBalancerArn=lb, Protocol="HTTPS", Port=443, DefaultActions=forward(tg),
                    Certificates=[{"CertificateArn": CERT}], SslPolicy="ELBSecurityPolicy-Nope") == (
        "SSLPolicyNotFound", "SSL policy 'ELBSecurityPolicy-Nope' not found", 400)
    assert error_of(elb.create_listener, LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=forward(tg),
                    SslPolicy="ELBSecurityPolicy-2016-08") == (
        "ValidationError", "An SSL policy cannot be specifed for HTTP listeners", 400)
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, DefaultActions=forward(tg),
                                   Certificates=[{"CertificateArn": CERT}])["Listeners"][0]
    assert listener["Certificates"] == [{"CertificateArn": CERT}]
    assert listener["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    iam_cert = f"arn:aws:iam::{ACCOUNT}:server-certificate/site"
    tls = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=8443, DefaultActions=forward(tg),
                              Certificates=[{"CertificateArn": iam_cert}], SslPolicy="ELBSecurityPolicy-2016-08")
    assert tls["Listeners"][0]["SslPolicy"] == "ELBSecurityPolicy-2016-08"


def test_listener_certificate_list(elb: Any, make_lb: Callable[..., str], make_tg: Callable[..., str]) -> None:
    lb = make_lb()
    tg = make_tg()
    arn = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, DefaultActions=forward(tg),
                              Certificates=[{"CertificateArn": CERT}])["Listeners"][0]["ListenerArn"]
    assert elb.add_listener_certificates(ListenerArn=arn, Certificates=[{"CertificateArn": CERT2}])[
        "Certificates"] == [{"CertificateArn": CERT2, "IsDefault": False}]
    elb.add_listener_certificates(ListenerArn=arn, Certificates=[{"CertificateArn": CERT2}])  # not added twice
    assert elb.describe_listener_certificates(ListenerArn=arn)["Certificates"] == [
        {"CertificateArn": CERT, "IsDefault": True}, {"CertificateArn": CERT2, "IsDefault": False}]
    assert error_of(elb.remove_listener_certificates, ListenerArn=arn, Certificates=[{"CertificateArn": CERT}]) == (
        "OperationNotPermitted", "The default certificate of a listener cannot be removed; use ModifyListener to "
        "replace it", 400)
    assert error_of(elb.add_listener_certificates, ListenerArn=arn, Certificates=[{"CertificateArn": "x"}]) == (
        "CertificateNotFound", "Certificate 'x' not found", 400)
    elb.remove_listener_certificates(ListenerArn=arn, Certificates=[{"CertificateArn": CERT2}])
    assert elb.describe_listener_certificates(ListenerArn=arn)["Certificates"] == [
        {"CertificateArn": CERT, "IsDefault": True}]


# -- default actions -----------------------------------------------------------------------------------------


def test_redirect_and_fixed_response_as_aws_returns_them(elb: Any, make_lb: Callable[..., str]) -> None:
    lb = make_lb()
    redirect = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    assert redirect["Listeners"][0]["DefaultActions"] == [{"Type": "redirect", "RedirectConfig": {
        "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}",
        "StatusCode": "HTTP_301"}}]
    fixed = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=81, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503", "ContentType": "text/plain",
                                                           "MessageBody": "down for maintenance"}}])
    assert fixed["Listeners"][0]["DefaultActions"] == [{"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": "503", "ContentType": "text/plain", "MessageBody": "down for maintenance"}}]


def test_weighted_forward_with_stickiness(elb: Any, make_lb: Callable[..., str], make_tg: Callable[..., str]
                                          ) -> None:
    lb = make_lb()
    blue, green = make_tg(TargetType="ip"), make_tg(TargetType="ip")
    config = {"TargetGroups": [{"TargetGroupArn": blue, "Weight": 80}, {"TargetGroupArn": green, "Weight": 20}],
              "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 3600}}
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "ForwardConfig": config}])["Listeners"][0]
    assert listener["DefaultActions"] == [{"Type": "forward", "ForwardConfig": config}]
    single = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=81, DefaultActions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": blue, "Weight": 7}]}}])
    assert single["Listeners"][0]["DefaultActions"] == [stored_forward(blue, 7)]
    for group in (blue, green):
        assert elb.describe_target_groups(TargetGroupArns=[group])["TargetGroups"][0]["LoadBalancerArns"] == [lb]


def weighted(*groups: str, weights: tuple[int | None, ...] = ()) -> list[dict[str, Any]]:
    tuples = [{"TargetGroupArn": g, **({"Weight": w} if w is not None else {})}
              for g, w in zip(groups, weights or (1,) * len(groups), strict=True)]
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": tuples}}]


def test_action_validation(elb: Any, raw: Any, make_lb: Callable[..., str], make_tg: Callable[..., str]) -> None:
    lb = make_lb()
    a, b = make_tg(), make_tg()
    weight = ("ValidationError", "The weight for each target group must be between 0 and 999, inclusive", 400)

    def create(actions: list[dict[str, Any]], client: Any = elb) -> tuple[str, str, int]:
        return error_of(client.create_listener, LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=actions)

    assert create(weighted(a, b, weights=(1000, 1))) == weight
    assert create(weighted(a, b, weights=(None, None))) == weight
    assert create(weighted(a, b, weights=(-1, 1)), raw) == weight
    many = [make_tg() for _ in range(6)]
    assert create(weighted(*many)) == (
        "ValidationError", "You cannot specify more than 5 target groups in a forward action", 400)
    assert create(weighted(a, a)) == (
        "ValidationError", f"Target group '{a}' is specified more than once in the forward action", 400)
    assert create([{"Type": "forward", "TargetGroupArn": a, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": b, "Weight": 1}]}}])[0] == "ValidationError"
    assert create([{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": a, "Weight": 1}],
                                                         "TargetGroupStickinessConfig": {"Enabled": True}}}]) == (
        "ValidationError", "A stickiness duration must be specified when target group stickiness is enabled", 400)
    assert create([{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": a, "Weight": 1}],
        "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 604801}}}]) == (
        "ValidationError", "The target group stickiness duration must be between 1 and 604800 seconds", 400)
    assert create([{"Type": "forward"}]) == (
        "InvalidLoadBalancerAction",
        "For actions of type 'forward', you must specify one of the following fields: 'TargetGroupArn', "
        "'ForwardConfig'", 400)
    assert create([{"Type": "redirect"}]) == (
        "InvalidLoadBalancerAction", "For actions of type 'redirect', you must specify the following fields: "
        "'RedirectConfig'", 400)
    assert create([{"Type": "fixed-response"}]) == (
        "InvalidLoadBalancerAction", "For actions of type 'fixed-response', you must specify the following fields: "
        "'FixedResponseConfig'", 400)
    assert create([{"Type": "redirect", "RedirectConfig": {"StatusCode": "HTTP_302"}}]) == (
        "InvalidLoadBalancerAction", "The redirect action must change at least one of the following: protocol, "
        "port, host, path or query", 400)
    assert create([{"Type": "redirect", "RedirectConfig": {"Path": "no-slash", "StatusCode": "HTTP_302"}}]) == (
        "ValidationError", "The redirect path 'no-slash' must start with a '/'", 400)
    assert create([{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200",
                                                                      "ContentType": "image/png"}}]) == (
        "ValidationError", "Content type 'image/png' must be one of 'text/plain, text/css, text/html, "
        "application/javascript, application/json'", 400)
    code, message, status = create([{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "302"}}], raw)
    assert (code, status) == ("ValidationError", 400) and "regular expression pattern" in message
    assert create([{"Type": "forward", "TargetGroupArn": a, "RedirectConfig": {"StatusCode": "HTTP_301"}}]) == (
        "InvalidLoadBalancerAction",
        "For actions of type 'forward', you cannot specify the following fields: 'RedirectConfig'", 400)
    assert create([{"Type": "forward", "TargetGroupArn": a, "Order": 1},
                   {"Type": "fixed-response", "Order": 2, "FixedResponseConfig": {"StatusCode": "200"}}]) == (
        "InvalidLoadBalancerAction",
        "You can specify only one action of type 'forward', 'redirect' or 'fixed-response'", 400)
    assert create([{"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": {
        "Issuer": "https://idp", "AuthorizationEndpoint": "https://idp/a", "TokenEndpoint": "https://idp/t",
        "UserInfoEndpoint": "https://idp/u", "ClientId": "c", "ClientSecret": "s"}},
        {"Type": "forward", "TargetGroupArn": a, "Order": 2}]) == (
        "InvalidConfigurationRequest", "Actions of type 'authenticate-oidc' are not supported by Turnout: it has no "
        "identity provider to authenticate requests against", 400)
    assert create(forward(a[:-16] + "0123456789abcdef")) == (
        "TargetGroupNotFound", "One or more target groups not found", 400)
    assert create(forward("not-an-arn"))[0] == "ValidationError"
    assert elb.describe_listeners(LoadBalancerArn=lb)["Listeners"] == []  # nothing was half-written


def test_target_groups_must_suit_the_load_balancer(server: Server, elb: Any, make_lb: Callable[..., str],
                                                   make_tg: Callable[..., str], unique: Callable[[str], str]) -> None:
    alb, nlb = make_lb(), make_lb(Type="network")
    tcp, http, udp = make_tg(Protocol="TCP"), make_tg(), make_tg(Protocol="UDP", TargetType="ip")
    fn = make_tg(TargetType="lambda")
    assert error_of(elb.create_listener, LoadBalancerArn=alb, Protocol="HTTP", Port=80,
                    DefaultActions=forward(tcp)) == (
        "IncompatibleProtocols",
        f"Target group '{tcp}' has protocol 'TCP', which is not supported by load balancers of type 'application'", 400)
    assert error_of(elb.create_listener, LoadBalancerArn=nlb, Protocol="TCP", Port=80,
                    DefaultActions=forward(udp)) == (
        "IncompatibleProtocols",
        f"Target group '{udp}' has protocol 'UDP', which is not compatible with listener protocol 'TCP'", 400)
    assert error_of(elb.create_listener, LoadBalancerArn=nlb, Protocol="TCP", Port=80,
                    DefaultActions=forward(fn)) == (
        "InvalidConfigurationRequest",
        f"Target group '{fn}' has target type 'lambda', which is not supported by load balancers of type 'network'",
        400)
    assert error_of(elb.create_listener, LoadBalancerArn=nlb, Protocol="TCP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}]) == (
        "InvalidLoadBalancerAction", "Actions of type 'fixed-response' are not supported for load balancers of type "
        "'network'", 400)
    assert elb.create_listener(LoadBalancerArn=nlb, Protocol="UDP", Port=53, DefaultActions=forward(udp))[
        "Listeners"][0]["Protocol"] == "UDP"
    elb.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80, DefaultActions=forward(fn))  # lambda: ALB
    vpc = server.client("ec2").create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    elsewhere = make_tg(VpcId=vpc)
    assert error_of(elb.create_listener, LoadBalancerArn=alb, Protocol="HTTP", Port=81,
                    DefaultActions=forward(elsewhere)) == (
        "InvalidConfigurationRequest", f"Target group '{elsewhere}' is in a different VPC than load balancer '{alb}'",
        400)
    other = make_lb()
    elb.create_listener(LoadBalancerArn=other, Protocol="HTTP", Port=80, DefaultActions=forward(http))
    assert error_of(elb.create_listener, LoadBalancerArn=alb, Protocol="HTTP", Port=82,
                    DefaultActions=weighted(http, fn)) == (
        "TargetGroupAssociationLimit",
        f"The following target groups cannot be associated with more than one load balancer: {http}", 400)
    elb.create_listener(LoadBalancerArn=other, Protocol="HTTP", Port=81, DefaultActions=forward(http))  # same LB


def test_network_listeners_tls_and_weighted_forward(elb: Any, make_lb: Callable[..., str],
                                                    make_tg: Callable[..., str]) -> None:
    nlb = make_lb(Type="network")
    tcp, tls = make_tg(Protocol="TCP", TargetType="ip"), make_tg(Protocol="TLS", TargetType="ip")
    listener = elb.create_listener(LoadBalancerArn=nlb, Protocol="TLS", Port=443, DefaultActions=weighted(
        tcp, tls, weights=(100, 0)), Certificates=[{"CertificateArn": CERT}], AlpnPolicy=["HTTP2Preferred"])
    shown = listener["Listeners"][0]
    assert LISTENER_ARN.match(shown["ListenerArn"]) and ":listener/net/" in shown["ListenerArn"]
    assert shown["AlpnPolicy"] == ["HTTP2Preferred"] and shown["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    rule = elb.describe_rules(ListenerArn=shown["ListenerArn"])["Rules"][0]
    assert ":listener-rule/net/" in rule["RuleArn"] and rule["IsDefault"] is True
    assert error_of(elb.create_listener, LoadBalancerArn=nlb, Protocol="TLS", Port=8443, DefaultActions=forward(tcp),
                    Certificates=[{"CertificateArn": CERT}], AlpnPolicy=["HTTP3"]) == (
        "ALPNPolicyNotFound", "ALPN policy 'HTTP3' not found", 400)


# -- describe, modify, delete --------------------------------------------------------------------------------


def test_describe_listeners_paging_and_errors(elb: Any, make_lb: Callable[..., str], make_tg: Callable[..., str]
                                              ) -> None:
    lb = make_lb()
    tg = make_tg()
    arns = [elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=port, DefaultActions=forward(tg))[
        "Listeners"][0]["ListenerArn"] for port in (8080, 80, 443)]
    first = elb.describe_listeners(LoadBalancerArn=lb, PageSize=2)
    assert [item["Port"] for item in first["Listeners"]] == [80, 443]
    rest = elb.describe_listeners(LoadBalancerArn=lb, PageSize=2, Marker=first["NextMarker"])
    assert [item["Port"] for item in rest["Listeners"]] == [8080] and "NextMarker" not in rest
    pages = elb.get_paginator("describe_listeners").paginate(LoadBalancerArn=lb, PaginationConfig={"PageSize": 1})
    assert sorted(item["ListenerArn"] for page in pages for item in page["Listeners"]) == sorted(arns)
    assert error_of(elb.describe_listeners, ListenerArns=[arns[0][:-16] + "0123456789abcdef"]) == (
        "ListenerNotFound", "One or more listeners not found", 400)
    assert error_of(elb.describe_listeners) == (
        "ValidationError", "You must specify either listener ARNs or a load balancer ARN", 400)
    assert error_of(elb.describe_listeners, LoadBalancerArn=lb, ListenerArns=arns)[0] == "ValidationError"
    assert error_of(elb.describe_listeners, LoadBalancerArn=lb[:-16] + "0123456789abcdef") == (
        "LoadBalancerNotFound", "One or more load balancers not found", 400)


def test_modify_listener(elb: Any, make_lb: Callable[..., str], make_tg: Callable[..., str]) -> None:
    lb = make_lb()
    blue, green = make_tg(TargetType="ip"), make_tg(TargetType="ip")
    arn = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                              DefaultActions=forward(blue))["Listeners"][0]["ListenerArn"]
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=81, DefaultActions=forward(blue))
    assert error_of(elb.modify_listener, ListenerArn=arn, Port=81) == (
        "ValidationError", "Listener port '81' is already in use", 400)
    actions = weighted(blue, green, weights=(90, 10))
    modified = elb.modify_listener(ListenerArn=arn, Port=8080, DefaultActions=actions)["Listeners"][0]
    expected = [{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": 90}, {"TargetGroupArn": green, "Weight": 10}],
        "TargetGroupStickinessConfig": {"Enabled": False}}}]
    assert (modified["Port"], modified["DefaultActions"]) == (8080, expected)
    default_rule = elb.describe_rules(ListenerArn=arn)["Rules"][0]
    assert default_rule["IsDefault"] and default_rule["Actions"] == expected  # the default rule follows
    assert error_of(elb.modify_listener, ListenerArn=arn, Protocol="HTTPS") == (
        "ValidationError", "A certificate must be specified for HTTPS listeners", 400)
    secure = elb.modify_listener(ListenerArn=arn, Protocol="HTTPS", Port=443,
                                 Certificates=[{"CertificateArn": CERT}])["Listeners"][0]
    assert (secure["Protocol"], secure["Certificates"], secure["SslPolicy"]) == (
        "HTTPS", [{"CertificateArn": CERT}], "ELBSecurityPolicy-TLS13-1-2-2021-06")
    plain = elb.modify_listener(ListenerArn=arn, Protocol="HTTP", Port=80)["Listeners"][0]
    assert "Certificates" not in plain and "SslPolicy" not in plain  # HTTPS to HTTP drops both
    assert error_of(elb.modify_listener, ListenerArn=arn, Protocol="TCP") == (
        "ValidationError", "Listener protocol 'TCP' must be one of 'HTTP, HTTPS'", 400)
    assert error_of(elb.modify_listener, ListenerArn=arn + "0")[0] == "ValidationError"
    assert error_of(elb.modify_listener, ListenerArn=arn[:-16] + "0123456789abcdef") == (
        "ListenerNotFound", "One or more listeners not found", 400)


def test_delete_listener_takes_its_rules_and_frees_the_target_groups(elb: Any, make_lb: Callable[..., str],
                                                                     make_tg: Callable[..., str]) -> None:
    lb = make_lb()
    blue, green = make_tg(TargetType="ip"), make_tg(TargetType="ip")
    arn = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                              DefaultActions=forward(blue))["Listeners"][0]["ListenerArn"]
    rule = elb.create_rule(ListenerArn=arn, Priority=1, Conditions=[{"Field": "path-pattern", "Values": ["/g/*"]}],
                           Actions=forward(green), Tags=[{"Key": "k", "Value": "v"}])["Rules"][0]["RuleArn"]
    assert error_of(elb.delete_target_group, TargetGroupArn=green) == (
        "ResourceInUse", f"Target group '{green}' is currently in use by a listener or a rule", 400)
    elb.delete_listener(ListenerArn=arn)
    assert error_of(elb.describe_rules, RuleArns=[rule]) == ("RuleNotFound", "One or more rules not found", 400)
    assert error_of(elb.describe_tags, ResourceArns=[rule]) == ("RuleNotFound", "One or more rules not found", 400)
    assert error_of(elb.delete_listener, ListenerArn=arn) == (
        "ListenerNotFound", "One or more listeners not found", 400)
    elb.delete_target_group(TargetGroupArn=green)
    elb.delete_target_group(TargetGroupArn=blue)


def test_too_many_listeners(server: Server, elb: Any, make_lb: Callable[..., str]) -> None:
    lb = make_lb()
    fixed = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}]
    for port in range(1000, 1050):
        elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=port, DefaultActions=fixed)
    assert error_of(elb.create_listener, LoadBalancerArn=lb, Protocol="HTTP", Port=2000, DefaultActions=fixed) == (
        "TooManyListeners", "You've reached the limit on the number of listeners per load balancer.", 400)
    db = Database(server.data_dir / "turnout.db")
    try:
        assert db.scalar("SELECT COUNT(*) FROM elbv2_rules r JOIN elbv2_listeners l ON l.arn = r.listener_arn "
                         "WHERE l.load_balancer_arn = ?", (lb,)) == 50  # one default rule each, nothing more
    finally:
        db.close()


# -- attributes ----------------------------------------------------------------------------------------------


def test_listener_attributes(elb: Any, raw: Any, make_lb: Callable[..., str], make_tg: Callable[..., str]) -> None:
    alb, nlb = make_lb(), make_lb(Type="network")
    http = elb.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80,
                               DefaultActions=forward(make_tg()))["Listeners"][0]["ListenerArn"]
    tcp = elb.create_listener(LoadBalancerArn=nlb, Protocol="TCP", Port=80,
                              DefaultActions=forward(make_tg(Protocol="TCP")))["Listeners"][0]["ListenerArn"]
    values = {a["Key"]: a["Value"] for a in elb.describe_listener_attributes(ListenerArn=http)["Attributes"]}
    assert values["routing.http.response.server.enabled"] == "true"
    assert values["routing.http.response.strict_transport_security.header_value"] == ""
    changed = elb.modify_listener_attributes(ListenerArn=http, Attributes=[
        {"Key": "routing.http.response.server.enabled", "Value": "false"}])["Attributes"]
    assert {"Key": "routing.http.response.server.enabled", "Value": "false"} in changed
    assert elb.describe_listener_attributes(ListenerArn=tcp)["Attributes"] == [
        {"Key": "tcp.idle_timeout.seconds", "Value": "350"}]
    assert error_of(elb.modify_listener_attributes, ListenerArn=tcp, Attributes=[
        {"Key": "tcp.idle_timeout.seconds", "Value": "59"}]) == (
        "ValidationError", "Listener attribute 'tcp.idle_timeout.seconds' value '59' is not valid: it must be an "
        "integer from 60 to 6000", 400)
    assert error_of(elb.modify_listener_attributes, ListenerArn=tcp, Attributes=[
        {"Key": "routing.http.response.server.enabled", "Value": "false"}]) == (
        "ValidationError", "Listener attribute key 'routing.http.response.server.enabled' is not recognized", 400)
