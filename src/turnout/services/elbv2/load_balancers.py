"""Load balancers (application and network): create, describe, delete, subnets, security groups, IP address type.

Subnets and security groups are validated against EC2 (``network.py``). A new load balancer answers
``provisioning`` in CreateLoadBalancer's response, as on AWS, and is ``active`` from the next read on (Turnout has
nothing to provision; waiters such as ``load_balancer_available`` return at once). Gateway Load Balancers are not
supported: CreateLoadBalancer refuses them with InvalidConfigurationRequest.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from ...core import arns, ids
from ...core.context import RequestContext
from ...store.db import Database
from . import describe, network
from .attributes import defaults, lb_attributes, load_balancer_specs
from .dns import dns_name, hosted_zone_id
from .errors import error, invalid_config, validation
from .store import (
    KINDS,
    LoadBalancer,
    add_load_balancer,
    count_load_balancers,
    delete_load_balancer,
    find_load_balancer,
    get_load_balancer,
    load_balancer_named,
    update_load_balancer,
)
from .tags import check_new_tags, put_tags

LOAD_BALANCERS_PER_REGION = 50  # "application-load-balancers" and "network-load-balancers" quotas
_NAME = re.compile(r"^[A-Za-z0-9-]+$")


def check_name(name: str) -> None:
    """AWS's rules for a load balancer name, with its messages."""
    if not name:
        raise validation("The load balancer name cannot be empty")  # our wording
    if len(name) > 32:
        raise validation(f"The load balancer name '{name}' cannot be longer than '32' characters")
    if not _NAME.match(name):
        raise validation(f"The load balancer name '{name}' can only contain characters that are alphanumeric "
                         "characters and hyphens(-)")
    if name.startswith("-") or name.endswith("-"):
        raise validation(f"The load balancer name '{name}' cannot begin or end with a hyphen(-)")  # our wording
    if name.startswith("internal-"):
        raise validation(f"Load balancer name '{name}' cannot begin with 'internal-'")


def shape(lb: LoadBalancer, state: str = "active") -> dict[str, Any]:
    """The ``LoadBalancer`` structure."""
    out: dict[str, Any] = {
        "LoadBalancerArn": lb.arn,
        "DNSName": lb.dns_name,
        "CanonicalHostedZoneId": lb.canonical_hosted_zone_id,
        "CreatedTime": lb.created_at,
        "LoadBalancerName": lb.name,
        "Scheme": lb.scheme,
        "VpcId": lb.vpc_id,
        "State": {"Code": state},
        "Type": lb.type,
        "AvailabilityZones": lb.availability_zones,
    }
    if lb.security_groups:
        out["SecurityGroups"] = lb.security_groups
    out["IpAddressType"] = lb.ip_address_type
    out.update(lb.extra)
    return out


class _Placement:
    """The subnets (one per zone) and VPC a request places a load balancer in, validated against EC2."""

    def __init__(self, db: Database, account: str, region: str, now: datetime, req: dict[str, Any],
                 lb_type: str, scheme: str) -> None:
        subnet_ids: list[str] = list(req.get("Subnets") or [])
        mappings: list[dict[str, Any]] = list(req.get("SubnetMappings") or [])
        if subnet_ids and mappings:
            raise validation("You must specify either subnets or subnet mappings, not both")  # our wording
        if mappings:
            subnet_ids = [str(m.get("SubnetId") or "") for m in mappings]
        by_subnet = {str(m.get("SubnetId")): m for m in mappings}
        found = network.subnets(db, account, region, subnet_ids, now)
        for subnet_id in subnet_ids:
            if subnet_id not in found:
                raise error("SubnetNotFound", f"The subnet ID '{subnet_id}' is not valid")
        vpcs = list(dict.fromkeys(s.vpc_id for s in found.values()))
        if len(vpcs) > 1:
            raise invalid_config("All subnets must belong to the same VPC")  # our wording
        zones: dict[str, str] = {}
        for subnet_id in dict.fromkeys(subnet_ids):
            zone = found[subnet_id].availability_zone
            if zone in zones:
                raise invalid_config("A load balancer cannot be attached to multiple subnets in the same "
                                     "Availability Zone")
            zones[zone] = subnet_id
        if lb_type == "application" and len(zones) < 2:
            raise validation("At least two subnets in two different Availability Zones must be specified")
        if not zones:
            raise validation("At least one subnet must be specified")  # our wording (network load balancers)
        self.vpc_id = vpcs[0]
        self.zones = [self._zone(zone, subnet_id, found[subnet_id].cidr_block, by_subnet.get(subnet_id),
                                 lb_type, scheme) for zone, subnet_id in sorted(zones.items())]

    @staticmethod
    def _zone(zone: str, subnet_id: str, cidr: str, mapping: dict[str, Any] | None, lb_type: str,
              scheme: str) -> dict[str, Any]:
        addresses: list[dict[str, str]] = []
        if mapping is not None:
            if mapping.get("AllocationId"):
                if lb_type == "application":
                    raise invalid_config("You can't specify Elastic IP addresses for Application Load Balancer "
                                         "subnets")  # our wording, after the API reference
                # Turnout has no Elastic IP addresses.
                raise error("AllocationIdNotFound", f"The allocation ID '{mapping['AllocationId']}' does not exist")
            if mapping.get("IPv6Address") or mapping.get("SourceNatIpv6Prefix"):
                raise invalid_config("IPv6 addresses cannot be specified: the subnet has no IPv6 CIDR block")
            private = mapping.get("PrivateIPv4Address")
            if private:
                if lb_type != "network" or scheme != "internal":
                    raise invalid_config("Private IPv4 addresses can only be specified for internal Network Load "
                                         "Balancers")  # our wording, after the API reference
                try:
                    inside = ipaddress.IPv4Address(private) in ipaddress.IPv4Network(cidr)
                except ValueError:
                    inside = False
                if not inside:
                    raise invalid_config(f"The private IPv4 address '{private}' is not in the range of subnet "
                                         f"'{subnet_id}' ({cidr})")
                addresses.append({"PrivateIPv4Address": private})
        return {"ZoneName": zone, "SubnetId": subnet_id, "LoadBalancerAddresses": addresses}


