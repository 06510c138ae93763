"""Evaluations per second, in process, on one core (a probe, not a test: run it by hand).

    .venv/bin/python tests/policy/perf_probe.py

(a) the seed's iam:PassRole check, (b) a 50-statement identity policy set about many services, (c) every
conformance vector (policies precompiled; skipped when ../shared is absent).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from tests.policy.test_conformance import CASES, to_engine  # noqa: E402
from turnout.policy import PolicySet, compile_policy, evaluate, make_request  # noqa: E402

PASSROLE = {
    "Version": "2012-10-17",
    "Statement": [{
        "Action": "iam:PassRole",
        "Effect": "Allow",
        "Resource": ["arn:aws:iam::*:role/ecsInfrastructureRoleForLoadBalancers"],
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}},
    }],
}
SERVICES = ["ec2", "s3", "ecs", "elasticloadbalancing", "logs", "cloudwatch", "sqs", "sns", "dynamodb", "kms"]


def fifty_statements() -> dict[str, object]:
    statements: list[dict[str, object]] = []
    for index in range(50):
        service = SERVICES[index % len(SERVICES)]
        statement: dict[str, object] = {
            "Sid": f"S{index}",
            "Effect": "Deny" if index % 7 == 0 else "Allow",
            "Action": [f"{service}:Describe*", f"{service}:Get{index}*"],
            "Resource": f"arn:aws:{service}:*:123456789012:thing/{index}/*",
        }
        if index % 3 == 0:
            statement["Condition"] = {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}
        statements.append(statement)
    statements.append({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
                       "Condition": {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}}})
    return {"Version": "2012-10-17", "Statement": statements}


def rate(label: str, run: Callable[[], object], count: int) -> None:
    for _ in range(min(count, 1000)):
        run()
    start = time.perf_counter()
    for _ in range(count):
        run()
    elapsed = time.perf_counter() - start
    print(f"{label:55s} {count / elapsed:12,.0f} evaluations/s  ({elapsed / count * 1e6:6.2f} us each)")


def main() -> None:
    role = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers"
    caller = "arn:aws:sts::123456789012:assumed-role/deployer/session"
    context = {"iam:PassedToService": "ecs.amazonaws.com"}
    passrole = PolicySet(identity=[compile_policy(json.dumps(PASSROLE), policy_id="passrole")])
    request = make_request(caller, "iam:PassRole", role, context=context)
    assert evaluate(request, passrole).allowed
    rate("(a) PassRole, request prebuilt", lambda: evaluate(request, passrole), 200_000)
    rate("(a) PassRole, request built per call",
         lambda: evaluate(make_request(caller, "iam:PassRole", role, context=context), passrole), 200_000)

    big = PolicySet(identity=[compile_policy(json.dumps(fifty_statements()), policy_id="fifty")])
    big_request = make_request(caller, "iam:PassRole", role, context=context)
    ec2_request = make_request(caller, "ec2:DescribeInstances", "arn:aws:ec2:us-east-1:123456789012:thing/3/x",
                               context={"aws:RequestedRegion": "us-east-1"})
    assert evaluate(big_request, big).allowed
    rate("(b) 50-statement set, iam:PassRole", lambda: evaluate(big_request, big), 100_000)
    rate("(b) 50-statement set, ec2:DescribeInstances", lambda: evaluate(ec2_request, big), 100_000)

    if not CASES:
        print("(c) conformance vectors not found; skipped")
        return
    prepared = [to_engine(case) for case in CASES]

    def corpus() -> None:
        for req, policies in prepared:
            evaluate(req, policies)

    start = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        corpus()
    elapsed = time.perf_counter() - start
    total = rounds * len(prepared)
    print(f"{'(c) whole corpus (' + str(len(prepared)) + ' cases)':55s} {total / elapsed:12,.0f} evaluations/s"
          f"  ({elapsed / total * 1e6:6.2f} us each)")


if __name__ == "__main__":
    main()
