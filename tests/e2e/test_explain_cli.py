"""`turnout explain <request-id>` tells why a request was denied."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from tests.conftest import Server


def test_explain_prints_the_deciding_policy_type_of_a_denial(
    server: Server, iam: Any, unique: Callable[[str], str]
) -> None:
    name = unique("explained")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    as_user = server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    try:
        as_user.list_roles()
    except ClientError as exc:
        request_id = exc.response["ResponseMetadata"]["RequestId"]
        assert exc.response["Error"]["Code"] == "AccessDenied"
    else:
        raise AssertionError("a user without policies listed roles")
    explained = subprocess.run(
        [sys.executable, "-m", "turnout", "explain", request_id, "--data-dir", str(server.data_dir)],
        capture_output=True, text=True, timeout=60,
    )
    assert explained.returncode == 0, explained.stderr
    assert "iam:ListRoles" in explained.stdout
    assert f"user/{name}" in explained.stdout
    assert "identity-based policy" in explained.stdout

    unknown = subprocess.run(
        [sys.executable, "-m", "turnout", "explain", "no-such-request", "--data-dir", str(server.data_dir)],
        capture_output=True, text=True, timeout=60,
    )
    assert unknown.returncode == 1
    assert "no denied request with id no-such-request" in unknown.stderr
