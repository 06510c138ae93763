"""IpAddress (NotIpAddress is derived): IPv4 and IPv6 CIDRs; an address without a prefix is /32 (/128).
An IPv4 address never matches an IPv6 range and vice versa. Policy variables are not substituted."""

from __future__ import annotations

import ipaddress

from turnout.policy.conditions.base import INVALID, Operator, Parsed, text_of
from turnout.policy.variables import Resolved

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_network(value: str) -> Parsed:
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return INVALID


def parse_address(value: str) -> Parsed:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return INVALID


def _policy(pieces: Resolved) -> Parsed:
    return parse_network(text_of(pieces))


def _within(request: Address, policy: Network) -> bool:
    return request.version == policy.version and request in policy


OPERATORS = (Operator("IpAddress", _policy, parse_address, _within, variables=False),)
