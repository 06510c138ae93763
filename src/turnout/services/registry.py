"""Every provider Turnout serves, registered on a gateway."""

from __future__ import annotations

from ..gateway.gateway import Gateway


def register_all(gateway: Gateway) -> None:
    from .iam.provider import IamProvider
    from .sts.provider import StsProvider

    for provider in (IamProvider, StsProvider):
        gateway.register(provider)
