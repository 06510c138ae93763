"""Reads and writes of the EC2 tables (``0006_ec2.sql``), keyed by account and region."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from ...store.db import Database
from .model import Rule, SecurityGroup, Subnet, Vpc


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


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
        "instance_tenancy, dhcp_options_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (item.account_id, item.region, item.vpc_id, item.cidr_block, item.cidr_association_id, int(item.is_default),
         item.state, item.instance_tenancy, item.dhcp_options_id, iso(now)),
    )


def delete_vpc(db: Database, account: str, region: str, vpc_id: str) -> None:
    db.execute("DELETE FROM ec2_vpcs WHERE account_id = ? AND region = ? AND vpc_id = ?", (account, region, vpc_id))


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


def delete_rule(db: Database, account: str, region: str, rule_id: str) -> None:
    db.execute("DELETE FROM ec2_security_group_rules WHERE account_id = ? AND region = ? AND rule_id = ?",
               (account, region, rule_id))


def referencing_groups(db: Database, region: str, group_id: str) -> list[str]:
    """Other groups (of any account: ids are unique) in the region whose rules name ``group_id`` as their peer."""
    rows = db.all("SELECT DISTINCT group_id FROM ec2_security_group_rules WHERE region = ? "
                  "AND referenced_group_id = ? AND group_id <> ?", (region, group_id, group_id))
    return [r[0] for r in rows]
