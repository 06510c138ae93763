"""Reads and writes of the EC2 tables (``0006_ec2.sql``), keyed by account and region."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ...core.tagging import Tag
from ...store.codec import dumps, iso
from ...store.db import Database
from .model import NetworkInterface, RouteTable, Rule, RuleLike, SecurityGroup, Subnet, Vpc

# -- regions ----------------------------------------------------------------------------------------------------


def initialize_region(db: Database, account: str, region: str, now: datetime) -> bool:
    """Record that the account's defaults in ``region`` are created (``ec2_regions``); False when they were
    before, so that they are created once (a deleted default VPC stays deleted)."""
    if db.one("SELECT 1 FROM ec2_regions WHERE account_id = ? AND region = ?", (account, region)) is not None:
        return False
    db.execute("INSERT INTO ec2_regions (account_id, region, initialized_at) VALUES (?, ?, ?)",
               (account, region, iso(now)))
    return True


# -- VPCs -------------------------------------------------------------------------------------------------------


def vpc(db: Database, account: str, region: str, vpc_id: str) -> Vpc | None:
    row = db.one("SELECT * FROM ec2_vpcs WHERE account_id = ? AND region = ? AND vpc_id = ?",
                 (account, region, vpc_id))
    return Vpc.from_row(row) if row is not None else None


def vpcs(db: Database, account: str, region: str) -> list[Vpc]:
    rows = db.all("SELECT * FROM ec2_vpcs WHERE account_id = ? AND region = ? ORDER BY vpc_id", (account, region))
    return [Vpc.from_row(r) for r in rows]


def default_vpc(db: Database, account: str, region: str) -> Vpc | None:
    row = db.one("SELECT * FROM ec2_vpcs WHERE account_id = ? AND region = ? AND is_default = 1", (account, region))
    return Vpc.from_row(row) if row is not None else None


def insert_vpc(db: Database, item: Vpc, now: datetime) -> None:
    db.execute(
        "INSERT INTO ec2_vpcs (account_id, region, vpc_id, cidr_block, cidr_association_id, is_default, state, "
        "instance_tenancy, dhcp_options_id, enable_dns_support, enable_dns_hostnames, "
        "enable_network_address_usage_metrics, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (item.account_id, item.region, item.vpc_id, item.cidr_block, item.cidr_association_id, int(item.is_default),
         item.state, item.instance_tenancy, item.dhcp_options_id, int(item.enable_dns_support),
         int(item.enable_dns_hostnames), int(item.enable_network_address_usage_metrics), iso(now)),
    )


VPC_ATTRIBUTES = ("enable_dns_support", "enable_dns_hostnames", "enable_network_address_usage_metrics")


def set_vpc_attribute(db: Database, account: str, region: str, vpc_id: str, column: str, value: bool) -> None:
    if column not in VPC_ATTRIBUTES:
        raise ValueError(column)
    db.execute(f"UPDATE ec2_vpcs SET {column} = ? WHERE account_id = ? AND region = ? AND vpc_id = ?",
               (int(value), account, region, vpc_id))


def delete_vpc(db: Database, account: str, region: str, vpc_id: str) -> None:
    """The VPC and its main route table."""
    db.execute("DELETE FROM ec2_route_tables WHERE account_id = ? AND region = ? AND vpc_id = ?",
               (account, region, vpc_id))
    db.execute("DELETE FROM ec2_vpcs WHERE account_id = ? AND region = ? AND vpc_id = ?", (account, region, vpc_id))


# -- route tables -----------------------------------------------------------------------------------------------


def route_tables(db: Database, account: str, region: str) -> list[RouteTable]:
    rows = db.all("SELECT * FROM ec2_route_tables WHERE account_id = ? AND region = ? ORDER BY route_table_id",
                  (account, region))
    return [RouteTable.from_row(r) for r in rows]


def insert_route_table(db: Database, item: RouteTable, now: datetime) -> None:
    db.execute(
        "INSERT INTO ec2_route_tables (account_id, region, route_table_id, vpc_id, main_association_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (item.account_id, item.region, item.route_table_id, item.vpc_id, item.main_association_id, iso(now)),
    )


# -- subnets ----------------------------------------------------------------------------------------------------


def subnet(db: Database, account: str, region: str, subnet_id: str) -> Subnet | None:
    row = db.one("SELECT * FROM ec2_subnets WHERE account_id = ? AND region = ? AND subnet_id = ?",
                 (account, region, subnet_id))
    return Subnet.from_row(row) if row is not None else None


def subnets(db: Database, account: str, region: str, vpc_id: str | None = None) -> list[Subnet]:
    if vpc_id is None:
        rows = db.all("SELECT * FROM ec2_subnets WHERE account_id = ? AND region = ? ORDER BY subnet_id",
                      (account, region))
    else:
        rows = db.all("SELECT * FROM ec2_subnets WHERE account_id = ? AND region = ? AND vpc_id = ? "
                      "ORDER BY subnet_id", (account, region, vpc_id))
    return [Subnet.from_row(r) for r in rows]


def insert_subnet(db: Database, item: Subnet, now: datetime) -> None:
    db.execute(
        "INSERT INTO ec2_subnets (account_id, region, subnet_id, vpc_id, cidr_block, availability_zone, "
        "availability_zone_id, default_for_az, map_public_ip_on_launch, state, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (item.account_id, item.region, item.subnet_id, item.vpc_id, item.cidr_block, item.availability_zone,
         item.availability_zone_id, int(item.default_for_az), int(item.map_public_ip_on_launch), item.state,
         iso(now)),
    )


def delete_subnet(db: Database, account: str, region: str, subnet_id: str) -> None:
    db.execute("DELETE FROM ec2_subnets WHERE account_id = ? AND region = ? AND subnet_id = ?",
               (account, region, subnet_id))


# -- security groups --------------------------------------------------------------------------------------------


def group(db: Database, account: str, region: str, group_id: str) -> SecurityGroup | None:
    row = db.one("SELECT * FROM ec2_security_groups WHERE account_id = ? AND region = ? AND group_id = ?",
                 (account, region, group_id))
    return SecurityGroup.from_row(row) if row is not None else None


def group_by_name(db: Database, account: str, region: str, vpc_id: str, name: str) -> SecurityGroup | None:
    """Group names "are case-insensitive and must be unique within the VPC" (CreateSecurityGroup reference)."""
    row = db.one("SELECT * FROM ec2_security_groups WHERE account_id = ? AND region = ? AND vpc_id = ? "
                 "AND LOWER(group_name) = LOWER(?)", (account, region, vpc_id, name))
    return SecurityGroup.from_row(row) if row is not None else None


def groups(db: Database, account: str, region: str, vpc_id: str | None = None) -> list[SecurityGroup]:
    if vpc_id is None:
        rows = db.all("SELECT * FROM ec2_security_groups WHERE account_id = ? AND region = ? ORDER BY group_id",
                      (account, region))
    else:
        rows = db.all("SELECT * FROM ec2_security_groups WHERE account_id = ? AND region = ? AND vpc_id = ? "
                      "ORDER BY group_id", (account, region, vpc_id))
    return [SecurityGroup.from_row(r) for r in rows]


def insert_group(db: Database, item: SecurityGroup, now: datetime) -> None:
    db.execute(
        "INSERT INTO ec2_security_groups (account_id, region, group_id, group_name, description, vpc_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (item.account_id, item.region, item.group_id, item.group_name, item.description, item.vpc_id, iso(now)),
    )


def delete_group(db: Database, account: str, region: str, group_id: str) -> None:
    db.execute("DELETE FROM ec2_security_group_rules WHERE account_id = ? AND region = ? AND group_id = ?",
               (account, region, group_id))
    db.execute("DELETE FROM ec2_security_groups WHERE account_id = ? AND region = ? AND group_id = ?",
               (account, region, group_id))


# -- security group rules ---------------------------------------------------------------------------------------


def rules(db: Database, account: str, region: str, group_ids: Iterable[str] | None = None) -> list[Rule]:
    """Rules of the given groups (all of the region's when None), in the order they were added."""
    rows = db.all("SELECT * FROM ec2_security_group_rules WHERE account_id = ? AND region = ? ORDER BY seq",
                  (account, region))
    found = [Rule.from_row(r) for r in rows]
    if group_ids is None:
        return found
    wanted = set(group_ids)
    return [r for r in found if r.group_id in wanted]


def group_rules(db: Database, account: str, region: str, group_id: str) -> list[Rule]:
    rows = db.all("SELECT * FROM ec2_security_group_rules WHERE account_id = ? AND region = ? AND group_id = ? "
                  "ORDER BY seq", (account, region, group_id))
    return [Rule.from_row(r) for r in rows]


def next_seq(db: Database, account: str, region: str) -> int:
    return int(db.scalar("SELECT COALESCE(MAX(seq), 0) FROM ec2_security_group_rules WHERE account_id = ? "
                         "AND region = ?", (account, region))) + 1


def insert_rule(db: Database, item: Rule) -> None:
    db.execute(
        "INSERT INTO ec2_security_group_rules (account_id, region, rule_id, group_id, is_egress, ip_protocol, "
        "from_port, to_port, cidr_ipv4, cidr_ipv6, prefix_list_id, referenced_group_id, referenced_user_id, "
        "description, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (item.account_id, item.region, item.rule_id, item.group_id, int(item.is_egress), item.protocol,
         item.from_port, item.to_port, item.cidr_ipv4, item.cidr_ipv6, item.prefix_list_id,
         item.referenced_group_id, item.referenced_user_id, item.description, item.seq),
    )


