"""A listener's decision for one request (Application Load Balancer) or one connection (Network Load Balancer):
rule, action, target group, target. Pure but for the :class:`~.balancing.Balancer`'s counters: the listeners'
servers call :meth:`Router.route` / :meth:`Router.route_tcp` with the snapshot in force and carry the decision out.

Facts: docs/dataplane.md, "Rules" (first matching rule in priority order, the default rule last; one terminal
action), "Fixed-response and redirect", "Forward, weights, stickiness", "NLB TCP listeners" and "The ALB's own error
responses".
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from .balancing import Balancer
from .model import Decision, Forward, Group, Listener, Request, Respond, RouteRule
from .rules import fixed_response, redirect, select_rule, terminal_action

# The reason phrases of the ALB's own error pages (the nginx-style wording its pages carry).
_PHRASES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Temporarily Unavailable",
            504: "Gateway Time-out"}


def phrase(status: int) -> str:
    """The reason phrase the load balancer's own answers carry for ``status`` (also in their status line)."""
    try:
        return _PHRASES.get(status) or HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def alb_error(status: int) -> Respond:
    """The load balancer's own error page for ``status``: a small ``text/html`` page naming the status. The one
    place these pages are built: the listeners' HTTP server sends this for every error it makes itself.

    docs/dataplane.md ("The ALB's own error responses") lists when each status is sent; the body's bytes are
    UNCONFIRMED there, so this page is Turnout's choice, in the shape the ALB's pages are commonly seen with."""
    title = f"{status} {phrase(status)}"
    body = (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
            "</body>\r\n</html>\r\n")
    return Respond(status=status, headers=(("Content-Type", "text/html"),), body=body.encode("ascii"))


def _config(action: Mapping[str, Any], member: str) -> Mapping[str, Any]:
    config = action.get(member)
    return config if isinstance(config, Mapping) else {}


def _default_rule(listener: Listener) -> RouteRule | None:
    """The listener's default rule (priority None), or its last rule when none is marked so."""
    for rule in listener.rules:
        if rule.priority is None:
            return rule
    return listener.rules[-1] if listener.rules else None


class Router:
    """Turns a request (or a TCP connection) into a :data:`~.model.Decision`."""

    def __init__(self, balancer: Balancer | None = None) -> None:
        self.balancer = balancer if balancer is not None else Balancer()

    def route(self, listener: Listener, groups: Mapping[str, Group], request: Request) -> Decision:
        """The decision for an HTTP(S) request on ``listener``.

        * ``fixed-response`` / ``redirect``: the :class:`~.model.Respond` the action answers;
        * ``forward``: the group drawn by weight (or pinned by ``AWSALBTG``), then its target, with every
          Set-Cookie the stickiness needs (group cookies first); a group ARN missing from ``groups``:
          ``Forward(arn, None)``; every weight 0: ``Forward(None, None)`` (both answered 503 by the server).

        Turnout's choices for what should not happen: no rule matches (a listener without its default rule):
        the ALB's 503 page; the matched rule has no terminal action: the ALB's 500 page.
        """
        rule = select_rule(listener.rules, request)
        if rule is None:
            return alb_error(503)
        action = terminal_action(rule)
        if action is None:
            return alb_error(500)
        kind = action.get("Type")
        if kind == "fixed-response":
            return fixed_response(_config(action, "FixedResponseConfig"))
        if kind == "redirect":
            return redirect(_config(action, "RedirectConfig"), request)
        return self._forward(action, groups, request, None)

    def route_tcp(self, listener: Listener, groups: Mapping[str, Group], flow: tuple[str, int]) -> Forward:
        """The decision for a new connection on a Network Load Balancer listener: its default action's forward
        (weighted too), then the target the flow (client ip, client port) hashes to. No forward action:
        ``Forward(None, None)``."""
        rule = _default_rule(listener)
        action = terminal_action(rule) if rule is not None else None
        if action is None or action.get("Type") != "forward":
            return Forward(None, None)
        return self._forward(action, groups, None, flow)

    def _forward(self, action: Mapping[str, Any], groups: Mapping[str, Group], request: Request | None,
                 flow: tuple[str, int] | None) -> Forward:
        group_arn, group_cookies = self.balancer.choose_group(action, request)
        if group_arn is None:
            return Forward(None, None, group_cookies)
        group = groups.get(group_arn)
        if group is None:
            return Forward(group_arn, None, group_cookies)
        target, target_cookies = self.balancer.choose_target(group, request, flow)
        return Forward(group_arn, target, group_cookies + target_cookies)
