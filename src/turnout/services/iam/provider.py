"""The IAM provider: one class assembled from the operation modules of this package."""

from __future__ import annotations

from ..base import Provider
from .roles import RoleOperations


class IamProvider(RoleOperations, Provider):
    service = "iam"
