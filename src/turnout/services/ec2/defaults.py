"""What exists before anyone asks: a region's default VPC, and what every new VPC and security group starts with.

On first use of an account and region (any EC2 call, or another service reading the network through
``network.py``), in that request's transaction: the default VPC ``172.31.0.0/16``, one default subnet per
Availability Zone (``172.31.0.0/20``, ``172.31.16.0/20``, ... in zone order; public IPs on launch) and the VPC's
default security group. ``ec2_regions`` records that this happened, so a deleted default VPC stays deleted.

Every VPC gets a main route table (its local route only) and a security group named ``default`` ("default VPC
security group") that allows all inbound traffic from itself and all outbound traffic; every other new group allows
all outbound IPv4 traffic.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime

from ...core import ids
from ...store.db import Database
from . import store, tags, zones
from .model import RouteTable, Rule, SecurityGroup, Subnet, Vpc

DEFAULT_VPC_CIDR = "172.31.0.0/16"
DEFAULT_SUBNET_PREFIX = 20
DEFAULT_GROUP_NAME = "default"
DEFAULT_GROUP_DESCRIPTION = "default VPC security group"


def dhcp_options_id(account: str, region: str) -> str:
    """The region's default DHCP option set, which every VPC uses (Turnout keeps no option sets; the id is stable
    per account and region)."""
    return "dopt-" + hashlib.sha256(f"{account}:{region}".encode()).hexdigest()[:17]


def add_vpc(db: Database, account: str, region: str, cidr: str, now: datetime, *, is_default: bool = False,
            tenancy: str = "default") -> Vpc:
    # DNS support is on for every VPC; DNS host names only for the default VPC (Amazon VPC User Guide, "DNS
    # attributes for your VPC").
    vpc = Vpc(account, region, ids.ec2_id("vpc"), cidr, ids.ec2_id("vpc-cidr-assoc"), is_default, "available",
              tenancy, dhcp_options_id(account, region), enable_dns_support=True, enable_dns_hostnames=is_default)
    store.insert_vpc(db, vpc, now)
    store.insert_route_table(db, RouteTable(account, region, ids.ec2_id("rtb"), vpc.vpc_id,
                                            ids.ec2_id("rtbassoc")), now)
    group = SecurityGroup(account, region, ids.ec2_id("sg"), DEFAULT_GROUP_NAME, DEFAULT_GROUP_DESCRIPTION,
                          vpc.vpc_id)
    store.insert_group(db, group, now)
    add_rule(db, group, False, "-1", referenced_group_id=group.group_id, referenced_user_id=account)
    add_rule(db, group, True, "-1", cidr_ipv4="0.0.0.0/0")
    return vpc


def add_group(db: Database, vpc: Vpc, name: str, description: str, now: datetime) -> SecurityGroup:
    group = SecurityGroup(vpc.account_id, vpc.region, ids.ec2_id("sg"), name, description, vpc.vpc_id)
    store.insert_group(db, group, now)
    add_rule(db, group, True, "-1", cidr_ipv4="0.0.0.0/0")
    return group


def remove_group(db: Database, group: SecurityGroup) -> None:
    """A group with its rules and the tags of both."""
    for rule in store.group_rules(db, group.account_id, group.region, group.group_id):
        tags.drop(db, group.account_id, group.region, rule.rule_id)
    store.delete_group(db, group.account_id, group.region, group.group_id)
    tags.drop(db, group.account_id, group.region, group.group_id)


def add_rule(db: Database, group: SecurityGroup, is_egress: bool, protocol: str, from_port: int | None = None,
             to_port: int | None = None, *, cidr_ipv4: str | None = None, cidr_ipv6: str | None = None,
             prefix_list_id: str | None = None, referenced_group_id: str | None = None,
             referenced_user_id: str | None = None, description: str | None = None) -> Rule:
    rule = Rule(group.account_id, group.region, ids.ec2_id("sgr"), group.group_id, is_egress, protocol, from_port,
                to_port, cidr_ipv4, cidr_ipv6, prefix_list_id, referenced_group_id, referenced_user_id, description,
                store.next_seq(db, group.account_id, group.region))
    store.insert_rule(db, rule)
    return rule


def ensure(db: Database, account: str, region: str, now: datetime) -> None:
    """Create the region's defaults for the account unless they were created before (in the caller's
    transaction)."""
    if not store.initialize_region(db, account, region, now):
        return
    vpc = add_vpc(db, account, region, DEFAULT_VPC_CIDR, now, is_default=True)
    blocks = ipaddress.IPv4Network(DEFAULT_VPC_CIDR).subnets(new_prefix=DEFAULT_SUBNET_PREFIX)
    for zone, block in zip(zones.zones(region), blocks, strict=False):
        store.insert_subnet(db, Subnet(account, region, ids.ec2_id("subnet"), vpc.vpc_id, str(block), zone.name,
                                       zone.zone_id, True, True, "available"), now)
