"""Group and target choice: weights, group and target stickiness cookies, health, fail-open, draining, algorithms,
TCP flows (docs/dataplane.md, "Forward, weights, stickiness", "Health routing..." and "NLB TCP listeners")."""

from __future__ import annotations

import base64
import random
from collections import Counter
from email.utils import formatdate
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turnout.dataplane.balancing import Balancer, _app_cookies, _app_value, candidates, forward_groups
from turnout.dataplane.model import (
    DRAINING,
    HEALTHY,
    INITIAL,
    UNAVAILABLE,
    UNHEALTHY,
    UNUSED,
    Group,
    Request,
    Target,
)

NOW = 1_800_000_000.0
GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def target(n: int, state: str = HEALTHY, *, address: bool = True, group: str = GROUP) -> Target:
    return Target(target_group_arn=group, id=f"10.0.0.{n}", port=8080,
                  address=("127.0.0.1", 40000 + n) if address else None, state=state)


def group(*targets: Target, arn: str = GROUP, **attributes: str) -> Group:
    return Group(arn=arn, protocol="HTTP", port=80, attributes=dict(attributes), health_check={},
                 targets=tuple(targets))


def request(cookies: dict[str, str] | None = None) -> Request:
    headers: tuple[tuple[str, str], ...] = ()
    if cookies:
        headers = (("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items())),)
    return Request(method="GET", host="example.com", path="/", query=(), headers=headers, source_ip="10.1.1.1")


def forward(*weights: tuple[str, int], sticky: int | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"TargetGroups": [{"TargetGroupArn": arn, "Weight": w} for arn, w in weights],
                              "TargetGroupStickinessConfig": {"Enabled": sticky is not None}}
    if sticky is not None:
        config["TargetGroupStickinessConfig"]["DurationSeconds"] = sticky
    return {"Type": "forward", "ForwardConfig": config}


def cookie_jar(set_cookies: tuple[str, ...]) -> dict[str, str]:
    """What a browser would send back: name=value of each Set-Cookie."""
    jar: dict[str, str] = {}
    for line in set_cookies:
        name, _, rest = line.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return jar


def attributes_of(set_cookie: str) -> list[str]:
    return [part.strip() for part in set_cookie.split(";")[1:]]


# -- groups ----------------------------------------------------------------------------------------------------


def test_forward_groups_reads_both_forms() -> None:
    assert forward_groups({"Type": "forward", "TargetGroupArn": "a"}) == [("a", 1)]
    assert forward_groups(forward(("a", 10), ("b", 0))) == [("a", 10), ("b", 0)]
    assert forward_groups({"Type": "forward"}) == []


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=999), min_size=1, max_size=5), st.integers(0, 2**32 - 1))
def test_weights_split_traffic_in_proportion(weights: list[int], seed: int) -> None:
    balancer = Balancer(random.Random(seed))
    action = forward(*((f"tg{i}", w) for i, w in enumerate(weights)))
    counts = Counter(balancer.choose_group(action, None)[0] for _ in range(10_000))
    total = sum(weights)
    if total == 0:
        assert counts == Counter({None: 10_000})
        return
    for i, weight in enumerate(weights):
        share = counts[f"tg{i}"] / 10_000
        expected = weight / total
        if weight == 0:
            assert counts[f"tg{i}"] == 0
        else:
            assert abs(share - expected) < 0.03, (weights, counts)


def test_ten_twenty_gives_the_twenty_twice_the_traffic() -> None:
    balancer = Balancer(random.Random(7))
    counts = Counter(balancer.choose_group(forward(("a", 10), ("b", 20)), None)[0] for _ in range(10_000))
    assert 1.8 < counts["b"] / counts["a"] < 2.2


def test_all_weights_zero_is_no_group() -> None:
    assert Balancer().choose_group(forward(("a", 0), ("b", 0)), request()) == (None, ())
    assert Balancer().choose_group({"Type": "forward"}, request()) == (None, ())


def test_group_stickiness_sets_both_cookies_and_pins_the_group() -> None:
    clock = Clock()
    balancer = Balancer(random.Random(1), clock=clock)
    action = forward(("a", 1), ("b", 1), sticky=3600)
    first, cookies = balancer.choose_group(action, request())
    assert first in ("a", "b")
    names = [c.split("=", 1)[0] for c in cookies]
    assert names == ["AWSALBTG", "AWSALBTGCORS"]
    assert attributes_of(cookies[0])[1:] == ["Path=/"]
    assert attributes_of(cookies[1])[1:] == ["Path=/", "SameSite=None", "Secure"]
    week = formatdate(NOW + 7 * 24 * 3600, usegmt=True)  # AWS's cookies live seven days
    assert attributes_of(cookies[0])[0] == attributes_of(cookies[1])[0] == f"Expires={week}"
    jar = cookie_jar(cookies)
    for _ in range(50):
        chosen, again = balancer.choose_group(action, request(jar))
        assert chosen == first
        assert cookie_jar(again) == jar  # the pin and its expiry are kept
    clock.now += 3601  # the pin expired: a fresh draw, by weight
    seen = {balancer.choose_group(action, request(jar))[0] for _ in range(50)}
    assert seen == {"a", "b"}


