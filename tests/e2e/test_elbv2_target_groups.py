"""ELBv2 target groups and targets with real boto3 clients against a real server: AWS's health check defaults per
protocol and target type, validation, idempotent creation, Describe filters, LoadBalancerArns from listeners,
attributes, deletion rules, and target registration rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, error_of
from turnout.store.db import Database

ACCOUNT = "000000000000"
TG_ARN = re.compile(r"^arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/[\w-]+/[0-9a-f]{16}$")



def attach(server: Server, elb: Any, lb_arn: str, tg_arn: str) -> str:
    """A listener on ``lb_arn`` forwarding to ``tg_arn``: CreateListener, or (until listeners are served) the row
    CreateListener writes."""
    try:
        listener: str = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": tg_arn}])["Listeners"][0]["ListenerArn"]
        return listener
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotImplemented":
            raise
    listener = lb_arn.replace(":loadbalancer/", ":listener/") + "/" + tg_arn[-16:]
    db = Database(server.data_dir / "turnout.db")
    try:
        with db.transaction():
            db.execute(
                "INSERT INTO elbv2_listeners (account_id, region, arn, load_balancer_arn, port, protocol, "
                "default_actions, extra, created_at) VALUES (?, 'us-east-1', ?, ?, 80, 'HTTP', ?, '{}', "
                "'2026-01-01T00:00:00+00:00')",
                (ACCOUNT, listener, lb_arn, f'[{{"Type":"forward","TargetGroupArn":"{tg_arn}"}}]'),
            )
    finally:
        db.close()
    return listener


def detach(server: Server, elb: Any, listener: str) -> None:
    try:
        elb.delete_listener(ListenerArn=listener)
        return
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotImplemented":
            raise
    db = Database(server.data_dir / "turnout.db")
    try:
        with db.transaction():
            db.execute("DELETE FROM elbv2_listeners WHERE arn = ?", (listener,))
    finally:
        db.close()








@pytest.fixture
def make_tg(elb: Any, network: dict[str, Any], cleanup: list[tuple[str, str]], unique: Callable[[str], str]
            ) -> Callable[..., dict[str, Any]]:
    def make(**kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("Name", unique("tg"))
        if kwargs.get("TargetType") != "lambda":
            kwargs.setdefault("Protocol", "HTTP")
            kwargs.setdefault("Port", 80)
            kwargs.setdefault("VpcId", network["vpc"])
        group: dict[str, Any] = elb.create_target_group(**kwargs)["TargetGroups"][0]
        cleanup.append(("tg", group["TargetGroupArn"]))
        return group

    return make


@pytest.fixture
def make_lb(elb: Any, network: dict[str, Any], cleanup: list[tuple[str, str]], unique: Callable[[str], str]
            ) -> Callable[..., dict[str, Any]]:
    def make(**kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("Name", unique("lb"))
        kwargs.setdefault("Subnets", network["ids"][:2])
        lb: dict[str, Any] = elb.create_load_balancer(**kwargs)["LoadBalancers"][0]
        cleanup.append(("lb", lb["LoadBalancerArn"]))
        return lb

    return make


# -- creation and AWS's defaults -----------------------------------------------------------------------------


def test_http_ip_target_group_defaults(network: dict[str, Any], make_tg: Callable[..., Any],
                                       unique: Callable[[str], str]) -> None:
    name = unique("web")
    group = make_tg(Name=name, TargetType="ip", Tags=[{"Key": "app", "Value": "web"}])
    assert TG_ARN.match(group["TargetGroupArn"]) and f":targetgroup/{name}/" in group["TargetGroupArn"]
    assert group == {
        "TargetGroupArn": group["TargetGroupArn"], "TargetGroupName": name, "Protocol": "HTTP", "Port": 80,
        "VpcId": network["vpc"], "HealthCheckProtocol": "HTTP", "HealthCheckPort": "traffic-port",
        "HealthCheckEnabled": True, "HealthCheckIntervalSeconds": 30, "HealthCheckTimeoutSeconds": 6,
        "HealthyThresholdCount": 5, "UnhealthyThresholdCount": 2, "HealthCheckPath": "/",
        "Matcher": {"HttpCode": "200"}, "LoadBalancerArns": [], "TargetType": "ip", "ProtocolVersion": "HTTP1",
        "IpAddressType": "ipv4"}


@pytest.mark.parametrize(("protocol", "extra", "expected"), [
    ("HTTPS", {}, {"HealthCheckProtocol": "HTTPS", "HealthCheckTimeoutSeconds": 10, "HealthCheckPath": "/",
                   "Matcher": {"HttpCode": "200"}, "ProtocolVersion": "HTTP1"}),
    ("HTTP", {"ProtocolVersion": "GRPC"}, {"HealthCheckProtocol": "HTTP", "HealthCheckPath": "/AWS.ALB/healthcheck",
                                           "Matcher": {"GrpcCode": "12"}, "ProtocolVersion": "GRPC"}),
    ("TCP", {}, {"HealthCheckProtocol": "TCP", "HealthCheckTimeoutSeconds": 10, "HealthCheckPath": None,
                 "Matcher": None, "ProtocolVersion": None}),
    ("TCP", {"HealthCheckProtocol": "HTTP"}, {"HealthCheckProtocol": "HTTP", "HealthCheckPath": "/",
                                              "Matcher": {"HttpCode": "200-399"}}),
    ("UDP", {}, {"HealthCheckProtocol": "TCP", "HealthCheckPort": "traffic-port", "HealthyThresholdCount": 5}),
])
def test_health_check_defaults_per_protocol(make_tg: Callable[..., Any], protocol: str, extra: dict[str, Any],
                                            expected: dict[str, Any]) -> None:
    group = make_tg(Protocol=protocol, Port=443 if protocol == "HTTPS" else 80, TargetType="ip", **extra)
    for key, value in expected.items():
        assert group.get(key) == value, key


def test_instance_is_the_default_target_type(make_tg: Callable[..., Any]) -> None:
    assert make_tg()["TargetType"] == "instance"


def test_an_empty_protocol_version_is_the_default(make_tg: Callable[..., Any]) -> None:
    """The Terraform provider sends ``ProtocolVersion=`` (empty) for an HTTP/HTTPS group without protocol_version:
    the group is HTTP1, as if the member were left out."""
    group = make_tg(TargetType="ip", ProtocolVersion="")
    assert group["ProtocolVersion"] == "HTTP1"
    assert group["HealthCheckPath"] == "/" and group["Matcher"] == {"HttpCode": "200"}


def test_lambda_target_group(make_tg: Callable[..., Any], unique: Callable[[str], str]) -> None:
    name = unique("fn")
    group = make_tg(Name=name, TargetType="lambda")
    assert group == {
        "TargetGroupArn": group["TargetGroupArn"], "TargetGroupName": name, "HealthCheckEnabled": False,
        "HealthCheckIntervalSeconds": 35, "HealthCheckTimeoutSeconds": 30, "HealthyThresholdCount": 5,
        "UnhealthyThresholdCount": 5, "HealthCheckPath": "/", "Matcher": {"HttpCode": "200"},
        "LoadBalancerArns": [], "TargetType": "lambda"}


@pytest.mark.parametrize(("kwargs", "code", "message"), [
    ({"Name": "t" * 33}, "ValidationError",
     "Target group name '" + "t" * 33 + "' cannot be longer than '32' characters"),
    ({"Name": "a.b"}, "ValidationError",
     "Target group name 'a.b' can only contain characters that are alphanumeric characters or hyphens(-)"),
    ({"HealthCheckEnabled": False}, "InvalidConfigurationRequest",
     "Health check enabled must be true for target groups with target type 'instance'"),
    ({"HealthCheckIntervalSeconds": 10, "HealthCheckTimeoutSeconds": 10}, "InvalidConfigurationRequest",
     "Health check timeout '10' must be smaller than the interval '10'"),
    ({"VpcId": "vpc-0123456789abcdef0"}, "ValidationError", "The VPC ID 'vpc-0123456789abcdef0' is not found"),
    ({"HealthCheckProtocol": "TCP"}, "InvalidConfigurationRequest",
     "Health check protocol 'TCP' is not supported for target groups with the 'HTTP' protocol"),
])
def test_create_validation(elb: Any, network: dict[str, Any], kwargs: dict[str, Any], code: str, message: str
                           ) -> None:
    request = {"Name": "valid-name", "Protocol": "HTTP", "Port": 80, "VpcId": network["vpc"], **kwargs}
    assert error_of(elb.create_target_group, **request) == (code, message, 400)


def test_create_validation_of_members(elb: Any, network: dict[str, Any]) -> None:
    code, message, _ = error_of(elb.create_target_group, Name="no-port", Protocol="HTTP", VpcId=network["vpc"])
    assert code == "ValidationError" and "port" in message
    code, _, _ = error_of(elb.create_target_group, Name="fn", TargetType="lambda", Port=80)
    assert code == "ValidationError"
    code, _, _ = error_of(elb.create_target_group, Name="tcp-path", Protocol="TCP", Port=80, VpcId=network["vpc"],
                          HealthCheckPath="/health")
    assert code == "InvalidConfigurationRequest"
    code, message, _ = error_of(elb.create_target_group, Name="bad-codes", Protocol="HTTP", Port=80,
                                VpcId=network["vpc"], Matcher={"HttpCode": "600"})
    assert code == "ValidationError" and "'600'" in message
    assert error_of(elb.describe_target_groups, Names=["no-port", "tcp-path", "bad-codes"]) == (
        "TargetGroupNotFound", "One or more target groups not found", 400)  # nothing was created


def test_create_is_idempotent_and_other_settings_are_a_duplicate(elb: Any, network: dict[str, Any],
                                                                 make_tg: Callable[..., Any],
                                                                 unique: Callable[[str], str]) -> None:
    name = unique("dup")
    first = make_tg(Name=name, TargetType="ip")
    again = elb.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=network["vpc"], TargetType="ip")
    assert again["TargetGroups"][0]["TargetGroupArn"] == first["TargetGroupArn"]
    assert error_of(elb.create_target_group, Name=name, Protocol="HTTP", Port=8080, VpcId=network["vpc"],
                    TargetType="ip") == (
        "DuplicateTargetGroupName", f"A target group with the same name '{name}' exists, but with different settings",
        400)


# -- describe, modify, delete --------------------------------------------------------------------------------


def test_describe_filters_and_pagination(elb: Any, make_tg: Callable[..., Any], unique: Callable[[str], str]
                                         ) -> None:
    prefix = unique("desc")
    names = [f"{prefix}-{i}" for i in range(3)]
    arns = [make_tg(Name=name)["TargetGroupArn"] for name in names]
    assert [g["TargetGroupName"] for g in elb.describe_target_groups(Names=names)["TargetGroups"]] == names
    assert [g["TargetGroupArn"] for g in elb.describe_target_groups(TargetGroupArns=arns[1:])["TargetGroups"]] \
        == arns[1:]
    page = elb.describe_target_groups(Names=names, PageSize=2)
    assert len(page["TargetGroups"]) == 2
    rest = elb.describe_target_groups(Names=names, PageSize=2, Marker=page["NextMarker"])
    assert [g["TargetGroupName"] for g in rest["TargetGroups"]] == names[2:] and "NextMarker" not in rest
    assert error_of(elb.describe_target_groups, Names=[unique("nope")]) == (
        "TargetGroupNotFound", "One or more target groups not found", 400)
    assert error_of(elb.describe_target_groups, TargetGroupArns=[arns[0][:-16] + "0123456789abcdef"]) == (
        "TargetGroupNotFound", "One or more target groups not found", 400)
    code, _, _ = error_of(elb.describe_target_groups, Names=names, TargetGroupArns=arns)
    assert code == "ValidationError"


def test_load_balancer_arns_come_from_listeners(server: Server, elb: Any, make_tg: Callable[..., Any],
                                                make_lb: Callable[..., Any]) -> None:
    group = make_tg(TargetType="ip")
    other = make_tg(TargetType="ip")
    lb = make_lb()
    assert elb.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])["TargetGroups"] == []
    listener = attach(server, elb, lb["LoadBalancerArn"], group["TargetGroupArn"])
    described = elb.describe_target_groups(TargetGroupArns=[group["TargetGroupArn"]])["TargetGroups"][0]
    assert described["LoadBalancerArns"] == [lb["LoadBalancerArn"]]
    by_lb = elb.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])["TargetGroups"]
    assert [g["TargetGroupArn"] for g in by_lb] == [group["TargetGroupArn"]]
    assert other["TargetGroupArn"] not in [g["TargetGroupArn"] for g in by_lb]
    assert error_of(elb.delete_target_group, TargetGroupArn=group["TargetGroupArn"]) == (
        "ResourceInUse", f"Target group '{group['TargetGroupArn']}' is currently in use by a listener or a rule", 400)
    detach(server, elb, listener)
    elb.delete_target_group(TargetGroupArn=group["TargetGroupArn"])
    assert error_of(elb.describe_target_groups, TargetGroupArns=[group["TargetGroupArn"]]) == (
        "TargetGroupNotFound", "One or more target groups not found", 400)
    elb.delete_target_group(TargetGroupArn=group["TargetGroupArn"])  # already gone: succeeds
    missing_lb = lb["LoadBalancerArn"][:-16] + "0123456789abcdef"
    assert error_of(elb.describe_target_groups, LoadBalancerArn=missing_lb) == (
        "LoadBalancerNotFound", "One or more load balancers not found", 400)


def test_modify_target_group(elb: Any, make_tg: Callable[..., Any]) -> None:
    arn = make_tg(TargetType="ip")["TargetGroupArn"]
    modified = elb.modify_target_group(TargetGroupArn=arn, HealthCheckPath="/health", HealthCheckIntervalSeconds=10,
                                       HealthyThresholdCount=2, Matcher={"HttpCode": "200-299"})["TargetGroups"][0]
    assert (modified["HealthCheckPath"], modified["HealthCheckIntervalSeconds"], modified["HealthyThresholdCount"],
            modified["Matcher"]) == ("/health", 10, 2, {"HttpCode": "200-299"})
    assert modified["HealthCheckTimeoutSeconds"] == 6
    assert error_of(elb.modify_target_group, TargetGroupArn=arn, HealthCheckTimeoutSeconds=20) == (
        "InvalidConfigurationRequest", "Health check timeout '20' must be smaller than the interval '10'", 400)
    assert error_of(elb.modify_target_group, TargetGroupArn=arn, HealthCheckEnabled=False) == (
        "InvalidConfigurationRequest", "Health check enabled must be true for target groups with target type 'ip'",
        400)
    assert elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]["HealthCheckPath"] == "/health"
    assert error_of(elb.modify_target_group, TargetGroupArn=arn[:-16] + "0123456789abcdef", HealthCheckPath="/") == (
        "TargetGroupNotFound", "One or more target groups not found", 400)


# -- attributes ----------------------------------------------------------------------------------------------


def attributes_of(elb: Any, arn: str) -> dict[str, str]:
    return {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]}


def test_attribute_defaults_per_type(elb: Any, make_tg: Callable[..., Any]) -> None:
    http = attributes_of(elb, make_tg(TargetType="ip")["TargetGroupArn"])
    assert http["deregistration_delay.timeout_seconds"] == "300"
    assert http["stickiness.enabled"] == "false" and http["stickiness.type"] == "lb_cookie"
    assert http["stickiness.lb_cookie.duration_seconds"] == "86400"
    assert http["load_balancing.algorithm.type"] == "round_robin"
    assert http["slow_start.duration_seconds"] == "0"
    assert "proxy_protocol_v2.enabled" not in http
    tcp_ip = attributes_of(elb, make_tg(TargetType="ip", Protocol="TCP")["TargetGroupArn"])
    assert tcp_ip["stickiness.type"] == "source_ip" and tcp_ip["preserve_client_ip.enabled"] == "false"
    assert tcp_ip["proxy_protocol_v2.enabled"] == "false"
    assert tcp_ip["deregistration_delay.connection_termination.enabled"] == "false"
    tcp_instance = attributes_of(elb, make_tg(Protocol="TCP")["TargetGroupArn"])
    assert tcp_instance["preserve_client_ip.enabled"] == "true"
    udp = attributes_of(elb, make_tg(TargetType="ip", Protocol="UDP")["TargetGroupArn"])
    assert udp["deregistration_delay.connection_termination.enabled"] == "true"
    assert attributes_of(elb, make_tg(TargetType="lambda")["TargetGroupArn"]) == {
        "lambda.multi_value_headers.enabled": "false"}


def test_modify_attributes(elb: Any, make_tg: Callable[..., Any]) -> None:
    arn = make_tg(TargetType="ip")["TargetGroupArn"]
    result = elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "30"},
        {"Key": "stickiness.enabled", "Value": "true"},
        {"Key": "stickiness.type", "Value": "app_cookie"},
        {"Key": "stickiness.app_cookie.cookie_name", "Value": "session"}])["Attributes"]
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "30"} in result
    assert attributes_of(elb, arn)["stickiness.app_cookie.cookie_name"] == "session"
    assert error_of(elb.modify_target_group_attributes, TargetGroupArn=arn, Attributes=[
        {"Key": "stickiness.app_cookie.cookie_name", "Value": ""}]) == (
        "InvalidConfigurationRequest", "You must set an application cookie name to enable stickiness of type "
                                       "'app_cookie'", 400)
    assert error_of(elb.modify_target_group_attributes, TargetGroupArn=arn, Attributes=[
        {"Key": "proxy_protocol_v2.enabled", "Value": "true"}]) == (
        "ValidationError", "Target group attribute key 'proxy_protocol_v2.enabled' is not recognized", 400)
    code, message, _ = error_of(elb.modify_target_group_attributes, TargetGroupArn=arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "3601"}])
    assert code == "ValidationError" and "0 to 3600" in message
    code, message, _ = error_of(elb.modify_target_group_attributes, TargetGroupArn=arn, Attributes=[
        {"Key": "slow_start.duration_seconds", "Value": "10"}])
    assert code == "ValidationError" and "30 to 900" in message
    assert attributes_of(elb, arn)["deregistration_delay.timeout_seconds"] == "30"
    tcp = make_tg(TargetType="ip", Protocol="TCP")["TargetGroupArn"]
    assert error_of(elb.modify_target_group_attributes, TargetGroupArn=tcp, Attributes=[
        {"Key": "stickiness.type", "Value": "lb_cookie"}]) == (
        "InvalidConfigurationRequest", "Stickiness type 'lb_cookie' is not supported for target groups with the TCP "
                                       "protocol", 400)


# -- registering targets -------------------------------------------------------------------------------------


def test_ip_target_rules(elb: Any, network: dict[str, Any], make_tg: Callable[..., Any]) -> None:
    arn = make_tg(TargetType="ip")["TargetGroupArn"]
    zone = network["subnets"][0]["AvailabilityZone"]
    assert error_of(elb.register_targets, TargetGroupArn=arn, Targets=[{"Id": "10.99.0.1"}]) == (
        "ValidationError", "You must specify a valid Availability Zone or select 'all' for all enabled Availability "
                           "zones, since the IP address '10.99.0.1' is outside the VPC", 400)
    assert error_of(elb.register_targets, TargetGroupArn=arn, Targets=[{"Id": "172.31.0.9",
                                                                          "AvailabilityZone": "all"}]) == (
        "ValidationError", f"The IP address '172.31.0.9' is within the VPC, and cannot have its Availability Zone "
                           f"overridden to 'all' from '{zone}'", 400)
    code, message, _ = error_of(elb.register_targets, TargetGroupArn=arn, Targets=[{"Id": "8.8.8.8"}])
    assert code == "InvalidTarget" and "'8.8.8.8' is not in a valid range" in message
    code, _, _ = error_of(elb.register_targets, TargetGroupArn=arn, Targets=[{"Id": "i-0123456789abcdef0"}])
    assert code == "ValidationError"
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "172.31.0.9"}, {"Id": "10.99.0.1",
                                                                            "AvailabilityZone": "all"}])
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "172.31.0.9"}])  # again: nothing changes
    targets = [d["Target"] for d in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]]
    assert sorted(targets, key=lambda t: t["Id"]) == [{"Id": "10.99.0.1", "Port": 80, "AvailabilityZone": "all"},
                                                      {"Id": "172.31.0.9", "Port": 80, "AvailabilityZone": zone}]
    assert error_of(elb.register_targets, TargetGroupArn=arn[:-16] + "0123456789abcdef",
                    Targets=[{"Id": "172.31.0.9"}]) == (
        "TargetGroupNotFound", "One or more target groups not found", 400)


def test_instance_targets_need_running_instances(elb: Any, make_tg: Callable[..., Any]) -> None:
    arn = make_tg()["TargetGroupArn"]
    assert error_of(elb.register_targets, TargetGroupArn=arn, Targets=[{"Id": "10.0.0.1"}]) == (
        "ValidationError", "Instance ID '10.0.0.1' is not valid", 400)
    assert error_of(elb.register_targets, TargetGroupArn=arn, Targets=[
        {"Id": "i-0123456789abcdef0"}, {"Id": "i-0123456789abcdef1"}]) == (
        "InvalidTarget", "The following targets are not in a running state and cannot be registered: "
                         "'i-0123456789abcdef0', 'i-0123456789abcdef1'", 400)


def test_lambda_and_alb_targets(elb: Any, make_tg: Callable[..., Any], make_lb: Callable[..., Any]) -> None:
    fn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:handler"
    arn = make_tg(TargetType="lambda")["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": fn}])
    description = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"][0]
    assert description["Target"] == {"Id": fn}
    assert description["TargetHealth"]["State"] == "unused"
    code, _, _ = error_of(elb.register_targets, TargetGroupArn=arn, Targets=[{"Id": fn + "-other"}])
    assert code == "TooManyTargets"
    alb = make_lb()["LoadBalancerArn"]
    tg = make_tg(TargetType="alb", Protocol="TCP", Port=80)["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": alb}])
    assert [d["Target"]["Id"] for d in elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]] \
        == [alb]
    code, _, _ = error_of(elb.register_targets, TargetGroupArn=tg, Targets=[{"Id": alb[:-16] + "0123456789abcdef"}])
    assert code == "InvalidTarget"


def test_too_many_targets(elb: Any, make_tg: Callable[..., Any]) -> None:
    arn = make_tg(TargetType="ip")["TargetGroupArn"]
    targets = [{"Id": f"172.31.{i // 250}.{i % 250 + 1}"} for i in range(1001)]
    code, _, _ = error_of(elb.register_targets, TargetGroupArn=arn, Targets=targets)
    assert code == "TooManyTargets"
    assert elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"] == []  # nothing half-written
    elb.register_targets(TargetGroupArn=arn, Targets=targets[:1000])
    assert len(elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]) == 1000
