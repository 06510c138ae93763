"""``py-spy record`` on a server during a benchmark's measured phase, read into hot functions (self, inclusive,
and who calls the hottest)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .common import (
    BenchError,
)

PROFILE_TOP = 25


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Sampler:
    """``py-spy record --format raw`` on the server during the measured phase, read into hot functions."""

    def __init__(self, pid: int, out: Path, timeout: float) -> None:
        self.out = out
        out.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [py_spy() or "py-spy", "record", "--pid", str(pid), "--subprocesses",  # the workers of turnout serve
             "--rate", "200", "--nonblocking", "--format", "raw",
             "--duration", str(int(timeout) + 5), "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> dict[str, Any]:
        self.process.send_signal(signal.SIGINT)
        try:
            _, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise BenchError("py-spy did not stop") from None
        if not self.out.exists():
            raise BenchError(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
        own: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        callers: dict[str, Counter[str]] = defaultdict(Counter)
        total = 0
        for line in self.out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = [_frame(f) for f in stack.split(";")]
            total += int(count)
            own[frames[-1]] += int(count)
            for frame in set(frames):
                inclusive[frame] += int(count)
            skip = {frames[-1].rsplit(" (", 1)[-1], "turnout/ids.py)", "turnout/store/db.py)"}
            caller = next((f for f in reversed(frames[:-1]) if f.rsplit(" (", 1)[-1] not in skip
                           and " (turnout/" in f), "?")
            callers[frames[-1]][caller] += int(count)
        def top(counter: Counter[str]) -> list[list[Any]]:
            return [[name, n, round(100 * n / max(1, total), 1)] for name, n in counter.most_common(PROFILE_TOP)]
        called_from = [[leaf, caller, n, round(100 * n / max(1, total), 1)]
                       for leaf, _ in own.most_common(6) for caller, n in callers[leaf].most_common(4)]
        return {"samples": total, "file": str(self.out), "self": top(own), "inclusive": top(inclusive),
                "callers": called_from}


def _frame(text: str) -> str:
    """py-spy's "function (path:line)" as "function (file)": every line of a function counted together."""
    func, _, where = text.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{func} ({path})"