def test_group_cookie_pins_a_group_whose_weight_became_zero_but_not_one_that_left_the_action() -> None:
    balancer = Balancer(random.Random(2))
    _, cookies = balancer.choose_group(forward(("a", 1), sticky=60), request())
    jar = cookie_jar(cookies)
    assert balancer.choose_group(forward(("a", 0), ("b", 5), sticky=60), request(jar))[0] == "a"
    assert balancer.choose_group(forward(("b", 5), ("c", 0), sticky=60), request(jar))[0] == "b"


def test_group_cookie_ignored_when_stickiness_is_off() -> None:
    balancer = Balancer(random.Random(3))
    _, cookies = balancer.choose_group(forward(("a", 1), sticky=60), request())
    jar = cookie_jar(cookies)
    chosen, again = balancer.choose_group(forward(("a", 0), ("b", 1)), request(jar))
    assert (chosen, again) == ("b", ())


@pytest.mark.parametrize("value", ["", "garbage", "!!!!", base64.urlsafe_b64encode(b"not json").decode(),
                                   base64.urlsafe_b64encode(b'{"v":1,"e":[[1,2]]}').decode(),
                                   base64.urlsafe_b64encode(b'{"v":2,"e":[["a",9999999999]]}').decode(),
                                   base64.urlsafe_b64encode(b'[1,2,3]').decode(), "\u00e9\u00e9"])
def test_a_bad_group_cookie_is_ignored(value: str) -> None:
    balancer = Balancer(random.Random(4))
    action = forward(("a", 0), ("b", 1), sticky=60)
    chosen, cookies = balancer.choose_group(action, request({"AWSALBTG": value}))
    assert chosen == "b"
    assert len(cookies) == 2


# -- candidates and health -------------------------------------------------------------------------------------


def test_candidates_are_the_healthy_and_unavailable_targets_with_an_address() -> None:
    g = group(target(1), target(2, UNAVAILABLE), target(3, UNHEALTHY), target(4, DRAINING), target(5, INITIAL),
              target(6, address=False), target(7, UNUSED))
    assert [t.id for t in candidates(g)] == ["10.0.0.1", "10.0.0.2"]


def test_fail_open_when_no_target_is_healthy_but_never_to_draining_or_unused() -> None:
    g = group(target(1, UNHEALTHY), target(2, UNHEALTHY), target(3, DRAINING), target(4, UNUSED),
              target(5, INITIAL), target(6, UNHEALTHY, address=False))
    assert [t.id for t in candidates(g)] == ["10.0.0.1", "10.0.0.2", "10.0.0.5"]
    balancer = Balancer()
    chosen = {balancer.choose_target(g, request())[0].id for _ in range(10)}  # type: ignore[union-attr]
    assert chosen == {"10.0.0.1", "10.0.0.2", "10.0.0.5"}


def test_minimum_healthy_targets_count_fails_open_below_it() -> None:
    key = "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count"
    g = group(target(1), target(2, UNHEALTHY), **{key: "2"})
    assert [t.id for t in candidates(g)] == ["10.0.0.1", "10.0.0.2"]
    g = group(target(1), target(2), target(3, UNHEALTHY), **{key: "2"})
    assert [t.id for t in candidates(g)] == ["10.0.0.1", "10.0.0.2"]


def test_minimum_healthy_targets_percentage() -> None:
    key = "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage"
    g = group(target(1), target(2, UNHEALTHY), target(3, UNHEALTHY), **{key: "50"})
    assert len(candidates(g)) == 3
    g = group(target(1), target(2), target(3, UNHEALTHY), **{key: "50"})
    assert len(candidates(g)) == 2


def test_draining_targets_never_get_new_requests() -> None:
    g = group(target(1, DRAINING), target(2), target(3, DRAINING))
    balancer = Balancer(random.Random(5))
    assert {balancer.choose_target(g, request())[0].id for _ in range(20)} == {"10.0.0.2"}  # type: ignore[union-attr]
    assert Balancer().choose_target(group(target(1, DRAINING)), request()) == (None, ())


def test_none_when_no_target_has_an_address() -> None:
    g = group(target(1, address=False), target(2, UNHEALTHY, address=False))
    assert Balancer().choose_target(g, request()) == (None, ())
    assert Balancer().choose_target(group(), request()) == (None, ())


# -- algorithms ------------------------------------------------------------------------------------------------


