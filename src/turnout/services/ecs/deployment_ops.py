"""StopServiceDeployment and ContinueServiceDeployment (being written)."""

from __future__ import annotations


class DeploymentOperations:
    """Mixed into :class:`EcsProvider`."""