def update_rule(db: Database, account: str, region: str, rule_id: str, spec: RuleLike) -> None:
    """ModifySecurityGroupRules: the rule's protocol, ports, peer and description (its id, direction and order
    stay)."""
    db.execute(
        "UPDATE ec2_security_group_rules SET ip_protocol = ?, from_port = ?, to_port = ?, cidr_ipv4 = ?, "
        "cidr_ipv6 = ?, prefix_list_id = ?, referenced_group_id = ?, referenced_user_id = ?, description = ? "
        "WHERE account_id = ? AND region = ? AND rule_id = ?",
        (spec.protocol, spec.from_port, spec.to_port, spec.cidr_ipv4, spec.cidr_ipv6, spec.prefix_list_id,
         spec.referenced_group_id, spec.referenced_user_id, spec.description, account, region, rule_id),
    )


def delete_rule(db: Database, account: str, region: str, rule_id: str) -> None:
    db.execute("DELETE FROM ec2_security_group_rules WHERE account_id = ? AND region = ? AND rule_id = ?",
               (account, region, rule_id))


def referencing_groups(db: Database, region: str, group_id: str) -> list[str]:
    """Other groups (of any account: ids are unique) in the region whose rules name ``group_id`` as their peer."""
    rows = db.all("SELECT DISTINCT group_id FROM ec2_security_group_rules WHERE region = ? "
                  "AND referenced_group_id = ? AND group_id <> ?", (region, group_id, group_id))
    return [r[0] for r in rows]


