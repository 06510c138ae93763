"""The deployment guard's cost per guarded IAM write (issue 14; goal: under 5 ms with 100 active services).

In process, on one gateway built as ``turnout serve`` builds it (IAM enforced, no CloudTrail, no data plane, the
ECS engine not running): 100 ACTIVE blue/green services, each with a deployment in flight (PENDING), each naming
its own infrastructure role (the managed AmazonECSInfrastructureRolePolicyForLoadBalancers attached). The timed
write is PutRolePolicy on one service's role, as root through the gateway's chain (authorize, the transaction, the
guard's two passes, the commit), alternating over the 100 roles, of an inline policy that names an action ECS's
sessions make (so it is judged in full) but breaks nothing; also reported: a policy that names none of them (the
guard sees it cannot matter and judges nothing). It is timed with
the guard installed (``warn``) and with it removed (``off``); the difference is the guard's cost. A second case has
the 100 services share one role (the guard then judges all 100 on each write): the worst case, reported, not a goal.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import REPO, git_state, machine_info, median, write_results

NAME = "guard"
ACCOUNT = "000000000000"
REGION = "us-east-1"
MANAGED = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
    "Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
# A write the guard must judge in full (it names an action ECS's sessions make) that breaks nothing: the timed one.
RELEVANT = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Action": "elasticloadbalancing:ModifyRule",
    "Resource": f"arn:aws:elasticloadbalancing:*:{ACCOUNT}:listener-rule/app/elsewhere/*"}]})
# A write on a policy that applies to no action ECS's sessions make: the guard sees it cannot matter.
UNRELATED = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:DeleteBucket",
                                                                 "Resource": "*"}]})
GOAL_MS = 5.0
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"


def _gateway(data_dir: Path) -> Any:
    from turnout.server import Settings, build_gateway

    gateway = build_gateway(Settings(data_dir=data_dir, cloudtrail=False, dataplane=False, guard="warn"))
    gateway.ensure_account(ACCOUNT)
    return gateway


def _call(gateway: Any, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    from turnout.core.principal import Principal

    ctx = gateway.invoke(service, operation, params, Principal.root(ACCOUNT), region=REGION)
    if ctx.error is not None:
        raise RuntimeError(f"{service}.{operation}: {ctx.error.code}: {ctx.error.message}")
    return dict(ctx.result or {})


def _services(gateway: Any, count: int, *, shared: bool) -> list[str]:
    """``count`` ACTIVE services with a PENDING deployment each, written through the ECS store (the guard reads
    only the store); their roles through IAM. The role names, one per service (or one for all)."""
    from turnout.services.ecs.store import deployments, services

    roles = []
    now = gateway.clock.now()
    for index in range(1 if shared else count):
        name = f"bench-infra-{index}"
        _call(gateway, "iam", "CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": TRUST})
        _call(gateway, "iam", "AttachRolePolicy", {"RoleName": name, "PolicyArn": MANAGED})
        roles.append(name)
    with gateway.db.transaction():
        for index in range(count):
            role = roles[0 if shared else index]
            lb = f"app/bench-{index}/{index:016x}"
            config = {"loadBalancers": [{
                "targetGroupArn": f"{ELB}:targetgroup/blue-{index}/{index:016x}", "containerName": "web",
                "containerPort": 80, "advancedConfiguration": {
                    "alternateTargetGroupArn": f"{ELB}:targetgroup/green-{index}/{index:016x}",
                    "productionListenerRule": f"{ELB}:listener-rule/{lb}/{1:016x}/{index:016x}",
                    "testListenerRule": f"{ELB}:listener-rule/{lb}/{2:016x}/{index:016x}",
                    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}"}}],
                "deploymentConfiguration": {"strategy": "BLUE_GREEN"}}
            arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/bench/svc-{index}"
            services.insert_service(gateway.db, account=ACCOUNT, region=REGION, cluster="bench", name=f"svc-{index}",
                                    arn=arn, config=config, created_at=now, created_by=None)
            deployments.insert_deployment(
                gateway.db, account=ACCOUNT, region=REGION, arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/"
                f"bench/svc-{index}/{index:022d}", service_arn=arn, cluster_arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:"
                "cluster/bench", legacy_id=f"ecs-svc/{index:019d}", target_revision_arn=f"{arn}:1",
                source_revision_arns=[], desired_count=1, config=config["deploymentConfiguration"],
                circuit_breaker={}, alarms={}, rollout_state_reason="", created_at=now)
    return roles


def _time_writes(gateway: Any, roles: list[str], writes: int, document: str = RELEVANT) -> list[float]:
    """Milliseconds per PutRolePolicy, one write at a time, over the roles in turn."""
    out = []
    for number in range(writes):
        role = roles[number % len(roles)]
        started = time.perf_counter()
        name = "bench" if document == RELEVANT else "bench-unrelated"
        _call(gateway, "iam", "PutRolePolicy", {"RoleName": role, "PolicyName": name, "PolicyDocument": document})
        out.append((time.perf_counter() - started) * 1000)
    return out


def _without_guard(gateway: Any) -> None:
    from turnout.deploy.guard import Guard

    gateway.before_write[:] = [h for h in gateway.before_write if not isinstance(getattr(h, "__self__", None), Guard)]
    gateway.on_write[:] = [h for h in gateway.on_write if not isinstance(getattr(h, "__self__", None), Guard)]


def _case(count: int, writes: int, *, shared: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="turnout-bench-guard-") as work:
        gateway = _gateway(Path(work) / "data")
        roles = _services(gateway, count, shared=shared)
        _time_writes(gateway, roles, min(20, writes))  # warm caches
        guarded = _time_writes(gateway, roles, writes)
        unrelated = _time_writes(gateway, roles, writes, UNRELATED)
        _without_guard(gateway)
        _time_writes(gateway, roles, min(20, writes))
        bare = _time_writes(gateway, roles, writes)
        gateway.db.close()
    on, off, skipped = median(guarded), median(bare), median(unrelated)
    return {"services": count, "shared_role": shared, "writes": writes, "median_ms_guard_warn": round(on, 3),
            "median_ms_guard_off": round(off, 3), "guard_cost_ms": round(on - off, 3),
            "unrelated_policy_guard_cost_ms": round(skipped - off, 3)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--services", type=int, default=100, help="ACTIVE services (default 100)")
    parser.add_argument("--writes", type=int, default=200, help="timed writes per case (default 200)")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default bench/results)")


def run(args: argparse.Namespace) -> int:
    source, started = git_state(REPO), time.strftime("%Y-%m-%dT%H:%M:%S%z")
    print(f"deployment guard benchmark: {args.services} active services, {args.writes} PutRolePolicy writes per "
          "case, in process, one at a time")
    own = _case(args.services, args.writes, shared=False)
    shared = _case(args.services, max(20, args.writes // 10), shared=True)
    for label, case in (("one role per service", own), ("one role for all services", shared)):
        print(f"  {label:<26} guard warn {case['median_ms_guard_warn']:7.2f} ms   guard off "
              f"{case['median_ms_guard_off']:7.2f} ms   guard's cost {case['guard_cost_ms']:7.2f} ms   (a policy "
              f"no ECS call reads: {case['unrelated_policy_guard_cost_ms']:.2f} ms)")
    met = own["guard_cost_ms"] < GOAL_MS
    print(f"  goal: the guard's cost per guarded write < {GOAL_MS:g} ms with one role per service -> "
          f"{'met' if met else 'NOT met'} (the shared-role case judges every service on each write: reported only)")
    payload = {"benchmark": NAME, "started": started, "machine": machine_info(), "turnout_source": source,
               "cases": {"own_role": own, "shared_role": shared}, "goal_ms": GOAL_MS, "met": met}
    path = write_results(NAME, payload, args.out or Path(__file__).resolve().parent / "results")
    print(f"\nresults: {path}")
    return 0
