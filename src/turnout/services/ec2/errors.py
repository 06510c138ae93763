"""EC2's errors, with AWS's codes and wording (all HTTP 400 unless said otherwise)."""

from __future__ import annotations

import re

from ...wire.errors import ServiceError

_ID_PATTERNS = {
    kind: re.compile(rf"{kind}-(?:[0-9a-f]{{8}}|[0-9a-f]{{17}})")
    for kind in ("vpc", "subnet", "sg", "sgr", "rtb", "eni")
}
# AWS-managed prefix lists have 8 hex digits (pl-63a5400a); customer-managed ones 17.
_ID_PATTERNS["pl"] = re.compile(r"pl-(?:[0-9a-f]{8}|[0-9a-f]{17})")


def invalid_value(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message)


def missing(message: str) -> ServiceError:
    return ServiceError("MissingParameter", message)


def dry_run() -> ServiceError:
    return ServiceError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)


def unsupported(operation: str, parameter: str) -> ServiceError:
    """A parameter of a served operation that asks for something Turnout's EC2 does not model (IPv6, IPAM...)."""
    return ServiceError(
        "NotImplemented", f"The parameter {parameter} of {operation} is not implemented by Turnout.", 501,
        sender_fault=False,
    )


def well_formed(kind: str, resource_id: str) -> bool:
    """Whether ``resource_id`` has the form of an id of ``kind`` (``vpc``, ``subnet``, ``sg``, ``sgr``)."""
    return _ID_PATTERNS[kind].fullmatch(resource_id) is not None


def malformed(kind: str, resource_id: str) -> ServiceError:
    if kind == "vpc":
        return ServiceError("InvalidVpcID.Malformed", f'Invalid id: "{resource_id}"')
    if kind == "subnet":
        return ServiceError("InvalidSubnetID.Malformed", f'Invalid id: "{resource_id}"')
    if kind == "sg":
        return ServiceError("InvalidGroupId.Malformed", f'Invalid id: "{resource_id}" (expecting "sg-...")')
    if kind == "rtb":
        return ServiceError("InvalidRouteTableID.Malformed", f'Invalid id: "{resource_id}"')
    if kind == "eni":
        return ServiceError("InvalidNetworkInterfaceID.Malformed",
                            f'Invalid id: "{resource_id}" (expecting "eni-...")')
    if kind == "pl":
        return ServiceError("InvalidPrefixListId.Malformed", f'Invalid id: "{resource_id}"')
    return ServiceError("InvalidSecurityGroupRuleId.Malformed", f'Invalid id: "{resource_id}"')


def check_ids(kind: str, ids: list[str]) -> None:
    for resource_id in ids:
        if not well_formed(kind, resource_id):
            raise malformed(kind, resource_id)


def vpc_not_found(*vpc_ids: str) -> ServiceError:
    if len(vpc_ids) == 1:
        return ServiceError("InvalidVpcID.NotFound", f"The vpc ID '{vpc_ids[0]}' does not exist")
    return ServiceError("InvalidVpcID.NotFound", f"The vpc IDs '{', '.join(vpc_ids)}' do not exist")


def subnet_not_found(*subnet_ids: str) -> ServiceError:
    if len(subnet_ids) == 1:
        return ServiceError("InvalidSubnetID.NotFound", f"The subnet ID '{subnet_ids[0]}' does not exist")
    return ServiceError("InvalidSubnetID.NotFound", f"The subnet IDs '{', '.join(subnet_ids)}' do not exist")


def route_table_not_found(*table_ids: str) -> ServiceError:
    return _not_found("InvalidRouteTableID.NotFound", "routeTable", table_ids)


def interface_not_found(*eni_ids: str) -> ServiceError:
    return _not_found("InvalidNetworkInterfaceID.NotFound", "networkInterface", eni_ids)


def prefix_list_not_found(*list_ids: str) -> ServiceError:
    return _not_found("InvalidPrefixListID.NotFound", "prefixList", list_ids)


def _not_found(code: str, noun: str, resource_ids: tuple[str, ...]) -> ServiceError:
    """EC2's "The <noun> ID '<id>' does not exist" (several ids: "IDs '<a>, <b>' do not exist")."""
    if len(resource_ids) == 1:
        return ServiceError(code, f"The {noun} ID '{resource_ids[0]}' does not exist")
    return ServiceError(code, f"The {noun} IDs '{', '.join(resource_ids)}' do not exist")


def group_not_found(group: str) -> ServiceError:
    return ServiceError("InvalidGroup.NotFound", f"The security group '{group}' does not exist")


def group_name_not_found(name: str, vpc_id: str) -> ServiceError:
    return ServiceError("InvalidGroup.NotFound",
                        f"The security group '{name}' does not exist in default VPC '{vpc_id}'")


def rule_not_found(rule_id: str) -> ServiceError:
    return ServiceError("InvalidSecurityGroupRuleId.NotFound", f"The security group rule ID '{rule_id}' does not exist")


def no_default_vpc() -> ServiceError:
    return ServiceError("VPCIdNotSpecified", "No default VPC for this user")


def dependency(message: str) -> ServiceError:
    return ServiceError("DependencyViolation", message)


def cidr_value(cidr: str, parameter: str = "cidrBlock") -> ServiceError:
    return invalid_value(f"Value ({cidr}) for parameter {parameter} is invalid. This is not a valid CIDR block.")


def invalid_combination(message: str) -> ServiceError:
    return ServiceError("InvalidParameterCombination", message)
