"""Terraform replays for EC2: data ``aws_vpc`` (``default = true``), data ``aws_subnets`` (filter ``vpc-id``),
``aws_security_group`` (without rules, and with inline ingress/egress blocks), ``aws_vpc_security_group_ingress_rule``
and ``aws_vpc_security_group_egress_rule``: apply (create and read), a plan with no changes (a refresh reading back
exactly what was configured), an update, and destroy with the provider's wait until the resource is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Server
from tests.terraform.ec2_support import (
    DEPENDENCY_VIOLATION,
    NotFound,
    Rule,
    RuleResource,
    create_group,
    create_rule,
    delete_group,
    delete_rule,
    find_group,
    read_group,
    read_rule,
    read_subnets_data_source,
    read_vpc_data_source,
    update_group_rules,
    update_rule,
    update_tags,
)

ACCOUNT = "000000000000"
ALL = Rule("-1", 0, 0, cidr_blocks=("0.0.0.0/0",))


@pytest.fixture
def ec2(server: Server) -> Any:
    return server.client("ec2")


@pytest.fixture
def default_vpc(ec2: Any) -> str:
    vpc_id: str = read_vpc_data_source(ec2, default=True)["id"]
    return vpc_id


# -- data sources -------------------------------------------------------------------------------------------------


def test_data_aws_vpc_default(ec2: Any) -> None:
    state = read_vpc_data_source(ec2, default=True)
    assert state["default"] is True and state["cidr_block"] == "172.31.0.0/16"
    assert state["instance_tenancy"] == "default" and state["owner_id"] == ACCOUNT and state["state"] == "available"
    assert state["enable_dns_support"] is True and state["enable_dns_hostnames"] is True
    assert state["enable_network_address_usage_metrics"] is False
    assert state["main_route_table_id"].startswith("rtb-")
    assert state["dhcp_options_id"].startswith("dopt-")
    assert state["cidr_block_associations"][0]["cidr_block"] == "172.31.0.0/16"
    assert state["cidr_block_associations"][0]["state"] == "associated"
    # The next plan reads it again: the same values (a data source that changes makes dependents change).
    assert read_vpc_data_source(ec2, default=True) == state
    # By id, as `data "aws_vpc" { id = ... }` reads it.
    assert read_vpc_data_source(ec2, vpc_id=state["id"]) == state


def test_data_aws_subnets_by_vpc_id(ec2: Any, default_vpc: str) -> None:
    ids = read_subnets_data_source(ec2, {"vpc-id": [default_vpc]})
    described = ec2.describe_subnets(SubnetIds=ids)["Subnets"]
    assert len(ids) == 6 and all(s["VpcId"] == default_vpc and s["DefaultForAz"] for s in described)
    assert sorted(s["AvailabilityZone"] for s in described) == [f"us-east-1{z}" for z in "abcdef"]
    assert read_subnets_data_source(ec2, {"vpc-id": [default_vpc]}) == ids  # same ids, same order
    # The provider's other filter spellings of the same question.
    assert read_subnets_data_source(ec2, {"vpc-id": [default_vpc], "defaultForAz": ["true"]}) == ids
    [one] = read_subnets_data_source(ec2, {"vpc-id": [default_vpc], "availabilityZone": ["us-east-1a"]})
    assert one in ids


# -- resource "aws_security_group" ------------------------------------------------------------------------------


def test_security_group_without_rules(ec2: Any, default_vpc: str, unique: Callable[[str], str]) -> None:
    name = unique("tf-empty")
    # apply
    state = create_group(ec2, name=name, vpc_id=default_vpc, tags={"Name": name})
    group_id = state["id"]
    assert state == {
        "id": group_id, "arn": f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{group_id}", "name": name,
        "description": "Managed by Terraform", "owner_id": ACCOUNT, "vpc_id": default_vpc,
        "ingress": set(), "egress": set(), "tags": {"Name": name},
    }
    # plan: no changes (the default egress rule stays revoked; nothing else appears)
    assert read_group(ec2, group_id) == state
    # update: tags only (name, description and vpc_id force a new group)
    update_tags(ec2, group_id, {"Name": name}, {"Name": name, "env": "test"})
    assert read_group(ec2, group_id)["tags"] == {"Name": name, "env": "test"}
    update_tags(ec2, group_id, {"Name": name, "env": "test"}, {"env": "prod"})
    assert read_group(ec2, group_id)["tags"] == {"env": "prod"}
    # destroy, and the wait until it is gone
    assert delete_group(ec2, group_id) == []
    with pytest.raises(NotFound):
        find_group(ec2, group_id)


def test_security_group_with_inline_rules(ec2: Any, default_vpc: str, unique: Callable[[str], str]) -> None:
    alb = create_group(ec2, name=unique("tf-alb"), description="ALB", vpc_id=default_vpc,
                       ingress=[Rule("tcp", 80, 80, cidr_blocks=("0.0.0.0/0",), description="HTTP"),
                                Rule("tcp", 443, 443, cidr_blocks=("0.0.0.0/0", "10.0.0.0/8"),
                                     ipv6_cidr_blocks=("::/0",))],
                       egress=[ALL])
    ingress = {Rule("tcp", 8080, 8080, security_groups=frozenset({alb["id"]}), description="from the ALB"),
               Rule("-1", 0, 0, self=True)}
    egress = {ALL, Rule("tcp", 443, 443, prefix_list_ids=("pl-63a5400a",))}
    tasks = create_group(ec2, name=unique("tf-tasks"), description="ECS tasks", vpc_id=default_vpc,
                         ingress=ingress, egress=egress)
    # apply: read back exactly as configured
    assert alb["ingress"] == {Rule("tcp", 80, 80, cidr_blocks=("0.0.0.0/0",), description="HTTP"),
                              Rule("tcp", 443, 443, cidr_blocks=("0.0.0.0/0", "10.0.0.0/8"),
                                   ipv6_cidr_blocks=("::/0",))}
    assert alb["egress"] == {ALL}
    assert tasks["ingress"] == ingress and tasks["egress"] == egress
    # plan: no changes
    assert read_group(ec2, alb["id"]) == alb and read_group(ec2, tasks["id"]) == tasks
    # update: a port changes and a block goes (revoke, then authorize)
    new_ingress = {Rule("tcp", 8443, 8443, security_groups=frozenset({alb["id"]}), description="from the ALB")}
    update_group_rules(ec2, tasks["id"], "ingress", ingress, new_ingress)
    refreshed = read_group(ec2, tasks["id"])
    assert refreshed["ingress"] == new_ingress and refreshed["egress"] == egress
    # destroy: the tasks group first (it references the ALB group), then the ALB group
    assert delete_group(ec2, tasks["id"]) == []
    assert delete_group(ec2, alb["id"]) == []


def test_security_group_destroy_waits_for_a_load_balancer(server: Server, ec2: Any, default_vpc: str,
                                                          unique: Callable[[str], str]) -> None:
    """A group a load balancer still uses answers DependencyViolation (the provider retries), and its ENIs are
    what the provider's lingering-ENI lookup finds; once the load balancer is gone the delete goes through."""
    group = create_group(ec2, name=unique("tf-lb"), vpc_id=default_vpc, egress=[ALL])
    elb = server.client("elbv2")
    subnets = read_subnets_data_source(ec2, {"vpc-id": [default_vpc]})[:2]
    lb = elb.create_load_balancer(Name=unique("tf")[-32:], Subnets=subnets,
                                  SecurityGroups=[group["id"]])["LoadBalancers"][0]
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [group["id"]]}])
    assert len(enis["NetworkInterfaces"]) == 2
    assert delete_group(ec2, group["id"], attempts=2) == [DEPENDENCY_VIOLATION, DEPENDENCY_VIOLATION]
    assert find_group(ec2, group["id"])["GroupId"] == group["id"]
    elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    assert delete_group(ec2, group["id"]) == []


