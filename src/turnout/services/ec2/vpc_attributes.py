"""VPC attributes: DescribeVpcAttribute and ModifyVpcAttribute (the DNS attributes and Network Address Usage
metrics).

A VPC is created with DNS support on and DNS host names off; the default VPC has both on (Amazon VPC User Guide,
"DNS attributes for your VPC"). Network Address Usage metrics are off until enabled.
"""

from __future__ import annotations

from typing import Any

from ...core.context import RequestContext
from . import errors, store
from .vpcs import VpcOperations

# Request/response member -> (the Attribute value that names it, the column holding it).
_ATTRIBUTES = {
    "EnableDnsSupport": ("enableDnsSupport", "enable_dns_support"),
    "EnableDnsHostnames": ("enableDnsHostnames", "enable_dns_hostnames"),
    "EnableNetworkAddressUsageMetrics": ("enableNetworkAddressUsageMetrics", "enable_network_address_usage_metrics"),
}
_BY_NAME = {name: (member, column) for member, (name, column) in _ATTRIBUTES.items()}


class VpcAttributeOperations(VpcOperations):
    """Mixed into :class:`~turnout.services.ec2.provider.Ec2Provider`."""

    def describe_vpc_attribute(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        name = req["Attribute"]
        found = _BY_NAME.get(name)
        if found is None:
            # AWS's wording for an unknown attribute is not published; this follows its InvalidParameterValue form.
            raise errors.invalid_value(f"Value ({name}) for parameter attribute is invalid. Unknown attribute.")
        vpc = self._vpc_of(ctx, req["VpcId"])
        self._dry_run(req)
        member, column = found
        return {"VpcId": vpc.vpc_id, member: {"Value": bool(getattr(vpc, column))}}

    def modify_vpc_attribute(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        self._ensure(ctx)
        vpc = self._vpc_of(ctx, req["VpcId"])
        given = [(member, req[member]) for member in _ATTRIBUTES if req.get(member) is not None]
        if not given:
            raise errors.missing("The request must contain the parameter EnableDnsSupport, EnableDnsHostnames or "
                                 "EnableNetworkAddressUsageMetrics")
        if len(given) > 1:
            # ModifyVpcAttribute's reference: "You can only modify one attribute at a time." (our error wording)
            raise errors.invalid_combination("Only one attribute can be modified at a time")
        member, value = given[0]
        flag = value.get("Value") if isinstance(value, dict) else None
        if not isinstance(flag, bool):
            raise errors.missing(f"The request must contain the parameter {member}.Value")
        self._dry_run(req)
        store.set_vpc_attribute(self.db, ctx.account_id, ctx.region, vpc.vpc_id, _ATTRIBUTES[member][1], flag)
        return {}
