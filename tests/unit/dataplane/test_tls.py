"""The data directory's certificate for HTTPS and TLS listeners: made once, kept private, and trusted by a client
that names a load balancer's DNS name."""

from __future__ import annotations

import asyncio
import ssl
import stat
from pathlib import Path

import pytest

from turnout.dataplane import tls


def test_made_once_and_the_key_is_private(tmp_path: Path) -> None:
    cert, key = tls.ensure(tmp_path / "tls")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first = cert.read_bytes(), key.read_bytes()
    assert tls.ensure(tmp_path / "tls") == (cert, key)
    assert (cert.read_bytes(), key.read_bytes()) == first  # kept, not made again
    assert not [p for p in (tmp_path / "tls").iterdir() if p.name.startswith(".")]  # no partial files left


@pytest.mark.parametrize("name", ["demo-alb-1234567890.us-east-1.elb.localhost",
                                  "internal-api-0123456789abcdef.eu-west-1.elb.localhost", "localhost"])
def test_a_client_trusting_the_certificate_reaches_a_listener_by_its_name(tmp_path: Path, name: str) -> None:
    server_context = tls.server_context(tmp_path / "tls")
    client_context = ssl.create_default_context(cafile=str(tmp_path / "tls" / tls.CERT))

    async def scenario() -> bytes:
        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(await reader.readline())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=server_context)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                "127.0.0.1", port, ssl=client_context, server_hostname=name), 10)
            writer.write(b"hello\n")
            answer = await asyncio.wait_for(reader.readline(), 10)
            writer.close()
            return answer

    assert asyncio.run(scenario()) == b"hello\n"


def test_a_name_outside_the_certificate_is_refused(tmp_path: Path) -> None:
    server_context = tls.server_context(tmp_path / "tls")
    client_context = ssl.create_default_context(cafile=str(tmp_path / "tls" / tls.CERT))

    async def scenario() -> None:
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0, ssl=server_context)
        port = server.sockets[0].getsockname()[1]
        async with server:
            await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, ssl=client_context,
                                                          server_hostname="example.com"), 10)

    with pytest.raises(ssl.SSLCertVerificationError):
        asyncio.run(scenario())
