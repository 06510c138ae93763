"""The IAM provider: one class assembled from the operation modules of this package."""

from __future__ import annotations

from ..base import Provider
from .access_keys import AccessKeyOperations
from .account import AccountOperations
from .groups import GroupOperations
from .policies import PolicyOperations
from .roles import RoleOperations
from .simulator import SimulatorOperations
from .users import UserOperations


class IamProvider(
    RoleOperations,
    PolicyOperations,
    UserOperations,
    GroupOperations,
    AccessKeyOperations,
    AccountOperations,
    SimulatorOperations,
    Provider,
):
    service = "iam"
