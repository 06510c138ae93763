"""The IAM provider: one class assembled from the operation modules of this package."""

from __future__ import annotations

from ...core.provider import Provider
from .access_keys import AccessKeyOperations
from .account import AccountOperations
from .groups import GroupOperations
from .instance_profiles import InstanceProfileOperations
from .login_profiles import LoginProfileOperations
from .policies import PolicyOperations
from .principal_ids import bind_saved_before
from .roles import RoleOperations
from .simulator import SimulatorOperations
from .user_credentials import UserCredentialListOperations
from .users import UserOperations


class IamProvider(
    RoleOperations,
    InstanceProfileOperations,
    PolicyOperations,
    UserOperations,
    GroupOperations,
    AccessKeyOperations,
    LoginProfileOperations,
    UserCredentialListOperations,
    AccountOperations,
    SimulatorOperations,
    Provider,
):
    service = "iam"

    def startup(self) -> None:
        super().startup()
        bind_saved_before(self.db)
