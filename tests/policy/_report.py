"""Collects conformance outcomes during the session; ``conftest.py`` prints them at the end."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class Tally:
    passed: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, group: str, status: str) -> None:
        getattr(self, status)[group] += 1

    def groups(self) -> list[str]:
        return sorted(set(self.passed) | set(self.failed) | set(self.skipped))


BY_PREFIX = Tally()
BY_TAG = Tally()
SKIP_REASONS: dict[str, int] = defaultdict(int)


def record(case_id: str, tags: list[str], status: str, skip_reason: str | None = None) -> None:
    BY_PREFIX.add(case_id.split(":", 1)[0], status)
    for tag in tags:
        BY_TAG.add(tag, status)
    if skip_reason is not None:
        SKIP_REASONS[skip_reason] += 1


def lines(title: str, tally: Tally) -> list[str]:
    out = [title]
    for group in tally.groups():
        passed, failed, skipped = tally.passed[group], tally.failed[group], tally.skipped[group]
        run = passed + failed
        rate = f"{100 * passed / run:5.1f}%" if run else "   n/a"
        out.append(f"  {group:45s} {rate}  passed {passed:4d}  failed {failed:3d}  skipped {skipped:3d}")
    return out
