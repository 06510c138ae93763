"""Prints the IAM conformance pass rates (per source prefix and per tag) at the end of the session."""

from __future__ import annotations

import pytest

from tests.policy import _report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _report.BY_PREFIX.groups():
        return
    write = terminalreporter.write_line
    terminalreporter.section("IAM conformance vectors")
    for line in _report.lines("by source prefix:", _report.BY_PREFIX):
        write(line)
    for line in _report.lines("by tag:", _report.BY_TAG):
        write(line)
    if _report.SKIP_REASONS:
        write("skipped (reason: cases):")
        for reason, count in sorted(_report.SKIP_REASONS.items()):
            write(f"  {count:3d}  {reason}")
