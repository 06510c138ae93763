"""The response writer of a request cycle (turnout.edge.protocol._CycleTransport): a small answer leaves in one
write (head and body together), and nothing is held back or reordered."""

from __future__ import annotations

from typing import Any

from turnout.edge.protocol import _CycleTransport


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else None


class FakeProtocol:
    def __init__(self) -> None:
        self.transport = FakeTransport()
        self.closed_after_response = 0

    def close_after_response(self) -> None:
        self.closed_after_response += 1


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"


def _cycle() -> tuple[_CycleTransport, FakeProtocol]:
    protocol = FakeProtocol()
    return _CycleTransport(protocol), protocol  # type: ignore[arg-type]


def test_head_and_body_leave_in_one_write() -> None:
    cycle, protocol = _cycle()
    cycle.write(HEAD)
    assert protocol.transport.writes == []
    cycle.write(b"hello")
    assert protocol.transport.writes == [HEAD + b"hello"]


def test_a_streamed_body_follows_in_order() -> None:
    cycle, protocol = _cycle()
    for chunk in (HEAD, b"he", b"ll", b"o"):
        cycle.write(chunk)
    assert protocol.transport.writes == [HEAD + b"he", b"ll", b"o"]


def test_a_head_without_body_is_sent_by_flush_or_close() -> None:
    cycle, protocol = _cycle()
    cycle.write(HEAD)
    cycle.flush()
    assert protocol.transport.writes == [HEAD]
    cycle.flush()
    assert protocol.transport.writes == [HEAD]  # once
    other, other_protocol = _cycle()
    other.write(HEAD)
    other.close()
    assert other_protocol.transport.writes == [HEAD]
    assert other_protocol.closed_after_response == 1


def test_continue_is_sent_at_once() -> None:
    cycle, protocol = _cycle()
    cycle.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert protocol.transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    cycle.write(HEAD)
    cycle.write(b"hello")
    assert protocol.transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n", HEAD + b"hello"]


def test_other_attributes_are_the_transports() -> None:
    cycle, _ = _cycle()
    assert cycle.get_extra_info("peername") == ("127.0.0.1", 1)
    assert cycle.is_closing() is False
