"""The EC2 store (``services/ec2/store.py``) and the defaults built on it: an account's defaults in a region are
created once (the default VPC, one default subnet per zone, its main route table and default security group with
its two rules), each account and region gets its own, a deleted default VPC stays deleted, and an interface's
security groups round-trip."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from turnout.services.ec2 import defaults, store, zones
from turnout.services.ec2.model import NetworkInterface
from turnout.store.codec import iso
from turnout.store.db import Database

ACCOUNT, OTHER = "000000000000", "111111111111"
REGION, REGION_2 = "us-east-1", "eu-west-1"
NOW = datetime(2026, 12, 6, 22, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "turnout.db")
    yield database
    database.close()


def _counts(db: Database, account: str, region: str) -> tuple[int, int, int, int, int]:
    return (len(store.vpcs(db, account, region)), len(store.subnets(db, account, region)),
            len(store.route_tables(db, account, region)), len(store.groups(db, account, region)),
            len(store.rules(db, account, region)))


def test_a_region_is_initialized_once_per_account(db: Database) -> None:
    assert store.initialize_region(db, ACCOUNT, REGION, NOW)
    assert not store.initialize_region(db, ACCOUNT, REGION, NOW)
    assert store.initialize_region(db, ACCOUNT, REGION_2, NOW)
    assert store.initialize_region(db, OTHER, REGION, NOW)
    assert db.scalar("SELECT initialized_at FROM ec2_regions WHERE account_id = ? AND region = ?",
                     (ACCOUNT, REGION)) == iso(NOW)


def test_defaults_are_created_once_per_account_and_region(db: Database) -> None:
    defaults.ensure(db, ACCOUNT, REGION, NOW)
    vpc = store.default_vpc(db, ACCOUNT, REGION)
    assert vpc is not None and vpc.cidr_block == defaults.DEFAULT_VPC_CIDR and vpc.is_default
    zone_names = [z.name for z in zones.zones(REGION)]
    subnets = store.subnets(db, ACCOUNT, REGION, vpc.vpc_id)
    assert sorted(s.availability_zone for s in subnets) == zone_names
    assert all(s.default_for_az and s.map_public_ip_on_launch for s in subnets)
    group = store.group_by_name(db, ACCOUNT, REGION, vpc.vpc_id, defaults.DEFAULT_GROUP_NAME)
    assert group is not None and group.description == defaults.DEFAULT_GROUP_DESCRIPTION
    rules = store.group_rules(db, ACCOUNT, REGION, group.group_id)
    assert [(r.is_egress, r.referenced_group_id, r.cidr_ipv4) for r in rules] == [
        (False, group.group_id, None), (True, None, "0.0.0.0/0")]
    created = _counts(db, ACCOUNT, REGION)
    assert created == (1, len(zone_names), 1, 1, 2)

    defaults.ensure(db, ACCOUNT, REGION, NOW)  # again: nothing new
    assert _counts(db, ACCOUNT, REGION) == created
    assert store.default_vpc(db, ACCOUNT, REGION) == vpc

    defaults.ensure(db, ACCOUNT, REGION_2, NOW)
    defaults.ensure(db, OTHER, REGION, NOW)
    other_region, other_account = store.default_vpc(db, ACCOUNT, REGION_2), store.default_vpc(db, OTHER, REGION)
    assert other_region is not None and other_account is not None
    assert len({vpc.vpc_id, other_region.vpc_id, other_account.vpc_id}) == 3
    assert _counts(db, ACCOUNT, REGION_2)[0] == 1 and _counts(db, OTHER, REGION)[0] == 1
    assert _counts(db, ACCOUNT, REGION) == created


def test_a_deleted_default_vpc_stays_deleted(db: Database) -> None:
    defaults.ensure(db, ACCOUNT, REGION, NOW)
    vpc = store.default_vpc(db, ACCOUNT, REGION)
    assert vpc is not None
    for subnet in store.subnets(db, ACCOUNT, REGION, vpc.vpc_id):
        store.delete_subnet(db, ACCOUNT, REGION, subnet.subnet_id)
    for group in store.groups(db, ACCOUNT, REGION, vpc.vpc_id):
        store.delete_group(db, ACCOUNT, REGION, group.group_id)
    store.delete_vpc(db, ACCOUNT, REGION, vpc.vpc_id)
    defaults.ensure(db, ACCOUNT, REGION, NOW)
    assert store.default_vpc(db, ACCOUNT, REGION) is None
    assert _counts(db, ACCOUNT, REGION) == (0, 0, 0, 0, 0)


def test_an_interface_and_its_security_groups_round_trip(db: Database) -> None:
    eni = NetworkInterface(ACCOUNT, REGION, "eni-0123456789abcdef0", "subnet-1", "vpc-1", "us-east-1a", "10.0.0.5",
                           "ELB app/web/1", "interface", "amazon-elb", "amazon-elb", "eni-attach-1",
                           ("sg-1", "sg-2"), "lb:web", iso(NOW))
    store.insert_interface(db, eni)
    assert store.interfaces(db, ACCOUNT, REGION) == [eni]
    assert store.interface_uses(db, ACCOUNT, REGION, "sg-2")
    assert not store.interface_uses(db, ACCOUNT, REGION, "sg-3")
    store.set_interface_groups(db, ACCOUNT, REGION, eni.eni_id, ["sg-3"])
    assert store.interfaces_of(db, ACCOUNT, REGION, "lb:web")[0].security_groups == ("sg-3",)
    assert store.interface_uses(db, ACCOUNT, REGION, "sg-3") and not store.interface_uses(db, ACCOUNT, REGION, "sg-1")
