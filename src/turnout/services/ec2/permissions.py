"""Security group rules as requests state them (``IpPermissions`` and the older top-level parameters) and as
responses show them (``IpPermission`` grouped by protocol and ports, ``SecurityGroupRule`` one per rule).

Protocols are stored as AWS shows them: ``tcp``, ``udp``, ``icmp``, ``icmpv6`` (given by name or number), ``-1``
for all traffic, any other protocol by its number. Ports exist for TCP and UDP (both required, 0-65535) and ICMP
(type and code, -1 for all); every other protocol has none, whatever the request sends.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ...wire.errors import ServiceError
from . import errors
from .model import Rule, RuleLike

RULES_PER_GROUP = 60  # AWS's default quota "Inbound or outbound rules per security group" (per IP version)

_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp",
              "icmpv6": "icmpv6", "58": "icmpv6", "-1": "-1"}
_DESCRIPTION = re.compile(r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{0,255}")
_DESCRIPTION_ERROR = ("Invalid rule description. Valid descriptions are strings less than 256 characters from the "
                      "following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*")

# (group id, group name, owner account) named as a peer -> (group id, owner account); raises when unknown.
PeerLookup = Callable[[str | None, str | None, str | None], tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Spec:
    """One rule a request describes."""

    protocol: str
    from_port: int | None
    to_port: int | None
    cidr_ipv4: str | None = None
    cidr_ipv6: str | None = None
    prefix_list_id: str | None = None
    referenced_group_id: str | None = None
    referenced_user_id: str | None = None
    description: str | None = None

    @property
    def peer(self) -> str:
        return self.cidr_ipv4 or self.cidr_ipv6 or self.prefix_list_id or self.referenced_group_id or ""

    @property
    def key(self) -> tuple[str, int | None, int | None, str]:
        return (self.protocol, self.from_port, self.to_port, self.peer)


# -- reading requests -------------------------------------------------------------------------------------------


def protocol(value: Any) -> str:
    text = str(value).strip().lower() if value is not None else "null"
    if text in _PROTOCOLS:
        return _PROTOCOLS[text]
    if text.isdigit() and int(text) <= 255:
        return str(int(text))
    raise errors.invalid_value(f"Invalid value '{value if value is not None else 'null'}' for IP protocol. "
                               "Unknown protocol.")


def ports(proto: str, from_port: int | None, to_port: int | None) -> tuple[int | None, int | None]:
    if proto in ("tcp", "udp"):
        if from_port is None or to_port is None:
            raise errors.invalid_value("Invalid value for portRange. Must specify both from and to ports with TCP/UDP.")
        for which, port in (("from", from_port), ("to", to_port)):
            if not 0 <= port <= 65535:
                raise errors.invalid_value(f"TCP/UDP ({which}) port ({port}) out of range")
        if from_port > to_port:
            # AWS's wording for a reversed range is not published; this one is Turnout's.
            raise errors.invalid_value(f"Invalid TCP/UDP port range: from port ({from_port}) is greater than "
                                       f"to port ({to_port})")
        return from_port, to_port
    if proto in ("icmp", "icmpv6"):
        icmp_type = -1 if from_port is None else from_port
        icmp_code = -1 if to_port is None else to_port
        if not -1 <= icmp_type <= 255:
            raise errors.invalid_value(f"ICMP type ({icmp_type}) out of range")
        if not -1 <= icmp_code <= 255:
            raise errors.invalid_value(f"ICMP code ({icmp_code}) out of range")
        return icmp_type, icmp_code
    return None, None


def cidr(value: Any, version: int) -> str:
    """A rule's CIDR block, normalised (``2001:DB8::/32`` -> ``2001:db8::/32``); bits after the prefix refused."""
    text = value if isinstance(value, str) else ""
    try:
        network = ipaddress.ip_network(text, strict=True) if "/" in text else None
    except ValueError:
        network = None
    if network is None or network.version != version:
        raise errors.invalid_value(f"CIDR block {value} is malformed")
    return str(network)


