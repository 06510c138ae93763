"""The AWS CLI against S3 on a real server: ``aws s3 mb/cp/ls/rm/rb`` (an upload large enough for the CLI's
multipart transfer), ``aws s3api`` calls, and a wrong secret."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Server, aws_cli, cli_ok


def test_s3_commands(server: Server, tmp_path: Path, unique: Callable[[str], str]) -> None:
    bucket = unique("tc").lower()
    made = aws_cli(server, tmp_path, "s3", "mb", f"s3://{bucket}")
    assert made.returncode == 0, made.stderr
    small = tmp_path / "small.txt"
    small.write_text("hello from the cli\n")
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (12 * 1024 * 1024 // 256))  # 12 MiB: over the CLI's 8 MiB threshold
    for source, key in ((small, "docs/small.txt"), (big, "blobs/big.bin")):
        copied = aws_cli(server, tmp_path, "s3", "cp", str(source), f"s3://{bucket}/{key}")
        assert copied.returncode == 0, copied.stderr
    listed = aws_cli(server, tmp_path, "s3", "ls", f"s3://{bucket}/", "--recursive")
    assert listed.returncode == 0, listed.stderr
    assert "docs/small.txt" in listed.stdout and "blobs/big.bin" in listed.stdout
    assert str(12 * 1024 * 1024) in listed.stdout
    head = cli_ok(aws_cli(server, tmp_path, "s3api", "head-object", "--bucket", bucket, "--key", "blobs/big.bin"))
    assert head["ContentLength"] == 12 * 1024 * 1024
    assert head["ETag"].endswith('-2"')  # a multipart object's ETag: <md5 of the part md5s>-<parts>
    back = tmp_path / "back.bin"
    fetched = aws_cli(server, tmp_path, "s3", "cp", f"s3://{bucket}/blobs/big.bin", str(back))
    assert fetched.returncode == 0, fetched.stderr
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()
    streamed = aws_cli(server, tmp_path, "s3", "cp", f"s3://{bucket}/docs/small.txt", "-")
    assert streamed.stdout == "hello from the cli\n"
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "000000000000"},
                                                      "Action": "s3:GetObject",
                                                      "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    cli_ok(aws_cli(server, tmp_path, "s3api", "put-bucket-policy", "--bucket", bucket, "--policy",
                   json.dumps(policy)))
    got = cli_ok(aws_cli(server, tmp_path, "s3api", "get-bucket-policy", "--bucket", bucket))
    assert json.loads(got["Policy"]) == policy
    refused = aws_cli(server, tmp_path, "s3", "rb", f"s3://{bucket}")
    assert refused.returncode != 0 and "BucketNotEmpty" in refused.stderr
    removed = aws_cli(server, tmp_path, "s3", "rm", f"s3://{bucket}/", "--recursive")
    assert removed.returncode == 0, removed.stderr
    assert "delete: s3://" in removed.stdout
    gone = aws_cli(server, tmp_path, "s3", "rb", f"s3://{bucket}")
    assert gone.returncode == 0, gone.stderr
    missing = aws_cli(server, tmp_path, "s3api", "head-bucket", "--bucket", bucket)
    assert missing.returncode != 0 and "404" in missing.stderr


def test_wrong_secret(server: Server, tmp_path: Path) -> None:
    result = aws_cli(server, tmp_path, "s3", "ls", secret="wrong")
    assert result.returncode != 0
    assert "SignatureDoesNotMatch" in result.stderr
