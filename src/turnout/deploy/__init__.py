"""The ECS deployment engine: runs service deployments and the task lifecycle on the clock (being written)."""

from __future__ import annotations

from .engine import Engine

__all__ = ["Engine"]
