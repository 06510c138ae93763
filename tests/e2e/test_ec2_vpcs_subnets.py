"""VPCs and subnets with boto3: create, describe (ids, filters, pagination), delete, and AWS's errors for bad
CIDR blocks, ranges, conflicts, zones, unknown and malformed ids, quotas and dependencies."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.conftest import Server, error_of

ZONES = ("us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f")


@pytest.fixture
def account() -> str:
    return "2" + "".join(secrets.choice("0123456789") for _ in range(11))


@pytest.fixture
def ec2(server: Server, account: str) -> Any:
    """The EC2 client of a fresh account (its own default VPC and VPC quota)."""
    return server.client("ec2", key=account)



def test_create_vpc_then_describe_it(ec2: Any, account: str) -> None:
    created = ec2.create_vpc(CidrBlock="10.0.0.0/16", InstanceTenancy="dedicated", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "main"}, {"Key": "env", "Value": "test"}]}])["Vpc"]
    vpc_id = created["VpcId"]
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", vpc_id)
    assert created["State"] == "pending"
    assert created["IsDefault"] is False
    assert created["OwnerId"] == account
    assert created["InstanceTenancy"] == "dedicated"
    assert created["Tags"] == [{"Key": "Name", "Value": "main"}, {"Key": "env", "Value": "test"}]

    described = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    assert len(described) == 1
    assert described[0]["State"] == "available"
    assert described[0]["CidrBlock"] == "10.0.0.0/16"
    assert described[0]["CidrBlockAssociationSet"][0]["CidrBlock"] == "10.0.0.0/16"
    assert described[0]["Tags"] == created["Tags"]

    # Every VPC comes with its own "default" security group.
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
    assert [(g["GroupName"], g["Description"]) for g in groups] == [("default", "default VPC security group")]
    assert groups[0]["IpPermissions"][0]["UserIdGroupPairs"] == [{"GroupId": groups[0]["GroupId"], "UserId": account}]
    assert ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"] == []


@pytest.mark.parametrize("cidr", ["10.0.0.0/33", "banana", "10.0.0.1/16", "10.0.0.0", "300.0.0.0/16"])
def test_create_vpc_with_an_invalid_cidr_block(ec2: Any, cidr: str) -> None:
    assert error_of(ec2.create_vpc, CidrBlock=cidr) == (
        "InvalidParameterValue", f"Value ({cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.",
        400)


@pytest.mark.parametrize("cidr", ["10.0.0.0/15", "10.0.0.0/8", "10.0.0.0/29"])
def test_create_vpc_outside_the_allowed_sizes(ec2: Any, cidr: str) -> None:
    assert error_of(ec2.create_vpc, CidrBlock=cidr) == ("InvalidVpc.Range", f"The CIDR '{cidr}' is invalid.", 400)


def test_create_vpc_needs_a_cidr_block_and_the_quota_is_five(ec2: Any) -> None:
    assert error_of(ec2.create_vpc) == (
        "MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.", 400)
    for index in range(4):  # the default VPC counts against the quota of five
        ec2.create_vpc(CidrBlock=f"10.{index}.0.0/16")
    assert error_of(ec2.create_vpc, CidrBlock="10.9.0.0/16") == (
        "VpcLimitExceeded", "The maximum number of VPCs has been reached.", 400)
    assert len(ec2.describe_vpcs()["Vpcs"]) == 5


def test_create_vpc_refuses_what_turnout_does_not_model(ec2: Any) -> None:
    code, message, status = error_of(ec2.create_vpc, CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)
    assert (code, status) == ("NotImplemented", 501)
    assert message == "The parameter AmazonProvidedIpv6CidrBlock of CreateVpc is not implemented by Turnout."


def test_describe_vpcs_by_unknown_or_malformed_id(ec2: Any) -> None:
    assert error_of(ec2.describe_vpcs, VpcIds=["vpc-0123456789abcdef0"]) == (
        "InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist", 400)
    assert error_of(ec2.describe_vpcs, VpcIds=["vpc-0123456789abcdef0", "vpc-12345678"]) == (
        "InvalidVpcID.NotFound", "The vpc IDs 'vpc-0123456789abcdef0, vpc-12345678' do not exist", 400)
    assert error_of(ec2.describe_vpcs, VpcIds=["main"]) == ("InvalidVpcID.Malformed", 'Invalid id: "main"', 400)
    assert error_of(ec2.delete_vpc, VpcId="vpc-0123456789abcdef0") == (
        "InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist", 400)


def test_describe_vpcs_with_filters(ec2: Any) -> None:
    default = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    web = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "web-1"}]}])["Vpc"]["VpcId"]
    api = ec2.create_vpc(CidrBlock="10.2.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "api-1"}, {"Key": "tier", "Value": "a*b"}]}]
    )["Vpc"]["VpcId"]

    def ids(*filters: tuple[str, list[str]]) -> set[str]:
        found = ec2.describe_vpcs(Filters=[{"Name": n, "Values": v} for n, v in filters])["Vpcs"]
        return {v["VpcId"] for v in found}

    assert ids(("is-default", ["true"])) == {default}
    assert ids(("is-default", ["false"])) == {web, api}
    assert ids(("cidr", ["10.1.0.0/16", "10.2.0.0/16"])) == {web, api}  # values OR together
    assert ids(("cidr-block-association.cidr-block", ["10.*"]), ("tag:Name", ["web-?"])) == {web}  # filters AND
    assert ids(("tag:Name", ["*-1"])) == {web, api}
    assert ids(("tag-key", ["tier"])) == {api}
    assert ids(("tag:tier", ["a\\*b"])) == {api}  # an escaped star is a literal star
    assert ids(("tag:tier", ["a\\*c"])) == set()
    assert ids(("state", ["available"]), ("vpc-id", [web, default])) == {web, default}
    assert ids(("tag:Name", ["WEB-1"])) == set()  # values are case-sensitive
    assert error_of(ec2.describe_vpcs, Filters=[{"Name": "vpc-name", "Values": ["x"]}]) == (
        "InvalidParameterValue", "The filter 'vpc-name' is invalid", 400)


def test_create_subnet_then_describe_it(ec2: Any, account: str) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    created = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1b",
                                TagSpecifications=[{"ResourceType": "subnet",
                                                    "Tags": [{"Key": "Name", "Value": "private-b"}]}])["Subnet"]
    subnet_id = created["SubnetId"]
    assert re.fullmatch(r"subnet-[0-9a-f]{17}", subnet_id)
    assert created["State"] == "pending"
    assert created["VpcId"] == vpc_id
    assert (created["AvailabilityZone"], created["AvailabilityZoneId"]) == ("us-east-1b", "use1-az2")
    assert created["AvailableIpAddressCount"] == 251
    assert created["DefaultForAz"] is False
    assert created["MapPublicIpOnLaunch"] is False
    assert created["SubnetArn"] == f"arn:aws:ec2:us-east-1:{account}:subnet/{subnet_id}"
    assert created["Tags"] == [{"Key": "Name", "Value": "private-b"}]

    by_zone_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.2.0/28", AvailabilityZoneId="use1-az6")["Subnet"]
    assert (by_zone_id["AvailabilityZone"], by_zone_id["AvailableIpAddressCount"]) == ("us-east-1d", 11)
    chosen = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.3.0/24")["Subnet"]
    assert chosen["AvailabilityZone"] == "us-east-1a"  # where the VPC has no subnet yet

    described = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"]
    assert described[0]["State"] == "available"
    assert described[0]["CidrBlock"] == "10.0.1.0/24"
    in_vpc = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert {s["SubnetId"] for s in in_vpc} == {subnet_id, by_zone_id["SubnetId"], chosen["SubnetId"]}
    found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                          {"Name": "availability-zone", "Values": ["us-east-1b", "us-east-1d"]},
                                          {"Name": "cidr-block", "Values": ["10.0.*.0/24"]}])["Subnets"]
    assert [s["SubnetId"] for s in found] == [subnet_id]
    defaults = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    assert len(defaults) == 6


def test_create_subnet_errors(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.0.0/20")
    for cidr in ("10.1.0.0/24", "10.0.0.0/15", "10.0.16.0/29"):
        assert error_of(ec2.create_subnet, VpcId=vpc_id, CidrBlock=cidr) == (
            "InvalidSubnet.Range", f"The CIDR '{cidr}' is invalid.", 400)
    assert error_of(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.0.8.0/24") == (
        "InvalidSubnet.Conflict", "The CIDR '10.0.8.0/24' conflicts with another subnet", 400)
    assert error_of(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.0.0.0/8.5") == (
        "InvalidParameterValue", "Value (10.0.0.0/8.5) for parameter cidrBlock is invalid. This is not a valid CIDR "
        "block.", 400)
    assert error_of(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.0.32.0/24", AvailabilityZone="us-east-2a") == (
        "InvalidParameterValue", "Value (us-east-2a) for parameter availabilityZone is invalid. Subnets can "
        f"currently only be created in the following availability zones: {ZONES}.", 400)
    assert error_of(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.0.32.0/24", AvailabilityZoneId="use1-az9")[1] == (
        "Value (use1-az9) for parameter availabilityZoneId is invalid. Subnets can currently only be created in the "
        "following availability zones: use1-az1, use1-az2, use1-az4, use1-az6, use1-az3, use1-az5.")
    assert error_of(ec2.create_subnet, VpcId="vpc-0123456789abcdef0", CidrBlock="10.0.32.0/24") == (
        "InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist", 400)
    assert error_of(ec2.create_subnet, VpcId=vpc_id) == (
        "MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.", 400)
    assert error_of(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.0.32.0/24", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "x"}]}]) == (
        "InvalidParameterValue", "'vpc' is not a valid taggable resource type for this operation.", 400)
    # Nothing of the failed calls was written.
    assert len(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]) == 1


def test_describe_subnets_pagination_and_unknown_ids(server: Server, ec2: Any, account: str) -> None:
    first = ec2.describe_subnets(MaxResults=5)
    assert len(first["Subnets"]) == 5
    second = ec2.describe_subnets(MaxResults=5, NextToken=first["NextToken"])
    assert len(second["Subnets"]) == 1 and "NextToken" not in second
    every = {s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]}
    assert {s["SubnetId"] for s in first["Subnets"] + second["Subnets"]} == every
    paginated = ec2.get_paginator("describe_subnets").paginate(PaginationConfig={"PageSize": 5})
    assert sum(len(page["Subnets"]) for page in paginated) == 6
    assert error_of(ec2.describe_subnets, MaxResults=5, NextToken="!!!") == (
        "InvalidPaginationToken", "The specified pagination token is not valid or is expired.", 400)
    unchecked = server.client("ec2", key=account, parameter_validation=False)
    code, message, _ = error_of(unchecked.describe_subnets, MaxResults=4)
    assert code == "InvalidParameterValue" and "maxResults" in message

    assert error_of(ec2.describe_subnets, SubnetIds=["subnet-0123456789abcdef0"]) == (
        "InvalidSubnetID.NotFound", "The subnet ID 'subnet-0123456789abcdef0' does not exist", 400)
    assert error_of(ec2.describe_subnets, SubnetIds=["subnet-12345678", "subnet-87654321"]) == (
        "InvalidSubnetID.NotFound", "The subnet IDs 'subnet-12345678, subnet-87654321' do not exist", 400)
    assert error_of(ec2.describe_subnets, SubnetIds=["private"]) == (
        "InvalidSubnetID.Malformed", 'Invalid id: "private"', 400)


def test_delete_subnet_and_vpc_with_dependency_violations(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    group_id = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc_id)["GroupId"]
    default_group = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]

    dependency = ("DependencyViolation", f"The vpc '{vpc_id}' has dependencies and cannot be deleted.", 400)
    assert error_of(ec2.delete_vpc, VpcId=vpc_id) == dependency
    ec2.delete_subnet(SubnetId=subnet_id)
    assert error_of(ec2.describe_subnets, SubnetIds=[subnet_id]) == (
        "InvalidSubnetID.NotFound", f"The subnet ID '{subnet_id}' does not exist", 400)
    assert error_of(ec2.delete_subnet, SubnetId=subnet_id) == (
        "InvalidSubnetID.NotFound", f"The subnet ID '{subnet_id}' does not exist", 400)
    assert error_of(ec2.delete_vpc, VpcId=vpc_id) == dependency  # the security group "app" is still there
    ec2.delete_security_group(GroupId=group_id)
    ec2.delete_vpc(VpcId=vpc_id)  # its default security group goes with it

    assert error_of(ec2.describe_vpcs, VpcIds=[vpc_id]) == (
        "InvalidVpcID.NotFound", f"The vpc ID '{vpc_id}' does not exist", 400)
    assert error_of(ec2.describe_security_groups, GroupIds=[default_group["GroupId"]]) == (
        "InvalidGroup.NotFound", f"The security group '{default_group['GroupId']}' does not exist", 400)
    assert len(ec2.describe_vpcs()["Vpcs"]) == 1
