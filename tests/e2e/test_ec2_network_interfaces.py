"""EC2 network interfaces end to end: a load balancer's ENIs (one per subnet, following SetSubnets and
SetSecurityGroups, gone with it), an awsvpc task's ENI (its IP, subnet and groups, from launch until STOPPED),
DescribeNetworkInterfaces' filters and pagination, and the DependencyViolation an ENI's security group and subnet
answer while it holds them."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Server, error_of

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("ec2-eni") / "data", ["--time-scale", "600"]).start()
    yield srv
    srv.stop()


class Net:
    """A VPC of its own with two subnets in two zones and a security group."""

    def __init__(self, server: Server, unique: Callable[[str], str]) -> None:
        self.ec2 = server.client("ec2")
        self.elb = server.client("elbv2")
        self.ecs = server.client("ecs")
        self.unique = unique
        self.vpc = self.ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        self.subnets = [
            self.ec2.create_subnet(VpcId=self.vpc, CidrBlock=f"10.20.{i}.0/24",
                                   AvailabilityZone=f"us-east-1{zone}")["Subnet"]["SubnetId"]
            for i, zone in ((1, "a"), (2, "b"), (3, "c"))
        ]
        self.group = self.group_named("web")

    def group_named(self, name: str) -> str:
        group: str = self.ec2.create_security_group(GroupName=self.unique(name), Description="d",
                                                    VpcId=self.vpc)["GroupId"]
        return group

    def enis(self, *filters: tuple[str, list[str]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.ec2.describe_network_interfaces(
            Filters=[{"Name": n, "Values": v} for n, v in filters])["NetworkInterfaces"]
        return found

    def alb(self, subnets: list[str], groups: list[str]) -> dict[str, Any]:
        lb: dict[str, Any] = self.elb.create_load_balancer(Name=self.unique("alb")[-32:], Subnets=subnets,
                                                           SecurityGroups=groups)["LoadBalancers"][0]
        return lb


    def destroy(self) -> None:
        """Delete what the test left (a region holds five VPCs)."""
        from botocore.exceptions import ClientError

        calls: list[tuple[Any, dict[str, str]]] = [(self.ec2.delete_subnet, {"SubnetId": s}) for s in self.subnets]
        groups = self.ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [self.vpc]}])
        calls += [(self.ec2.delete_security_group, {"GroupId": g["GroupId"]})
                  for g in groups["SecurityGroups"] if g["GroupName"] != "default"]
        calls.append((self.ec2.delete_vpc, {"VpcId": self.vpc}))
        for call, args in calls:
            with contextlib.suppress(ClientError):
                call(**args)


@pytest.fixture
def net(fast: Server, unique: Callable[[str], str]) -> Iterator[Net]:
    made = Net(fast, unique)
    yield made
    made.destroy()


def elb_description(lb: dict[str, Any]) -> str:
    return "ELB " + lb["LoadBalancerArn"].split(":loadbalancer/", 1)[1]


def test_a_load_balancer_holds_one_eni_per_subnet_with_its_groups(net: Net) -> None:
    lb = net.alb(net.subnets[:2], [net.group])
    description = elb_description(lb)
    assert description.startswith("ELB app/") and description.endswith("/" + lb["LoadBalancerArn"].rsplit("/", 1)[1])
    # What the Terraform provider's aws_lb delete waits on: ENIs owned by amazon-elb with that description.
    enis = net.enis(("attachment.instance-owner-id", ["amazon-elb"]), ("description", [description]))
    assert sorted(e["SubnetId"] for e in enis) == sorted(net.subnets[:2])
    for eni in enis:
        assert eni["InterfaceType"] == "interface"
        assert eni["RequesterId"] == "amazon-elb" and eni["RequesterManaged"] is True
        assert eni["Status"] == "in-use" and eni["Attachment"]["Status"] == "attached"
        assert eni["Attachment"]["InstanceOwnerId"] == "amazon-elb" and eni["Attachment"]["DeviceIndex"] == 1
        assert eni["Groups"][0]["GroupId"] == net.group and len(eni["Groups"]) == 1
        assert eni["VpcId"] == net.vpc and eni["OwnerId"] == ACCOUNT
        assert eni["PrivateIpAddress"].startswith("10.20.")
        assert eni["PrivateIpAddresses"][0]["Primary"] is True
        assert eni["AvailabilityZone"] in ("us-east-1a", "us-east-1b")
    # EC2's timestamp form on the wire: milliseconds and "Z".
    bodies: list[bytes] = []
    net.ec2.meta.events.register("before-parse.ec2.DescribeNetworkInterfaces",
                                 lambda response_dict, **_: bodies.append(response_dict["body"]))
    net.enis(("description", [description]))
    assert re.search(rb"<attachTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z</attachTime>", bodies[0])
    # Subnets and groups move the ENIs.
    other = net.group_named("other")
    net.elb.set_subnets(LoadBalancerArn=lb["LoadBalancerArn"], Subnets=[net.subnets[1], net.subnets[2]])
    net.elb.set_security_groups(LoadBalancerArn=lb["LoadBalancerArn"], SecurityGroups=[other])
    enis = net.enis(("description", [description]))
    assert sorted(e["SubnetId"] for e in enis) == sorted(net.subnets[1:])
    assert all([g["GroupId"] for g in e["Groups"]] == [other] for e in enis)
    assert net.enis(("group-id", [net.group])) == []
    # The group they hold cannot go; deleting the load balancer releases it.
    code, message, status = error_of(net.ec2.delete_security_group, GroupId=other)
    assert (code, message, status) == ("DependencyViolation", f"resource {other} has a dependent object", 400)
    net.elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    assert net.enis(("description", [description])) == []
    net.ec2.delete_security_group(GroupId=other)


def test_a_network_load_balancer_eni_has_its_interface_type(net: Net) -> None:
    lb = net.elb.create_load_balancer(Name=net.unique("nlb")[-32:], Type="network",
                                      Subnets=[net.subnets[0]])["LoadBalancers"][0]
    [eni] = net.enis(("description", [elb_description(lb)]))
    assert elb_description(lb).startswith("ELB net/")
    assert eni["InterfaceType"] == "network_load_balancer" and eni["Groups"] == []
    assert net.enis(("interface-type", ["network_load_balancer"]), ("vpc-id", [net.vpc])) == [eni]
    net.elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])


def test_describe_network_interfaces_by_id_filters_and_pages(net: Net) -> None:
    lb = net.alb(net.subnets, [net.group])
    enis = net.enis(("vpc-id", [net.vpc]))
    ids = sorted(e["NetworkInterfaceId"] for e in enis)
    assert len(ids) == 3
    first = net.ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [net.vpc]}], MaxResults=5)
    assert "NextToken" not in first and len(first["NetworkInterfaces"]) == 3
    paginator = net.ec2.get_paginator("describe_network_interfaces")
    pages = list(paginator.paginate(Filters=[{"Name": "group-id", "Values": [net.group]}],
                                    PaginationConfig={"PageSize": 5}))
    assert sorted(e["NetworkInterfaceId"] for p in pages for e in p["NetworkInterfaces"]) == ids
    assert [e["NetworkInterfaceId"] for e in net.ec2.describe_network_interfaces(
        NetworkInterfaceIds=[ids[0]])["NetworkInterfaces"]] == [ids[0]]
    one = net.enis(("subnet-id", [net.subnets[2]]))
    assert len(one) == 1 and one[0]["AvailabilityZone"] == "us-east-1c"
    assert net.enis(("private-ip-address", [one[0]["PrivateIpAddress"]]), ("vpc-id", [net.vpc])) == one
    assert net.enis(("requester-id", ["amazon-elb"]), ("subnet-id", [net.subnets[2]])) == one
    missing = "eni-0123456789abcdef0"
    assert error_of(net.ec2.describe_network_interfaces, NetworkInterfaceIds=[missing])[:2] == (
        "InvalidNetworkInterfaceID.NotFound", f"The networkInterface ID '{missing}' does not exist")
    assert error_of(net.ec2.describe_network_interfaces, NetworkInterfaceIds=["eni-x"])[0] == \
        "InvalidNetworkInterfaceID.Malformed"
    assert error_of(net.ec2.describe_network_interfaces, Filters=[{"Name": "colour", "Values": ["x"]}])[:2] == (
        "InvalidParameterValue", "The filter 'colour' is invalid")
    # An ENI can be tagged and found by its tags.
    net.ec2.create_tags(Resources=[ids[0]], Tags=[{"Key": "team", "Value": "edge"}])
    [tagged] = net.enis(("tag:team", ["edge"]))
    assert tagged["NetworkInterfaceId"] == ids[0] and tagged["TagSet"] == [{"Key": "team", "Value": "edge"}]
    net.elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    assert error_of(net.ec2.create_tags, Resources=[ids[0]], Tags=[{"Key": "a", "Value": "b"}])[0] == \
        "InvalidNetworkInterfaceID.NotFound"


def test_a_subnet_and_vpc_with_an_eni_cannot_be_deleted(net: Net) -> None:
    lb = net.alb(net.subnets[:2], [net.group])
    code, message, _ = error_of(net.ec2.delete_subnet, SubnetId=net.subnets[0])
    assert (code, message) == ("DependencyViolation",
                               f"The subnet '{net.subnets[0]}' has dependencies and cannot be deleted.")
    net.elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    for subnet in net.subnets:
        net.ec2.delete_subnet(SubnetId=subnet)
    net.ec2.delete_security_group(GroupId=net.group)
    net.ec2.delete_vpc(VpcId=net.vpc)


def _task_definition(ecs: Any, family: str) -> str:
    arn: str = ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "app:1", "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def _wait(ecs: Any, cluster: str, arn: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        task: dict[str, Any] = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
        if task["lastStatus"] == status or time.monotonic() > deadline:
            return task
        time.sleep(0.05)


def test_an_awsvpc_task_holds_an_eni_until_it_stops(net: Net) -> None:
    cluster = net.unique("eni")
    net.ecs.create_cluster(clusterName=cluster)
    td = _task_definition(net.ecs, net.unique("app"))
    task = net.ecs.run_task(cluster=cluster, taskDefinition=td, launchType="FARGATE", networkConfiguration={
        "awsvpcConfiguration": {"subnets": [net.subnets[0]], "securityGroups": [net.group]}})["tasks"][0]
    task = _wait(net.ecs, cluster, task["taskArn"], "RUNNING")
    [attachment] = task["attachments"]
    details = {d["name"]: d["value"] for d in attachment["details"]}
    [eni] = net.enis(("network-interface-id", [details["networkInterfaceId"]]))
    assert eni["Description"] == f"arn:aws:ecs:us-east-1:{ACCOUNT}:attachment/{attachment['id']}"
    assert eni["PrivateIpAddress"] == details["privateIPv4Address"] == task["containers"][0][
        "networkInterfaces"][0]["privateIpv4Address"]
    assert eni["SubnetId"] == net.subnets[0] and eni["VpcId"] == net.vpc
    assert eni["MacAddress"] == details["macAddress"] and eni["PrivateDnsName"] == details["privateDnsName"]
    assert [g["GroupId"] for g in eni["Groups"]] == [net.group] and eni["InterfaceType"] == "interface"
    assert eni["RequesterManaged"] is True
    code, _, _ = error_of(net.ec2.delete_security_group, GroupId=net.group)
    assert code == "DependencyViolation"
    net.ecs.stop_task(cluster=cluster, task=task["taskArn"])
    _wait(net.ecs, cluster, task["taskArn"], "STOPPED")
    assert net.enis(("network-interface-id", [details["networkInterfaceId"]])) == []
    net.ec2.delete_security_group(GroupId=net.group)


def test_a_task_without_groups_gets_the_vpc_default_group(net: Net) -> None:
    cluster = net.unique("eni")
    net.ecs.create_cluster(clusterName=cluster)
    td = _task_definition(net.ecs, net.unique("app"))
    task = net.ecs.run_task(cluster=cluster, taskDefinition=td, launchType="FARGATE", networkConfiguration={
        "awsvpcConfiguration": {"subnets": [net.subnets[1]]}})["tasks"][0]
    default = net.ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [net.vpc]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    [eni] = net.enis(("subnet-id", [net.subnets[1]]), ("description", ["arn:aws:ecs:*:attachment/*"]))
    assert [g for g in eni["Groups"]] == [{"GroupId": default["GroupId"], "GroupName": "default"}]
    net.ecs.stop_task(cluster=cluster, task=task["taskArn"])
    _wait(net.ecs, cluster, task["taskArn"], "STOPPED")
