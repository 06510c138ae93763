"""EC2 as a new account finds it: the default VPC, its default subnets and security group in every region, the
region's Availability Zones, account attributes, DryRun, NotImplemented for the rest of EC2, IAM's
UnauthorizedOperation, and ``aws ec2 describe-vpcs --filters`` with the AWS CLI."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, error_of

DEFAULT_SUBNETS = ["172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20", "172.31.48.0/20", "172.31.64.0/20",
                   "172.31.80.0/20"]
US_EAST_1 = [("us-east-1a", "use1-az1"), ("us-east-1b", "use1-az2"), ("us-east-1c", "use1-az4"),
             ("us-east-1d", "use1-az6"), ("us-east-1e", "use1-az3"), ("us-east-1f", "use1-az5")]
DRY_RUN = "Request would have succeeded, but DryRun flag is set."


def new_account() -> str:
    return "1" + "".join(secrets.choice("0123456789") for _ in range(11))


@pytest.fixture
def account() -> str:
    """A fresh account (a 12-digit access key is that account's root): its regions start untouched."""
    return new_account()


@pytest.fixture
def ec2(server: Server, account: str) -> Any:
    return server.client("ec2", key=account)



def test_default_vpc_subnets_and_security_group_exist_from_the_start(ec2: Any, account: str) -> None:
    vpcs = ec2.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 1
    vpc = vpcs[0]
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", vpc["VpcId"])
    assert vpc["CidrBlock"] == "172.31.0.0/16"
    assert vpc["IsDefault"] is True
    assert vpc["State"] == "available"
    assert vpc["OwnerId"] == account
    assert vpc["InstanceTenancy"] == "default"
    assert vpc["DhcpOptionsId"].startswith("dopt-")
    association = vpc["CidrBlockAssociationSet"][0]
    assert association["CidrBlock"] == "172.31.0.0/16"
    assert association["CidrBlockState"] == {"State": "associated"}
    assert association["AssociationId"].startswith("vpc-cidr-assoc-")
    assert "Tags" not in vpc

    subnets = sorted(ec2.describe_subnets()["Subnets"], key=lambda s: s["AvailabilityZone"])
    assert [(s["AvailabilityZone"], s["AvailabilityZoneId"]) for s in subnets] == US_EAST_1
    assert [s["CidrBlock"] for s in subnets] == DEFAULT_SUBNETS
    for subnet in subnets:
        assert re.fullmatch(r"subnet-[0-9a-f]{17}", subnet["SubnetId"])
        assert subnet["VpcId"] == vpc["VpcId"]
        assert subnet["DefaultForAz"] is True
        assert subnet["MapPublicIpOnLaunch"] is True
        assert subnet["State"] == "available"
        assert subnet["AvailableIpAddressCount"] == 4091
        assert subnet["OwnerId"] == account
        assert subnet["SubnetArn"] == f"arn:aws:ec2:us-east-1:{account}:subnet/{subnet['SubnetId']}"

    groups = ec2.describe_security_groups()["SecurityGroups"]
    assert len(groups) == 1
    group = groups[0]
    assert re.fullmatch(r"sg-[0-9a-f]{17}", group["GroupId"])
    assert group["GroupName"] == "default"
    assert group["Description"] == "default VPC security group"
    assert group["VpcId"] == vpc["VpcId"]
    assert group["OwnerId"] == account
    assert group["SecurityGroupArn"] == f"arn:aws:ec2:us-east-1:{account}:security-group/{group['GroupId']}"
    assert group["IpPermissions"] == [{
        "IpProtocol": "-1", "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
        "UserIdGroupPairs": [{"GroupId": group["GroupId"], "UserId": account}],
    }]
    assert group["IpPermissionsEgress"] == [{
        "IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "PrefixListIds": [],
        "UserIdGroupPairs": [],
    }]


def test_each_region_has_its_own_defaults(server: Server, ec2: Any, account: str) -> None:
    east = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    west = server.client("ec2", key=account, region="us-west-2")
    vpcs = west.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 1 and vpcs[0]["VpcId"] != east and vpcs[0]["IsDefault"] is True
    subnets = sorted(west.describe_subnets()["Subnets"], key=lambda s: s["AvailabilityZone"])
    assert [s["AvailabilityZone"] for s in subnets] == ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"]
    assert [s["CidrBlock"] for s in subnets] == DEFAULT_SUBNETS[:4]
    assert all(s["SubnetArn"].startswith(f"arn:aws:ec2:us-west-2:{account}:subnet/") for s in subnets)
    # Still one default VPC in us-east-1 after the other region was set up.
    assert [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]] == [east]


