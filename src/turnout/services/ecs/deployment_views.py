"""ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions (being written)."""

from __future__ import annotations


class DeploymentViewOperations:
    """Mixed into :class:`EcsProvider`."""
