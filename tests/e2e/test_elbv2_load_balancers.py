"""ELBv2 load balancers with real boto3 clients against a real server: creation on the EC2 network, AWS's names,
ids, DNS names and errors, Describe filters and pagination, subnets, security groups, IP address types,
attributes, tags, account limits, SSL policies, deletion, and IAM enforcement."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, error_of, grant
from turnout.store.db import Database

ACCOUNT = "000000000000"
LB_ARN = re.compile(r"^arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/(app|net)/[\w-]+/[0-9a-f]{16}$")





@pytest.fixture(scope="module")
def ec2(server: Server) -> Any:
    return server.client("ec2")


@pytest.fixture(scope="module")
def network(ec2: Any) -> dict[str, Any]:
    """The default VPC, its subnets in zone order and its default security group."""
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])
    group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]},
                                                  {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    return {"vpc": vpc["VpcId"], "subnets": subnets, "ids": [s["SubnetId"] for s in subnets],
            "group": group["GroupId"]}


@pytest.fixture
def created(elb: Any) -> Iterator[list[str]]:
    """ARNs of load balancers a test creates; deleted afterwards (the 50-per-region quota is shared)."""
    arns: list[str] = []
    yield arns
    for arn in arns:
        try:
            elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
                {"Key": "deletion_protection.enabled", "Value": "false"}])
            elb.delete_load_balancer(LoadBalancerArn=arn)
        except ClientError:
            pass


@pytest.fixture
def make_lb(elb: Any, network: dict[str, Any], created: list[str], unique: Callable[[str], str]
            ) -> Callable[..., dict[str, Any]]:
    def make(**kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("Name", unique("lb"))
        if "SubnetMappings" not in kwargs:
            kwargs.setdefault("Subnets", network["ids"][:2])
        lb: dict[str, Any] = elb.create_load_balancer(**kwargs)["LoadBalancers"][0]
        created.append(lb["LoadBalancerArn"])
        return lb

    return make


# -- create --------------------------------------------------------------------------------------------------


def test_create_application_load_balancer(elb: Any, network: dict[str, Any], make_lb: Callable[..., Any],
                                          unique: Callable[[str], str]) -> None:
    name = unique("alb")
    lb = make_lb(Name=name, Tags=[{"Key": "team", "Value": "blue"}])
    arn = lb["LoadBalancerArn"]
    assert LB_ARN.match(arn) and f":loadbalancer/app/{name}/" in arn
    lb_id = arn.rsplit("/", 1)[1]
    assert lb["DNSName"] == f"{name}-{lb_id}.us-east-1.elb.localhost"
    assert lb["CanonicalHostedZoneId"] == "Z35SXDOTRQ7X7K"
    assert lb["LoadBalancerName"] == name
    assert lb["Scheme"] == "internet-facing" and lb["Type"] == "application" and lb["IpAddressType"] == "ipv4"
    assert lb["VpcId"] == network["vpc"]
    assert lb["State"] == {"Code": "provisioning"}
    assert lb["CreatedTime"].tzinfo is not None
    assert lb["SecurityGroups"] == [network["group"]]  # the VPC's default group when none is named
    assert lb["AvailabilityZones"] == [
        {"ZoneName": s["AvailabilityZone"], "SubnetId": s["SubnetId"], "LoadBalancerAddresses": []}
        for s in network["subnets"][:2]]
    described = elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
    assert described["State"] == {"Code": "active"}
    assert {k: v for k, v in described.items() if k != "State"} == {k: v for k, v in lb.items() if k != "State"}
    elb.get_waiter("load_balancer_available").wait(LoadBalancerArns=[arn])
    assert elb.describe_tags(ResourceArns=[arn])["TagDescriptions"] == [
        {"ResourceArn": arn, "Tags": [{"Key": "team", "Value": "blue"}]}]


def test_create_internal_network_load_balancer(elb: Any, network: dict[str, Any], make_lb: Callable[..., Any],
                                               unique: Callable[[str], str]) -> None:
    name = unique("nlb")
    subnet = network["subnets"][0]
    lb = make_lb(Name=name, Type="network", Scheme="internal",
                 SubnetMappings=[{"SubnetId": subnet["SubnetId"], "PrivateIPv4Address": "172.31.0.100"}])
    assert f":loadbalancer/net/{name}/" in lb["LoadBalancerArn"]
    assert lb["DNSName"] == f"internal-{name}-{lb['LoadBalancerArn'][-16:]}.us-east-1.elb.localhost"
    assert lb["CanonicalHostedZoneId"] == "Z26RNL4JYFTOTI"
    assert lb["Scheme"] == "internal" and lb["Type"] == "network"
    assert "SecurityGroups" not in lb  # a network load balancer has none unless named
    assert lb["AvailabilityZones"] == [{"ZoneName": subnet["AvailabilityZone"], "SubnetId": subnet["SubnetId"],
                                        "LoadBalancerAddresses": [{"PrivateIPv4Address": "172.31.0.100"}]}]


def test_create_is_idempotent_and_a_name_with_other_settings_is_a_duplicate(
        elb: Any, network: dict[str, Any], make_lb: Callable[..., Any], unique: Callable[[str], str]) -> None:
    name = unique("idem")
    first = make_lb(Name=name)
    again = elb.create_load_balancer(Name=name, Subnets=network["ids"][:2])["LoadBalancers"][0]
    assert again["LoadBalancerArn"] == first["LoadBalancerArn"]
    assert error_of(elb.create_load_balancer, Name=name, Subnets=network["ids"][:2], Scheme="internal") == (
        "DuplicateLoadBalancerName", f"A load balancer with the same name '{name}' exists, but with different settings",
        400)
    assert len(elb.describe_load_balancers(Names=[name])["LoadBalancers"]) == 1


@pytest.mark.parametrize(("name", "message"), [
    ("a" * 33, "The load balancer name '" + "a" * 33 + "' cannot be longer than '32' characters"),
    ("internal-web", "Load balancer name 'internal-web' cannot begin with 'internal-'"),
    ("web_1", "The load balancer name 'web_1' can only contain characters that are alphanumeric characters and "
              "hyphens(-)"),
    ("web-", "The load balancer name 'web-' cannot begin or end with a hyphen(-)"),
])
def test_invalid_names(elb: Any, network: dict[str, Any], name: str, message: str) -> None:
    assert error_of(elb.create_load_balancer, Name=name, Subnets=network["ids"][:2]) == (
        "ValidationError", message, 400)


def test_subnet_rules(elb: Any, ec2: Any, network: dict[str, Any], unique: Callable[[str], str]) -> None:
    name = unique("subnets")
    assert error_of(elb.create_load_balancer, Name=name, Subnets=network["ids"][:1]) == (
        "ValidationError", "At least two subnets in two different Availability Zones must be specified", 400)
    assert error_of(elb.create_load_balancer, Name=name, Subnets=[network["ids"][0], "subnet-0123456789abcdef0"]) == (
        "SubnetNotFound", "The subnet ID 'subnet-0123456789abcdef0' is not valid", 400)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    zone = network["subnets"][0]["AvailabilityZone"]
    same_zone = [ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
                 for cidr in ("10.20.1.0/24", "10.20.2.0/24")]
    assert error_of(elb.create_load_balancer, Name=name, Subnets=same_zone) == (
        "InvalidConfigurationRequest",
        "A load balancer cannot be attached to multiple subnets in the same Availability Zone", 400)
    assert error_of(elb.create_load_balancer, Name=name, Subnets=[same_zone[0], network["ids"][1]]) == (
        "InvalidConfigurationRequest", "All subnets must belong to the same VPC", 400)
    assert all(lb["LoadBalancerName"] != name for lb in elb.describe_load_balancers()["LoadBalancers"])


def test_security_group_rules(elb: Any, ec2: Any, network: dict[str, Any], make_lb: Callable[..., Any],
                              unique: Callable[[str], str]) -> None:
    name = unique("sg")
    assert error_of(elb.create_load_balancer, Name=name, Subnets=network["ids"][:2],
                    SecurityGroups=["sg-0123456789abcdef0"]) == (
        "InvalidSecurityGroup", "The security group 'sg-0123456789abcdef0' does not exist", 400)
    other_vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_security_group(GroupName=unique("g"), Description="other", VpcId=other_vpc)["GroupId"]
    assert error_of(elb.create_load_balancer, Name=name, Subnets=network["ids"][:2], SecurityGroups=[foreign]) == (
        "InvalidConfigurationRequest", f"Security group '{foreign}' does not belong to VPC '{network['vpc']}'", 400)
    mine = ec2.create_security_group(GroupName=unique("g"), Description="web", VpcId=network["vpc"])["GroupId"]
    lb = make_lb(Name=name, SecurityGroups=[mine])
    assert lb["SecurityGroups"] == [mine]
    result = elb.set_security_groups(LoadBalancerArn=lb["LoadBalancerArn"], SecurityGroups=[mine, network["group"]])
    assert result["SecurityGroupIds"] == [mine, network["group"]]
    assert elb.describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]])["LoadBalancers"][0][
        "SecurityGroups"] == [mine, network["group"]]
    # EC2 refuses to delete a group a load balancer uses.
    code, _, _ = error_of(ec2.delete_security_group, GroupId=mine)
    assert code == "DependencyViolation"
    nlb = make_lb(Type="network", Subnets=network["ids"][:1])
    assert error_of(elb.set_security_groups, LoadBalancerArn=nlb["LoadBalancerArn"], SecurityGroups=[mine]) == (
        "InvalidConfigurationRequest", "You cannot set security groups on a Network Load Balancer which was created "
                                       "without any security groups", 400)


def test_gateway_load_balancers_are_refused_clearly(elb: Any, network: dict[str, Any]) -> None:
    code, message, status = error_of(elb.create_load_balancer, Name="gwlb", Type="gateway",
                                     Subnets=network["ids"][:1])
    assert (code, status) == ("InvalidConfigurationRequest", 400)
    assert "Gateway Load Balancers are not supported" in message


def test_ip_address_type(elb: Any, make_lb: Callable[..., Any]) -> None:
    lb = make_lb(IpAddressType="dualstack")
    assert lb["IpAddressType"] == "dualstack"
    arn = lb["LoadBalancerArn"]
    assert elb.set_ip_address_type(LoadBalancerArn=arn, IpAddressType="ipv4")["IpAddressType"] == "ipv4"
    nlb = make_lb(Type="network")
    code, _, _ = error_of(elb.set_ip_address_type, LoadBalancerArn=nlb["LoadBalancerArn"],
                          IpAddressType="dualstack-without-public-ipv4")
    assert code == "InvalidConfigurationRequest"
    assert elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["IpAddressType"] == "ipv4"


def test_set_subnets(elb: Any, network: dict[str, Any], make_lb: Callable[..., Any]) -> None:
    lb = make_lb()
    arn = lb["LoadBalancerArn"]
    result = elb.set_subnets(LoadBalancerArn=arn, Subnets=network["ids"][:3])
    assert [z["SubnetId"] for z in result["AvailabilityZones"]] == network["ids"][:3]
    assert result["IpAddressType"] == "ipv4"
    assert error_of(elb.set_subnets, LoadBalancerArn=arn, Subnets=network["ids"][2:3]) == (
        "ValidationError", "At least two subnets in two different Availability Zones must be specified", 400)
    described = elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
    assert [z["SubnetId"] for z in described["AvailabilityZones"]] == network["ids"][:3]


# -- describe ------------------------------------------------------------------------------------------------


def test_describe_filters_pagination_and_errors(elb: Any, make_lb: Callable[..., Any], unique: Callable[[str], str]
                                                ) -> None:
    prefix = unique("page")
    names = [f"{prefix}-{i}" for i in range(3)]
    arns = [make_lb(Name=name)["LoadBalancerArn"] for name in names]
    by_name = elb.describe_load_balancers(Names=names[::-1])["LoadBalancers"]
    assert sorted(lb["LoadBalancerName"] for lb in by_name) == names
    first = elb.describe_load_balancers(Names=names, PageSize=2)
    assert [lb["LoadBalancerName"] for lb in first["LoadBalancers"]] == names[:2]
    second = elb.describe_load_balancers(Names=names, PageSize=2, Marker=first["NextMarker"])
    assert [lb["LoadBalancerName"] for lb in second["LoadBalancers"]] == names[2:]
    assert "NextMarker" not in second
    paginated = [lb["LoadBalancerArn"] for page in elb.get_paginator("describe_load_balancers").paginate(
        PaginationConfig={"PageSize": 1}) for lb in page["LoadBalancers"]]
    assert set(arns) <= set(paginated) and len(paginated) == len(set(paginated))
    assert error_of(elb.describe_load_balancers, Names=[names[0], unique("missing")]) == (
        "LoadBalancerNotFound", "One or more load balancers not found", 400)
    missing = arns[0][:-16] + "0123456789abcdef"
    assert error_of(elb.describe_load_balancers, LoadBalancerArns=[missing]) == (
        "LoadBalancerNotFound", "One or more load balancers not found", 400)
    assert error_of(elb.describe_load_balancers, LoadBalancerArns=["not-an-arn"]) == (
        "ValidationError", "'not-an-arn' is not a valid load balancer ARN", 400)
    assert error_of(elb.describe_load_balancers, Names=names[:1], LoadBalancerArns=arns[:1]) == (
        "ValidationError", "Load balancer names and load balancer ARNs cannot be specified at the same time", 400)
    code, _, status = error_of(elb.describe_load_balancers, PageSize=401)
    assert (code, status) == ("ValidationError", 400)


def test_load_balancers_are_per_region(server: Server, make_lb: Callable[..., Any]) -> None:
    arn = make_lb()["LoadBalancerArn"]
    west = server.client("elbv2", region="us-west-2")
    assert error_of(west.describe_load_balancers, LoadBalancerArns=[arn]) == (
        "LoadBalancerNotFound", "One or more load balancers not found", 400)


# -- attributes ----------------------------------------------------------------------------------------------


def test_application_attributes_defaults_and_modification(elb: Any, make_lb: Callable[..., Any]) -> None:
    arn = make_lb()["LoadBalancerArn"]
    attributes = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=arn)[
        "Attributes"]}
    assert attributes["idle_timeout.timeout_seconds"] == "60"
    assert attributes["deletion_protection.enabled"] == "false"
    assert attributes["routing.http2.enabled"] == "true"
    assert attributes["routing.http.desync_mitigation_mode"] == "defensive"
    assert attributes["load_balancing.cross_zone.enabled"] == "true"
    assert attributes["client_keep_alive.seconds"] == "3600"
    assert attributes["access_logs.s3.enabled"] == "false" and attributes["access_logs.s3.bucket"] == ""
    changed = elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "idle_timeout.timeout_seconds", "Value": "120"},
        {"Key": "routing.http.xff_header_processing.mode", "Value": "preserve"}])["Attributes"]
    assert {"Key": "idle_timeout.timeout_seconds", "Value": "120"} in changed
    assert {"Key": "routing.http.xff_header_processing.mode", "Value": "preserve"} in changed
    assert len(changed) == len(attributes)
    assert error_of(elb.modify_load_balancer_attributes, LoadBalancerArn=arn, Attributes=[
        {"Key": "no.such.key", "Value": "1"}]) == (
        "ValidationError", "Load balancer attribute key 'no.such.key' is not recognized", 400)
    code, message, _ = error_of(elb.modify_load_balancer_attributes, LoadBalancerArn=arn, Attributes=[
        {"Key": "idle_timeout.timeout_seconds", "Value": "0"}])
    assert code == "ValidationError" and "idle_timeout.timeout_seconds" in message and "1 to 4000" in message
    code, _, _ = error_of(elb.modify_load_balancer_attributes, LoadBalancerArn=arn, Attributes=[
        {"Key": "access_logs.s3.enabled", "Value": "true"}])
    assert code == "InvalidConfigurationRequest"
    # A network load balancer's attribute (the Terraform provider drops the key on either answer and retries).
    assert error_of(elb.modify_load_balancer_attributes, LoadBalancerArn=arn, Attributes=[
        {"Key": "dns_record.client_routing_policy", "Value": "any_availability_zone"}]) == (
        "InvalidConfigurationRequest", "Load balancer attribute key 'dns_record.client_routing_policy' is not "
        "supported on load balancers with type 'application'", 400)
    after = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]}
    assert after["idle_timeout.timeout_seconds"] == "120" and after["access_logs.s3.enabled"] == "false"


def test_network_attributes_defaults(elb: Any, make_lb: Callable[..., Any]) -> None:
    arn = make_lb(Type="network", Scheme="internal")["LoadBalancerArn"]
    attributes = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=arn)[
        "Attributes"]}
    assert attributes["load_balancing.cross_zone.enabled"] == "false"
    assert attributes["dns_record.client_routing_policy"] == "any_availability_zone"
    assert attributes["ipv6.deny_all_igw_traffic"] == "true"  # internal
    assert "idle_timeout.timeout_seconds" not in attributes
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "load_balancing.cross_zone.enabled", "Value": "true"}])
    assert error_of(elb.modify_load_balancer_attributes, LoadBalancerArn=arn, Attributes=[
        {"Key": "idle_timeout.timeout_seconds", "Value": "60"}])[:2] == (
        "InvalidConfigurationRequest", "Load balancer attribute key 'idle_timeout.timeout_seconds' is not supported "
        "on load balancers with type 'network'")


def test_no_capacity_reservation(elb: Any, make_lb: Callable[..., Any]) -> None:
    """DescribeCapacityReservation (the Terraform provider reads it on every refresh): Turnout reserves no
    capacity, so the answer has no zones and no minimum capacity."""
    for kwargs in ({}, {"Type": "network", "Scheme": "internal"}):
        arn = make_lb(**kwargs)["LoadBalancerArn"]
        answer = elb.describe_capacity_reservation(LoadBalancerArn=arn)
        answer.pop("ResponseMetadata")
        assert answer == {"CapacityReservationState": []}
    gone = arn[:-16] + "0" * 16
    assert error_of(elb.describe_capacity_reservation, LoadBalancerArn=gone) == (
        "LoadBalancerNotFound", "One or more load balancers not found", 400)


# -- delete --------------------------------------------------------------------------------------------------


def test_delete_removes_listeners_rules_and_tags(server: Server, elb: Any, make_lb: Callable[..., Any]) -> None:
    lb = make_lb(Tags=[{"Key": "a", "Value": "b"}])
    arn = lb["LoadBalancerArn"]
    listener = arn.replace(":loadbalancer/", ":listener/") + "/0123456789abcdef"
    rule = listener.replace(":listener/", ":listener-rule/") + "/fedcba9876543210"
    db = Database(server.data_dir / "turnout.db")
    try:
        with db.transaction():
            db.execute("INSERT INTO elbv2_listeners (account_id, region, arn, load_balancer_arn, port, protocol, "
                       "default_actions, extra, created_at) VALUES (?, 'us-east-1', ?, ?, 80, 'HTTP', '[]', '{}', "
                       "'2026-01-01T00:00:00+00:00')", (ACCOUNT, listener, arn))
            db.execute("INSERT INTO elbv2_rules (account_id, region, arn, listener_arn, priority, is_default, "
                       "conditions, actions, created_at) VALUES (?, 'us-east-1', ?, ?, 10, 0, '[]', '[]', "
                       "'2026-01-01T00:00:00+00:00')", (ACCOUNT, rule, listener))
        elb.add_tags(ResourceArns=[listener, rule], Tags=[{"Key": "k", "Value": "v"}])
        elb.delete_load_balancer(LoadBalancerArn=arn)
        assert db.scalar("SELECT COUNT(*) FROM elbv2_listeners WHERE arn = ?", (listener,)) == 0
        assert db.scalar("SELECT COUNT(*) FROM elbv2_rules WHERE arn = ?", (rule,)) == 0
        assert db.scalar("SELECT COUNT(*) FROM elbv2_tags WHERE resource_arn IN (?, ?, ?)",
                         (arn, listener, rule)) == 0
    finally:
        db.close()
    assert error_of(elb.describe_load_balancers, LoadBalancerArns=[arn]) == (
        "LoadBalancerNotFound", "One or more load balancers not found", 400)
    elb.delete_load_balancer(LoadBalancerArn=arn)  # already gone: succeeds


def test_deletion_protection(elb: Any, make_lb: Callable[..., Any]) -> None:
    arn = make_lb()["LoadBalancerArn"]
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "true"}])
    assert error_of(elb.delete_load_balancer, LoadBalancerArn=arn) == (
        "OperationNotPermitted", f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled",
        400)
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "false"}])
    elb.delete_load_balancer(LoadBalancerArn=arn)


# -- tags, limits, SSL policies ------------------------------------------------------------------------------


def test_tags(elb: Any, make_lb: Callable[..., Any]) -> None:
    arn = make_lb()["LoadBalancerArn"]
    elb.add_tags(ResourceArns=[arn], Tags=[{"Key": "b", "Value": "1"}, {"Key": "a", "Value": "2"}])
    elb.add_tags(ResourceArns=[arn], Tags=[{"Key": "b", "Value": "3"}])
    assert elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"] == [
        {"Key": "b", "Value": "3"}, {"Key": "a", "Value": "2"}]
    elb.remove_tags(ResourceArns=[arn], TagKeys=["b", "absent"])
    assert elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"] == [{"Key": "a", "Value": "2"}]
    assert error_of(elb.add_tags, ResourceArns=[arn], Tags=[{"Key": "x", "Value": "1"}, {"Key": "x", "Value": "2"}]
                    ) == ("DuplicateTagKeys", "Tag key 'x' was specified more than once", 400)
    assert error_of(elb.add_tags, ResourceArns=[arn], Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)]) == (
        "TooManyTags", "You've reached the limit on the number of tags for this resource.", 400)
    assert len(elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]) == 1  # nothing half-written
    elb.add_tags(ResourceArns=[arn], Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
    missing = arn[:-16] + "0123456789abcdef"
    assert error_of(elb.describe_tags, ResourceArns=[missing]) == (
        "LoadBalancerNotFound", "One or more load balancers not found", 400)
    code, _, _ = error_of(elb.describe_tags, ResourceArns=[arn] * 1 + [f"{missing[:-1]}{i}" for i in range(20)])
    assert code == "ValidationError"
    code, _, _ = error_of(elb.add_tags, ResourceArns=[arn], Tags=[{"Key": "bad key!", "Value": "v"}])
    assert code == "ValidationError"


def test_account_limits(elb: Any) -> None:
    limits = {limit["Name"]: limit["Max"] for page in elb.get_paginator("describe_account_limits").paginate(
        PaginationConfig={"PageSize": 5}) for limit in page["Limits"]}
    assert limits["application-load-balancers"] == "50"
    assert limits["target-groups"] == "3000"
    assert limits["targets-per-application-load-balancer"] == "1000"
    assert limits["rules-per-application-load-balancer"] == "100"
    assert len(limits) == 18


def test_ssl_policies(elb: Any) -> None:
    policies = elb.describe_ssl_policies()["SslPolicies"]
    names = [p["Name"] for p in policies]
    assert "ELBSecurityPolicy-TLS13-1-2-2021-06" in names and "ELBSecurityPolicy-2016-08" in names
    tls13 = elb.describe_ssl_policies(Names=["ELBSecurityPolicy-TLS13-1-3-2021-06"])["SslPolicies"][0]
    assert tls13["SslProtocols"] == ["TLSv1.3"]
    assert tls13["Ciphers"][0] == {"Name": "TLS_AES_128_GCM_SHA256", "Priority": 1}
    assert error_of(elb.describe_ssl_policies, Names=["ELBSecurityPolicy-Nope"]) == (
        "SSLPolicyNotFound", "One or more SSL policies not found", 400)


# -- IAM -----------------------------------------------------------------------------------------------------


def test_create_load_balancer_is_authorized_on_its_future_arn(server: Server, iam: Any, network: dict[str, Any],
                                                              unique: Callable[[str], str]) -> None:
    user = unique("elb-user")
    user_arn = iam.create_user(UserName=user)["User"]["Arn"]
    key = iam.create_access_key(UserName=user)["AccessKey"]
    client = server.client("elbv2", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    name = unique("denied")
    assert error_of(client.create_load_balancer, Name=name, Subnets=network["ids"][:2]) == (
        "AccessDenied",
        f"User: {user_arn} is not authorized to perform: elasticloadbalancing:CreateLoadBalancer on resource: "
        f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/app/{name}/* because no identity-based "
        "policy allows the elasticloadbalancing:CreateLoadBalancer action", 403)
    grant(iam, ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer"], user=user,
          resource=f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/app/{name}/*")
    lb = client.create_load_balancer(Name=name, Subnets=network["ids"][:2])["LoadBalancers"][0]
    client.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])


def test_resource_tags_are_condition_keys(server: Server, iam: Any, elb: Any, make_lb: Callable[..., Any],
                                          unique: Callable[[str], str]) -> None:
    user = unique("tagged-user")
    user_arn = iam.create_user(UserName=user)["User"]["Arn"]
    iam.put_user_policy(UserName=user, PolicyName="blue-only", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "elasticloadbalancing:AddTags", "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    client = server.client("elbv2", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    blue = make_lb(Tags=[{"Key": "team", "Value": "blue"}])["LoadBalancerArn"]
    red = make_lb(Tags=[{"Key": "team", "Value": "red"}])["LoadBalancerArn"]
    client.add_tags(ResourceArns=[blue], Tags=[{"Key": "owner", "Value": user}])
    assert {"Key": "owner", "Value": user} in elb.describe_tags(ResourceArns=[blue])["TagDescriptions"][0]["Tags"]
    assert error_of(client.add_tags, ResourceArns=[red], Tags=[{"Key": "owner", "Value": user}]) == (
        "AccessDenied",
        f"User: {user_arn} is not authorized to perform: elasticloadbalancing:AddTags on resource: {red} because no "
        "identity-based policy allows the elasticloadbalancing:AddTags action", 403)
