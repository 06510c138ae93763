"""What the Terraform provider reads besides VPCs and subnets themselves, end to end with boto3 and the AWS CLI:
VPC attributes (DescribeVpcAttribute, ModifyVpcAttribute), each VPC's main route table (DescribeRouteTables), the
AWS-managed prefix lists, ModifySecurityGroupRules, and the camelCase filter names EC2 takes beside the dashed
ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CLI_CLIENT_ERROR, Server, aws_cli, error_of

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("ec2-details") / "data").start()
    yield server
    server.stop()


@pytest.fixture
def ec2(srv: Server) -> Any:
    return srv.client("ec2")


@pytest.fixture
def vpc(ec2: Any) -> Iterator[str]:
    vpc_id: str = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    yield vpc_id
    ec2.delete_vpc(VpcId=vpc_id)


def default_vpc(ec2: Any) -> str:
    vpc_id: str = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    return vpc_id


def attribute(ec2: Any, vpc_id: str, name: str) -> bool:
    answer = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=name)
    key = name[:1].upper() + name[1:]
    assert answer["VpcId"] == vpc_id and set(answer) - {"ResponseMetadata"} == {"VpcId", key}
    value: bool = answer[key]["Value"]
    return value


def test_vpc_attributes_of_the_default_and_a_new_vpc(ec2: Any, vpc: str) -> None:
    default = default_vpc(ec2)
    assert [attribute(ec2, default, a) for a in ("enableDnsSupport", "enableDnsHostnames",
                                                 "enableNetworkAddressUsageMetrics")] == [True, True, False]
    assert [attribute(ec2, vpc, a) for a in ("enableDnsSupport", "enableDnsHostnames",
                                             "enableNetworkAddressUsageMetrics")] == [True, False, False]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableNetworkAddressUsageMetrics={"Value": True})
    assert attribute(ec2, vpc, "enableDnsHostnames") is True
    assert attribute(ec2, vpc, "enableNetworkAddressUsageMetrics") is True
    assert attribute(ec2, default, "enableNetworkAddressUsageMetrics") is False
    assert error_of(ec2.modify_vpc_attribute, VpcId=vpc, EnableDnsSupport={"Value": False},
                    EnableDnsHostnames={"Value": False})[0] == "InvalidParameterCombination"
    assert error_of(ec2.describe_vpc_attribute, VpcId="vpc-0123456789abcdef0", Attribute="enableDnsSupport")[:2] \
        == ("InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist")
    assert error_of(ec2.describe_vpc_attribute, VpcId=vpc, Attribute="colour")[0] == "InvalidParameterValue"
    assert error_of(ec2.describe_vpc_attribute, VpcId=vpc, Attribute="enableDnsSupport", DryRun=True)[0] == \
        "DryRunOperation"


def test_every_vpc_has_a_main_route_table_with_its_local_route(ec2: Any, vpc: str) -> None:
    for vpc_id, cidr in ((default_vpc(ec2), "172.31.0.0/16"), (vpc, "10.30.0.0/16")):
        # The aws_vpc data source's and resource's lookup of the main route table.
        tables = ec2.describe_route_tables(Filters=[{"Name": "association.main", "Values": ["true"]},
                                                    {"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
        assert len(tables) == 1
        table = tables[0]
        assert table["RouteTableId"].startswith("rtb-") and table["VpcId"] == vpc_id and table["OwnerId"] == ACCOUNT
        assert table["Routes"] == [{"DestinationCidrBlock": cidr, "GatewayId": "local", "Origin": "CreateRouteTable",
                                    "State": "active"}]
        [association] = table["Associations"]
        assert association["Main"] is True and association["RouteTableId"] == table["RouteTableId"]
        assert association["RouteTableAssociationId"].startswith("rtbassoc-")
        assert association["AssociationState"] == {"State": "associated"}
        by_id = ec2.describe_route_tables(RouteTableIds=[table["RouteTableId"]])["RouteTables"]
        assert by_id == tables
    assert ec2.describe_route_tables(Filters=[{"Name": "association.main", "Values": ["false"]}])["RouteTables"] == []
    missing = "rtb-0123456789abcdef0"
    assert error_of(ec2.describe_route_tables, RouteTableIds=[missing])[:2] == (
        "InvalidRouteTableID.NotFound", f"The routeTable ID '{missing}' does not exist")


def test_a_deleted_vpc_takes_its_route_table_with_it(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.31.0.0/16")["Vpc"]["VpcId"]
    [table] = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    ec2.create_tags(Resources=[table["RouteTableId"]], Tags=[{"Key": "Name", "Value": "main"}])
    assert ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": ["main"]}])["RouteTables"][0][
        "Tags"] == [{"Key": "Name", "Value": "main"}]
    ec2.delete_vpc(VpcId=vpc_id)
    assert ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"] == []
    assert error_of(ec2.describe_route_tables, RouteTableIds=[table["RouteTableId"]])[0] == \
        "InvalidRouteTableID.NotFound"


def test_aws_managed_prefix_lists(srv: Server) -> None:
    ec2 = srv.client("ec2")
    lists = ec2.describe_prefix_lists()["PrefixLists"]
    assert sorted((p["PrefixListName"], p["PrefixListId"]) for p in lists) == [
        ("com.amazonaws.us-east-1.dynamodb", "pl-02cd2c6b"), ("com.amazonaws.us-east-1.s3", "pl-63a5400a")]
    [s3] = ec2.describe_prefix_lists(Filters=[{"Name": "prefix-list-name",
                                               "Values": ["com.amazonaws.us-east-1.s3"]}])["PrefixLists"]
    assert s3["PrefixListId"] == "pl-63a5400a"
    west = srv.client("ec2", region="eu-west-1").describe_prefix_lists()["PrefixLists"]
    assert sorted(p["PrefixListName"] for p in west) == ["com.amazonaws.eu-west-1.dynamodb",
                                                         "com.amazonaws.eu-west-1.s3"]
    assert all(p["PrefixListId"].startswith("pl-") and len(p["PrefixListId"]) == 11 for p in west)
    east2 = srv.client("ec2", region="us-east-2").describe_prefix_lists(PrefixListIds=["pl-4ca54025"])
    assert east2["PrefixLists"] == [{"PrefixListId": "pl-4ca54025", "Cidrs": ["52.94.4.0/24"],
                                     "PrefixListName": "com.amazonaws.us-east-2.dynamodb"}]
    assert error_of(ec2.describe_prefix_lists, PrefixListIds=["pl-00000000"])[0] == "InvalidPrefixListID.NotFound"
    # A prefix list is a rule's peer.
    group = ec2.create_security_group(GroupName="to-s3", Description="d")["GroupId"]
    rule = ec2.authorize_security_group_egress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": s3["PrefixListId"]}],
    }])["SecurityGroupRules"][0]
    assert rule["PrefixListId"] == "pl-63a5400a"
    ec2.delete_security_group(GroupId=group)


def test_modify_security_group_rules_keeps_id_direction_and_tags(ec2: Any, vpc: str) -> None:
    group = ec2.create_security_group(GroupName="mod", Description="d", VpcId=vpc)["GroupId"]
    peer = ec2.create_security_group(GroupName="peer", Description="d", VpcId=vpc)["GroupId"]
    made = ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
    ], TagSpecifications=[{"ResourceType": "security-group-rule", "Tags": [{"Key": "Name", "Value": "web"}]}])
    web, ssh = (r["SecurityGroupRuleId"] for r in made["SecurityGroupRules"])
    answer = ec2.modify_security_group_rules(GroupId=group, SecurityGroupRules=[{
        "SecurityGroupRuleId": web,
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "ReferencedGroupId": peer,
                              "Description": "tls from peer"}}])
    assert answer["Return"] is True
    [rule] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[web])["SecurityGroupRules"]
    assert rule == {
        "SecurityGroupRuleId": web, "GroupId": group, "GroupOwnerId": ACCOUNT, "IsEgress": False,
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Description": "tls from peer",
        "ReferencedGroupInfo": {"GroupId": peer, "UserId": ACCOUNT},
        "Tags": [{"Key": "Name", "Value": "web"}],
        "SecurityGroupRuleArn": f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group-rule/{web}",
    }
    # All traffic: ports are -1 whatever was sent.
    ec2.modify_security_group_rules(GroupId=group, SecurityGroupRules=[{
        "SecurityGroupRuleId": ssh, "SecurityGroupRule": {"IpProtocol": "-1", "CidrIpv4": "10.1.0.0/16"}}])
    [rule] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[ssh])["SecurityGroupRules"]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIpv4"]) == ("-1", -1, -1, "10.1.0.0/16")
    # The same rule twice; a rule of another group; no peer.
    code, message, _ = error_of(ec2.modify_security_group_rules, GroupId=group, SecurityGroupRules=[{
        "SecurityGroupRuleId": ssh,
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "ReferencedGroupId": peer}}])
    assert code == "InvalidPermission.Duplicate"
    assert message == f'the specified rule "peer: {peer}, TCP, from port: 443, to port: 443, ALLOW" already exists'
    other = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [peer]}])[
        "SecurityGroupRules"][0]["SecurityGroupRuleId"]
    assert error_of(ec2.modify_security_group_rules, GroupId=group, SecurityGroupRules=[{
        "SecurityGroupRuleId": other, "SecurityGroupRule": {"IpProtocol": "-1", "CidrIpv4": "10.9.0.0/16"}}])[:2] == (
        "InvalidSecurityGroupRuleId.NotFound", f"The security group rule ID '{other}' does not exist")
    assert error_of(ec2.modify_security_group_rules, GroupId=group, SecurityGroupRules=[{
        "SecurityGroupRuleId": ssh, "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2}}])[0] == \
        "MissingParameter"
    # Nothing changed by the refused calls.
    [rule] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[ssh])["SecurityGroupRules"]
    assert rule["CidrIpv4"] == "10.1.0.0/16"
    ec2.delete_security_group(GroupId=group)
    ec2.delete_security_group(GroupId=peer)


def test_camel_case_filter_names(ec2: Any) -> None:
    default = default_vpc(ec2)
    assert [v["VpcId"] for v in ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]] \
        == [default]
    dashed = ec2.describe_subnets(Filters=[{"Name": "availability-zone", "Values": ["us-east-1b"]},
                                           {"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    camel = ec2.describe_subnets(Filters=[{"Name": "availabilityZone", "Values": ["us-east-1b"]},
                                          {"Name": "defaultForAz", "Values": ["true"]}])["Subnets"]
    assert len(dashed) == 1 and camel == dashed
    by_zone_id = ec2.describe_subnets(Filters=[{"Name": "availabilityZoneId", "Values": ["use1-az2"]},
                                               {"Name": "vpc-id", "Values": [default]}])["Subnets"]
    assert by_zone_id == dashed


def test_the_cli_reads_vpc_attributes_and_route_tables(srv: Server, tmp_path: Path) -> None:
    ec2 = srv.client("ec2")
    vpc_id = default_vpc(ec2)
    done = aws_cli(srv, tmp_path, "ec2", "describe-vpc-attribute", "--vpc-id", vpc_id, "--attribute",
                   "enableDnsHostnames")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"VpcId": vpc_id, "EnableDnsHostnames": {"Value": True}}
    done = aws_cli(srv, tmp_path, "ec2", "describe-route-tables", "--filters",
                   f"Name=vpc-id,Values={vpc_id}", "Name=association.main,Values=true")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["RouteTables"][0]["Routes"][0]["GatewayId"] == "local"
    done = aws_cli(srv, tmp_path, "ec2", "describe-vpc-attribute", "--vpc-id", "vpc-0123456789abcdef0",
                   "--attribute", "enableDnsSupport")
    assert done.returncode == CLI_CLIENT_ERROR and "InvalidVpcID.NotFound" in done.stderr
