"""Request size limits and slow or idle connections, against a real ``turnout serve`` over raw sockets and boto3.

The server of this module runs with short timeouts (``--idle-timeout 1 --header-timeout 2 --body-timeout 1``).
No test measures time: each waits (with a generous socket timeout) for the answer or the close the server must
send, and then checks that the server still serves other callers.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, error_of

MIB = 1024 * 1024
ECS_TARGET = "AmazonEC2ContainerServiceV20141113.ListClusters"
S3_AUTH = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, "
           "Signature=" + "0" * 64)
WAIT = 30.0  # socket timeout: far above the server's timeouts, only a bound on a broken test


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("limits") / "data",
                 ["--idle-timeout", "1", "--header-timeout", "2", "--body-timeout", "1"]).start()
    yield srv
    srv.stop()


def connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(WAIT)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response (status, lower-case headers, body by its Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the answer's body"
        rest += chunk
    return status, headers, rest[:length]


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes the connection (reading whatever it still sends); False if it stays open."""
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def assert_serving(server: Server) -> None:
    """The server still answers other callers: its health, and a signed call."""
    with connect(server) as sock:
        sock.sendall(b"GET /_turnout/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, _, body = read_response(sock)
    assert status == 200 and json.loads(body)["status"] == "ready"
    assert server.client("sts").get_caller_identity()["Account"]


def json_request(length: int, extra: str = "") -> bytes:
    return (f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {ECS_TARGET}\r\nContent-Type: application/x-amz-json-1.1\r\n"
            f"Content-Length: {length}\r\n{extra}\r\n").encode()


# -- bodies -------------------------------------------------------------------------------------------------


def test_oversized_json_body_is_answered_413_and_the_connection_is_drained(limited: Server) -> None:
    with connect(limited) as sock:
        sock.sendall(json_request(2 * MIB) + b"x" * (2 * MIB))
        status, headers, body = read_response(sock)
        assert status == 413
        assert headers["x-amzn-errortype"] == "RequestEntityTooLargeException"
        assert json.loads(body) == {"__type": "RequestEntityTooLargeException",
                                    "message": f"Request body of {2 * MIB} bytes exceeds the maximum of {MIB} bytes."}
        # The rest of the refused body was read and dropped: the same connection serves the next request.
        sock.sendall(b"GET /_turnout/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock)[0] == 200
    assert_serving(limited)


def test_a_100_mb_body_gets_its_answer_not_a_reset(limited: Server) -> None:
    with connect(limited) as sock:
        sock.sendall(f"PUT /bucket/key HTTP/1.1\r\nHost: x\r\nAuthorization: {S3_AUTH}\r\n"
                     f"Content-Length: {100 * MIB}\r\n\r\n".encode())
        block = b"\0" * MIB
        for _ in range(100):
            sock.sendall(block)
        status, headers, body = read_response(sock)
    assert status == 400
    assert headers["content-type"] == "application/xml"
    text = body.decode()
    assert "<Code>EntityTooLarge</Code>" in text
    assert "<Message>Your proposed upload exceeds the maximum allowed size</Message>" in text
    assert f"<ProposedSize>{100 * MIB}</ProposedSize><MaxSizeAllowed>{16 * MIB}</MaxSizeAllowed>" in text
    assert_serving(limited)


def test_oversized_body_of_a_closing_request_is_answered_too(limited: Server) -> None:
    """``Connection: close``: the server answers, then reads and drops the rest before it closes (no reset)."""
    with connect(limited) as sock:
        sock.sendall(json_request(20 * MIB, "Connection: close\r\n"))
        block = b"x" * MIB
        for _ in range(20):
            sock.sendall(block)
        status, headers, body = read_response(sock)
        assert closed_by_server(sock)
    assert status == 413
    assert headers["connection"] == "close"
    assert json.loads(body)["__type"] == "RequestEntityTooLargeException"
    assert_serving(limited)


def test_chunked_body_is_counted_as_it_arrives(limited: Server) -> None:
    with connect(limited) as sock:
        sock.sendall(f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {ECS_TARGET}\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        piece = b"y" * (256 * 1024)
        for _ in range(5):  # 1.25 MiB in all
            sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        sock.sendall(b"0\r\n\r\n")
        status, _, body = read_response(sock)
    assert status == 413
    assert json.loads(body)["message"] == f"Request body of more than {MIB} bytes exceeds the maximum of {MIB} bytes."
    assert_serving(limited)


def test_body_shorter_than_its_content_length_times_out(limited: Server) -> None:
    with connect(limited) as sock:
        sock.sendall(json_request(100) + b"{}")
        status, headers, body = read_response(sock)
        assert status == 408
        assert headers["connection"] == "close"
        assert json.loads(body)["__type"] == "RequestTimeoutException"
        assert closed_by_server(sock)
    assert_serving(limited)


def test_s3_short_body_answers_request_timeout(limited: Server) -> None:
    with connect(limited) as sock:
        sock.sendall(f"PUT /bucket/key HTTP/1.1\r\nHost: x\r\nAuthorization: {S3_AUTH}\r\n"
                     "Content-Length: 10\r\n\r\nabc".encode())
        status, _, body = read_response(sock)
        assert closed_by_server(sock)
    assert status == 400
    assert "<Code>RequestTimeout</Code>" in body.decode()


def test_boto3_calls_over_the_limits_get_each_protocols_error(limited: Server, unique: Callable[[str], str]) -> None:
    ecs = limited.client("ecs")
    big = "v" * (MIB + 1)
    code, message, status = error_of(
        ecs.register_task_definition, family="big",
        containerDefinitions=[{"name": "c", "image": "i", "environment": [{"name": "A", "value": big}]}],
    )
    assert (code, status) == ("RequestEntityTooLargeException", 413)
    iam = limited.client("iam")
    code, message, status = error_of(iam.create_policy, PolicyName="big", PolicyDocument=big)
    assert (code, status) == ("RequestEntityTooLarge", 413)
    assert "exceeds the maximum of 1048576 bytes" in message

    s3 = limited.client("s3")
    bucket = unique("lim").lower()
    s3.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="big", Body=b"z" * (16 * MIB + 1))
    error = info.value.response["Error"]
    assert (error["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]) == ("EntityTooLarge", 400)
    assert error["MaxSizeAllowed"] == str(16 * MIB)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="big")  # nothing was stored
    # At the limit, accepted.
    s3.put_object(Bucket=bucket, Key="edge", Body=b"z" * (16 * MIB))
    assert s3.head_object(Bucket=bucket, Key="edge")["ContentLength"] == 16 * MIB
    # A large object still goes up through multipart upload (the CLI's and boto3's transfer manager).
    s3.upload_file(str(_file(limited.data_dir.parent / "big.bin", 20 * MIB)), bucket, "multi")
    assert s3.head_object(Bucket=bucket, Key="multi")["ContentLength"] == 20 * MIB


def _file(path: Path, size: int) -> Path:
    path.write_bytes(b"m" * size)
    return path


# -- headers ------------------------------------------------------------------------------------------------


def test_a_1_mb_header_is_refused(limited: Server) -> None:
    with connect(limited) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * MIB + b"\r\n\r\n")
        status, headers, body = read_response(sock)
        assert closed_by_server(sock)
    assert status == 400
    assert headers["content-type"] == "text/xml"
    assert "<Code>RequestHeaderSectionTooLarge</Code>" in body.decode()
    assert_serving(limited)


def test_10000_headers_are_refused_in_the_shape_of_the_service_they_name(limited: Server) -> None:
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(10_000))
    with connect(limited) as sock:
        sock.sendall(f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {ECS_TARGET}\r\n".encode() + many + b"\r\n")
        status, headers, body = read_response(sock)
    assert status == 400
    assert headers["x-amzn-errortype"] == "RequestHeaderSectionTooLarge"
    assert json.loads(body) == {"__type": "RequestHeaderSectionTooLarge",
                                "message": "Your request header section exceeds the maximum allowed size."}
    assert_serving(limited)


def test_s3_header_section_over_8_kib_is_refused(limited: Server, unique: Callable[[str], str]) -> None:
    with connect(limited) as sock:
        sock.sendall(f"GET /bucket/key HTTP/1.1\r\nHost: x\r\nAuthorization: {S3_AUTH}\r\n"
                     f"X-Amz-Meta-Big: {'b' * 9000}\r\n\r\n".encode())
        status, headers, body = read_response(sock)
    assert status == 400
    assert headers["content-type"] == "application/xml"
    assert "<Code>RequestHeaderSectionTooLarge</Code>" in body.decode()
    # S3's own allowance, 2 KB of user metadata, is well inside the limit.
    s3 = limited.client("s3")
    bucket = unique("meta").lower()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"m": "q" * 2000})
    assert s3.head_object(Bucket=bucket, Key="k")["Metadata"] == {"m": "q" * 2000}