def test_round_robin_visits_each_candidate_in_turn() -> None:
    g = group(target(3), target(1), target(2), target(4, UNHEALTHY))
    balancer = Balancer()
    ids = [balancer.choose_target(g, request())[0].id for _ in range(9)]  # type: ignore[union-attr]
    assert ids == ["10.0.0.1", "10.0.0.2", "10.0.0.3"] * 3


def test_round_robin_positions_are_per_group() -> None:
    a = group(target(1), target(2), arn="a")
    b = group(target(1, group="b"), target(2, group="b"), arn="b")
    balancer = Balancer()
    assert balancer.choose_target(a, request())[0].id == "10.0.0.1"  # type: ignore[union-attr]
    assert balancer.choose_target(b, request())[0].id == "10.0.0.1"  # type: ignore[union-attr]
    assert balancer.choose_target(a, request())[0].id == "10.0.0.2"  # type: ignore[union-attr]


def test_least_outstanding_requests_goes_to_the_least_busy() -> None:
    g = group(target(1), target(2), target(3), **{"load_balancing.algorithm.type": "least_outstanding_requests"})
    balancer = Balancer()
    t1, t2, t3 = g.targets
    for _ in range(3):
        balancer.started(t1)
    balancer.started(t2)
    assert balancer.choose_target(g, request())[0] == t3
    balancer.started(t3)
    balancer.started(t3)
    assert balancer.choose_target(g, request())[0] == t2
    for _ in range(3):
        balancer.finished(t1)
    assert balancer.outstanding(t1) == 0
    assert balancer.choose_target(g, request())[0] == t1
    balancer.finished(t1)  # more finishes than starts: still 0
    assert balancer.outstanding(t1) == 0


def test_least_outstanding_breaks_ties_in_turn() -> None:
    g = group(target(1), target(2), **{"load_balancing.algorithm.type": "least_outstanding_requests"})
    balancer = Balancer()
    ids = [balancer.choose_target(g, request())[0].id for _ in range(4)]  # type: ignore[union-attr]
    assert ids == ["10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.2"]


def test_weighted_random_uses_every_candidate_and_the_rng() -> None:
    g = group(target(1), target(2), target(3), **{"load_balancing.algorithm.type": "weighted_random"})
    picks = [Balancer(random.Random(9)).choose_target(g, request())[0] for _ in range(3)]
    assert picks[0] == picks[1] == picks[2]  # same seed, same first pick
    balancer = Balancer(random.Random(9))
    counts = Counter(balancer.choose_target(g, request())[0].id for _ in range(3000))  # type: ignore[union-attr]
    assert set(counts) == {"10.0.0.1", "10.0.0.2", "10.0.0.3"}
    assert min(counts.values()) > 800


# -- target stickiness -----------------------------------------------------------------------------------------

STICKY = {"stickiness.enabled": "true", "stickiness.type": "lb_cookie", "stickiness.lb_cookie.duration_seconds": "60"}


def test_lb_cookie_pins_the_target_with_awsalb_and_its_cors_twin() -> None:
    clock = Clock()
    g = group(target(1), target(2), target(3), **STICKY)
    balancer = Balancer(clock=clock)
    first, cookies = balancer.choose_target(g, request())
    assert first is not None
    assert [c.split("=", 1)[0] for c in cookies] == ["AWSALB", "AWSALBCORS"]
    assert attributes_of(cookies[1])[1:] == ["Path=/", "SameSite=None", "Secure"]
    jar = cookie_jar(cookies)
    assert {balancer.choose_target(g, request(jar))[0] for _ in range(10)} == {first}
    clock.now += 61  # expired: round robin again
    assert {balancer.choose_target(g, request(jar))[0] for _ in range(6)} == set(g.targets)


def test_lb_cookie_moves_off_a_target_that_is_no_longer_a_candidate() -> None:
    g = group(target(1), target(2), **STICKY)
    balancer = Balancer()
    first, cookies = balancer.choose_target(g, request())
    assert first is not None
    jar = cookie_jar(cookies)
    drained = group(*(target(int(t.id[-1]), DRAINING if t == first else HEALTHY) for t in g.targets), **STICKY)
    second, again = balancer.choose_target(drained, request(jar))
    assert second is not None and second.id != first.id
    assert balancer.choose_target(drained, request(cookie_jar(again)))[0] == second


def test_lb_cookie_without_stickiness_is_ignored_and_not_set() -> None:
    sticky = group(target(1), target(2), **STICKY)
    _, cookies = Balancer().choose_target(sticky, request())
    plain = group(target(1), target(2))
    balancer = Balancer()
    ids = [balancer.choose_target(plain, request(cookie_jar(cookies))) for _ in range(2)]
    assert [t.id for t, _ in ids] == ["10.0.0.1", "10.0.0.2"]  # type: ignore[union-attr]
    assert all(c == () for _, c in ids)


