"""The ELB store (``services/elbv2/store/``): records round-trip through the tables, decoded JSON is what the API
answers, lookups fail with the API's errors, and deletes cascade."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from turnout.core import arns
from turnout.core.principal import Principal
from turnout.gateway.gateway import Gateway
from turnout.server import Settings, build_gateway
from turnout.services.elbv2 import store
from turnout.store.db import Database
from turnout.wire.errors import ServiceError

from .support import balancer_with_two_groups, caller

ACCOUNT, REGION = "000000000000", "us-east-1"
ROOT = Principal.root(ACCOUNT)
CREATED = datetime(2026, 12, 6, 22, 30, 15, 123456, tzinfo=UTC)
LB = arns.elb_load_balancer(REGION, ACCOUNT, "app", "web", "0123456789abcdef")
LISTENER = arns.elb_listener(LB, "1111111111111111")
RULE = arns.elb_listener_rule(LISTENER, "2222222222222222")
DEFAULT_RULE = arns.elb_listener_rule(LISTENER, "3333333333333333")
TG = arns.elb_target_group(REGION, ACCOUNT, "blue", "4444444444444444")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "turnout.db")
    yield database
    database.close()


def _forward(tg: str) -> list[dict[str, Any]]:
    return [{"Type": "forward", "TargetGroupArn": tg, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": tg, "Weight": 1}], "TargetGroupStickinessConfig": {"Enabled": False}}}]


def _lb() -> store.LoadBalancer:
    return store.LoadBalancer(
        account_id=ACCOUNT, region=REGION, arn=LB, name="web", lb_id="0123456789abcdef", type="application",
        scheme="internet-facing", ip_address_type="ipv4", vpc_id="vpc-1", dns_name="web.elb.localhost",
        canonical_hosted_zone_id="Z35SXDOTRQ7X7K", state="active",
        availability_zones=[{"ZoneName": "us-east-1a", "SubnetId": "subnet-1", "LoadBalancerAddresses": []}],
        security_groups=["sg-1"], attributes={"idle_timeout.timeout_seconds": "60"},
        extra={"CustomerOwnedIpv4Pool": "pool"}, created_at=CREATED)


def _tg() -> store.TargetGroup:
    return store.TargetGroup(
        account_id=ACCOUNT, region=REGION, arn=TG, name="blue", tg_id="4444444444444444", target_type="ip",
        protocol="HTTP", protocol_version="HTTP1", port=80, vpc_id="vpc-1", ip_address_type="ipv4",
        health_check={"HealthCheckIntervalSeconds": 30, "Matcher": {"HttpCode": "200"}},
        attributes={"deregistration_delay.timeout_seconds": "300"}, created_at=CREATED)


def _listener() -> store.Listener:
    return store.Listener(account_id=ACCOUNT, region=REGION, arn=LISTENER, load_balancer_arn=LB, port=80,
                          protocol="HTTP", default_actions=_forward(TG), extra={"Attributes": {}}, created_at=CREATED)


def _rule() -> store.Rule:
    return store.Rule(account_id=ACCOUNT, region=REGION, arn=RULE, listener_arn=LISTENER, priority=7,
                      is_default=False, conditions=[{"Field": "path-pattern", "Values": ["/api/*"],
                                                     "PathPatternConfig": {"Values": ["/api/*"]}}],
                      actions=_forward(TG), created_at=CREATED)


def test_records_round_trip(db: Database) -> None:
    with db.transaction():
        store.add_load_balancer(db, _lb())
        store.add_target_group(db, _tg())
        store.add_listener(db, _listener(), default_rule_arn=DEFAULT_RULE)
        store.add_rule(db, _rule())
        target = store.Target(account_id=ACCOUNT, region=REGION, target_group_arn=TG, target_id="10.0.0.5", port=80,
                              availability_zone="us-east-1a", registered_at=CREATED)
        store.add_target(db, target)
    assert store.load_balancer(db, ACCOUNT, REGION, LB) == _lb()
    assert store.get_target_group(db, ACCOUNT, REGION, TG) == _tg()
    assert store.get_listener(db, ACCOUNT, REGION, LISTENER) == _listener()
    assert store.get_rule(db, ACCOUNT, REGION, RULE) == _rule()
    assert store.targets_of(db, ACCOUNT, REGION, TG) == [target]
    assert store.get_load_balancer(db, ACCOUNT, REGION, LB).created_at == CREATED  # aware datetime, microseconds
    # The default rule was made with the listener: its actions are the listener's default actions.
    default = store.get_rule(db, ACCOUNT, REGION, DEFAULT_RULE)
    assert (default.is_default, default.priority, default.conditions) == (True, None, [])
    assert default.actions == _listener().default_actions
    assert store.load_balancers_using(db, ACCOUNT, REGION, TG) == [LB]


def test_writes_go_through_records(db: Database) -> None:
    from dataclasses import replace

    other = arns.elb_target_group(REGION, ACCOUNT, "green", "5555555555555555")
    with db.transaction():
        store.add_load_balancer(db, _lb())
        store.add_target_group(db, _tg())
        store.add_target_group(db, replace(_tg(), arn=other, name="green", tg_id="5555555555555555"))
        store.add_listener(db, _listener(), default_rule_arn=DEFAULT_RULE)
        store.update_listener(db, replace(_listener(), port=8080, default_actions=_forward(other)))
    listener = store.get_listener(db, ACCOUNT, REGION, LISTENER)
    assert (listener.port, listener.default_actions) == (8080, _forward(other))
    assert store.get_rule(db, ACCOUNT, REGION, DEFAULT_RULE).actions == _forward(other)  # kept equal
    assert store.load_balancers_using(db, ACCOUNT, REGION, TG) == []  # and the index follows
    assert store.load_balancers_using(db, ACCOUNT, REGION, other) == [LB]
    with db.transaction():
        store.update_target_group(db, replace(_tg(), attributes={"deregistration_delay.timeout_seconds": "5"}))
        store.update_load_balancer(db, replace(_lb(), security_groups=["sg-2"], ip_address_type="dualstack"))
    assert store.get_target_group(db, ACCOUNT, REGION, TG).attributes == {"deregistration_delay.timeout_seconds": "5"}
    lb = store.get_load_balancer(db, ACCOUNT, REGION, LB)
    assert (lb.security_groups, lb.ip_address_type, lb.name) == (["sg-2"], "dualstack", "web")


def test_registered_targets_and_reported_health(db: Database) -> None:
    later = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    with db.transaction():
        store.add_target_group(db, _tg())
        for address in ("10.0.0.5", "10.0.0.6", "10.0.0.7"):
            store.add_target(db, store.Target(account_id=ACCOUNT, region=REGION, target_group_arn=TG,
                                              target_id=address, port=80, availability_zone=None,
                                              registered_at=CREATED))
        store.deregister_target(db, ACCOUNT, REGION, TG, "10.0.0.6", 80, later, 300)
        assert store.report_health(db, ACCOUNT, REGION, TG, "10.0.0.5", 80, "healthy", later)
        assert not store.report_health(db, ACCOUNT, REGION, TG, "10.0.0.9", 80, "healthy", later)
    live = store.registered(db, ACCOUNT, REGION, ["10.0.0.5", "10.0.0.6", "10.0.0.9"])
    assert [(t.target_id, t.reported_health, t.reported_at) for t in live] == [("10.0.0.5", "healthy", later)]
    gone = {t.target_id: t for t in store.targets_of(db, ACCOUNT, REGION, TG)}["10.0.0.6"]
    assert (gone.deregistered_at, gone.drain_seconds) == (later, 300)


def _not_found(lookup: Callable[[], object]) -> tuple[str, str, int]:
    with pytest.raises(ServiceError) as caught:
        lookup()
    return caught.value.code, caught.value.message, caught.value.status


def test_missing_resources_raise_the_api_errors(db: Database) -> None:
    assert _not_found(lambda: store.get_listener(db, ACCOUNT, REGION, LISTENER)) == (
        "ListenerNotFound", "One or more listeners not found", 400)
    assert _not_found(lambda: store.get_rule(db, ACCOUNT, REGION, RULE)) == (
        "RuleNotFound", "One or more rules not found", 400)
    assert _not_found(lambda: store.get_load_balancer(db, ACCOUNT, REGION, LB)) == (
        "LoadBalancerNotFound", "One or more load balancers not found", 400)
    assert _not_found(lambda: store.get_target_group(db, ACCOUNT, REGION, TG)) == (
        "TargetGroupNotFound", "One or more target groups not found", 400)
    # Another account's listener is not found either; a malformed ARN is a ValidationError.
    with db.transaction():
        store.add_load_balancer(db, _lb())
        store.add_listener(db, _listener(), default_rule_arn=DEFAULT_RULE)
    assert _not_found(lambda: store.get_listener(db, "111111111111", REGION, LISTENER))[0] == "ListenerNotFound"
    assert _not_found(lambda: store.get_listener(db, ACCOUNT, REGION, "arn:nope")) == (
        "ValidationError", "'arn:nope' is not a valid listener ARN", 400)
    assert store.listener(db, ACCOUNT, REGION, "arn:nope") is None  # the bare lookup checks no ARN
    assert store.find_target_group(db, ACCOUNT, REGION, TG) is None


def test_deleting_a_load_balancer_cascades(db: Database) -> None:
    with db.transaction():
        store.add_load_balancer(db, _lb())
        store.add_target_group(db, _tg())
        store.add_listener(db, _listener(), default_rule_arn=DEFAULT_RULE)
        store.add_rule(db, _rule())
        for arn in (LB, LISTENER, RULE, TG):
            store.put_tags(db, ACCOUNT, REGION, arn, [store.Tag("team", "a"), store.Tag("env", "b")])
            assert len(store.tags_of(db, ACCOUNT, REGION, arn)) == 2
        store.delete_load_balancer(db, ACCOUNT, REGION, LB)
    assert store.load_balancer(db, ACCOUNT, REGION, LB) is None
    assert store.listener(db, ACCOUNT, REGION, LISTENER) is None
    assert store.rule(db, ACCOUNT, REGION, RULE) is None and store.rule(db, ACCOUNT, REGION, DEFAULT_RULE) is None
    assert [store.tags_of(db, ACCOUNT, REGION, arn) for arn in (LB, LISTENER, RULE)] == [[], [], []]
    assert store.tags_of(db, ACCOUNT, REGION, TG) == [store.Tag("team", "a"), store.Tag("env", "b")]  # kept
    assert store.load_balancers_using(db, ACCOUNT, REGION, TG) == []


# -- against the API --------------------------------------------------------------------------------------------


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    built = build_gateway(Settings(data_dir=tmp_path, enforce_iam=False, cloudtrail=False))
    yield built
    built.db.close()


def test_stored_actions_and_conditions_are_what_the_api_returned(gateway: Gateway) -> None:
    call = caller(gateway)
    lb, blue, green = balancer_with_two_groups(gateway, call)
    listener = call("CreateListener", LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "StatusCode": "HTTP_301"}}])["Listeners"][0]
    created = call("CreateRule", ListenerArn=listener["ListenerArn"], Priority=5, Conditions=[
        {"Field": "host-header", "Values": ["api.example.com"]},
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Env", "Values": ["blue"]}},
        {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "v", "Value": "2"}]}},
    ], Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": blue, "Weight": 90}, {"TargetGroupArn": green, "Weight": 10}]}}])["Rules"][0]
    described = call("DescribeRules", RuleArns=[created["RuleArn"]])["Rules"][0]

    rule = store.get_rule(gateway.db, ACCOUNT, REGION, created["RuleArn"])
    assert rule.conditions == created["Conditions"] == described["Conditions"]
    assert rule.actions == created["Actions"] == described["Actions"]
    assert (rule.priority, rule.is_default, rule.listener_arn) == (5, False, listener["ListenerArn"])
    stored = store.get_listener(gateway.db, ACCOUNT, REGION, listener["ListenerArn"])
    assert stored.default_actions == listener["DefaultActions"]
    assert (stored.port, stored.protocol, stored.load_balancer_arn) == (80, "HTTP", lb)
    assert store.get_target_group(gateway.db, ACCOUNT, REGION, blue).port == 80
    assert sorted(store.target_groups_of(gateway.db, ACCOUNT, REGION, lb)) == sorted([blue, green])

    # A missing listener: the store raises what the API answers.
    missing = listener["ListenerArn"][:-16] + "f" * 16
    ctx = gateway.invoke("elbv2", "DescribeListeners", {"ListenerArns": [missing]}, ROOT)
    assert ctx.error is not None
    assert _not_found(lambda: store.get_listener(gateway.db, ACCOUNT, REGION, missing)) == (
        ctx.error.code, ctx.error.message, ctx.error.status)
