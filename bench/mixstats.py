"""Pure arithmetic of the ``mixed`` benchmark: which samples fall in the window or overlap a heavy call, and the
per-operation latency rows (nearest-rank percentiles, as everywhere in bench/)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from .common import percentile
from .mixgen import Samples

Interval = tuple[int, int]  # (start, end) in ns


def in_window(samples: Samples, start_ns: int, end_ns: int) -> list[int]:
    """Indexes of the samples completed within [start_ns, end_ns)."""
    return [i for i, done in enumerate(samples.done) if start_ns <= done < end_ns]


def merge(intervals: Sequence[Interval]) -> list[Interval]:
    """The union of intervals, sorted and without overlaps."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def overlaps(start: int, end: int, merged: Sequence[Interval]) -> bool:
    """Whether [start, end] shares a moment with one of ``merged`` (sorted, disjoint, as ``merge`` gives)."""
    at = bisect.bisect_right(merged, (end, 2**63)) - 1  # the last interval starting at or before ``end``
    return at >= 0 and merged[at][1] >= start


def is_error(status: int) -> bool:
    """Every request of the mix expects 200: a socket error (0), any 5xx, and any other status are errors."""
    return status != 200


def latency_row(name: str, latencies_ms: Sequence[float], errors: int, statuses: dict[int, int]) -> dict[str, Any]:
    ordered = sorted(latencies_ms)
    return {
        "op": name, "calls": len(ordered), "errors": errors,
        "p50_ms": round(percentile(ordered, 50), 2), "p99_ms": round(percentile(ordered, 99), 2),
        "max_ms": round(ordered[-1], 2) if ordered else 0.0,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def rows_by_label(samples: Samples, labels: Sequence[str], chosen: Sequence[int], total: str) -> list[dict[str, Any]]:
    """One latency row per label (in ``labels``' order, labels without samples left out), then ``total``."""
    per: dict[int, list[float]] = {}
    errors: dict[int, int] = {}
    statuses: dict[int, dict[int, int]] = {}
    for i in chosen:
        label, status = samples.labels[i], samples.status[i]
        per.setdefault(label, []).append((samples.done[i] - samples.sent[i]) / 1e6)
        errors[label] = errors.get(label, 0) + is_error(status)
        codes = statuses.setdefault(label, {})
        codes[status] = codes.get(status, 0) + 1
    rows = [latency_row(labels[k], per[k], errors.get(k, 0), statuses[k]) for k in range(len(labels)) if k in per]
    every = [ms for values in per.values() for ms in values]
    codes_all: dict[int, int] = {}
    for codes in statuses.values():
        for code, count in codes.items():
            codes_all[code] = codes_all.get(code, 0) + count
    rows.append(latency_row(total, every, sum(errors.values()), codes_all))
    return rows
