"""``turnout demo``: the seed's walkthrough run as a user runs it (a subprocess that starts its own server), and
its clear failures (no server, a server that already holds the demo's resources)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Server, free_port

ACCOUNT = "000000000000"
TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Sid":"AllowAccessToECSForInfrastructureManagement","Effect":"Allow",'
    '"Principal":{"Service":"ecs.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
)


def demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    env["AWS_CONFIG_FILE"] = str(cwd / "no-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(cwd / "no-credentials")
    return subprocess.run([sys.executable, "-m", "turnout", "demo", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240)


def test_the_demo_runs_end_to_end(tmp_path: Path) -> None:
    done = demo(cwd=tmp_path)
    out = done.stdout
    # Steps 1 to 4: the role, the user, the load balancer, the cluster and task definitions.
    assert re.search(r"embedded server: http://127\.0\.0\.1:\d+ \(time scale 60, data in ", out)
    assert "[1/8] The ECS infrastructure role for load balancers (ecsInfrastructureRoleForLoadBalancers)" in out
    assert f"        {TRUST}\n" in out
    assert (f"file://ecs-infrastructure-trust-policy.json: arn:aws:iam::{ACCOUNT}:role/"
            "ecsInfrastructureRoleForLoadBalancers\n") in out
    assert ("iam attach-role-policy: ecsInfrastructureRoleForLoadBalancers has "
            "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers\n") in out
    assert re.search(rf"created user arn:aws:iam::{ACCOUNT}:user/demo-deployer with access key AKIA[A-Z0-9]{{16}}\n",
                     out)
    assert re.search(r"load balancer arn:aws:elasticloadbalancing:us-east-1:\d{12}:loadbalancer/app/demo-alb/", out)
    assert "rule path /* -> blue 100 / green 0: arn:aws:elasticloadbalancing:" in out
    assert "test listener :8080, rule X-Environment: test -> green: arn:aws:elasticloadbalancing:" in out
    assert f"cluster arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/demo\n" in out
    assert (f"task definition web:2 (public.ecr.aws/nginx/nginx:1.28): "
            f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/web:2\n") in out
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    # Step 5: PassRole denied, then allowed; the first deployment.
    assert ("without iam:PassRole, CreateService is denied: AccessDeniedException: User: "
            f"arn:aws:iam::{ACCOUNT}:user/demo-deployer is not authorized to perform: iam:PassRole on resource: "
            f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers") in out
    assert f"CreateService: arn:aws:ecs:us-east-1:{ACCOUNT}:service/demo/web (ACTIVE, desired 2)" in out
    assert "the first deployment is SUCCESSFUL: 2 of 2 tasks running" in out
    # Step 6: the blue/green deployment, its traffic shift on the production rule.
    assert "the blue/green deployment to revision 2 is SUCCESSFUL: 2 of 2 tasks running" in out
    assert re.search(r"s  IN_PROGRESS +POST_TEST_TRAFFIC_SHIFT +100% +0%  PAUSE:AWAITING_ACTION / blue=\d+ "
                     r"green=\d+\n", out)
    assert "test traffic is on the new revision, production is not: test rule " in out
    assert re.search(r"s  IN_PROGRESS +BAKE_TIME +100% +100%  PAUSE:SUCCEEDED / blue=\d+ green=\d+\n", out)
    assert re.search(r"s  SUCCESSFUL +CLEAN_UP +100% +100%  PAUSE:SUCCEEDED / blue=\d+ green=\d+\n", out)
    assert re.search(r"production rule now: (blue=0 green=100|blue=100 green=0)\n", out)
    # Step 7: ECS's calls in CloudTrail.
    assert re.search(r"  ModifyRule +ECSNetworkingWithELB  invokedBy ecs\.amazonaws\.com  -> test rule: "
                     r"blue=0 green=100\n", out)
    assert re.search(r"  ModifyRule +ECSNetworkingWithELB  invokedBy ecs\.amazonaws\.com  -> production rule: "
                     r"blue=0 green=100\n", out)
    # Step 8: the paused deployment, the broken trust policy, the rollback.
    assert re.search(r"paused: hook ecs-pause-\S+ is AWAITING_ACTION at POST_SCALE_UP\n", out)
    assert "ContinueServiceDeployment (CONTINUE)" in out
    assert re.search(r"status: ROLLBACK_(SUCCESSFUL|FAILED)\n", out)
    assert "statusReason: Service deployment rolled back because" in out
    assert "restored the role's trust policy (ecs.amazonaws.com)" in out
    assert "\nSummary\n" in out and "the demo took " in out


def test_the_demo_fails_clearly_without_a_server(tmp_path: Path) -> None:
    port = free_port()
    done = demo("--endpoint-url", f"http://127.0.0.1:{port}", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(f"\nturnout demo: FAILED: cannot reach a Turnout server at http://127.0.0.1:{port} (")


def test_the_demo_needs_a_server_without_its_resources(fresh_server: Server, tmp_path: Path) -> None:
    fresh_server.client("iam").create_role(RoleName="ecsInfrastructureRoleForLoadBalancers",
                                           AssumeRolePolicyDocument=TRUST)
    done = demo("--endpoint-url", fresh_server.endpoint, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        "\nturnout demo: FAILED: CreateRole answered EntityAlreadyExists: Role with name "
        "ecsInfrastructureRoleForLoadBalancers already exists. (the demo needs a server without its resources: run it "
        "without --endpoint-url)\n"
    )
    assert "[1/8] The ECS infrastructure role for load balancers" in done.stdout


def test_demo_options(tmp_path: Path) -> None:
    from turnout.cli.main import build_parser

    args = build_parser().parse_args(["demo"])
    assert (args.endpoint_url, args.time_scale, args.data_dir) == (None, 60.0, None)
    args = build_parser().parse_args(["demo", "--endpoint-url", "http://127.0.0.1:4566", "--time-scale", "120",
                                      "--data-dir", str(tmp_path)])
    assert (args.endpoint_url, args.time_scale, args.data_dir) == ("http://127.0.0.1:4566", 120.0, tmp_path)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--time-scale", "0"])
