"""The EC2 provider: networking only (VPCs and their attributes, subnets, security groups and their rules, main
route tables, the network interfaces of load balancers and tasks, AWS-managed prefix lists, tags, zones, account
attributes). Every other EC2 operation answers NotImplemented.

The provider declares EC2's hooks for the authorizer (installed when the gateway registers it): the stored tags of
a resource named by ARN (``aws:ResourceTag/*``) and the ARN of a security group named by ``GroupName`` (a default
VPC's group).
"""

from __future__ import annotations

from ...store.db import Database
from . import store, tags
from .account import AccountOperations
from .network_interfaces import NetworkInterfaceOperations
from .prefix_lists import PrefixListOperations
from .route_tables import RouteTableOperations
from .rules import RuleOperations
from .subnets import SubnetOperations
from .tag_operations import TagOperations
from .vpc_attributes import VpcAttributeOperations


def security_group_arn(db: Database, account: str, region: str, name: str) -> str | None:
    """The ARN of the default VPC's group ``name`` (read only: defaults not created yet resolve to None)."""
    vpc = store.default_vpc(db, account, region)
    group = store.group_by_name(db, account, region, vpc.vpc_id, name) if vpc is not None else None
    return group.arn if group is not None else None


class Ec2Provider(RuleOperations, SubnetOperations, VpcAttributeOperations, RouteTableOperations,
                  NetworkInterfaceOperations, PrefixListOperations, TagOperations, AccountOperations):
    service = "ec2"
    tag_lookups = {"ec2": tags.lookup}
    name_resolvers = {"ec2:security-group": security_group_arn}
