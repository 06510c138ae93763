"""The :class:`~.model.Snapshot` the listeners route by, read from the database in one read transaction.

Every listener of every account and Region, its rules in evaluation order (by priority, the default rule last),
and every target group its actions name, with each live target (draining ones included), its ELB state now and
where it answers on this machine:

* a target registered by an address in ``127.0.0.0/8`` is reached directly at that address and port;
* a target whose id is the private IP of a running ECS task of the same account and Region is reached at the local
  address of the task container's port (``tasks``: what the runtime started, :mod:`.runtime`);
* any other target has no address: nothing answers for it here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from ..services.elbv2.ports import HealthChecks
from ..services.elbv2.store import rule_targets
from ..services.elbv2.store.listeners import every_listener
from ..services.elbv2.store.load_balancers import every_load_balancer
from ..services.elbv2.store.rules import Rule, every_rule
from ..services.elbv2.store.target_groups import target_group
from ..services.elbv2.targets import live_targets
from ..store.db import Database
from .model import Address, Group, Listener, RouteRule, Snapshot, Target

# (account, region, private IP, container port) -> (local address, task ARN)
TaskAddresses = Mapping[tuple[str, str, str, int], tuple[Address, str]]
_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def _order(rule: Rule) -> tuple[int, int]:
    return (1, 0) if rule.is_default or rule.priority is None else (0, rule.priority)


def loopback(target_id: str) -> bool:
    try:
        return ipaddress.ip_address(target_id) in _LOOPBACK
    except ValueError:
        return False


def build(db: Database, checks: HealthChecks, tasks: TaskAddresses) -> Snapshot:
    """The data plane's view now."""
    with db.transaction(write=False):
        balancers = {lb.arn: lb for lb in every_load_balancer(db)}
        rules: dict[str, list[Rule]] = {}
        for rule in every_rule(db):
            rules.setdefault(rule.listener_arn, []).append(rule)
        listeners: dict[str, Listener] = {}
        wanted: dict[str, tuple[str, str]] = {}  # group ARN -> (account, region)
        for stored in every_listener(db):
            lb = balancers.get(stored.load_balancer_arn)
            if lb is None or stored.port is None or stored.protocol is None:
                continue
            ordered = sorted(rules.get(stored.arn, []), key=_order)
            route = tuple(RouteRule(r.arn, None if r.is_default else r.priority, tuple(r.conditions), tuple(r.actions))
                          for r in ordered)
            listeners[stored.arn] = Listener(
                arn=stored.arn, load_balancer_arn=lb.arn, load_balancer_type=lb.type, dns_name=lb.dns_name,
                protocol=stored.protocol, port=stored.port, rules=route, account_id=stored.account_id,
                region=stored.region)
            for r in ordered:
                for arn in rule_targets.action_target_groups(r.actions):
                    wanted[arn] = (stored.account_id, stored.region)
        groups: dict[str, Group] = {}
        for arn, (account, region) in wanted.items():
            tg = target_group(db, account, region, arn)
            if tg is None:
                continue
            targets = []
            for target, health in live_targets(db, checks, tg):
                address: Address | None = None
                task_arn: str | None = None
                if loopback(target.target_id):
                    address = (target.target_id, target.port)
                else:
                    found = tasks.get((account, region, target.target_id, target.port))
                    if found is not None:
                        address, task_arn = found
                targets.append(Target(arn, target.target_id, target.port, address, health.state, task_arn))
            groups[arn] = Group(arn, tg.protocol, tg.port, dict(tg.attributes), dict(tg.health_check),
                                tuple(targets))
    return Snapshot(listeners, groups)
