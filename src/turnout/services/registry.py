"""Every provider Turnout serves, registered on a gateway."""

from __future__ import annotations

from collections.abc import Callable

from ..core.provider import Provider
from ..gateway.gateway import Gateway


def providers() -> tuple[Callable[[Gateway], Provider], ...]:
    """Every provider class, in the order they are registered. Importing them takes most of a start-up (some 150
    modules): ``turnout serve`` calls this in the parent, before it forks its workers, so that they inherit them
    instead of each importing them again."""
    from .cloudtrail.provider import CloudTrailProvider
    from .ec2.provider import Ec2Provider
    from .ecs.provider import EcsProvider
    from .elbv2.provider import Elbv2Provider
    from .iam.provider import IamProvider
    from .s3.provider import S3Provider
    from .sts.provider import StsProvider

    return (IamProvider, StsProvider, Ec2Provider, Elbv2Provider, CloudTrailProvider, EcsProvider, S3Provider)


def register_all(gateway: Gateway) -> None:
    for provider in providers():
        gateway.register(provider)
