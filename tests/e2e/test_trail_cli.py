"""``turnout trail`` run as a command against a real server: the table of a user's calls (an AccessDenied with its
error), ``--json`` records, the lookup filters, ``--max``, and clear errors with a non-zero exit."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from tests.conftest import Server, free_port, grant

WAIT = 15.0  # seconds to wait at most for events to be recorded


def trail_cli(*args: str, key: str = "test", secret: str = "test") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": "us-east-1"})
    return subprocess.run([sys.executable, "-m", "turnout", "trail", *args], env=env, capture_output=True, text=True,
                          timeout=60)


def until(check: Callable[[], subprocess.CompletedProcess[str] | None]) -> subprocess.CompletedProcess[str]:
    """Run ``check`` until it returns a result (events are written a moment after the call they record)."""
    deadline = time.monotonic() + WAIT
    while True:
        result = check()
        if result is not None:
            return result
        assert time.monotonic() < deadline, "the events did not show up"
        time.sleep(0.2)


def rows(output: str) -> list[list[str]]:
    """The table's rows, split on runs of two or more spaces (cells hold single spaces only in the time)."""
    lines = output.splitlines()
    assert lines[0].split() == ["TIME", "(UTC)", "USER", "SOURCE", "EVENT", "ERROR"]
    return [[cell for cell in line.split("  ") if cell.strip()] for line in lines[1:]]


def make_user(server: Server, iam: Any, unique: Callable[[str], str]) -> tuple[str, Any]:
    name = unique("trail-cli-user")
    iam.create_user(UserName=name)
    grant(iam, ["iam:GetUser"], user=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def test_table_of_a_users_calls_newest_first(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    name, as_user = make_user(server, iam, unique)
    as_user.get_user(UserName=name)
    with contextlib.suppress(ClientError):
        as_user.list_roles()

    def table() -> subprocess.CompletedProcess[str] | None:
        result = trail_cli("--endpoint-url", server.endpoint, "--username", name)
        assert result.returncode == 0, result.stderr
        return result if len(result.stdout.splitlines()) >= 3 else None

    found = rows(until(table).stdout)
    assert [r[1:] for r in found] == [
        [name, "iam.amazonaws.com", "ListRoles", "AccessDenied"],
        [name, "iam.amazonaws.com", "GetUser", "-"],
    ]
    assert all(len(r[0]) == len("2026-01-01 00:00:00") for r in found)


def test_json_prints_the_raw_records(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("trail-cli-json")
    request_id = iam.create_user(UserName=name)["ResponseMetadata"]["RequestId"]

    def records() -> subprocess.CompletedProcess[str] | None:
        result = trail_cli("--endpoint-url", server.endpoint, "--region", "us-east-1", "--resource-name", name,
                           "--json")
        assert result.returncode == 0, result.stderr
        return result if result.stdout.strip() else None

    lines = until(records).stdout.splitlines()
    parsed = [json.loads(line) for line in lines]
    assert [r["requestID"] for r in parsed] == [request_id]
    record = parsed[0]
    assert (record["eventName"], record["eventSource"], record["requestParameters"]) == (
        "CreateUser", "iam.amazonaws.com", {"userName": name})
    assert record["userIdentity"]["type"] == "Root"


def test_filters_and_max(server: Server, iam: Any, unique: Callable[[str], str]) -> None:
    name = unique("trail-cli-filters")
    iam.create_user(UserName=name)
    grant(iam, ["iam:GetUser"], user=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    as_user = server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    for _ in range(55):
        as_user.get_user(UserName=name)

    def all_of_them() -> subprocess.CompletedProcess[str] | None:
        result = trail_cli("--endpoint-url", server.endpoint, "--access-key-id", key["AccessKeyId"], "--max", "100")
        return result if len(result.stdout.splitlines()) == 56 else None

    assert [r[1:4] for r in rows(until(all_of_them).stdout)] == [[name, "iam.amazonaws.com", "GetUser"]] * 55
    paged = trail_cli("--endpoint-url", server.endpoint, "--username", name, "--max", "53", "--json")
    records = [json.loads(line) for line in paged.stdout.splitlines()]
    assert len(records) == 53 and len({r["eventID"] for r in records}) == 53  # two pages, nothing twice
    times = [r["eventTime"] for r in records]
    assert times == sorted(times, reverse=True)  # newest first
    limited = trail_cli("--endpoint-url", server.endpoint, "--username", name, "--max", "2", "--json")
    newest = [json.loads(line) for line in limited.stdout.splitlines()]
    assert len(newest) == 2 and {r["eventName"] for r in newest} == {"GetUser"}
    one = trail_cli("--endpoint-url", server.endpoint, "--event-id", newest[1]["eventID"], "--json")
    assert [json.loads(line)["eventID"] for line in one.stdout.splitlines()] == [newest[1]["eventID"]]
    writes = trail_cli("--endpoint-url", server.endpoint, "--read-only", "false", "--start-time", "1h", "--max", "5",
                       "--json")
    assert writes.returncode == 0
    assert [json.loads(line)["readOnly"] for line in writes.stdout.splitlines()] == [False] * 5
    nothing = trail_cli("--endpoint-url", server.endpoint, "--username", unique("nobody"))
    assert (nothing.returncode, nothing.stdout) == (0, "No events found.\n")


def test_errors_are_clear_and_exit_non_zero(server: Server) -> None:
    backwards = trail_cli("--endpoint-url", server.endpoint, "--start-time", "2026-01-02T00:00:00Z",
                          "--end-time", "2026-01-01T00:00:00Z")
    assert backwards.returncode == 1 and backwards.stdout == ""
    assert backwards.stderr.startswith("turnout trail: InvalidTimeRangeException: ")
    bad_key = trail_cli("--endpoint-url", server.endpoint, key="AKIAAAAAAAAAAAAAAAAA", secret="nope")
    assert bad_key.returncode == 1 and bad_key.stderr.startswith("turnout trail: ")
    assert "security token" in bad_key.stderr
    closed = f"http://127.0.0.1:{free_port()}"
    nowhere = trail_cli("--endpoint-url", closed)
    assert nowhere.returncode == 1
    assert nowhere.stderr == f"turnout trail: cannot reach Turnout at {closed} (is `turnout serve` running?)\n"
    two = trail_cli("--endpoint-url", server.endpoint, "--username", "a", "--event-name", "b")
    assert two.returncode == 2 and "not allowed with argument" in two.stderr
    bad_time = trail_cli("--endpoint-url", server.endpoint, "--start-time", "yesterday-ish")
    assert bad_time.returncode == 2 and "is not a time" in bad_time.stderr
    assert trail_cli("--max", "0").returncode == 2
