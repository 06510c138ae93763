"""The AWS SDK for JavaScript v3 as a second real client: ``node --test`` over ``tests/js`` against a real server.

boto3 and the AWS CLI share botocore and so its tolerances; the JS SDK has its own serializers, error parsers,
paginators and waiters. The suite (``tests/js/*.test.mjs``, Node's own test runner) runs against a fresh
``turnout serve --time-scale 600`` (so ECS deployments finish in about a second) whose URL it reads from
``TURNOUT_ENDPOINT``. ``make test`` installs ``tests/js/node_modules`` first (``npm ci``). Without ``node`` or the
modules the test is skipped on a developer's machine, and fails under ``CI`` so that CI cannot skip it silently.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, Server

JS_DIR = REPO / "tests" / "js"
TIMEOUT_SECONDS = 300
# Every file's tests, at the least: a run that finds fewer (a file not picked up, a test not registered) fails.
MIN_TESTS = 55


def _missing() -> str | None:
    """Why the JS suite cannot run here (None when it can)."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (JS_DIR / "node_modules").is_dir():
        return f"{JS_DIR / 'node_modules'} is missing (make test installs it: npm ci in tests/js)"
    return None


@pytest.fixture(scope="module")
def js_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of this module's own: the seed's story creates the fixed-name infrastructure role."""
    srv = Server(tmp_path_factory.mktemp("js-sdk") / "data", ["--time-scale", "600"]).start()
    yield srv
    srv.stop()


def node_environment(endpoint: str, scratch: Path) -> dict[str, str]:
    """The environment of the node run: the endpoint, and nothing of the user's AWS configuration."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("AWS_") and name != "NODE_OPTIONS"}
    env.update({
        "TURNOUT_ENDPOINT": endpoint,
        "AWS_CONFIG_FILE": str(scratch / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        # The pinned SDK warns that its later releases will need Node 22; the warning is noise in this output.
        "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true",
    })
    return env


def summary(output: str) -> dict[str, int]:
    """The counts of the TAP reporter's closing lines (``# pass 31``, ``# fail 0``...)."""
    return {name: int(count) for name, count in re.findall(r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$",
                                                           output, re.MULTILINE)}


def failures(output: str) -> str:
    """The ``not ok`` entries of a TAP output, each with its YAML block (what failed, where, and why)."""
    found = re.findall(r"^ *not ok \d+ - .*?^ *\.\.\.$", output, re.MULTILINE | re.DOTALL)
    return "\n".join(found) if found else "(no 'not ok' entry)"


def require_suite() -> None:
    """Skip (a developer's machine) or fail (under ``CI``) when the JS suite cannot run here."""
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the JavaScript SDK suite cannot run under CI: {missing}")
        pytest.skip(missing)


def test_js_sdk_suite(js_server: Server, tmp_path: Path) -> None:
    require_suite()
    files = sorted(path.name for path in JS_DIR.glob("*.test.mjs"))
    assert files, f"no *.test.mjs in {JS_DIR}"
    try:
        result = subprocess.run(
            ["node", "--test", "--test-reporter=tap", *files], cwd=JS_DIR,
            env=node_environment(js_server.endpoint, tmp_path), capture_output=True, text=True,
            timeout=TIMEOUT_SECONDS, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        pytest.fail(f"node --test did not finish in {TIMEOUT_SECONDS}s:\n{out}\n{js_server.log()[-5000:]}")
    output = f"{result.stdout}\n{result.stderr}"
    counts = summary(result.stdout)
    assert result.returncode == 0 and counts.get("fail") == 0, (
        f"node --test failed (exit {result.returncode}, {counts}):\n{failures(result.stdout)}\n"
        f"---- node's whole output ----\n{output}"
    )
    assert counts.get("pass", 0) >= MIN_TESTS, f"only {counts.get('pass', 0)} JS tests passed:\n{output}"
    assert counts.get("pass") == counts.get("tests"), f"JS tests skipped or left to do ({counts}):\n{output}"


def test_without_node_ci_fails_and_a_developer_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run under CI: node is not installed"):
        require_suite()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="node is not installed"):
        require_suite()


def test_without_modules_ci_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/node")
    monkeypatch.setattr(sys.modules[__name__], "JS_DIR", tmp_path)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="node_modules is missing"):
        require_suite()


def test_summary_reads_the_tap_counts() -> None:
    output = "ok 1 - a\n1..1\n# tests 31\n# suites 0\n# pass 30\n# fail 1\n# cancelled 0\n# skipped 0\n# todo 0\n"
    assert summary(output) == {"tests": 31, "pass": 30, "fail": 1, "cancelled": 0, "skipped": 0, "todo": 0}
    assert summary("no closing lines") == {}


def test_failures_picks_the_not_ok_entries() -> None:
    output = ("ok 1 - fine\n  ---\n  duration_ms: 1\n  ...\nnot ok 2 - broken\n  ---\n  error: 'boom'\n  ...\n"
              "ok 3 - fine too\n  ---\n  ...\n")
    assert failures(output) == "not ok 2 - broken\n  ---\n  error: 'boom'\n  ..."
    assert failures("ok 1 - fine\n") == "(no 'not ok' entry)"


def test_node_environment_hides_the_callers_aws_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://elsewhere.example")
    env = node_environment("http://127.0.0.1:1", tmp_path)
    assert env["TURNOUT_ENDPOINT"] == "http://127.0.0.1:1"
    assert {"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL"}.isdisjoint(env)
    assert env["AWS_CONFIG_FILE"].startswith(str(tmp_path))
