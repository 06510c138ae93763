"""State survives a restart, a kill -9 included: a request that answered is on disk."""

from __future__ import annotations

import json

from tests.conftest import Server

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def test_state_survives_kill_minus_nine_and_restart(fresh_server: Server) -> None:
    iam = fresh_server.client("iam")
    created = [
        iam.create_role(RoleName=f"restart-{i}", AssumeRolePolicyDocument=TRUST, Description=f"role {i}")["Role"]
        for i in range(20)
    ]
    fresh_server.kill()  # SIGKILL straight after the last 200: no graceful shutdown
    fresh_server.start()
    iam = fresh_server.client("iam")
    for role in created:
        again = iam.get_role(RoleName=role["RoleName"])["Role"]
        assert again["RoleId"] == role["RoleId"]
        assert again["Arn"] == role["Arn"]
        assert again["Description"] == role["Description"]
        assert again["CreateDate"] == role["CreateDate"]
    names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert {r["RoleName"] for r in created} <= names


def test_graceful_restart_keeps_state(fresh_server: Server) -> None:
    iam = fresh_server.client("iam")
    iam.create_role(RoleName="graceful", AssumeRolePolicyDocument=TRUST)
    fresh_server.stop()
    fresh_server.start()
    assert fresh_server.client("iam").get_role(RoleName="graceful")["Role"]["RoleName"] == "graceful"
