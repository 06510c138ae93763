"""The provider contract: a provider's public methods are exactly operations of its service's model.

The gateway dispatches an operation to the provider method named after it (``CreateRole`` -> ``create_role``),
so a public helper method would be one name collision away from being served as an operation. Helpers are
private (``_name``) or live outside the provider class.
"""

from __future__ import annotations

import pytest
from botocore import xform_name

from turnout.core.provider import Provider
from turnout.services.cloudtrail.provider import CloudTrailProvider
from turnout.services.ec2.provider import Ec2Provider
from turnout.services.ecs.provider import EcsProvider
from turnout.services.elbv2.provider import Elbv2Provider
from turnout.services.iam.provider import IamProvider
from turnout.services.s3.provider import S3Provider
from turnout.services.sts.provider import StsProvider
from turnout.wire.models import SERVICES

PROVIDERS = [IamProvider, StsProvider, Ec2Provider, Elbv2Provider, CloudTrailProvider, EcsProvider, S3Provider]
BASE = frozenset(dir(Provider))  # the contract every provider shares (handler, error, precheck, startup...)

# Public helpers still to make private or move out of the provider (issue 12); the list only shrinks.
PENDING: dict[str, frozenset[str]] = {}


def _public_methods(cls: type[Provider]) -> set[str]:
    return {name for name in dir(cls)
            if not name.startswith("_") and name not in BASE and callable(getattr(cls, name))}


@pytest.mark.parametrize("cls", PROVIDERS, ids=lambda cls: cls.service)
def test_every_public_method_is_an_operation(cls: type[Provider]) -> None:
    operations = {xform_name(name) for name in SERVICES[cls.service].model.operation_names}
    extra = _public_methods(cls) - operations
    pending = PENDING.get(cls.service, frozenset())
    assert not extra - pending, f"public methods of {cls.__name__} that are no operation: {sorted(extra - pending)}"
    assert not pending - extra, f"drop from PENDING[{cls.service!r}]: {sorted(pending - extra)}"


def test_the_providers_checked_are_those_registered() -> None:
    from turnout.services.registry import register_all

    class Collecting:
        def __init__(self) -> None:
            self.registered: list[type] = []

        def register(self, provider_cls: type) -> None:
            self.registered.append(provider_cls)

    collecting = Collecting()
    register_all(collecting)  # type: ignore[arg-type]
    assert sorted(cls.__name__ for cls in collecting.registered) == sorted(cls.__name__ for cls in PROVIDERS)