def description(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or _DESCRIPTION.fullmatch(value) is None:
        raise errors.invalid_value(_DESCRIPTION_ERROR)
    return value


def _from_permission(perm: Mapping[str, Any], lookup: PeerLookup) -> list[Spec]:
    proto = protocol(perm.get("IpProtocol"))
    low, high = ports(proto, perm.get("FromPort"), perm.get("ToPort"))
    out: list[Spec] = []
    for item in perm.get("IpRanges") or []:
        out.append(Spec(proto, low, high, cidr_ipv4=cidr(item.get("CidrIp"), 4),
                        description=description(item.get("Description"))))
    for item in perm.get("Ipv6Ranges") or []:
        out.append(Spec(proto, low, high, cidr_ipv6=cidr(item.get("CidrIpv6"), 6),
                        description=description(item.get("Description"))))
    for item in perm.get("PrefixListIds") or []:
        out.append(Spec(proto, low, high, prefix_list_id=_prefix_list(item.get("PrefixListId")),
                        description=description(item.get("Description"))))
    for item in perm.get("UserIdGroupPairs") or []:
        group_id, owner = lookup(item.get("GroupId"), item.get("GroupName"), item.get("UserId"))
        out.append(Spec(proto, low, high, referenced_group_id=group_id, referenced_user_id=owner,
                        description=description(item.get("Description"))))
    return out


def _legacy(req: Mapping[str, Any], lookup: PeerLookup) -> list[Spec]:
    """``IpProtocol``/``FromPort``/``ToPort``/``CidrIp`` and ``SourceSecurityGroupName``, outside IpPermissions.
    A source group named alone grants all ICMP, TCP and UDP from it (the API reference's wording)."""
    source = req.get("SourceSecurityGroupName")
    given = req.get("IpProtocol")
    if source:
        group_id, owner = lookup(None, source, req.get("SourceSecurityGroupOwnerId"))
        if given is None:
            return [Spec("icmp", -1, -1, referenced_group_id=group_id, referenced_user_id=owner),
                    Spec("tcp", 0, 65535, referenced_group_id=group_id, referenced_user_id=owner),
                    Spec("udp", 0, 65535, referenced_group_id=group_id, referenced_user_id=owner)]
        proto = protocol(given)
        low, high = ports(proto, req.get("FromPort"), req.get("ToPort"))
        return [Spec(proto, low, high, referenced_group_id=group_id, referenced_user_id=owner)]
    block = req.get("CidrIp")
    if given is None and block is None:
        return []
    proto = protocol(given)
    low, high = ports(proto, req.get("FromPort"), req.get("ToPort"))
    if block is None:
        return []
    return [Spec(proto, low, high, cidr_ipv4=cidr(block, 4))]


_PEERS = ("CidrIpv4", "CidrIpv6", "PrefixListId", "ReferencedGroupId")


def from_rule_request(rule: Mapping[str, Any], lookup: PeerLookup) -> Spec:
    """A ``SecurityGroupRuleRequest`` (ModifySecurityGroupRules): a protocol, its ports and exactly one peer."""
    proto = protocol(rule.get("IpProtocol"))
    low, high = ports(proto, rule.get("FromPort"), rule.get("ToPort"))
    given = [name for name in _PEERS if rule.get(name)]
    if not given:
        # AWS's wording is not published; ours names the four members.
        raise errors.missing("The request must contain one of the parameters CidrIpv4, CidrIpv6, PrefixListId or "
                             "ReferencedGroupId")
    if len(given) > 1:
        raise errors.invalid_combination(f"The parameters {' and '.join(given)} cannot be used together")
    text = description(rule.get("Description"))
    if rule.get("CidrIpv4"):
        return Spec(proto, low, high, cidr_ipv4=cidr(rule["CidrIpv4"], 4), description=text)
    if rule.get("CidrIpv6"):
        return Spec(proto, low, high, cidr_ipv6=cidr(rule["CidrIpv6"], 6), description=text)
    if rule.get("PrefixListId"):
        return Spec(proto, low, high, prefix_list_id=_prefix_list(rule["PrefixListId"]), description=text)
    group_id, owner = lookup(rule["ReferencedGroupId"], None, None)
    return Spec(proto, low, high, referenced_group_id=group_id, referenced_user_id=owner, description=text)


def _prefix_list(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("pl-"):
        raise ServiceError("InvalidPrefixListId.Malformed", f'Invalid id: "{value}"')
    return value


def parse(req: Mapping[str, Any], lookup: PeerLookup) -> list[Spec]:
    """Every rule the request states; refuses a rule stated twice."""
    specs: list[Spec] = []
    for perm in req.get("IpPermissions") or []:
        specs.extend(_from_permission(perm, lookup))
    specs.extend(_legacy(req, lookup))
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise errors.invalid_value("The same permission must not appear multiple times")
    return specs


def no_permissions() -> ServiceError:
    # A call that states no rule at all; AWS's wording is not published, this follows MissingParameter's form.
    return errors.missing("The request must contain the parameter ipPermissions")


def duplicate(spec: Spec) -> ServiceError:
    if spec.protocol == "-1":
        what = "ALL"
    elif spec.protocol in ("tcp", "udp"):
        what = f"{spec.protocol.upper()}, from port: {spec.from_port}, to port: {spec.to_port}"
    elif spec.protocol in ("icmp", "icmpv6"):
        what = f"{spec.protocol.upper()}, type: {spec.from_port}, code: {spec.to_port}"
    else:
        what = spec.protocol
    return ServiceError("InvalidPermission.Duplicate", f'the specified rule "peer: {spec.peer}, {what}, ALLOW" '
                        "already exists")


def check_quota(existing: Iterable[RuleLike], added: Iterable[RuleLike]) -> None:
    """At most 60 rules a direction for IPv4 and 60 for IPv6 (a group or prefix-list peer counts for both)."""
    everything = [*existing, *added]
    ipv4 = sum(1 for r in everything if r.cidr_ipv6 is None)
    ipv6 = sum(1 for r in everything if r.cidr_ipv4 is None)
    if max(ipv4, ipv6) > RULES_PER_GROUP:
        raise ServiceError("RulesPerSecurityGroupLimitExceeded",
                           "The maximum number of rules per security group has been reached.")


# -- writing responses ------------------------------------------------------------------------------------------


def _described(shape: dict[str, Any], text: str | None) -> dict[str, Any]:
    if text:
        shape["Description"] = text
    return shape


def ip_permissions(rules: Iterable[RuleLike], owner: str) -> list[dict[str, Any]]:
    """Rules as ``IpPermission`` structures: one per protocol and port range, peers listed by kind."""
    out: dict[tuple[str, int | None, int | None], dict[str, Any]] = {}
    for rule in rules:
        key = (rule.protocol, rule.from_port, rule.to_port)
        perm = out.get(key)
        if perm is None:
            perm = {"IpProtocol": rule.protocol, "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
                    "UserIdGroupPairs": []}
            if rule.from_port is not None:
                perm["FromPort"], perm["ToPort"] = rule.from_port, rule.to_port
            out[key] = perm
        if rule.cidr_ipv4:
            perm["IpRanges"].append(_described({"CidrIp": rule.cidr_ipv4}, rule.description))
        elif rule.cidr_ipv6:
            perm["Ipv6Ranges"].append(_described({"CidrIpv6": rule.cidr_ipv6}, rule.description))
        elif rule.prefix_list_id:
            perm["PrefixListIds"].append(_described({"PrefixListId": rule.prefix_list_id}, rule.description))
        elif rule.referenced_group_id:
            pair = {"GroupId": rule.referenced_group_id, "UserId": rule.referenced_user_id or owner}
            perm["UserIdGroupPairs"].append(_described(pair, rule.description))
    return list(out.values())


def _peer_fields(rule: Rule, shape: dict[str, Any], *, referenced_info: bool) -> None:
    if rule.cidr_ipv4:
        shape["CidrIpv4"] = rule.cidr_ipv4
    elif rule.cidr_ipv6:
        shape["CidrIpv6"] = rule.cidr_ipv6
    elif rule.prefix_list_id:
        shape["PrefixListId"] = rule.prefix_list_id
    elif rule.referenced_group_id and referenced_info:
        shape["ReferencedGroupInfo"] = {"GroupId": rule.referenced_group_id,
                                        "UserId": rule.referenced_user_id or rule.account_id}
    elif rule.referenced_group_id:
        shape["ReferencedGroupId"] = rule.referenced_group_id


def rule_shape(rule: Rule, resource_tags: Mapping[str, str]) -> dict[str, Any]:
    """A ``SecurityGroupRule`` (DescribeSecurityGroupRules, Authorize*): ports -1 for protocols without any."""
    shape: dict[str, Any] = {
        "SecurityGroupRuleId": rule.rule_id,
        "GroupId": rule.group_id,
        "GroupOwnerId": rule.account_id,
        "IsEgress": rule.is_egress,
        "IpProtocol": rule.protocol,
        "FromPort": -1 if rule.from_port is None else rule.from_port,
        "ToPort": -1 if rule.to_port is None else rule.to_port,
        "SecurityGroupRuleArn": rule.arn,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(resource_tags.items())],
    }
    _peer_fields(rule, shape, referenced_info=True)
    return _described(shape, rule.description)


def revoked_shape(rule: Rule) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "SecurityGroupRuleId": rule.rule_id,
        "GroupId": rule.group_id,
        "IsEgress": rule.is_egress,
        "IpProtocol": rule.protocol,
        "FromPort": -1 if rule.from_port is None else rule.from_port,
        "ToPort": -1 if rule.to_port is None else rule.to_port,
    }
    _peer_fields(rule, shape, referenced_info=False)
    return _described(shape, rule.description)
