"""The access log: one line per request, written in batches.

Formatting and writing a log record per request through :mod:`logging` costs as much as verifying its signature;
here a line is a preformatted string appended to a buffer that is written when it fills up and, by the server, a
few times a second, so the log stays line-per-request and near real time without slowing requests.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class AccessLog:
    def __init__(self, stream: TextIO | None = None, *, max_lines: int = 256, auto_flush: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.max_lines = max_lines
        self.auto_flush = auto_flush  # without a periodic flusher, write every line at once
        self._lines: list[str] = []
        self._second = -1
        self._stamp = ""

    def _timestamp(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        return f"{self._stamp},{int((now - second) * 1000):03d}"

    def write(self, message: str) -> None:
        self._lines.append(f"{self._timestamp()} INFO turnout.access {message}\n")
        if self.auto_flush or len(self._lines) >= self.max_lines:
            self.flush()

    def flush(self) -> None:
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        try:
            self.stream.write("".join(lines))
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken stream never fails a request
