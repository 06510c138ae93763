"""Load balancer capacity reservations: DescribeCapacityReservation.

Turnout provisions no load balancer capacity units, so no load balancer has a capacity reservation: the answer has
an empty ``CapacityReservationState`` and no ``MinimumLoadBalancerCapacity`` (the members AWS fills in only for a
reservation that was asked for). The Terraform provider reads it on every refresh of an ``aws_lb`` of type
application or network. ModifyCapacityReservation (setting a reservation) is not implemented.
"""

from __future__ import annotations

from typing import Any

from ...core.context import RequestContext
from ...store.db import Database
from .store import get_load_balancer


class CapacityOperations:
    """Mixed into :class:`Elbv2Provider`."""

    db: Database

    def describe_capacity_reservation(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        get_load_balancer(self.db, ctx.account_id, ctx.region, req["LoadBalancerArn"])  # LoadBalancerNotFound if absent
        return {"CapacityReservationState": []}
