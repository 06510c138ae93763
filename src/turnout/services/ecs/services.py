"""Services (being written)."""

from __future__ import annotations


class ServiceOperations:
    """Mixed into :class:`EcsProvider`."""