def test_security_group_removed_outside_terraform(ec2: Any, default_vpc: str, unique: Callable[[str], str]) -> None:
    group = create_group(ec2, name=unique("tf-gone"), vpc_id=default_vpc)
    ec2.delete_security_group(GroupId=group["id"])
    with pytest.raises(NotFound):  # the refresh drops it from state; the plan creates it again
        read_group(ec2, group["id"])
    assert delete_group(ec2, group["id"]) == []  # a destroy of a gone group succeeds


# -- resource "aws_vpc_security_group_ingress_rule" / "aws_vpc_security_group_egress_rule" -----------------------


@pytest.fixture
def groups(ec2: Any, default_vpc: str, unique: Callable[[str], str]) -> tuple[str, str]:
    target = create_group(ec2, name=unique("tf-rules"), vpc_id=default_vpc)["id"]
    peer = create_group(ec2, name=unique("tf-peer"), vpc_id=default_vpc)["id"]
    return target, peer


def test_ingress_rule_resource(ec2: Any, groups: tuple[str, str]) -> None:
    target, peer = groups
    config = RuleResource(target, "tcp", 80, 80, cidr_ipv4="10.0.0.0/16", description="HTTP from the VPC",
                          tags=(("Name", "http"),))
    # apply
    rule_id = create_rule(ec2, config, egress=False)
    state = read_rule(ec2, rule_id, config, egress=False)
    assert {k: v for k, v in state.items() if k != "arn"} == config.state()
    assert state["arn"] == f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group-rule/{rule_id}"
    # plan: no changes
    assert read_rule(ec2, rule_id, config, egress=False) == state
    # the group itself shows the rule (and an aws_security_group without inline rules would not fight it)
    assert read_group(ec2, target)["ingress"] == {Rule("tcp", 80, 80, cidr_blocks=("10.0.0.0/16",),
                                                       description="HTTP from the VPC")}
    # update in place: ports, description and tags; the id stays
    updated = RuleResource(target, "tcp", 443, 443, cidr_ipv4="10.0.0.0/16", description="HTTPS",
                           tags=(("Name", "https"), ("env", "test")))
    update_rule(ec2, rule_id, config, updated)
    assert {k: v for k, v in read_rule(ec2, rule_id, updated, egress=False).items() if k != "arn"} == \
        updated.state()
    # the same rule id read as an egress rule is not found (findSecurityGroupEgressRuleByID)
    with pytest.raises(NotFound):
        read_rule(ec2, rule_id, updated, egress=True)
    # a source change (cidr -> group) replaces the rule: destroy, then create
    delete_rule(ec2, rule_id, updated, egress=False)
    with pytest.raises(NotFound):
        read_rule(ec2, rule_id, updated, egress=False)
    delete_rule(ec2, rule_id, updated, egress=False)  # gone already: the provider's not-found codes pass
    by_group = RuleResource(target, "tcp", 8080, 8080, referenced_security_group_id=peer)
    rule_id = create_rule(ec2, by_group, egress=False)
    assert {k: v for k, v in read_rule(ec2, rule_id, by_group, egress=False).items() if k != "arn"} == \
        by_group.state()
    # destroy
    delete_rule(ec2, rule_id, by_group, egress=False)
    with pytest.raises(NotFound):
        read_rule(ec2, rule_id, by_group, egress=False)
    assert delete_group(ec2, target) == [] and delete_group(ec2, peer) == []


