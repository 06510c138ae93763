"""API calls answered by the connection itself (turnout.edge.protocol: a request read whole in one go is answered
from the connection's callback, without an ASGI task), and the requests that go the ASGI way instead, over raw
sockets against a real ``turnout serve``: both ways must give the same answers, in order, on one connection.
"""

from __future__ import annotations

import socket
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import Server

WAIT = 30.0
NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"


def signed(server: Server, *, version: str = "HTTP/1.1", extra: dict[str, str] | None = None,
           body: str = "Action=GetCallerIdentity&Version=2011-06-15", secret: str = "test",
           service: str = "sts") -> tuple[bytes, bytes]:
    """A signed STS call (or another Query-protocol service's) as raw bytes: (the request line and headers, the
    body)."""
    url = f"http://127.0.0.1:{server.port}/"
    request = AWSRequest(method="POST", url=url, data=body.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", **(extra or {})})
    SigV4Auth(Credentials("test", secret), service, "us-east-1").add_auth(request)
    lines = [f"POST / {version}", f"Host: 127.0.0.1:{server.port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), body.encode()


def read_response(sock: socket.socket, buffered: bytearray) -> tuple[int, dict[str, str], bytes]:
    """The next response on ``sock`` (``buffered``: bytes already read past the previous one)."""
    while b"\r\n\r\n" not in buffered:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {bytes(buffered)!r}"
        buffered += chunk
    head, _, rest = bytes(buffered).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the answer's body"
        rest += chunk
    buffered[:] = rest[length:]
    return int(lines[0].split()[1]), headers, rest[:length]


def account_and_request(body: bytes) -> tuple[str, str]:
    root = ET.fromstring(body)
    account = root.findtext(f"{NS}GetCallerIdentityResult/{NS}Account")
    request = root.findtext(f"{NS}ResponseMetadata/{NS}RequestId")
    assert account is not None and request is not None, body
    return account, request


def connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(WAIT)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


def test_a_call_read_whole_is_answered_and_the_connection_serves_the_next(server: Server) -> None:
    buffered = bytearray()
    with connect(server) as sock:
        seen = set()
        for _ in range(3):
            head, body = signed(server)
            sock.sendall(head + body)
            status, headers, answer = read_response(sock, buffered)
            assert status == 200 and headers["content-type"] == "text/xml"
            assert "date" in headers and "connection" not in headers  # kept alive
            account, request = account_and_request(answer)
            assert account == "000000000000" and headers["x-amzn-requestid"] == request
            seen.add(request)
        assert len(seen) == 3


def test_pipelined_calls_are_answered_in_order(server: Server) -> None:
    """Three calls in one send: each answered once, in the order sent (the second and third arrive while the first
    is answered)."""
    requests = [b"".join(signed(server, extra={"X-Order": str(n)})) for n in range(3)]
    buffered = bytearray()
    with connect(server) as sock:
        sock.sendall(b"".join(requests))
        answers = [read_response(sock, buffered) for _ in range(3)]
        assert [status for status, _, _ in answers] == [200, 200, 200]
        assert len({account_and_request(body)[1] for _, _, body in answers}) == 3
        head, body = signed(server)  # and the connection goes on serving
        sock.sendall(head + body)
        assert read_response(sock, buffered)[0] == 200


def test_a_body_sent_after_its_headers_is_waited_for(server: Server) -> None:
    """Headers in one segment, the body later: the call goes the ASGI way, which reads the body as it comes."""
    head, body = signed(server)
    buffered = bytearray()
    with connect(server) as sock:
        sock.sendall(head)
        time.sleep(0.2)
        sock.sendall(body[:10])
        time.sleep(0.1)
        sock.sendall(body[10:])
        status, _, answer = read_response(sock, buffered)
        assert status == 200 and account_and_request(answer)[0] == "000000000000"


def test_connection_close_and_http_1_0_are_answered_then_closed(server: Server) -> None:
    for head, body in (signed(server, extra={"Connection": "close"}), signed(server, version="HTTP/1.0")):
        buffered = bytearray()
        with connect(server) as sock:
            sock.sendall(head + body)
            status, headers, answer = read_response(sock, buffered)
            assert status == 200 and account_and_request(answer)[0] == "000000000000"
            assert headers["connection"] == "close"
            assert closed_by_server(sock)


def test_a_refused_call_is_answered_in_its_protocol_either_way(server: Server) -> None:
    """A bad signature, answered from the connection, and the same call with a body too large to be answered there
    (over 64 KiB): the same STS error document both ways."""
    large_body = "Action=GetCallerIdentity&Version=2011-06-15&Pad=" + "x" * (70 * 1024)
    codes = []
    for raw in (b"".join(signed(server, secret="wrong")), b"".join(signed(server, body=large_body, secret="wrong"))):
        buffered = bytearray()
        with connect(server) as sock:
            sock.sendall(raw)
            status, headers, answer = read_response(sock, buffered)
            assert status == 403 and headers["content-type"] == "text/xml"
            codes.append(ET.fromstring(answer).findtext(".//{*}Code"))
    assert codes == ["SignatureDoesNotMatch", "SignatureDoesNotMatch"]


def test_calls_from_many_connections_at_once_each_get_their_own_answer(tmp_path: Path) -> None:
    """Forty connections to one worker, each sending its calls as fast as they are answered: more than the loop
    answers in a slice, so calls wait for their turn (turnout.edge.turns). Each answer reaches the connection that
    asked, in its order: every call asks for a user of its own, and the NoSuchEntity answer names it."""
    srv = Server(tmp_path / "data", ["--workers", "1"]).start()
    failures: list[str] = []

    def client(number: int) -> None:
        buffered = bytearray()
        try:
            with connect(srv) as sock:
                for round_ in range(5):
                    name = f"nobody-{number}-{round_}"
                    head, body = signed(srv, service="iam", body=f"Action=GetUser&Version=2010-05-08&UserName={name}")
                    sock.sendall(head + body)
                    status, headers, answer = read_response(sock, buffered)
                    message = ET.fromstring(answer).findtext(".//{*}Message") or ""
                    request = ET.fromstring(answer).findtext(".//{*}RequestId")
                    if status != 404 or f"The user with name {name} cannot be found." != message \
                            or headers.get("x-amzn-requestid") != request:
                        failures.append(f"{name}: {status} {answer[:300]!r}")
        except Exception as exc:
            failures.append(f"client {number}: {exc!r}")

    try:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
        assert not any(thread.is_alive() for thread in threads)
        assert failures == []
    finally:
        srv.stop()
