"""EC2 tags with boto3: CreateTags, DeleteTags, DescribeTags (filters, pages), AWS's tag restrictions and
errors, and the tags and group names IAM policies see (``aws:ResourceTag``, a group named by ``GroupName``)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Server, error_of

ACCOUNT = "000000000000"


@pytest.fixture
def ec2(server: Server) -> Any:
    """The EC2 client of a fresh account."""
    return server.client("ec2", key="4" + "".join(secrets.choice("0123456789") for _ in range(11)))



def tags_of(ec2: Any, resource_id: str) -> dict[str, str]:
    found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]}])["Tags"]
    return {t["Key"]: t["Value"] for t in found}


def test_create_and_describe_tags_on_every_kind_of_resource(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    group_id = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc_id)["GroupId"]
    rule_id = ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    resources = [vpc_id, subnet_id, group_id, rule_id]
    ec2.create_tags(Resources=resources, Tags=[{"Key": "env", "Value": "test"}, {"Key": "empty"}])

    found = ec2.describe_tags(Filters=[{"Name": "key", "Values": ["env"]}])["Tags"]
    assert sorted((t["ResourceId"], t["ResourceType"], t["Key"], t["Value"]) for t in found) == sorted([
        (vpc_id, "vpc", "env", "test"), (subnet_id, "subnet", "env", "test"),
        (group_id, "security-group", "env", "test"), (rule_id, "security-group-rule", "env", "test")])
    assert tags_of(ec2, subnet_id) == {"empty": "", "env": "test"}
    assert ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["Tags"] == [
        {"Key": "empty", "Value": ""}, {"Key": "env", "Value": "test"}]
    assert ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule_id])["SecurityGroupRules"][0]["Tags"] == [
        {"Key": "empty", "Value": ""}, {"Key": "env", "Value": "test"}]

    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "env", "Value": "prod"}])  # overwrites
    assert tags_of(ec2, vpc_id) == {"empty": "", "env": "prod"}
    by_type = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["vpc", "subnet"]},
                                         {"Name": "value", "Values": ["pro?", "test"]}])["Tags"]
    assert sorted(t["ResourceId"] for t in by_type) == sorted([vpc_id, subnet_id])
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:env", "Values": ["prod"]}])["Vpcs"][0]["VpcId"] == vpc_id

    ec2.delete_subnet(SubnetId=subnet_id)  # a deleted resource's tags go with it
    assert tags_of(ec2, subnet_id) == {}


def test_delete_tags(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": k, "Value": v} for k, v in
                                              (("a", "1"), ("b", "2"), ("c", ""), ("d", "4"), ("e", "5"))])
    ec2.delete_tags(Resources=[vpc_id], Tags=[{"Key": "a", "Value": "other"}])  # value differs: kept
    ec2.delete_tags(Resources=[vpc_id], Tags=[{"Key": "b", "Value": "2"}, {"Key": "d"}])
    ec2.delete_tags(Resources=[vpc_id], Tags=[{"Key": "e", "Value": ""}])  # only an empty value matches ""
    assert tags_of(ec2, vpc_id) == {"a": "1", "c": "", "e": "5"}
    ec2.delete_tags(Resources=[vpc_id], Tags=[{"Key": "c", "Value": ""}])
    assert tags_of(ec2, vpc_id) == {"a": "1", "e": "5"}
    ec2.delete_tags(Resources=[vpc_id])  # no tags named: all of them
    assert tags_of(ec2, vpc_id) == {}
    assert error_of(ec2.delete_tags, Resources=[vpc_id], Tags=[{"Key": "aws:x"}]) == (
        "InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use", 400)


def test_tag_errors(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    assert error_of(ec2.create_tags, Resources=["vpc-0123456789abcdef0"], Tags=[{"Key": "k", "Value": "v"}]) == (
        "InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist", 400)
    assert error_of(ec2.create_tags, Resources=[vpc_id, "sg-0123456789abcdef0"], Tags=[{"Key": "k"}]) == (
        "InvalidGroup.NotFound", "The security group 'sg-0123456789abcdef0' does not exist", 400)
    assert error_of(ec2.create_tags, Resources=["vpc-xyz"], Tags=[{"Key": "k"}]) == (
        "InvalidVpcID.Malformed", 'Invalid id: "vpc-xyz"', 400)
    assert error_of(ec2.create_tags, Resources=["i-0123456789abcdef0"], Tags=[{"Key": "k"}]) == (
        "InvalidID", "The ID 'i-0123456789abcdef0' is not valid", 400)
    assert error_of(ec2.create_tags, Resources=[vpc_id], Tags=[{"Key": "aws:owner", "Value": "me"}]) == (
        "InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use", 400)
    assert error_of(ec2.create_tags, Resources=[vpc_id], Tags=[{"Key": "k" * 128}])[0] == "InvalidParameterValue"
    assert error_of(ec2.create_tags, Resources=[vpc_id], Tags=[{"Key": "k", "Value": "v" * 256}])[0] == (
        "InvalidParameterValue")
    assert tags_of(ec2, vpc_id) == {}  # the refused calls wrote nothing, not even to the VPC that exists

    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(50)])
    assert error_of(ec2.create_tags, Resources=[vpc_id], Tags=[{"Key": "one-too-many"}]) == (
        "TagLimitExceeded",
        "You've reached the limit on the number of tags that you can assign to the specified resource.", 400)
    assert len(tags_of(ec2, vpc_id)) == 50


def test_tag_restrictions_in_order(ec2: Any) -> None:
    """Each restriction's message, the first broken one in EC2's order (empty key, reserved prefix, key length, value
    length), the same for TagSpecifications; DeleteTags refuses the reserved prefix only."""
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    cases = [
        ([{"Key": "", "Value": "v"}], "Tag key must not be empty"),
        ([{"Key": "k" * 128}], "Tag key exceeds the maximum length of 127 characters"),
        ([{"Key": "k", "Value": "v" * 256}], "Tag value exceeds the maximum length of 255 characters"),
        ([{"Key": "AWS:" + "k" * 130}], "Tag keys starting with 'aws:' are reserved for internal use"),
        ([{"Key": "k" * 128, "Value": "v" * 256}], "Tag key exceeds the maximum length of 127 characters"),
        ([{"Key": "k", "Value": "v" * 256}, {"Key": ""}], "Tag value exceeds the maximum length of 255 characters"),
    ]
    for tags, message in cases:
        assert error_of(ec2.create_tags, Resources=[vpc_id], Tags=tags) == ("InvalidParameterValue", message, 400)
        spec = [{"ResourceType": "vpc", "Tags": tags}]
        assert error_of(ec2.create_vpc, CidrBlock="10.1.0.0/16", TagSpecifications=spec) == (
            "InvalidParameterValue", message, 400)
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "k" * 127, "Value": "v" * 255}, {"Key": "dup", "Value": "1"},
                                              {"Key": "dup", "Value": "2"}])
    assert tags_of(ec2, vpc_id) == {"k" * 127: "v" * 255, "dup": "2"}  # a key given twice: its last value
    assert error_of(ec2.delete_tags, Resources=[vpc_id], Tags=[{"Key": "aws:x"}]) == (
        "InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use", 400)
    ec2.delete_tags(Resources=[vpc_id], Tags=[{"Key": "k" * 200}, {"Key": "dup", "Value": "1"}])  # no length rule
    assert tags_of(ec2, vpc_id) == {"k" * 127: "v" * 255, "dup": "2"}  # the value did not match


def test_describe_tags_pages(ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": f"k{n}", "Value": str(n)} for n in range(7)])
    first = ec2.describe_tags(MaxResults=5, Filters=[{"Name": "resource-id", "Values": [vpc_id]}])
    assert [t["Key"] for t in first["Tags"]] == ["k0", "k1", "k2", "k3", "k4"]
    second = ec2.describe_tags(MaxResults=5, NextToken=first["NextToken"],
                               Filters=[{"Name": "resource-id", "Values": [vpc_id]}])
    assert [t["Key"] for t in second["Tags"]] == ["k5", "k6"] and "NextToken" not in second
    assert error_of(ec2.describe_tags, Filters=[{"Name": "resource", "Values": ["x"]}]) == (
        "InvalidParameterValue", "The filter 'resource' is invalid", 400)


def test_iam_policies_see_ec2_tags_and_group_names(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    root = server.client("ec2")
    blue = root.create_security_group(GroupName=unique("blue"), Description="blue", TagSpecifications=[
        {"ResourceType": "security-group", "Tags": [{"Key": "team", "Value": "blue"}]}])["GroupId"]
    red = root.create_security_group(GroupName=unique("red"), Description="red", TagSpecifications=[
        {"ResourceType": "security-group", "Tags": [{"Key": "team", "Value": "red"}]}])["GroupId"]
    named = unique("named")
    named_id = root.create_security_group(GroupName=named, Description="by name")["GroupId"]
    other_name = unique("other")
    root.create_security_group(GroupName=other_name, Description="other")

    user = unique("sg-admin")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="ec2", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ec2:DeleteSecurityGroup", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}},
            {"Effect": "Allow", "Action": "ec2:DeleteSecurityGroup",
             "Resource": f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{named_id}"}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    ec2 = server.client("ec2", key=key["AccessKeyId"], secret=key["SecretAccessKey"])

    ec2.delete_security_group(GroupId=blue)
    code, message, status = error_of(ec2.delete_security_group, GroupId=red)
    assert (code, status) == ("UnauthorizedOperation", 403)
    assert f"ec2:DeleteSecurityGroup on resource: arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{red}" in message
    assert ec2.delete_security_group(GroupName=named)["GroupId"] == named_id  # the name resolves to the allowed ARN
    assert error_of(ec2.delete_security_group, GroupName=other_name)[0] == "UnauthorizedOperation"
