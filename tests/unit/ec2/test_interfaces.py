"""The network interfaces EC2 keeps for other services (``services/ec2/interfaces.py`` through ``network.py``):
one per subnet for a load balancer, kept in step with its subnets and groups; addresses from the top of a subnet
that no other interface holds; and ECS placing a task on an address no interface holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from turnout.services.ec2 import defaults, network, store
from turnout.services.ec2.model import Subnet
from turnout.services.ecs import task_states
from turnout.store.db import Database

ACCOUNT, REGION = "111122223333", "us-east-1"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
LB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/0123456789abcdef"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "turnout.db")
    yield database
    database.close()


def _small_subnets(db: Database) -> tuple[list[Subnet], str]:
    """A VPC with two /28 subnets (usable addresses .4 to .14 of each) and its default group."""
    vpc = defaults.add_vpc(db, ACCOUNT, REGION, "10.9.0.0/24", NOW)
    subnets = [Subnet(ACCOUNT, REGION, f"subnet-0000000000000000{i}", vpc.vpc_id, f"10.9.0.{16 * i}/28",
                      f"us-east-1{zone}", f"use1-az{i}", False, False, "available")
               for i, zone in ((1, "a"), (2, "b"))]
    for subnet in subnets:
        store.insert_subnet(db, subnet, NOW)
    group = store.group_by_name(db, ACCOUNT, REGION, vpc.vpc_id, "default")
    assert group is not None
    return subnets, group.group_id


def test_a_load_balancer_keeps_one_interface_per_subnet(db: Database) -> None:
    (first, second), group = _small_subnets(db)
    network.sync_load_balancer_interfaces(db, ACCOUNT, REGION, arn=LB, kind="app", name="web",
                                          lb_id="0123456789abcdef", subnet_ids=[first.subnet_id], groups=[group],
                                          now=NOW)
    [eni] = store.interfaces_of(db, ACCOUNT, REGION, LB)
    assert (eni.subnet_id, eni.private_ip, eni.security_groups) == (first.subnet_id, "10.9.0.30", (group,))
    assert (eni.description, eni.interface_type, eni.requester_id) == ("ELB app/web/0123456789abcdef",
                                                                        "interface", "amazon-elb")
    # Another subnet added, the group list emptied: the first ENI stays (same id), a second appears.
    network.sync_load_balancer_interfaces(db, ACCOUNT, REGION, arn=LB, kind="app", name="web",
                                          lb_id="0123456789abcdef", subnet_ids=[first.subnet_id, second.subnet_id],
                                          groups=[], now=NOW)
    enis = {e.subnet_id: e for e in store.interfaces_of(db, ACCOUNT, REGION, LB)}
    assert enis[first.subnet_id].eni_id == eni.eni_id and enis[first.subnet_id].security_groups == ()
    assert enis[second.subnet_id].private_ip == "10.9.0.46"
    assert network.in_use(db, ACCOUNT, REGION, second.subnet_id) and not network.in_use(db, ACCOUNT, REGION, group)
    # The first subnet left: its ENI goes.
    network.sync_load_balancer_interfaces(db, ACCOUNT, REGION, arn=LB, kind="app", name="web",
                                          lb_id="0123456789abcdef", subnet_ids=[second.subnet_id], groups=[group],
                                          now=NOW)
    assert [e.subnet_id for e in store.interfaces_of(db, ACCOUNT, REGION, LB)] == [second.subnet_id]
    assert not network.in_use(db, ACCOUNT, REGION, first.subnet_id)
    assert network.in_use(db, ACCOUNT, REGION, group)
    network.release_interfaces(db, ACCOUNT, REGION, LB)
    assert store.interfaces(db, ACCOUNT, REGION) == []


def test_interfaces_take_free_addresses_from_the_top(db: Database) -> None:
    (subnet, _), group = _small_subnets(db)
    network.attach_task_interface(db, ACCOUNT, REGION, task_arn="task-a", eni_id="eni-0000000000000000a",
                                  subnet_id=subnet.subnet_id, private_ip="10.9.0.30", groups=[group],
                                  description="a", now=NOW)
    network.sync_load_balancer_interfaces(db, ACCOUNT, REGION, arn=LB, kind="net", name="web",
                                          lb_id="0123456789abcdef", subnet_ids=[subnet.subnet_id], groups=[],
                                          now=NOW)
    [eni] = store.interfaces_of(db, ACCOUNT, REGION, LB)
    assert eni.private_ip == "10.9.0.29" and eni.interface_type == "network_load_balancer"
    assert network.interface_addresses(db, ACCOUNT, REGION, subnet.subnet_id) == {"10.9.0.29", "10.9.0.30"}


def test_ecs_places_a_task_on_an_address_no_interface_holds(db: Database) -> None:
    (subnet, _), group = _small_subnets(db)
    # An interface holds the lowest usable address, which ECS would otherwise take first.
    network.attach_task_interface(db, ACCOUNT, REGION, task_arn="other", eni_id="eni-0000000000000000b",
                                  subnet_id=subnet.subnet_id, private_ip="10.9.0.20", groups=[group],
                                  description="b", now=NOW)
    placed, address = task_states._place(db, ACCOUNT, REGION, [subnet], {subnet.subnet_id: 0})
    assert placed == subnet and address == "10.9.0.21"
