"""Network interfaces: DescribeNetworkInterfaces (the ENIs load balancers and awsvpc tasks hold, see
``interfaces.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...core.context import RequestContext
from . import errors, store, zones
from .base import Ec2Base, result
from .filters import Filters
from .interfaces import mac_address, private_dns_name
from .model import NetworkInterface


def interface_shape(eni: NetworkInterface, names: Mapping[str, str], resource_tags: Mapping[str, str] | None
                    ) -> dict[str, Any]:
    dns = private_dns_name(eni.region, eni.private_ip)
    zone = zones.by_name(eni.region, eni.availability_zone)
    shape: dict[str, Any] = {
        "Attachment": {
            "AttachTime": datetime.fromisoformat(eni.created_at),
            "AttachmentId": eni.attachment_id,
            "DeleteOnTermination": False,
            "DeviceIndex": 1,
            "NetworkCardIndex": 0,
            "InstanceOwnerId": eni.instance_owner_id,
            "Status": "attached",
        },
        "AvailabilityZone": eni.availability_zone,
        "Description": eni.description,
        "Groups": [{"GroupId": g, "GroupName": names.get(g, "")} for g in eni.security_groups],
        "InterfaceType": eni.interface_type,
        "Ipv6Addresses": [],
        "MacAddress": mac_address(eni.eni_id),
        "NetworkInterfaceId": eni.eni_id,
        "OwnerId": eni.account_id,
        "PrivateDnsName": dns,
        "PrivateIpAddress": eni.private_ip,
        "PrivateIpAddresses": [{"Primary": True, "PrivateDnsName": dns, "PrivateIpAddress": eni.private_ip}],
        "RequesterId": eni.requester_id,
        "RequesterManaged": True,
        "SourceDestCheck": True,
        "Status": "in-use",
        "SubnetId": eni.subnet_id,
        "TagSet": [{"Key": k, "Value": v} for k, v in sorted((resource_tags or {}).items())],
        "VpcId": eni.vpc_id,
    }
    if zone is not None:
        shape["AvailabilityZoneId"] = zone.zone_id
    return shape


def interface_filters(tag_map: Mapping[str, Mapping[str, str]], names: Mapping[str, str]
                      ) -> Filters[NetworkInterface]:
    def none(e: NetworkInterface) -> None:
        return None

    def zone_id(e: NetworkInterface) -> str | None:
        zone = zones.by_name(e.region, e.availability_zone)
        return zone.zone_id if zone is not None else None

    return Filters({
        "addresses.private-ip-address": lambda e: e.private_ip,
        "addresses.primary": lambda e: True,
        "addresses.association.public-ip": none,
        "addresses.association.owner-id": none,
        "association.allocation-id": none,
        "association.association-id": none,
        "association.ip-owner-id": none,
        "association.public-ip": none,
        "association.public-dns-name": none,
        "attachment.attach-time": lambda e: e.created_at,
        "attachment.attachment-id": lambda e: e.attachment_id,
        "attachment.delete-on-termination": lambda e: False,
        "attachment.device-index": lambda e: 1,
        "attachment.instance-id": none,
        "attachment.instance-owner-id": lambda e: e.instance_owner_id,
        "attachment.status": lambda e: "attached",
        "availability-zone": lambda e: e.availability_zone,
        "availability-zone-id": zone_id,
        "description": lambda e: e.description,
        "group-id": lambda e: list(e.security_groups),
        "group-name": lambda e: [names.get(g) for g in e.security_groups],
        "interface-type": lambda e: e.interface_type,
        "ipv6-addresses.ipv6-address": none,
        "mac-address": lambda e: mac_address(e.eni_id),
        "network-interface-id": lambda e: e.eni_id,
        "owner-id": lambda e: e.account_id,
        "private-dns-name": lambda e: private_dns_name(e.region, e.private_ip),
        "private-ip-address": lambda e: e.private_ip,
        "requester-id": lambda e: e.requester_id,
        "requester-managed": lambda e: True,
        "source-dest-check": lambda e: True,
        "status": lambda e: "in-use",
        "subnet-id": lambda e: e.subnet_id,
        "vpc-id": lambda e: e.vpc_id,
    }, tags=lambda e: tag_map.get(e.eni_id, {}))


class NetworkInterfaceOperations(Ec2Base):
    """Mixed into :class:`~turnout.services.ec2.provider.Ec2Provider`."""

    def describe_network_interfaces(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        account, region = ctx.account_id, ctx.region
        wanted = req.get("NetworkInterfaceIds") or []
        errors.check_ids("eni", wanted)
        names = {g.group_id: g.group_name for g in store.groups(self.db, account, region)}
        tag_map = self._tag_map(ctx)
        test = interface_filters(tag_map, names).compile(req.get("Filters"))
        self._dry_run(req)
        items = store.interfaces(self.db, account, region)
        chunk, token = self._select(items, lambda e: e.eni_id, wanted, errors.interface_not_found, test, req)
        return result("NetworkInterfaces", [interface_shape(e, names, tag_map.get(e.eni_id)) for e in chunk], token)