def test_describe_availability_zones(server: Server, ec2: Any, account: str) -> None:
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert [(z["ZoneName"], z["ZoneId"]) for z in zones] == US_EAST_1
    first = zones[0]
    assert first["State"] == "available"
    assert first["RegionName"] == "us-east-1"
    assert first["OptInStatus"] == "opt-in-not-required"
    assert first["ZoneType"] == "availability-zone"
    assert first["NetworkBorderGroup"] == "us-east-1"
    assert first["GroupName"] == "us-east-1-zg-1"

    picked = ec2.describe_availability_zones(ZoneNames=["us-east-1c"], ZoneIds=["use1-az1"])["AvailabilityZones"]
    assert [z["ZoneName"] for z in picked] == ["us-east-1a", "us-east-1c"]
    filtered = ec2.describe_availability_zones(Filters=[{"Name": "zone-id", "Values": ["use1-az6", "use1-az5"]}])
    assert [z["ZoneName"] for z in filtered["AvailabilityZones"]] == ["us-east-1d", "us-east-1f"]
    assert error_of(ec2.describe_availability_zones, ZoneNames=["us-east-1z"]) == (
        "InvalidParameterValue", "Invalid availability zone: [us-east-1z]", 400)
    assert error_of(ec2.describe_availability_zones, Filters=[{"Name": "zone", "Values": ["x"]}]) == (
        "InvalidParameterValue", "The filter 'zone' is invalid", 400)

    tokyo = server.client("ec2", key=account, region="ap-northeast-1").describe_availability_zones()
    assert [(z["ZoneName"], z["ZoneId"]) for z in tokyo["AvailabilityZones"]] == [
        ("ap-northeast-1a", "apne1-az4"), ("ap-northeast-1c", "apne1-az1"), ("ap-northeast-1d", "apne1-az2")]
    elsewhere = server.client("ec2", key=account, region="me-south-1").describe_availability_zones()
    assert [(z["ZoneName"], z["ZoneId"]) for z in elsewhere["AvailabilityZones"]] == [
        ("me-south-1a", "mes1-az1"), ("me-south-1b", "mes1-az2"), ("me-south-1c", "mes1-az3")]


def test_describe_account_attributes_and_a_deleted_default_vpc(ec2: Any) -> None:
    default_vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    attributes = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
                  for a in ec2.describe_account_attributes()["AccountAttributes"]}
    assert attributes == {
        "supported-platforms": ["VPC"], "vpc-max-security-groups-per-interface": ["5"], "max-elastic-ips": ["5"],
        "max-instances": ["20"], "vpc-max-elastic-ips": ["5"], "default-vpc": [default_vpc],
    }
    only = ec2.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
    assert only == [{"AttributeName": "default-vpc", "AttributeValues": [{"AttributeValue": default_vpc}]}]

    # The default VPC can be deleted once its subnets are gone; it is not created again.
    assert error_of(ec2.delete_vpc, VpcId=default_vpc) == (
        "DependencyViolation", f"The vpc '{default_vpc}' has dependencies and cannot be deleted.", 400)
    for subnet in ec2.describe_subnets()["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.delete_vpc(VpcId=default_vpc)
    assert ec2.describe_vpcs()["Vpcs"] == []
    assert ec2.describe_security_groups()["SecurityGroups"] == []
    only = ec2.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
    assert only == [{"AttributeName": "default-vpc", "AttributeValues": [{"AttributeValue": "none"}]}]
    assert error_of(ec2.create_security_group, GroupName="web", Description="web") == (
        "VPCIdNotSpecified", "No default VPC for this user", 400)


def test_dry_run_answers_412_and_changes_nothing(ec2: Any) -> None:
    assert error_of(ec2.describe_vpcs, DryRun=True) == ("DryRunOperation", DRY_RUN, 412)
    assert error_of(ec2.create_vpc, CidrBlock="10.0.0.0/16", DryRun=True) == ("DryRunOperation", DRY_RUN, 412)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    assert error_of(ec2.create_security_group, GroupName="web", Description="web", DryRun=True) == (
        "DryRunOperation", DRY_RUN, 412)
    assert [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]] == [vpc]
    assert [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]] == ["default"]
    # A request that would fail reports its error, not DryRunOperation.
    assert error_of(ec2.create_vpc, CidrBlock="10.0.0.0/8", DryRun=True)[0] == "InvalidVpc.Range"


def test_the_rest_of_ec2_is_not_implemented(ec2: Any) -> None:
    code, message, status = error_of(ec2.describe_instances)
    assert (code, status) == ("NotImplemented", 501)
    assert message == "The operation DescribeInstances of service ec2 is not implemented by Turnout."


def test_a_user_without_ec2_permissions_gets_unauthorized_operation(server: Server, iam: Any,
                                                                    unique: Callable[[str], str]) -> None:
    name = unique("no-ec2")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    ec2 = server.client("ec2", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    code, message, status = error_of(ec2.describe_vpcs)
    assert (code, status) == ("UnauthorizedOperation", 403)
    assert message.startswith(f"You are not authorized to perform this operation. User: {arn} is not authorized to "
                              "perform: ec2:DescribeVpcs")
    assert "Encoded authorization failure message: " in message
    code, _, status = error_of(ec2.create_vpc, CidrBlock="10.0.0.0/16", DryRun=True)
    assert (code, status) == ("UnauthorizedOperation", 403)


def test_aws_cli_describe_vpcs_with_filters(server: Server, ec2: Any, account: str, tmp_path: Path) -> None:
    default_vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    other = ec2.create_vpc(CidrBlock="10.8.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "cli-test"}]}])["Vpc"]["VpcId"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": account, "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)

    def describe(*filters: str) -> Any:
        run = subprocess.run(
            [sys.executable, "-m", "awscli", "ec2", "describe-vpcs", "--filters", *filters,
             "--endpoint-url", server.endpoint, "--output", "json"],
            env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    assert [v["VpcId"] for v in describe("Name=is-default,Values=true")["Vpcs"]] == [default_vpc]
    tagged = describe("Name=tag:Name,Values=cli-*", "Name=cidr,Values=10.8.0.0/16,10.9.0.0/16")["Vpcs"]
    assert [v["VpcId"] for v in tagged] == [other]
    assert tagged[0]["Tags"] == [{"Key": "Name", "Value": "cli-test"}]
    assert describe("Name=is-default,Values=true", "Name=tag-key,Values=Name")["Vpcs"] == []