# -- network interfaces -----------------------------------------------------------------------------------------


def interfaces(db: Database, account: str, region: str) -> list[NetworkInterface]:
    rows = db.all("SELECT * FROM ec2_network_interfaces WHERE account_id = ? AND region = ? ORDER BY eni_id",
                  (account, region))
    return [NetworkInterface.from_row(r) for r in rows]


def interfaces_of(db: Database, account: str, region: str, owner_ref: str) -> list[NetworkInterface]:
    rows = db.all("SELECT * FROM ec2_network_interfaces WHERE account_id = ? AND region = ? AND owner_ref = ? "
                  "ORDER BY eni_id", (account, region, owner_ref))
    return [NetworkInterface.from_row(r) for r in rows]


def interface_addresses(db: Database, account: str, region: str, subnet_id: str) -> set[str]:
    rows = db.all("SELECT private_ip FROM ec2_network_interfaces WHERE account_id = ? AND region = ? "
                  "AND subnet_id = ?", (account, region, subnet_id))
    return {str(r[0]) for r in rows}


def insert_interface(db: Database, item: NetworkInterface) -> None:
    db.execute(
        "INSERT INTO ec2_network_interfaces (account_id, region, eni_id, subnet_id, vpc_id, availability_zone, "
        "private_ip, description, interface_type, requester_id, instance_owner_id, attachment_id, security_groups, "
        "owner_ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (item.account_id, item.region, item.eni_id, item.subnet_id, item.vpc_id, item.availability_zone,
         item.private_ip, item.description, item.interface_type, item.requester_id, item.instance_owner_id,
         item.attachment_id, dumps(list(item.security_groups)), item.owner_ref, item.created_at),
    )


