"""Tasks (being written)."""

from __future__ import annotations


class TaskOperations:
    """Mixed into :class:`EcsProvider`."""
