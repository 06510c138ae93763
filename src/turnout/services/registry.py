"""Every provider Turnout serves, registered on a gateway."""

from __future__ import annotations

from ..gateway.gateway import Gateway


def register_all(gateway: Gateway) -> None:
    from .cloudtrail.provider import CloudTrailProvider
    from .ec2.provider import Ec2Provider
    from .ecs.provider import EcsProvider
    from .elbv2.provider import Elbv2Provider
    from .iam.provider import IamProvider
    from .s3.provider import S3Provider
    from .sts.provider import StsProvider

    for provider in (IamProvider, StsProvider, Ec2Provider, Elbv2Provider, CloudTrailProvider, EcsProvider,
                     S3Provider):
        gateway.register(provider)
