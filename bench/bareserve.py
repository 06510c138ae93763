"""The ``bare`` server of the getrole benchmark: the floor under Turnout's request path.

Usage: python bench/bareserve.py RESPONSE.json PORT

A minimal ASGI app run by uvicorn with the parser Turnout uses (``http="httptools"``), one process, ``loop="auto"``,
access log off. It reads each request's body (as any server must before answering) and answers every request with
the status, headers and body in RESPONSE.json, captured from Turnout's answer to the signed GetRole: nothing is
parsed, verified, authorized, looked up or recorded. Like Turnout it sends no ``server`` header and lets uvicorn
add ``date`` (the captured ``date`` is dropped for that reason), so the bytes on the wire match Turnout's.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Message = MutableMapping[str, Any]


def load_response(path: Path) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """(status, headers without ``date``, body) from the JSON written by getrole's capture."""
    data = json.loads(path.read_text())
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in data["headers"] if k.lower() != "date"]
    return int(data["status"]), headers, bytes.fromhex(data["body_hex"])


def make_app(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    start: Message = {"type": "http.response.start", "status": status, "headers": headers}
    answer: Message = {"type": "http.response.body", "body": body}

    async def app(scope: Message, receive: Callable[[], Awaitable[Message]],
                  send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            return  # lifespan "unsupported" is fine for uvicorn's default lifespan="auto"
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            more = message.get("more_body", False)
        await send(start)
        await send(answer)

    return app


def main(argv: list[str]) -> int:
    import uvicorn

    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    status, headers, body = load_response(Path(argv[0]))
    uvicorn.run(make_app(status, headers, body), host="127.0.0.1", port=int(argv[1]), http="httptools",
                loop="auto", workers=1, access_log=False, log_level="warning", server_header=False,
                date_header=True, lifespan="off")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
