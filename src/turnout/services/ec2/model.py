"""EC2 networking resources as values: what the store returns and other services read (see ``network.py``)."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Protocol

from ...core import arns
from ...store.db import Row


@dataclass(frozen=True, slots=True)
class Vpc:
    account_id: str
    region: str
    vpc_id: str
    cidr_block: str
    cidr_association_id: str
    is_default: bool
    state: str
    instance_tenancy: str
    dhcp_options_id: str
    enable_dns_support: bool = True
    enable_dns_hostnames: bool = False
    enable_network_address_usage_metrics: bool = False

    @property
    def arn(self) -> str:
        return arns.ec2(self.region, self.account_id, "vpc", self.vpc_id)

    @classmethod
    def from_row(cls, row: Row) -> Vpc:
        return cls(row["account_id"], row["region"], row["vpc_id"], row["cidr_block"], row["cidr_association_id"],
                   bool(row["is_default"]), row["state"], row["instance_tenancy"], row["dhcp_options_id"],
                   bool(row["enable_dns_support"]), bool(row["enable_dns_hostnames"]),
                   bool(row["enable_network_address_usage_metrics"]))


@dataclass(frozen=True, slots=True)
class Subnet:
    account_id: str
    region: str
    subnet_id: str
    vpc_id: str
    cidr_block: str
    availability_zone: str
    availability_zone_id: str
    default_for_az: bool
    map_public_ip_on_launch: bool
    state: str

    @property
    def arn(self) -> str:
        return arns.ec2(self.region, self.account_id, "subnet", self.subnet_id)

    @property
    def available_ip_address_count(self) -> int:
        """Addresses of the block less the five AWS reserves in every subnet."""
        return int(ipaddress.IPv4Network(self.cidr_block).num_addresses) - 5

    @classmethod
    def from_row(cls, row: Row) -> Subnet:
        return cls(row["account_id"], row["region"], row["subnet_id"], row["vpc_id"], row["cidr_block"],
                   row["availability_zone"], row["availability_zone_id"], bool(row["default_for_az"]),
                   bool(row["map_public_ip_on_launch"]), row["state"])


@dataclass(frozen=True, slots=True)
class SecurityGroup:
    account_id: str
    region: str
    group_id: str
    group_name: str
    description: str
    vpc_id: str

    @property
    def arn(self) -> str:
        return arns.ec2(self.region, self.account_id, "security-group", self.group_id)

    @property
    def is_default(self) -> bool:
        """The group every VPC is created with (it cannot be deleted)."""
        return self.group_name == "default"

    @classmethod
    def from_row(cls, row: Row) -> SecurityGroup:
        return cls(row["account_id"], row["region"], row["group_id"], row["group_name"], row["description"],
                   row["vpc_id"])


@dataclass(frozen=True, slots=True)
class Rule:
    """One security group rule (``sgr-``): a protocol and port range for one peer, inbound or outbound.

    Ports are None for protocols without ports (all traffic ``-1``, or a protocol number other than TCP, UDP,
    ICMP and ICMPv6); for ICMP they are the type and code (-1: all).
    """

    account_id: str
    region: str
    rule_id: str
    group_id: str
    is_egress: bool
    protocol: str
    from_port: int | None
    to_port: int | None
    cidr_ipv4: str | None
    cidr_ipv6: str | None
    prefix_list_id: str | None
    referenced_group_id: str | None
    referenced_user_id: str | None
    description: str | None
    seq: int

    @property
    def arn(self) -> str:
        return arns.ec2(self.region, self.account_id, "security-group-rule", self.rule_id)

    @property
    def peer(self) -> str:
        return self.cidr_ipv4 or self.cidr_ipv6 or self.prefix_list_id or self.referenced_group_id or ""

    @property
    def key(self) -> tuple[str, int | None, int | None, str]:
        """What makes two rules of a group and direction the same rule (the description does not)."""
        return (self.protocol, self.from_port, self.to_port, self.peer)

    @classmethod
    def from_row(cls, row: Row) -> Rule:
        return cls(row["account_id"], row["region"], row["rule_id"], row["group_id"], bool(row["is_egress"]),
                   row["ip_protocol"], row["from_port"], row["to_port"], row["cidr_ipv4"], row["cidr_ipv6"],
                   row["prefix_list_id"], row["referenced_group_id"], row["referenced_user_id"],
                   row["description"], row["seq"])


@dataclass(frozen=True, slots=True)
class RouteTable:
    """A VPC's main route table (Turnout models no other route tables, routes or gateways)."""

    account_id: str
    region: str
    route_table_id: str
    vpc_id: str
    main_association_id: str

    @property
    def arn(self) -> str:
        return arns.ec2(self.region, self.account_id, "route-table", self.route_table_id)

    @classmethod
    def from_row(cls, row: Row) -> RouteTable:
        return cls(row["account_id"], row["region"], row["route_table_id"], row["vpc_id"], row["main_association_id"])


@dataclass(frozen=True, slots=True)
class NetworkInterface:
    """An ENI another service's resource holds (a load balancer node's, an awsvpc task's), attached and in use."""

    account_id: str
    region: str
    eni_id: str
    subnet_id: str
    vpc_id: str
    availability_zone: str
    private_ip: str
    description: str
    interface_type: str
    requester_id: str
    instance_owner_id: str
    attachment_id: str
    security_groups: tuple[str, ...]
    owner_ref: str
    created_at: str

    @property
    def arn(self) -> str:
        return arns.ec2(self.region, self.account_id, "network-interface", self.eni_id)

    @classmethod
    def from_row(cls, row: Row) -> NetworkInterface:
        groups = json.loads(row["security_groups"])
        return cls(row["account_id"], row["region"], row["eni_id"], row["subnet_id"], row["vpc_id"],
                   row["availability_zone"], row["private_ip"], row["description"], row["interface_type"],
                   row["requester_id"], row["instance_owner_id"], row["attachment_id"],
                   tuple(str(g) for g in groups) if isinstance(groups, list) else (), row["owner_ref"],
                   row["created_at"])


class RuleLike(Protocol):
    """What a security group rule is made of: a stored :class:`Rule` or a requested ``permissions.Spec``."""

    @property
    def protocol(self) -> str: ...
    @property
    def from_port(self) -> int | None: ...
    @property
    def to_port(self) -> int | None: ...
    @property
    def cidr_ipv4(self) -> str | None: ...
    @property
    def cidr_ipv6(self) -> str | None: ...
    @property
    def prefix_list_id(self) -> str | None: ...
    @property
    def referenced_group_id(self) -> str | None: ...
    @property
    def referenced_user_id(self) -> str | None: ...
    @property
    def description(self) -> str | None: ...