def set_interface_groups(db: Database, account: str, region: str, eni_id: str, groups: Iterable[str]) -> None:
    db.execute("UPDATE ec2_network_interfaces SET security_groups = ? WHERE account_id = ? AND region = ? "
               "AND eni_id = ?", (dumps(list(groups)), account, region, eni_id))


def delete_interface(db: Database, account: str, region: str, eni_id: str) -> None:
    db.execute("DELETE FROM ec2_network_interfaces WHERE account_id = ? AND region = ? AND eni_id = ?",
               (account, region, eni_id))


def interface_uses(db: Database, account: str, region: str, resource_id: str) -> bool:
    """Whether an ENI is in the subnet or VPC ``resource_id``, or has the security group ``resource_id``."""
    if resource_id.startswith("sg-"):
        sql, arg = "security_groups LIKE ?", f'%"{resource_id}"%'
    elif resource_id.startswith("subnet-"):
        sql, arg = "subnet_id = ?", resource_id
    elif resource_id.startswith("vpc-"):
        sql, arg = "vpc_id = ?", resource_id
    else:
        return False
    return db.one(f"SELECT 1 FROM ec2_network_interfaces WHERE account_id = ? AND region = ? AND {sql}",
                  (account, region, arg)) is not None


# -- tags ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResourceTag:
    """A row of ``ec2_tags``: one tag of one resource."""

    resource_id: str
    resource_type: str
    key: str
    value: str


def tags_of(db: Database, account: str, region: str, resource_id: str) -> list[Tag]:
    """A resource's tags, by key."""
    rows = db.all("SELECT tag_key, tag_value FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ? "
                  "ORDER BY tag_key", (account, region, resource_id))
    return [Tag(r[0], r[1]) for r in rows]


def resource_tags(db: Database, account: str, region: str) -> list[ResourceTag]:
    """Every tag of the account and region, by resource id then key."""
    return [ResourceTag(r[0], r[1], r[2], r[3]) for r in db.all(
        "SELECT resource_id, resource_type, tag_key, tag_value FROM ec2_tags WHERE account_id = ? AND region = ? "
        "ORDER BY resource_id, tag_key", (account, region))]


def put_tags(db: Database, account: str, region: str, resource_id: str, resource_type: str,
             tags: Iterable[Tag]) -> None:
    """Add or overwrite tags (the caller checked the quota)."""
    for tag in tags:
        db.execute(
            "INSERT INTO ec2_tags (account_id, region, resource_id, resource_type, tag_key, tag_value) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, region, resource_id, tag_key) "
            "DO UPDATE SET tag_value = excluded.tag_value",
            (account, region, resource_id, resource_type, tag.key, tag.value),
        )


def delete_tag(db: Database, account: str, region: str, resource_id: str, key: str, value: str | None) -> None:
    """Delete the tag ``key``; only when its value is ``value``, unless that is None."""
    if value is not None:
        db.execute("DELETE FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ? AND tag_key = ? "
                   "AND tag_value = ?", (account, region, resource_id, key, value))
    else:
        db.execute("DELETE FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ? AND tag_key = ?",
                   (account, region, resource_id, key))


def drop_tags(db: Database, account: str, region: str, resource_id: str) -> None:
    db.execute("DELETE FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ?",
               (account, region, resource_id))


def rule_exists(db: Database, account: str, region: str, rule_id: str) -> bool:
    return db.one("SELECT 1 FROM ec2_security_group_rules WHERE account_id = ? AND region = ? AND rule_id = ?",
                  (account, region, rule_id)) is not None
