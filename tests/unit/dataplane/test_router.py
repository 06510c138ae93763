"""End-to-end decisions from a small set of listeners and target groups: each action type, weighted and sticky
forwards, unknown groups, all weights 0, broken listeners, NLB connections."""

from __future__ import annotations

import random
from typing import Any

from turnout.dataplane.balancing import Balancer
from turnout.dataplane.model import DRAINING, HEALTHY, Forward, Group, Listener, Request, Respond, RouteRule, Target
from turnout.dataplane.router import Router, alb_error

BLUE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1"
GREEN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2"
GONE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gone/3"
TCP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tcp/4"


def target(group: str, n: int, state: str = HEALTHY) -> Target:
    return Target(target_group_arn=group, id=f"10.0.{n}.1", port=80, address=("127.0.0.1", 41000 + n), state=state)


def tg(arn: str, *targets: Target, protocol: str = "HTTP", **attributes: str) -> Group:
    return Group(arn=arn, protocol=protocol, port=80, attributes=dict(attributes), health_check={},
                 targets=targets)


GROUPS = {
    BLUE: tg(BLUE, target(BLUE, 1), target(BLUE, 2)),
    GREEN: tg(GREEN, target(GREEN, 3), **{"stickiness.enabled": "true", "stickiness.type": "lb_cookie"}),
    TCP: tg(TCP, target(TCP, 5), target(TCP, 6), target(TCP, 7, DRAINING), protocol="TCP"),
}


def fwd(*weights: tuple[str, int], sticky: bool = False) -> dict[str, Any]:
    stickiness: dict[str, Any] = {"Enabled": sticky}
    if sticky:
        stickiness["DurationSeconds"] = 300
    return {"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": arn, "Weight": w} for arn, w in weights],
        "TargetGroupStickinessConfig": stickiness}}


def path_rule(name: str, priority: int, pattern: str, *actions: dict[str, Any]) -> RouteRule:
    return RouteRule(arn=name, priority=priority,
                     conditions=({"Field": "path-pattern", "Values": [pattern],
                                  "PathPatternConfig": {"Values": [pattern]}},), actions=actions)


RULES = (
    path_rule("fixed", 1, "/health", {"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": "200", "ContentType": "text/plain", "MessageBody": "ok"}}),
    path_rule("redirect", 2, "/old/*", {"Type": "redirect", "RedirectConfig": {
        "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/new/#{path}", "Query": "#{query}",
        "StatusCode": "HTTP_302"}}),
    path_rule("gone", 3, "/gone", {"Type": "forward", "TargetGroupArn": GONE,
                                   "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": GONE, "Weight": 1}]}}),
    path_rule("zero", 4, "/zero", fwd((BLUE, 0), (GREEN, 0))),
    path_rule("canary", 5, "/canary", fwd((BLUE, 1), (GREEN, 1), sticky=True)),
    path_rule("green", 6, "/green", fwd((GREEN, 1))),
    path_rule("noterminal", 7, "/broken", {"Type": "authenticate-oidc", "Order": 1}),
    RouteRule(arn="default", priority=None, conditions=(), actions=({"Type": "forward", "TargetGroupArn": BLUE},)),
)

ALB = Listener(arn="listener/app/web/1/80", load_balancer_arn="loadbalancer/app/web/1",
               load_balancer_type="application", dns_name="web-1.us-east-1.elb.localhost", protocol="HTTP", port=80,
               rules=RULES)


def req(path: str, query: tuple[tuple[str, str], ...] = (), cookie: str | None = None) -> Request:
    headers = (("Cookie", cookie),) if cookie else ()
    return Request(method="GET", host="web.example.com", path=path, query=query, headers=headers,
                   source_ip="192.0.2.10")


def test_fixed_response_rule() -> None:
    decision = Router().route(ALB, GROUPS, req("/health"))
    assert decision == Respond(status=200, headers=(("Content-Type", "text/plain"),), body=b"ok")


def test_redirect_rule() -> None:
    decision = Router().route(ALB, GROUPS, req("/old/page", (("a", "1"),)))
    assert isinstance(decision, Respond)
    assert decision.status == 302
    assert dict(decision.headers)["Location"] == "https://web.example.com/new/old/page?a=1"


def test_default_rule_forwards_round_robin() -> None:
    router = Router()
    first = router.route(ALB, GROUPS, req("/anything"))
    second = router.route(ALB, GROUPS, req("/anything"))
    assert isinstance(first, Forward) and isinstance(second, Forward)
    assert first.group_arn == second.group_arn == BLUE
    assert first.target is not None and second.target is not None
    assert {first.target.id, second.target.id} == {"10.0.1.1", "10.0.2.1"}
    assert first.set_cookies == ()


