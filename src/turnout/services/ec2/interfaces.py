"""Network interfaces other services' resources hold, created and deleted with them (ENIs are not made through
EC2's own API in Turnout).

* A load balancer has one ENI per subnet it is placed in: description ``ELB app/<name>/<id>`` (``ELB net/...`` for
  a Network Load Balancer, interface type ``network_load_balancer``), requester and attachment owner
  ``amazon-elb``, requester-managed, with the load balancer's security groups. They follow SetSubnets and
  SetSecurityGroups and go with the load balancer.
* An awsvpc ECS task has one ENI from launch until it is STOPPED: description
  ``arn:aws:ecs:<region>:<account>:attachment/<attachment id>``, in the task's subnet with the task's private IP
  and security groups (the VPC's default group when the task names none). Its requester and attachment owner are
  ``amazon-aws`` (Turnout's choice: AWS does not document the values for Fargate).

An ENI keeps its security groups, subnet and VPC from being deleted (DependencyViolation).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from datetime import datetime

from ...core import ids
from ...store.codec import iso
from ...store.db import Database
from . import defaults, store, tags
from .model import NetworkInterface, Subnet

ELB_OWNER = "amazon-elb"
TASK_OWNER = "amazon-aws"


def mac_address(eni_id: str) -> str:
    """A locally administered unicast MAC derived from the ENI id (stable for an ENI)."""
    digest = hashlib.sha256(eni_id.encode()).digest()
    octets = [(digest[0] | 0x02) & 0xFE, *digest[1:6]]
    return ":".join(f"{b:02x}" for b in octets)


def private_dns_name(region: str, address: str) -> str:
    """AWS's internal host names: ``ip-10-0-1-5.ec2.internal`` in us-east-1, else ``...<region>.compute.internal``."""
    host = "ip-" + address.replace(".", "-")
    return f"{host}.ec2.internal" if region == "us-east-1" else f"{host}.{region}.compute.internal"


def _free_address(db: Database, subnet: Subnet) -> str:
    """A free address of the subnet, taken from the top of its range (ECS places tasks from the bottom, so the two
    rarely meet), skipping the ENIs' addresses and the five AWS reserves (the first four and the last)."""
    used = store.interface_addresses(db, subnet.account_id, subnet.region, subnet.subnet_id)
    network = ipaddress.IPv4Network(subnet.cidr_block)
    first, last = int(network.network_address) + 4, int(network.broadcast_address) - 1
    for value in range(last, first - 1, -1):
        address = str(ipaddress.IPv4Address(value))
        if address not in used:
            return address
    raise ValueError(f"no free address in {subnet.subnet_id}")


def _insert(db: Database, subnet: Subnet, *, eni_id: str, address: str, description: str, interface_type: str,
            owner: str, groups: Iterable[str], owner_ref: str, now: datetime) -> NetworkInterface:
    eni = NetworkInterface(subnet.account_id, subnet.region, eni_id, subnet.subnet_id, subnet.vpc_id,
                           subnet.availability_zone, address, description, interface_type, owner, owner,
                           ids.ec2_id("eni-attach"), tuple(dict.fromkeys(groups)), owner_ref, iso(now))
    store.insert_interface(db, eni)
    return eni


def sync_load_balancer(db: Database, account: str, region: str, *, arn: str, description: str,
                       interface_type: str, subnets: Iterable[Subnet], groups: Iterable[str], now: datetime) -> None:
    """Make the load balancer ``arn`` hold one ENI in each of ``subnets``, all with ``groups`` (creating the
    missing ones, deleting those of subnets it left)."""
    wanted = {s.subnet_id: s for s in subnets}
    group_list = list(dict.fromkeys(groups))
    for eni in store.interfaces_of(db, account, region, arn):
        if eni.subnet_id not in wanted:
            _delete(db, eni)
            continue
        del wanted[eni.subnet_id]
        if list(eni.security_groups) != group_list:
            store.set_interface_groups(db, account, region, eni.eni_id, group_list)
    for subnet in wanted.values():
        _insert(db, subnet, eni_id=ids.ec2_id("eni"), address=_free_address(db, subnet), description=description,
                interface_type=interface_type, owner=ELB_OWNER, groups=group_list, owner_ref=arn, now=now)


def attach_task(db: Database, account: str, region: str, *, task_arn: str, eni_id: str, subnet_id: str,
                private_ip: str, groups: Iterable[str], description: str, now: datetime) -> None:
    """The awsvpc task ``task_arn``'s ENI (its id and address chosen by ECS); without groups, the VPC's default
    security group (as ECS uses it when an awsvpcConfiguration names none)."""
    subnet = store.subnet(db, account, region, subnet_id)
    if subnet is None:
        return
    chosen = list(groups)
    if not chosen:
        default = store.group_by_name(db, account, region, subnet.vpc_id, defaults.DEFAULT_GROUP_NAME)
        chosen = [default.group_id] if default is not None else []
    _insert(db, subnet, eni_id=eni_id, address=private_ip, description=description, interface_type="interface",
            owner=TASK_OWNER, groups=chosen, owner_ref=task_arn, now=now)


def release(db: Database, account: str, region: str, owner_ref: str) -> None:
    """Delete every ENI the resource ``owner_ref`` (a load balancer's or task's ARN) holds."""
    for eni in store.interfaces_of(db, account, region, owner_ref):
        _delete(db, eni)


def _delete(db: Database, eni: NetworkInterface) -> None:
    store.delete_interface(db, eni.account_id, eni.region, eni.eni_id)
    tags.drop(db, eni.account_id, eni.region, eni.eni_id)
