"""Reading a cProfile dump into the hot spots a benchmark prints and records."""

from __future__ import annotations

import pstats
import shutil
import time
from pathlib import Path
from typing import Any

from .common import BenchError, table


def _short(path: str, line: int, func: str) -> str:
    if path == "~":
        return func  # a builtin: "<method 'execute' of 'sqlite3.Connection' objects>"
    for marker in ("site-packages/", "/src/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = Path(path).name
    return f"{path}:{line}({func})"


def save_hot_spots(prof: Path, keep_as: Path, top: int) -> dict[str, Any]:
    """Wait for ``prof`` (written when the profiled server exits), keep a copy, return the top entries."""
    deadline = time.monotonic() + 15
    while not prof.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if not prof.exists():
        raise BenchError(f"the profiled server wrote no stats ({prof})")
    keep_as.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(prof, keep_as)
    stats = pstats.Stats(str(prof))
    entries: list[dict[str, Any]] = []
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    for (path, line, func), (_prim, calls, tottime, cumtime, _callers) in raw.items():
        entries.append({"function": _short(path, line, func), "calls": calls,
                        "tottime_s": round(tottime, 4), "cumtime_s": round(cumtime, 4)})
    total = float(getattr(stats, "total_tt", 0.0)) or sum(e["tottime_s"] for e in entries) or 1.0
    return {
        "prof_file": str(keep_as),
        "total_s": round(total, 3),
        "by_self": sorted(entries, key=lambda e: -e["tottime_s"])[:top],
        "by_cumulative": sorted(entries, key=lambda e: -e["cumtime_s"])[:top],
    }


def print_hot_spots(spots: dict[str, Any], what: str) -> None:
    total = spots["total_s"]
    for title, key, rows in (("self", "tottime_s", spots["by_self"]), ("cumulative", "cumtime_s",
                                                                        spots["by_cumulative"])):
        print(f"\nhot spots by {title} CPU time, {what} ({total:.2f} s profiled):")
        print(table(["function", "calls", "seconds", "% of total"],
                    [[e["function"], e["calls"], f"{e[key]:.3f}", f"{100 * e[key] / total:.1f}"] for e in rows]))
    print(f"\nfull profile: {spots['prof_file']}  (python -m pstats FILE, then: sort cumtime / stats 40)")