def test_unknown_group_forwards_to_no_target() -> None:
    assert Router().route(ALB, GROUPS, req("/gone")) == Forward(GONE, None)


def test_all_weights_zero_forwards_nowhere() -> None:
    assert Router().route(ALB, GROUPS, req("/zero")) == Forward(None, None)


def test_target_stickiness_cookie_comes_back() -> None:
    decision = Router().route(ALB, GROUPS, req("/green"))
    assert isinstance(decision, Forward)
    assert decision.target == GROUPS[GREEN].targets[0]
    assert [c.split("=", 1)[0] for c in decision.set_cookies] == ["AWSALB", "AWSALBCORS"]


def test_weighted_sticky_forward_keeps_the_client_on_its_group() -> None:
    router = Router(Balancer(random.Random(11)))
    first = router.route(ALB, GROUPS, req("/canary"))
    assert isinstance(first, Forward) and first.group_arn in (BLUE, GREEN)
    names = [c.split("=", 1)[0] for c in first.set_cookies]
    assert names[:2] == ["AWSALBTG", "AWSALBTGCORS"]  # group cookies first, then the group's own (GREEN only)
    assert names[2:] == ([] if first.group_arn == BLUE else ["AWSALB", "AWSALBCORS"])
    cookie = "; ".join(c.split(";", 1)[0] for c in first.set_cookies)
    for _ in range(20):
        again = router.route(ALB, GROUPS, req("/canary", cookie=cookie))
        assert isinstance(again, Forward) and again.group_arn == first.group_arn
    # Without the cookie both groups get traffic.
    seen = {d.group_arn for d in (router.route(ALB, GROUPS, req("/canary")) for _ in range(40))
            if isinstance(d, Forward)}
    assert seen == {BLUE, GREEN}


def test_rule_without_terminal_action_answers_500_and_no_rule_503() -> None:
    broken = Router().route(ALB, GROUPS, req("/broken"))
    assert isinstance(broken, Respond) and broken.status == 500
    no_default = Listener(arn="l", load_balancer_arn="lb", load_balancer_type="application", dns_name="d",
                          protocol="HTTP", port=80, rules=RULES[:2])
    answer = Router().route(no_default, GROUPS, req("/anything"))
    assert answer == alb_error(503)
    assert answer.status == 503 and b"503 Service Temporarily Unavailable" in answer.body  # type: ignore[union-attr]
    assert dict(answer.headers)["Content-Type"] == "text/html"  # type: ignore[union-attr]


def test_alb_error_pages() -> None:
    assert b"<h1>502 Bad Gateway</h1>" in alb_error(502).body
    assert b"<h1>504 Gateway Time-out</h1>" in alb_error(504).body
    assert b"<h1>405 Method Not Allowed</h1>" in alb_error(405).body
    assert alb_error(460).status == 460  # not in HTTPStatus: still a page


NLB = Listener(arn="listener/net/tcp/1/9000", load_balancer_arn="loadbalancer/net/tcp/1", load_balancer_type="network",
               dns_name="tcp-1.elb.localhost", protocol="TCP", port=9000,
               rules=(RouteRule(arn="default", priority=None, conditions=(),
                                actions=({"Type": "forward", "TargetGroupArn": TCP},)),))


def test_tcp_listener_keeps_a_flow_on_one_target_and_never_a_draining_one() -> None:
    router = Router()
    chosen = set()
    for port in range(30000, 30060):
        decisions = {router.route_tcp(NLB, GROUPS, ("198.51.100.3", port)) for _ in range(3)}
        assert len(decisions) == 1
        decision = decisions.pop()
        assert decision.group_arn == TCP and decision.target is not None and decision.set_cookies == ()
        assert decision.target.state != DRAINING
        chosen.add(decision.target.id)
    assert chosen == {"10.0.5.1", "10.0.6.1"}


def test_tcp_listener_weighted_forward_and_missing_default_action() -> None:
    other = tg(GREEN, target(GREEN, 8), protocol="TCP")
    weighted = Listener(arn="l", load_balancer_arn="lb", load_balancer_type="network", dns_name="d", protocol="TCP",
                        port=9000, rules=(RouteRule(arn="default", priority=None, conditions=(),
                                                    actions=(fwd((TCP, 0), (GREEN, 1)),)),))
    decision = Router().route_tcp(weighted, {**GROUPS, GREEN: other}, ("192.0.2.1", 1234))
    assert decision == Forward(GREEN, other.targets[0])
    empty = Listener(arn="l", load_balancer_arn="lb", load_balancer_type="network", dns_name="d", protocol="TCP",
                     port=9000, rules=())
    assert Router().route_tcp(empty, GROUPS, ("192.0.2.1", 1234)) == Forward(None, None)
