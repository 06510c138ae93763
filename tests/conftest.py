"""Fixtures: a real ``turnout serve`` on a free port, and clients for it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A file of ``../shared`` (reference data, read at test time); skips the test cleanly when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared is not laid beside the repository)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A ``turnout serve`` process; start, kill (-9) and restart it on the same data directory."""

    def __init__(self, data_dir: Path, extra_args: list[str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.extra_args = extra_args or []
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"server-{self.port}.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "turnout", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir),
             *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"turnout exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.endpoint + "/_turnout/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"turnout did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def client(
        self, service: str, key: str = "test", secret: str = "test", token: str | None = None,
        region: str = "us-east-1", **config: Any,
    ) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=Config(retries={"max_attempts": 1}, **config),
        )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the whole session (tests use unique names so they do not collide)."""
    srv = Server(tmp_path_factory.mktemp("turnout") / "data").start()
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Server]:
    """A server of the test's own, on its own data directory."""
    srv = Server(tmp_path / "data").start()
    yield srv
    srv.stop()


@pytest.fixture
def iam(server: Server) -> Any:
    return server.client("iam")


@pytest.fixture
def sts(server: Server) -> Any:
    return server.client("sts")


@pytest.fixture
def unique() -> Callable[[str], str]:
    counter = iter(range(1, 1_000_000))
    stamp = f"{int(time.time() * 1000) % 10_000_000}"

    def make(prefix: str) -> str:
        return f"{prefix}-{stamp}-{next(counter)}"

    return make


def grant(iam: Any, actions: list[str], *, user: str | None = None, role: str | None = None,
          resource: str = "*") -> None:
    """Give a user or role an inline policy allowing ``actions`` on ``resource`` (IAM is enforced)."""
    document = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}
    )
    if user is not None:
        iam.put_user_policy(UserName=user, PolicyName="test-grant", PolicyDocument=document)
    if role is not None:
        iam.put_role_policy(RoleName=role, PolicyName="test-grant", PolicyDocument=document)


def assumer(server: Server, iam: Any, unique: Callable[[str], str], *, actions: tuple[str, ...] = ("sts:AssumeRole",),
            **config: Any) -> Any:
    """The STS client of a new IAM user (of ``iam``'s account) allowed ``actions`` (sts:AssumeRole) on every role.

    Tests assume roles through it: AWS refuses AssumeRole to a root user ("Roles may not be assumed by root
    accounts."). A trust policy naming the account (``arn:aws:iam::<account>:root``) delegates to this user's
    identity policy; ``config`` goes to :meth:`Server.client` (``parameter_validation=False``...).
    """
    name = unique("assumer")
    iam.create_user(UserName=name)
    grant(iam, list(actions), user=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"], **config)


def error_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, str, int]:
    """The (code, message, HTTP status) of the AWS error ``call`` must raise."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    response = info.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


CLI_CLIENT_ERROR = 255  # the exit status of AWS CLI v1 for an error answered by the service


def aws_cli(server: Server, cwd: Path, *args: str, key: str = "test", secret: str = "test"
            ) -> subprocess.CompletedProcess[str]:
    """Run the AWS CLI (the ``awscli`` package) against ``server``, isolated from the user's AWS config."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(cwd / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(cwd / "no-credentials"),
    }
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "awscli", *args, "--endpoint-url", server.endpoint, "--output", "json"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def cli_ok(result: subprocess.CompletedProcess[str]) -> Any:
    """The JSON a successful AWS CLI command printed (None when it printed nothing)."""
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def cloudtrail_bucket_policy(bucket: str, account: str) -> str:
    """The bucket policy CloudTrail's user guide gives ("Amazon S3 bucket policy for CloudTrail"), for every trail
    of ``account``: CloudTrail checks the bucket's ACL and writes objects owned by the bucket owner."""
    condition = {"StringEquals": {"aws:SourceAccount": account}}
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}", "Condition": condition},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": {"StringEquals": {
             "aws:SourceAccount": account, "s3:x-amz-acl": "bucket-owner-full-control"}}},
    ]})


def trail_bucket(server: Server, name: str, account: str = "000000000000", key: str = "test") -> str:
    """The bucket ``name``, made (in us-east-1) with CloudTrail's bucket policy for ``account`` if it does not exist
    yet: CreateTrail refuses a bucket that is missing or does not let CloudTrail write. Returns ``name``."""
    from botocore.exceptions import ClientError

    s3 = server.client("s3", key=key)
    try:
        s3.head_bucket(Bucket=name)
    except ClientError:
        s3.create_bucket(Bucket=name)
        s3.put_bucket_policy(Bucket=name, Policy=cloudtrail_bucket_policy(name, account))
    return name


def doc(*statements: dict[str, Any]) -> str:
    """A policy document of ``statements``."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


class LambdaEndpoint:
    """A local HTTP endpoint standing in for Lambda functions (``turnout serve --lambda NAME=<url>``): answers each
    event by ``answer`` (SUCCEEDED unless a test says otherwise) and keeps every event it receives."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.answer: Callable[[dict[str, Any]], dict[str, Any]] = lambda event: {"hookStatus": "SUCCEEDED"}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.events.append(event)
                body = json.dumps(outer.answer(event)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.http = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
