"""The explain command's own logic: where it reads from, its errors, and the text it prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from turnout.cli.explain import ExplainError, from_data_dir, from_endpoint, render
from turnout.cli.main import build_parser

DEPLOYMENT = "arn:aws:ecs:us-east-1:000000000000:service-deployment/c/web/abc"


def test_parser_takes_a_target_and_its_options() -> None:
    args = build_parser().parse_args(["explain", DEPLOYMENT, "--endpoint-url", "http://127.0.0.1:1", "--json"])
    assert (args.target, args.endpoint_url, args.json) == (DEPLOYMENT, "http://127.0.0.1:1", True)
    args = build_parser().parse_args(["explain", "req-1"])
    assert (args.data_dir, args.endpoint_url, args.json) == (Path(".turnout"), None, False)


def test_nothing_to_read_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ExplainError, match="no Turnout state in"):
        from_data_dir(tmp_path, "req-1")
    with pytest.raises(ExplainError, match="could not reach"):
        from_endpoint("http://127.0.0.1:9", "req-1")  # the discard port: nothing listens


def test_a_deployment_reads_as_its_failure_then_the_denial_and_its_fix() -> None:
    request = {
        "requestId": "req-1", "deniedAt": "2026-01-01T00:00:00+00:00", "message": "User: ecs.amazonaws.com is not "
        "authorized to perform: sts:AssumeRole", "operation": "sts:AssumeRole", "action": "sts:AssumeRole",
        "effect": "ImplicitDeny", "decidedBy": "role trust policy", "policyTypes": {}, "considered": {},
        "decidingStatements": [], "missingContextKeys": [], "nearMisses": [],
        "fix": {"kind": "create-role", "summary": "The role r does not exist.", "document": {"Statement": []},
                "apply": {"operation": "CreateRole", "parameters": {}}, "attach": ["arn:aws:iam::aws:policy/P"]},
    }
    text = render({"kind": "deployment", "serviceDeploymentArn": DEPLOYMENT, "status": "ROLLBACK_SUCCESSFUL",
                   "statusReason": "rolled back", "summary": "The deployment failed because ...",
                   "explanation": request, "fix": request["fix"], "denials": ["req-1", "req-2"]})
    lines = text.splitlines()
    assert lines[0] == f"service deployment {DEPLOYMENT}: ROLLBACK_SUCCESSFUL"
    assert "  decided by: role trust policy: implicit deny (no statement allowed it)" in lines
    assert "  fix: The role r does not exist." in lines
    assert "  CreateRole with this document:" in lines
    assert "  then: AttachRolePolicy arn:aws:iam::aws:policy/P" in lines
    assert lines[-1] == "  later denials of the deployment (its rollback): req-2"
