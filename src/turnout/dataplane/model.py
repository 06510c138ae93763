"""The data plane's view of the control plane (issue 13): what the listeners route by, read from the database as
one immutable :class:`Snapshot` and replaced whole when anything changes, so that a request is routed by the rules
and weights in force when it arrives.

Rules and actions keep botocore's shapes, exactly as ``DescribeRules`` returns them (``services/elbv2/actions.py``
normalises them when they are stored): ``Conditions`` items with ``Field`` and the ``*Config`` members, ``Actions``
items with ``Type``, ``Order`` and ``ForwardConfig`` / ``RedirectConfig`` / ``FixedResponseConfig``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Address = tuple[str, int]  # (host, port) on this machine

# ELB target states (DescribeTargetHealth's TargetHealth.State).
HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
INITIAL = "initial"
DRAINING = "draining"
UNUSED = "unused"
UNAVAILABLE = "unavailable"  # health checks disabled


@dataclass(frozen=True, slots=True)
class Target:
    """One registered target of a target group, draining ones included (they finish what they have)."""

    target_group_arn: str
    id: str  # as registered: an IP address, an instance id
    port: int
    address: Address | None  # where it answers on this machine; None: nothing answers for it here
    state: str  # the ELB state (HEALTHY...)
    task_arn: str | None = None  # the ECS task that owns it


@dataclass(frozen=True, slots=True)
class Group:
    """A target group as the listeners need it."""

    arn: str
    protocol: str | None  # HTTP | HTTPS | TCP | TLS | UDP | TCP_UDP (None: a Lambda target group)
    port: int | None
    attributes: Mapping[str, str]  # the stored attributes: stickiness.*, load_balancing.algorithm.type...
    health_check: Mapping[str, Any]  # the HealthCheck* members and Matcher, as DescribeTargetGroups returns them
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True, slots=True)
class RouteRule:
    """A listener rule: ``priority`` None for the default rule (always last)."""

    arn: str
    priority: int | None
    conditions: tuple[Mapping[str, Any], ...]
    actions: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Listener:
    arn: str
    load_balancer_arn: str
    load_balancer_type: str  # application | network
    dns_name: str
    protocol: str  # HTTP | HTTPS | TCP | TLS | UDP | TCP_UDP
    port: int  # the listener's own port, as the API knows it (the local one may differ: see ``bindings``)
    rules: tuple[RouteRule, ...]  # priority order, the default rule last
    account_id: str = ""
    region: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    listeners: Mapping[str, Listener] = field(default_factory=dict)  # by ARN
    groups: Mapping[str, Group] = field(default_factory=dict)  # by ARN


@dataclass(frozen=True, slots=True)
class Request:
    """What an HTTP listener's rules look at."""

    method: str
    host: str  # the Host header as sent (it may carry ":port")
    path: str  # the URL path, percent-decoded, without the query
    query: tuple[tuple[str, str], ...]  # the query string's pairs, percent-decoded, in order
    headers: tuple[tuple[str, str], ...]  # as received, names in any case
    source_ip: str
    protocol: str = "HTTP"  # the listener's: HTTP | HTTPS
    port: int = 80  # the listener's own port (what a redirect's #{port} means)

    def header(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def cookies(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for line in self.header("cookie"):
            for part in line.split(";"):
                key, sep, value = part.strip().partition("=")
                if sep and key and key not in found:
                    found[key] = value
        return found


# -- what a listener does with a request (the router's answer) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Forward:
    """Send the request (or, on a TCP listener, the connection) to ``target``; ``target`` None: the group has no
    target to send to (the ALB answers 503). ``set_cookies``: Set-Cookie values to add to the response
    (stickiness)."""

    group_arn: str | None
    target: Target | None
    set_cookies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Respond:
    """Answer without a target: a fixed-response or redirect action (or the ALB's own error)."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


Decision = Forward | Respond
