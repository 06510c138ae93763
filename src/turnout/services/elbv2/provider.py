"""The Elastic Load Balancing (v2) provider: one class assembled from the operation modules of this package.

Listener and rule operations come as their own mixins (``listeners.py``, ``rules.py``) added to the bases below;
they store actions in botocore's shape, from which the store indexes which load balancers use a target group.
The operation modules hold no SQL: they read and write frozen records through the store (``store/``) and build
the wire shapes from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.provider import Provider
from .account import AccountOperations
from .attributes import AttributeOperations
from .capacity import CapacityOperations
from .certificates import CertificateOperations
from .listeners import ListenerOperations
from .load_balancers import LoadBalancerOperations
from .network import register_dependency_check
from .ports import HealthChecks, Unwired
from .rules import RuleOperations
from .tags import TagOperations, resource_tags
from .target_groups import TargetGroupOperations
from .targets import TargetOperations

if TYPE_CHECKING:
    from ...gateway.gateway import Gateway


class Elbv2Provider(
    LoadBalancerOperations,
    ListenerOperations,
    RuleOperations,
    CertificateOperations,
    TargetGroupOperations,
    TargetOperations,
    AttributeOperations,
    CapacityOperations,
    TagOperations,
    AccountOperations,
    Provider,
):
    service = "elbv2"
    tag_lookups = {"elasticloadbalancing": resource_tags}

    def __init__(self, gateway: Gateway) -> None:
        super().__init__(gateway)
        self.health_checks: HealthChecks = Unwired()  # the data plane's, wired by server.build_gateway
        register_dependency_check()
