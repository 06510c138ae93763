"""Security groups and their rules with boto3: create, describe, delete, authorize and revoke ingress and egress,
DescribeSecurityGroupRules, and AWS's errors (duplicates, unknown rules, the default group, dependencies, bad
protocols, ports and CIDR blocks, the rules quota)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.conftest import Server, error_of


@pytest.fixture
def account() -> str:
    return "3" + "".join(secrets.choice("0123456789") for _ in range(11))


@pytest.fixture
def ec2(server: Server, account: str) -> Any:
    """The EC2 client of a fresh account."""
    return server.client("ec2", key=account)


@pytest.fixture
def vpc_id(ec2: Any) -> str:
    vpc: str = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return vpc



def group_of(ec2: Any, group_id: str) -> dict[str, Any]:
    found: dict[str, Any] = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    return found


def tcp(port: int, *cidrs: str, description: str | None = None) -> dict[str, Any]:
    ranges = [{"CidrIp": c, **({"Description": description} if description else {})} for c in cidrs]
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": ranges}


def test_create_security_group(ec2: Any, account: str, vpc_id: str) -> None:
    created = ec2.create_security_group(GroupName="web", Description="Web servers", VpcId=vpc_id, TagSpecifications=[
        {"ResourceType": "security-group", "Tags": [{"Key": "team", "Value": "blue"}]}])
    group_id = created["GroupId"]
    assert re.fullmatch(r"sg-[0-9a-f]{17}", group_id)
    assert created["SecurityGroupArn"] == f"arn:aws:ec2:us-east-1:{account}:security-group/{group_id}"
    assert created["Tags"] == [{"Key": "team", "Value": "blue"}]
    group = group_of(ec2, group_id)
    assert (group["GroupName"], group["Description"], group["VpcId"], group["OwnerId"]) == (
        "web", "Web servers", vpc_id, account)
    assert group["IpPermissions"] == []
    assert group["IpPermissionsEgress"] == [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                                             "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}]
    assert group["Tags"] == [{"Key": "team", "Value": "blue"}]

    # Without a VPC id the group goes to the default VPC.
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    in_default = ec2.create_security_group(GroupName="web", Description="same name, other VPC")["GroupId"]
    assert group_of(ec2, in_default)["VpcId"] == default_vpc


def test_create_security_group_errors(ec2: Any, vpc_id: str) -> None:
    ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc_id)
    duplicate = ("InvalidGroup.Duplicate", f"The security group 'web' already exists for VPC '{vpc_id}'", 400)
    assert error_of(ec2.create_security_group, GroupName="web", Description="again", VpcId=vpc_id) == duplicate
    assert error_of(ec2.create_security_group, GroupName="WEB", Description="x", VpcId=vpc_id) == (
        "InvalidGroup.Duplicate", f"The security group 'WEB' already exists for VPC '{vpc_id}'", 400)
    assert error_of(ec2.create_security_group, GroupName="default", Description="x", VpcId=vpc_id)[0] == (
        "InvalidGroup.Duplicate")
    assert error_of(ec2.create_security_group, GroupName="sg-web", Description="x", VpcId=vpc_id) == (
        "InvalidParameterValue", "Value (sg-web) for parameter GroupName is invalid. Group names may not be in the "
        "format sg-*.", 400)
    assert error_of(ec2.create_security_group, GroupName="web\u00e9", Description="x", VpcId=vpc_id)[0] == (
        "InvalidParameterValue")
    assert error_of(ec2.create_security_group, GroupName="x" * 256, Description="x", VpcId=vpc_id)[0] == (
        "InvalidParameterValue")
    assert error_of(ec2.create_security_group, GroupName="db", Description="x", VpcId="vpc-0123456789abcdef0") == (
        "InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist", 400)
    assert error_of(ec2.create_security_group, GroupName="db", Description="x", VpcId=vpc_id, TagSpecifications=[
        {"ResourceType": "security-group", "Tags": [{"Key": "aws:cloudformation:stack", "Value": "x"}]}]) == (
        "InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use", 400)


def test_the_default_group_cannot_be_deleted(ec2: Any, vpc_id: str) -> None:
    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                    {"Name": "group-name", "Values": ["default"]}])
    group_id = default["SecurityGroups"][0]["GroupId"]
    message = f'the specified group: "{group_id}" name: "default" cannot be deleted by a user'
    assert error_of(ec2.delete_security_group, GroupId=group_id) == ("CannotDelete", message, 400)
    default_vpc_group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    assert error_of(ec2.delete_security_group, GroupName="default") == (
        "CannotDelete", f'the specified group: "{default_vpc_group}" name: "default" cannot be deleted by a user', 400)


def test_delete_security_group_by_id_and_by_name(ec2: Any, vpc_id: str) -> None:
    group_id = ec2.create_security_group(GroupName="tmp", Description="tmp", VpcId=vpc_id)["GroupId"]
    assert ec2.delete_security_group(GroupId=group_id)["Return"] is True
    not_found = ("InvalidGroup.NotFound", f"The security group '{group_id}' does not exist", 400)
    assert error_of(ec2.describe_security_groups, GroupIds=[group_id]) == not_found
    assert error_of(ec2.delete_security_group, GroupId=group_id) == not_found
    assert error_of(ec2.delete_security_group, GroupId="web") == (
        "InvalidGroupId.Malformed", 'Invalid id: "web" (expecting "sg-...")', 400)

    named = ec2.create_security_group(GroupName="by-name", Description="default VPC")["GroupId"]
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    assert ec2.describe_security_groups(GroupNames=["by-name"])["SecurityGroups"][0]["GroupId"] == named
    assert ec2.delete_security_group(GroupName="by-name")["GroupId"] == named
    message = f"The security group 'by-name' does not exist in default VPC '{default_vpc}'"
    assert error_of(ec2.delete_security_group, GroupName="by-name") == ("InvalidGroup.NotFound", message, 400)
    assert error_of(ec2.describe_security_groups, GroupNames=["by-name"]) == ("InvalidGroup.NotFound", message, 400)


def test_authorize_ingress_and_describe_the_rules(ec2: Any, account: str, vpc_id: str) -> None:
    group_id = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc_id)["GroupId"]
    added = ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
        tcp(443, "0.0.0.0/0", "10.1.0.0/16", description="HTTPS from anywhere"),
        {"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8100, "Ipv6Ranges": [{"CidrIpv6": "2001:DB8::/32"}]},
        {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
    ], TagSpecifications=[{"ResourceType": "security-group-rule", "Tags": [{"Key": "k", "Value": "v"}]}])
    assert added["Return"] is True
    rules = added["SecurityGroupRules"]
    assert len(rules) == 4
    first = rules[0]
    assert re.fullmatch(r"sgr-[0-9a-f]{17}", first["SecurityGroupRuleId"])
    assert first["SecurityGroupRuleArn"] == f"arn:aws:ec2:us-east-1:{account}:security-group-rule/" + (
        first["SecurityGroupRuleId"])
    assert (first["GroupId"], first["GroupOwnerId"], first["IsEgress"]) == (group_id, account, False)
    assert (first["IpProtocol"], first["FromPort"], first["ToPort"]) == ("tcp", 443, 443)
    assert first["CidrIpv4"] == "0.0.0.0/0"
    assert first["Description"] == "HTTPS from anywhere"
    assert first["Tags"] == [{"Key": "k", "Value": "v"}]
    assert rules[2]["CidrIpv6"] == "2001:db8::/32"
    assert (rules[3]["IpProtocol"], rules[3]["FromPort"], rules[3]["ToPort"]) == ("icmp", 8, -1)

    permissions = group_of(ec2, group_id)["IpPermissions"]
    assert permissions == [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Ipv6Ranges": [], "PrefixListIds": [],
         "UserIdGroupPairs": [], "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTPS from anywhere"},
                                              {"CidrIp": "10.1.0.0/16", "Description": "HTTPS from anywhere"}]},
        {"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8100, "IpRanges": [], "PrefixListIds": [],
         "UserIdGroupPairs": [], "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32"}]},
        {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "Ipv6Ranges": [], "PrefixListIds": [],
         "UserIdGroupPairs": [], "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
    ]
    described = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    ingress = [r["SecurityGroupRuleId"] for r in described["SecurityGroupRules"] if not r["IsEgress"]]
    assert sorted(ingress) == sorted(r["SecurityGroupRuleId"] for r in rules)
    egress = [r for r in described["SecurityGroupRules"] if r["IsEgress"]]
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIpv4"]) for r in egress] == [
        ("-1", -1, -1, "0.0.0.0/0")]
    one = ec2.describe_security_group_rules(SecurityGroupRuleIds=[first["SecurityGroupRuleId"]])
    assert one["SecurityGroupRules"] == [first]
    assert error_of(ec2.describe_security_group_rules, SecurityGroupRuleIds=["sgr-0123456789abcdef0"]) == (
        "InvalidSecurityGroupRuleId.NotFound", "The security group rule ID 'sgr-0123456789abcdef0' does not exist",
        400)
    by_port = ec2.describe_security_groups(Filters=[{"Name": "ip-permission.from-port", "Values": ["8000"]},
                                                    {"Name": "vpc-id", "Values": [vpc_id]}])
    assert [g["GroupId"] for g in by_port["SecurityGroups"]] == [group_id]


def test_authorize_errors(ec2: Any, vpc_id: str) -> None:
    group_id = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[tcp(22, "0.0.0.0/0")])
    assert error_of(ec2.authorize_security_group_ingress, GroupId=group_id, IpPermissions=[
        tcp(22, "0.0.0.0/0", description="again")]) == (
        "InvalidPermission.Duplicate",
        'the specified rule "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW" already exists', 400)
    assert error_of(ec2.authorize_security_group_egress, GroupId=group_id, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]) == (
        "InvalidPermission.Duplicate", 'the specified rule "peer: 0.0.0.0/0, ALL, ALLOW" already exists', 400)
    assert error_of(ec2.authorize_security_group_ingress, GroupId=group_id, IpPermissions=[
        tcp(80, "10.0.0.0/8"), tcp(80, "10.0.0.0/8")]) == (
        "InvalidParameterValue", "The same permission must not appear multiple times", 400)
    assert error_of(ec2.authorize_security_group_ingress, GroupId=group_id, IpPermissions=[
        {"IpProtocol": "all", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]) == (
        "InvalidParameterValue", "Invalid value 'all' for IP protocol. Unknown protocol.", 400)
    assert error_of(ec2.authorize_security_group_ingress, GroupId=group_id, IpPermissions=[
        {"IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]) == (
        "InvalidParameterValue", "Invalid value for portRange. Must specify both from and to ports with TCP/UDP.", 400)
    assert error_of(ec2.authorize_security_group_ingress, GroupId=group_id,
                    IpPermissions=[tcp(70000, "0.0.0.0/0")]) == (
        "InvalidParameterValue", "TCP/UDP (from) port (70000) out of range", 400)
    assert error_of(ec2.authorize_security_group_ingress, GroupId=group_id, IpPermissions=[tcp(80, "10.0.0.0/33")]) == (
        "InvalidParameterValue", "CIDR block 10.0.0.0/33 is malformed", 400)
    assert error_of(ec2.authorize_security_group_ingress, GroupId=group_id, IpPermissions=[
        tcp(80, "10.0.0.0/8", description="caf\u00e9")])[:2] == (
        "InvalidParameterValue", "Invalid rule description. Valid descriptions are strings less than 256 characters "
        "from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*")
    assert error_of(ec2.authorize_security_group_ingress, GroupId=group_id) == (
        "MissingParameter", "The request must contain the parameter ipPermissions", 400)
    assert error_of(ec2.authorize_security_group_ingress, GroupId="sg-0123456789abcdef0",
                    IpPermissions=[tcp(80, "0.0.0.0/0")]) == (
        "InvalidGroup.NotFound", "The security group 'sg-0123456789abcdef0' does not exist", 400)
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    stranger = ec2.create_security_group(GroupName="elsewhere", Description="x", VpcId=other_vpc)["GroupId"]
    assert error_of(ec2.authorize_security_group_ingress, GroupId=group_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2, "UserIdGroupPairs": [{"GroupId": stranger}]}]) == (
        "InvalidGroup.NotFound", "You have specified two resources that belong to different networks.", 400)
    # One call over the quota of 60 inbound rules adds nothing.
    many = [{"IpProtocol": "tcp", "FromPort": 1000 + n, "ToPort": 1000 + n, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
            for n in range(60)]
    assert error_of(ec2.authorize_security_group_ingress, GroupId=group_id, IpPermissions=many) == (
        "RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.", 400)
    assert len(group_of(ec2, group_id)["IpPermissions"]) == 1


def test_group_references_and_dependencies(ec2: Any, account: str, vpc_id: str) -> None:
    app = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc_id)["GroupId"]
    db = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc_id)["GroupId"]
    added = ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
         "UserIdGroupPairs": [{"GroupId": app, "Description": "from app"}]}])["SecurityGroupRules"][0]
    assert added["ReferencedGroupInfo"] == {"GroupId": app, "UserId": account}
    pairs = group_of(ec2, db)["IpPermissions"][0]["UserIdGroupPairs"]
    assert pairs == [{"GroupId": app, "UserId": account, "Description": "from app"}]
    filtered = ec2.describe_security_groups(Filters=[{"Name": "ip-permission.group-name", "Values": ["app"]}])
    assert [g["GroupId"] for g in filtered["SecurityGroups"]] == [db]

    assert error_of(ec2.delete_security_group, GroupId=app) == (
        "DependencyViolation", f"resource {app} has a dependent object", 400)
    revoked = ec2.revoke_security_group_ingress(GroupId=db, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": app}]}])
    assert revoked["Return"] is True
    assert revoked["RevokedSecurityGroupRules"] == [{
        "SecurityGroupRuleId": added["SecurityGroupRuleId"], "GroupId": db, "IsEgress": False, "IpProtocol": "tcp",
        "FromPort": 5432, "ToPort": 5432, "ReferencedGroupId": app, "Description": "from app"}]
    ec2.delete_security_group(GroupId=app)


def test_revoke_ingress_and_egress(ec2: Any, vpc_id: str) -> None:
    group_id = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc_id)["GroupId"]
    rules = ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
        tcp(80, "0.0.0.0/0"), tcp(443, "0.0.0.0/0")])["SecurityGroupRules"]
    missing = ("InvalidPermission.NotFound", "The specified rule does not exist in this security group.", 400)
    assert error_of(ec2.revoke_security_group_ingress, GroupId=group_id,
                    IpPermissions=[tcp(80, "0.0.0.0/0"), tcp(8080, "0.0.0.0/0")]) == missing
    assert len(group_of(ec2, group_id)["IpPermissions"]) == 2  # nothing revoked by the refused call

    by_id = ec2.revoke_security_group_ingress(GroupId=group_id, SecurityGroupRuleIds=[rules[0]["SecurityGroupRuleId"]])
    assert [r["SecurityGroupRuleId"] for r in by_id["RevokedSecurityGroupRules"]] == [rules[0]["SecurityGroupRuleId"]]
    assert error_of(ec2.revoke_security_group_ingress, GroupId=group_id,
                    SecurityGroupRuleIds=[rules[0]["SecurityGroupRuleId"]]) == (
        "InvalidSecurityGroupRuleId.NotFound",
        f"The security group rule ID '{rules[0]['SecurityGroupRuleId']}' does not exist", 400)
    ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[tcp(443, "0.0.0.0/0")])
    assert group_of(ec2, group_id)["IpPermissions"] == []

    ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert group_of(ec2, group_id)["IpPermissionsEgress"] == []
    ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=[tcp(5432, "10.0.0.0/16")])
    assert group_of(ec2, group_id)["IpPermissionsEgress"][0]["FromPort"] == 5432
    assert error_of(ec2.revoke_security_group_egress, GroupId=group_id, IpPermissions=[tcp(22, "0.0.0.0/0")]) == missing


def test_default_vpc_groups_by_name_and_unknown_rules_on_revoke(ec2: Any) -> None:
    group_id = ec2.create_security_group(GroupName="legacy", Description="legacy")["GroupId"]
    # The older parameters outside IpPermissions, and the group named by GroupName (default VPC).
    ec2.authorize_security_group_ingress(GroupName="legacy", IpProtocol="tcp", FromPort=22, ToPort=22,
                                         CidrIp="192.0.2.0/24")
    ec2.authorize_security_group_ingress(GroupName="legacy", SourceSecurityGroupName="default")
    permissions = group_of(ec2, group_id)["IpPermissions"]
    assert [(p["IpProtocol"], p.get("FromPort"), p.get("ToPort")) for p in permissions] == [
        ("tcp", 22, 22), ("icmp", -1, -1), ("tcp", 0, 65535), ("udp", 0, 65535)]
    # A default VPC's group reports the rules it did not find instead of failing.
    result = ec2.revoke_security_group_ingress(GroupName="legacy", IpPermissions=[
        tcp(22, "192.0.2.0/24"), tcp(23, "192.0.2.0/24")])
    assert result["Return"] is True
    assert [r["FromPort"] for r in result["RevokedSecurityGroupRules"]] == [22]
    assert result["UnknownIpPermissions"] == [
        {"IpProtocol": "tcp", "FromPort": 23, "ToPort": 23, "IpRanges": [{"CidrIp": "192.0.2.0/24"}],
         "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}]


def test_describe_security_groups_filters_and_pages(ec2: Any, vpc_id: str) -> None:
    for name in ("alpha", "beta", "gamma", "delta", "epsilon"):
        ec2.create_security_group(GroupName=name, Description=f"{name} tier", VpcId=vpc_id, TagSpecifications=[
            {"ResourceType": "security-group", "Tags": [{"Key": "tier", "Value": name}]}])
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    names = {g["GroupName"] for g in ec2.describe_security_groups(Filters=[
        *in_vpc, {"Name": "group-name", "Values": ["*a"]}])["SecurityGroups"]}
    assert names == {"alpha", "beta", "gamma", "delta"}
    tagged = ec2.describe_security_groups(Filters=[*in_vpc, {"Name": "tag:tier", "Values": ["eps*", "beta"]}])
    assert {g["GroupName"] for g in tagged["SecurityGroups"]} == {"beta", "epsilon"}
    described = ec2.describe_security_groups(Filters=[*in_vpc, {"Name": "description", "Values": ["? tier"]}])
    assert described["SecurityGroups"] == []
    page = ec2.describe_security_groups(Filters=in_vpc, MaxResults=5)
    assert len(page["SecurityGroups"]) == 5 and page["NextToken"]
    rest = ec2.describe_security_groups(Filters=in_vpc, MaxResults=5, NextToken=page["NextToken"])
    assert len(rest["SecurityGroups"]) == 1 and "NextToken" not in rest  # five groups and the VPC's default
    assert error_of(ec2.describe_security_groups, Filters=[{"Name": "name", "Values": ["x"]}]) == (
        "InvalidParameterValue", "The filter 'name' is invalid", 400)