def test_a_cookie_for_another_group_is_kept_alongside() -> None:
    a = group(target(1, group="a"), target(2, group="a"), arn="a", **STICKY)
    b = group(target(1, group="b"), target(2, group="b"), arn="b", **STICKY)
    balancer = Balancer()
    balancer.choose_target(a, request())  # moves a's round robin on: a's next pick is 10.0.0.2
    ta, cookies = balancer.choose_target(a, request())
    tb, cookies = balancer.choose_target(b, request(cookie_jar(cookies)))
    jar = cookie_jar(cookies)
    assert balancer.choose_target(a, request(jar))[0] == ta
    assert balancer.choose_target(b, request(jar))[0] == tb
    assert ta is not None and tb is not None and ta.id != tb.id


@pytest.mark.parametrize("value", ["", "x", "AAAA", base64.urlsafe_b64encode(b'{"v":1,"e":[["' + GROUP.encode() +
                                                                                    b'","10.0.0.9",8080,9e99]]}').decode()])
def test_a_bad_or_stale_target_cookie_is_ignored(value: str) -> None:
    g = group(target(1), target(2), **STICKY)
    balancer = Balancer()
    chosen, cookies = balancer.choose_target(g, request({"AWSALB": value}))
    assert chosen is not None and chosen.id == "10.0.0.1"
    assert len(cookies) == 2


APP = {"stickiness.enabled": "true", "stickiness.type": "app_cookie", "stickiness.app_cookie.cookie_name": "SESSION",
       "stickiness.app_cookie.duration_seconds": "120"}


def test_app_cookie_sets_the_four_shards_and_pins_while_the_app_cookie_is_sent() -> None:
    g = group(target(1), target(2), target(3), **APP)
    balancer = Balancer()
    first, cookies = balancer.choose_target(g, request())
    assert first is not None
    jar = cookie_jar(cookies)
    assert list(jar) == ["AWSALBAPP-0", "AWSALBAPP-1", "AWSALBAPP-2", "AWSALBAPP-3"]
    assert [jar[f"AWSALBAPP-{i}"] for i in (1, 2, 3)] == ["_remove_"] * 3
    assert all(attributes_of(c)[1:] == ["Path=/"] for c in cookies)
    with_app = {**jar, "SESSION": "abc"}
    assert {balancer.choose_target(g, request(with_app))[0] for _ in range(6)} == {first}
    # Without the application's own cookie the load balancer's cookie does not pin.
    assert {balancer.choose_target(g, request(jar))[0] for _ in range(6)} == set(g.targets)


def test_application_cookie_shards_round_trip() -> None:
    value = "A" * 4000 + "B" * 4000 + "C" * 10
    cookies = _app_cookies(value, NOW)
    jar = cookie_jar(cookies)
    assert [len(jar[f"AWSALBAPP-{i}"]) for i in range(3)] == [4000, 4000, 10]
    assert jar["AWSALBAPP-3"] == "_remove_"
    assert _app_value(jar) == value


# -- TCP flows -------------------------------------------------------------------------------------------------


def tcp_group(*targets: Target, **attributes: str) -> Group:
    return Group(arn=GROUP, protocol="TCP", port=80, attributes=dict(attributes), health_check={},
                 targets=tuple(targets))


def test_a_tcp_flow_keeps_its_target() -> None:
    g = tcp_group(target(1), target(2), target(3), target(4))
    balancer = Balancer()
    for port in range(50000, 50040):
        chosen = {balancer.choose_target(g, None, ("192.0.2.1", port)) for _ in range(5)}
        assert len(chosen) == 1
        assert next(iter(chosen))[1] == ()
    spread = {balancer.choose_target(g, None, ("192.0.2.1", port))[0] for port in range(50000, 50200)}
    assert spread == set(g.targets)  # different flows spread over every target


def test_a_flow_moves_only_when_its_target_goes() -> None:
    g = tcp_group(target(1), target(2), target(3), target(4))
    balancer = Balancer()
    flows = [("198.51.100.7", port) for port in range(40000, 40100)]
    before = {flow: balancer.choose_target(g, None, flow)[0] for flow in flows}
    gone = g.targets[0]
    smaller = tcp_group(target(1, DRAINING), *g.targets[1:])
    for flow in flows:
        after = balancer.choose_target(smaller, None, flow)[0]
        assert after is not None and after != gone
        if before[flow] != gone:
            assert after == before[flow]


def test_source_ip_stickiness_hashes_the_ip_alone() -> None:
    g = tcp_group(target(1), target(2), target(3), **{"stickiness.enabled": "true", "stickiness.type": "source_ip"})
    balancer = Balancer()
    chosen = {balancer.choose_target(g, None, ("203.0.113.9", port))[0] for port in range(1000, 1050)}
    assert len(chosen) == 1
