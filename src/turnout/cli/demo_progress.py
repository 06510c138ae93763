"""``turnout demo``: output, bounded waits, and the live view of a service deployment (DescribeServiceDeployments
polled every 0.25 s, one line whenever something a user would watch changes)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

WAIT = 60.0  # real seconds, at most, for every wait
POLL = 0.25
FINAL = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")


class DemoError(Exception):
    """The server did not behave as the demo expects: the message says what happened."""


def step(number: int, title: str) -> None:
    print(f"\n[{number}/8] {title}", flush=True)


def say(text: str) -> None:
    print(f"    {text}", flush=True)


def show(block: str) -> None:
    for line in block.rstrip("\n").splitlines():
        print(f"        {line}", flush=True)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT) -> T:
    """Call ``probe`` every 0.25 s until it returns something other than None; DemoError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() >= deadline:
            raise DemoError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(POLL)


def describe(ecs: Any, arn: str) -> dict[str, Any]:
    answer = ecs.describe_service_deployments(serviceDeploymentArns=[arn])
    found: list[dict[str, Any]] = answer.get("serviceDeployments", [])
    if not found:
        failures = answer.get("failures", [])
        reason = failures[0].get("reason", "?") if failures else "no answer"
        raise DemoError(f"DescribeServiceDeployments does not find {arn} ({reason})")
    return found[0]


def new_deployment(ecs: Any, cluster: str, service: str, known: Iterable[str]) -> str:
    """The ARN of the service's newest deployment that is not in ``known`` (waits for it to be listed)."""
    seen = set(known)

    def probe() -> str | None:
        listed = ecs.list_service_deployments(cluster=cluster, service=service, maxResults=100)["serviceDeployments"]
        fresh = [d for d in listed if d["serviceDeploymentArn"] not in seen]
        if not fresh:
            return None
        newest: str = max(fresh, key=lambda d: d["createdAt"])["serviceDeploymentArn"]
        return newest

    return wait_for(f"a new deployment of service {service} in ListServiceDeployments", probe)


def deployments(ecs: Any, cluster: str, service: str) -> list[str]:
    listed = ecs.list_service_deployments(cluster=cluster, service=service, maxResults=100)["serviceDeployments"]
    return [d["serviceDeploymentArn"] for d in listed]


def rule_weights(elb: Any, rule_arn: str, labels: dict[str, str]) -> str:
    """``blue=100 green=0``: the weights of the rule's forward action (a plain forward is weight 1 of 1)."""
    rule = elb.describe_rules(RuleArns=[rule_arn])["Rules"][0]
    parts: list[tuple[str, int]] = []
    for action in rule["Actions"]:
        if action["Type"] != "forward":
            continue
        groups = action.get("ForwardConfig", {}).get("TargetGroups") or [
            {"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}]
        parts += [(labels.get(g["TargetGroupArn"], g["TargetGroupArn"]), g.get("Weight", 1)) for g in groups]
    return " ".join(f"{label}={weight}" for label, weight in sorted(parts)) or "-"


def _percent(value: Any) -> str:
    return "-" if value is None else f"{value:g}%"


def hooks_of(deployment: dict[str, Any]) -> str:
    hooks = deployment.get("lifecycleHookDetails") or []
    return ",".join(f"{h.get('targetType', '?')}:{h.get('status', '?')}" for h in hooks) or "-"


def line(deployment: dict[str, Any], weights: str) -> tuple[str, ...]:
    target = deployment.get("targetServiceRevision") or {}
    return (
        deployment.get("status", "?"), deployment.get("lifecycleStage") or "-",
        _percent(target.get("requestedTestTrafficWeight")), _percent(target.get("requestedProductionTrafficWeight")),
        hooks_of(deployment), weights,
    )


def follow(ecs: Any, elb: Any, arn: str, rule_arn: str, labels: dict[str, str], *,
           until: Callable[[dict[str, Any]], bool] | None = None, timeout: float = WAIT,
           traffic: Callable[[], str] | None = None) -> dict[str, Any]:
    """Print the deployment's progress until it is final (or ``until`` holds); the last DescribeServiceDeployments.

    One line whenever the status, the lifecycle stage, the target revision's requested test/production traffic
    weights, the hooks' states or the production rule's weights change. With ``traffic`` (what the background
    clients have seen so far), each line ends with it too; it changes all the time, so it prints no line of its own.
    """
    started = time.monotonic()
    deadline = started + timeout
    last: tuple[str, ...] | None = None
    say(f"{'time':>7}  {'status':<20} {'lifecycle stage':<29} {'test':>5} {'prod':>5}  hooks / production rule"
        + (" | production traffic so far" if traffic is not None else ""))
    while True:
        deployment = describe(ecs, arn)
        now = line(deployment, rule_weights(elb, rule_arn, labels))
        if now != last:
            status, stage, test, prod, hooks, weights = now
            say(f"{time.monotonic() - started:6.2f}s  {status:<20} {stage:<29} {test:>5} {prod:>5}  "
                f"{hooks} / {weights}" + (f" | {traffic()}" if traffic is not None else ""))
            last = now
        if deployment.get("status") in FINAL or (until is not None and until(deployment)):
            return deployment
        if time.monotonic() >= deadline:
            raise DemoError(
                f"timed out after {timeout:g} s: deployment {arn} is still {deployment.get('status')} "
                f"at {deployment.get('lifecycleStage') or 'no lifecycle stage'}"
            )
        time.sleep(POLL)


def awaiting_pause(deployment: dict[str, Any]) -> dict[str, Any] | None:
    for hook in deployment.get("lifecycleHookDetails") or []:
        if hook.get("targetType") == "PAUSE" and hook.get("status") == "AWAITING_ACTION":
            found: dict[str, Any] = hook
            return found
    return None