def test_egress_rule_resource_all_traffic(ec2: Any, groups: tuple[str, str]) -> None:
    target, peer = groups
    # ip_protocol "-1" without ports: AWS answers -1, which the provider keeps null
    config = RuleResource(target, "-1", cidr_ipv4="0.0.0.0/0")
    rule_id = create_rule(ec2, config, egress=True)
    state = read_rule(ec2, rule_id, config, egress=True)
    assert {k: v for k, v in state.items() if k != "arn"} == config.state()
    assert read_rule(ec2, rule_id, config, egress=True) == state
    with pytest.raises(NotFound):
        read_rule(ec2, rule_id, config, egress=False)
    # update: to the peer group on 5432
    updated = RuleResource(target, "tcp", 5432, 5432, referenced_security_group_id=peer, description="db")
    update_rule(ec2, rule_id, config, updated)
    assert {k: v for k, v in read_rule(ec2, rule_id, updated, egress=True).items() if k != "arn"} == \
        updated.state()
    # destroy; a second destroy after the group itself went (removed outside Terraform) passes too: the revoke's
    # InvalidGroup.NotFound counts as deleted
    delete_rule(ec2, rule_id, updated, egress=True)
    with pytest.raises(NotFound):
        read_rule(ec2, rule_id, updated, egress=True)
    assert delete_group(ec2, target) == []
    delete_rule(ec2, rule_id, updated, egress=True)
    assert delete_group(ec2, peer) == []