def _security_groups(db: Database, account: str, region: str, now: datetime, given: list[str], vpc_id: str
                     ) -> list[str]:
    wanted = list(dict.fromkeys(given))
    found = network.security_groups(db, account, region, wanted, now)
    for group_id in wanted:
        group = found.get(group_id)
        if group is None:
            raise error("InvalidSecurityGroup", f"The security group '{group_id}' does not exist")  # our wording
        if group.vpc_id != vpc_id:
            raise invalid_config(f"Security group '{group_id}' does not belong to VPC '{vpc_id}'")
    return wanted


def _check_ip_type(lb_type: str, scheme: str, ip_type: str) -> None:
    if ip_type == "dualstack-without-public-ipv4":
        if lb_type != "application":
            raise invalid_config("IP address type 'dualstack-without-public-ipv4' is only supported for Application "
                                 "Load Balancers")  # our wording, after the API reference
        if scheme == "internal":
            raise invalid_config("IP address type 'dualstack-without-public-ipv4' is not supported for internal "
                                 "load balancers")  # our wording


class LoadBalancerOperations:
    """Mixed into :class:`Elbv2Provider`."""

    db: Database

    def create_load_balancer(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region, now = ctx.account_id, ctx.region, ctx.received_at
        name = req["Name"]
        check_name(name)
        lb_type = req.get("Type") or "application"
        if lb_type == "gateway":
            raise invalid_config("Gateway Load Balancers are not supported by Turnout; use the type 'application' "
                                 "or 'network'")
        scheme = req.get("Scheme") or "internet-facing"
        ip_type = req.get("IpAddressType") or "ipv4"
        _check_ip_type(lb_type, scheme, ip_type)
        tags = req.get("Tags") or []
        check_new_tags(tags)
        placement = _Placement(self.db, account, region, now, req, lb_type, scheme)
        given_groups = list(req.get("SecurityGroups") or [])
        if not given_groups and lb_type == "application":
            default = network.default_security_group(self.db, account, region, placement.vpc_id, now)
            given_groups = [default] if default else []
        groups = _security_groups(self.db, account, region, now, given_groups, placement.vpc_id)
        existing = load_balancer_named(self.db, account, region, name)
        if existing is not None:
            same = (existing.type == lb_type and existing.scheme == scheme
                    and existing.ip_address_type == ip_type
                    and existing.availability_zones == placement.zones
                    and sorted(existing.security_groups) == sorted(groups))
            if not same:
                raise error("DuplicateLoadBalancerName",
                            f"A load balancer with the same name '{name}' exists, but with different settings")
            return {"LoadBalancers": [shape(existing)]}  # CreateLoadBalancer is idempotent
        if count_load_balancers(self.db, account, region, lb_type) >= LOAD_BALANCERS_PER_REGION:
            # Our wording; the model documents "You've reached the limit on the number of load balancers".
            raise error("TooManyLoadBalancers", f"You've reached the limit of {LOAD_BALANCERS_PER_REGION} "
                                                f"{lb_type} load balancers in this region")
        extra: dict[str, Any] = {}
        if lb_type == "network" and groups:
            extra["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] = "on"
        if req.get("CustomerOwnedIpv4Pool"):
            extra["CustomerOwnedIpv4Pool"] = req["CustomerOwnedIpv4Pool"]
        if lb_type == "network" and req.get("EnablePrefixForIpv6SourceNat"):
            extra["EnablePrefixForIpv6SourceNat"] = req["EnablePrefixForIpv6SourceNat"]
        lb_id = ids.hex_id(16)
        arn = arns.elb_load_balancer(region, account, KINDS[lb_type], name, lb_id)
        add_load_balancer(self.db, LoadBalancer(
            account_id=account, region=region, arn=arn, name=name, lb_id=lb_id, type=lb_type, scheme=scheme,
            ip_address_type=ip_type, vpc_id=placement.vpc_id, dns_name=dns_name(name, lb_id, region, scheme),
            canonical_hosted_zone_id=hosted_zone_id(lb_type, region), state="active",
            availability_zones=placement.zones, security_groups=groups,
            attributes=defaults(load_balancer_specs(lb_type, scheme)), extra=extra, created_at=now))
        put_tags(self.db, account, region, arn, tags)
        lb = get_load_balancer(self.db, account, region, arn)
        network.hold_interfaces(self.db, account, region, lb, now)
        return {"LoadBalancers": [shape(lb, state="provisioning")]}

    def describe_load_balancers(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        found = describe.load_balancers(self.db, ctx.account_id, ctx.region, req)
        result = describe.paged(found, lambda lb: lb.name, req, "LoadBalancers")
        result["LoadBalancers"] = [shape(lb) for lb in result["LoadBalancers"]]
        return result

    def delete_load_balancer(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        lb = find_load_balancer(self.db, account, region, req["LoadBalancerArn"])
        if lb is None:
            return {}  # "If the load balancer does not exist or has already been deleted, the call succeeds."
        if lb_attributes(lb).get("deletion_protection.enabled") == "true":
            raise error("OperationNotPermitted",
                        f"Load balancer '{lb.arn}' cannot be deleted because deletion protection is enabled")
        delete_load_balancer(self.db, account, region, lb.arn)
        network.release_interfaces(self.db, account, region, lb.arn)
        return {}

    def set_subnets(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        lb = get_load_balancer(self.db, account, region, req["LoadBalancerArn"])
        ip_type = req.get("IpAddressType") or lb.ip_address_type
        _check_ip_type(lb.type, lb.scheme, ip_type)
        placement = _Placement(self.db, account, region, ctx.received_at, req, lb.type, lb.scheme)
        if placement.vpc_id != lb.vpc_id:
            raise invalid_config(f"The subnets must belong to the load balancer's VPC '{lb.vpc_id}'")  # ours
        extra = dict(lb.extra)
        if lb.type == "network" and req.get("EnablePrefixForIpv6SourceNat"):
            extra["EnablePrefixForIpv6SourceNat"] = req["EnablePrefixForIpv6SourceNat"]
        update_load_balancer(self.db, replace(lb, availability_zones=placement.zones, ip_address_type=ip_type,
                                              extra=extra))
        network.hold_interfaces(self.db, account, region, get_load_balancer(self.db, account, region, lb.arn),
                                ctx.received_at)
        result: dict[str, Any] = {"AvailabilityZones": placement.zones, "IpAddressType": ip_type}
        if "EnablePrefixForIpv6SourceNat" in extra:
            result["EnablePrefixForIpv6SourceNat"] = extra["EnablePrefixForIpv6SourceNat"]
        return result

    def set_security_groups(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        lb = get_load_balancer(self.db, account, region, req["LoadBalancerArn"])
        extra = dict(lb.extra)
        if lb.type == "network" and not lb.security_groups:
            # The API reference: not possible "unless you specified a security group for the load balancer when
            # you created it". Our wording.
            raise invalid_config("You cannot set security groups on a Network Load Balancer which was created "
                                 "without any security groups")
        groups = _security_groups(self.db, account, region, ctx.received_at, req["SecurityGroups"], lb.vpc_id)
        if lb.type == "application" and not groups:
            raise invalid_config("An Application Load Balancer must have at least one security group")  # ours
        if lb.type == "network":
            if not groups:
                raise invalid_config("You cannot remove all security groups from a Network Load Balancer that was "
                                     "created with security groups")  # our wording
            enforce = req.get("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")
            if enforce:
                extra["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] = enforce
        update_load_balancer(self.db, replace(lb, security_groups=groups, extra=extra))
        network.hold_interfaces(self.db, account, region, get_load_balancer(self.db, account, region, lb.arn),
                                ctx.received_at)
        result: dict[str, Any] = {"SecurityGroupIds": groups}
        if "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic" in extra:
            result["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] = \
                extra["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"]
        return result

    def set_ip_address_type(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        account, region = ctx.account_id, ctx.region
        lb = get_load_balancer(self.db, account, region, req["LoadBalancerArn"])
        ip_type = req["IpAddressType"]
        _check_ip_type(lb.type, lb.scheme, ip_type)
        update_load_balancer(self.db, replace(lb, ip_address_type=ip_type))
        return {"IpAddressType": ip_type}