# -- idle and slow connections ------------------------------------------------------------------------------


def test_idle_connection_is_closed(limited: Server) -> None:
    with connect(limited) as sock:
        assert closed_by_server(sock)
    assert_serving(limited)


def test_connection_idle_after_a_response_is_closed(limited: Server) -> None:
    with connect(limited) as sock:
        sock.sendall(b"GET /_turnout/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock)[0] == 200
        assert closed_by_server(sock)


def test_a_connection_in_use_stays_open_past_the_idle_timeout(limited: Server) -> None:
    """Each response starts the idle time again (--idle-timeout 1): requests half a second apart for three seconds
    keep one connection open, then it is closed once idle."""
    with connect(limited) as sock:
        started = time.monotonic()
        while time.monotonic() - started < 3:
            sock.sendall(b"GET /_turnout/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(sock)[0] == 200
            time.sleep(0.5)
        assert closed_by_server(sock)


def test_slow_headers_are_cut_off_even_while_bytes_keep_coming(limited: Server) -> None:
    with connect(limited) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for _ in range(600):  # a header byte every 50 ms: never idle, never complete
            try:
                sock.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.05)
        assert closed or closed_by_server(sock)
    assert_serving(limited)


def test_many_idle_and_slow_connections_do_not_stop_others(limited: Server) -> None:
    idle = [connect(limited) for _ in range(50)]
    slow = [connect(limited) for _ in range(20)]
    try:
        for sock in slow:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        assert_serving(limited)
        assert all(closed_by_server(sock) for sock in idle + slow)
    finally:
        for sock in idle + slow:
            sock.close()
    assert_serving(limited)


def test_requests_within_the_limits_are_unaffected(limited: Server) -> None:
    ecs = limited.client("ecs")
    value = "v" * (60 * 1024)  # an ECS task definition may be up to 64 KiB
    task = ecs.register_task_definition(
        family="fits", containerDefinitions=[{"name": "c", "image": "i", "memory": 128,
                                              "environment": [{"name": "A", "value": value}]}],
    )["taskDefinition"]
    assert task["containerDefinitions"][0]["environment"][0]["value"] == value
