"""Load balancer and target group attributes: AWS's default sets per type, validation of keys and values, and
the Describe/Modify operations.

The sets and defaults are those the ELB API reference documents for ``LoadBalancerAttribute.Key`` and
``TargetGroupAttribute.Key`` (botocore's model carries the same text). Attributes are stored as a JSON object
of the values that differ from nothing: every stored set is complete, defaults included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ...core.context import RequestContext
from ...store.db import Database
from .errors import invalid_config, validation
from .store import (
    LoadBalancer,
    TargetGroup,
    get_load_balancer,
    get_target_group,
    update_load_balancer,
    update_target_group,
)

Check = Callable[[str], str | None]  # None when valid, else what a valid value looks like


def boolean(value: str) -> str | None:
    return None if value in ("true", "false") else "true or false"


def integer(low: int, high: int) -> Check:
    def check(value: str) -> str | None:
        ok = value.isdigit() and low <= int(value) <= high
        return None if ok else f"an integer from {low} to {high}"

    return check


def choice(*allowed: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in allowed else "one of " + ", ".join(allowed)

    return check


def text(value: str) -> str | None:
    return None


def off_or(low: int, high: int) -> Check:
    within = integer(low, high)

    def check(value: str) -> str | None:
        return None if value == "off" or within(value) is None else f"off or an integer from {low} to {high}"

    return check


def slow_start(value: str) -> str | None:
    ok = value.isdigit() and (int(value) == 0 or 30 <= int(value) <= 900)
    return None if ok else "0 (disabled) or an integer from 30 to 900"


@dataclass(frozen=True, slots=True)
class Spec:
    default: str
    check: Check


def _logs(prefix: str) -> dict[str, Spec]:
    return {f"{prefix}.s3.enabled": Spec("false", boolean), f"{prefix}.s3.bucket": Spec("", text),
            f"{prefix}.s3.prefix": Spec("", text)}


def load_balancer_specs(lb_type: str, scheme: str) -> dict[str, Spec]:
    deny_igw = Spec("true" if scheme == "internal" else "false", boolean)
    if lb_type == "network":
        return {
            **_logs("access_logs"),
            "deletion_protection.enabled": Spec("false", boolean),
            "dns_record.client_routing_policy": Spec("any_availability_zone", choice(
                "availability_zone_affinity", "partial_availability_zone_affinity", "any_availability_zone")),
            "ipv6.deny_all_igw_traffic": deny_igw,
            "load_balancing.cross_zone.enabled": Spec("false", boolean),
            "secondary_ips.auto_assigned.per_subnet": Spec("0", integer(0, 7)),
            "zonal_shift.config.enabled": Spec("false", boolean),
        }
    return {
        **_logs("access_logs"),
        "client_keep_alive.seconds": Spec("3600", integer(60, 604800)),
        **_logs("connection_logs"),
        "deletion_protection.enabled": Spec("false", boolean),
        **_logs("health_check_logs"),
        "idle_timeout.timeout_seconds": Spec("60", integer(1, 4000)),
        "ipv6.deny_all_igw_traffic": deny_igw,
        "load_balancing.cross_zone.enabled": Spec("true", boolean),
        "routing.http.desync_mitigation_mode": Spec("defensive", choice("monitor", "defensive", "strictest")),
        "routing.http.drop_invalid_header_fields.enabled": Spec("false", boolean),
        "routing.http.preserve_host_header.enabled": Spec("false", boolean),
        "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": Spec("false", boolean),
        "routing.http.x_amzn_tls_kx.enabled": Spec("false", boolean),
        "routing.http.xff_client_port.enabled": Spec("false", boolean),
        "routing.http.xff_header_processing.mode": Spec("append", choice("append", "preserve", "remove")),
        "routing.http2.enabled": Spec("true", boolean),
        "waf.fail_open.enabled": Spec("false", boolean),
        "zonal_shift.config.enabled": Spec("false", boolean),
    }


ALB_PROTOCOLS = frozenset({"HTTP", "HTTPS"})
UDP_PROTOCOLS = frozenset({"UDP", "TCP_UDP"})
_HEALTH_ROUTING = {
    "target_group_health.dns_failover.minimum_healthy_targets.count": Spec("1", off_or(1, 5000)),
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": Spec("off", off_or(1, 100)),
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": Spec("1", integer(1, 5000)),
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": Spec("off", off_or(1, 100)),
}
_STICKY_TYPES = ("lb_cookie", "app_cookie", "source_ip", "source_ip_dest_ip", "source_ip_dest_ip_proto")


def target_group_specs(target_type: str, protocol: str | None, version: str | None) -> dict[str, Spec]:
    if target_type == "lambda":
        return {"lambda.multi_value_headers.enabled": Spec("false", boolean)}
    common = {
        "deregistration_delay.timeout_seconds": Spec("300", integer(0, 3600)),
        "stickiness.enabled": Spec("false", boolean),
    }
    cross_zone = {"load_balancing.cross_zone.enabled": Spec(
        "use_load_balancer_configuration", choice("true", "false", "use_load_balancer_configuration"))}
    if protocol in ALB_PROTOCOLS:
        specs = {
            **common,
            "stickiness.type": Spec("lb_cookie", choice(*_STICKY_TYPES)),
            "stickiness.lb_cookie.duration_seconds": Spec("86400", integer(1, 604800)),
            "stickiness.app_cookie.cookie_name": Spec("", text),
            "stickiness.app_cookie.duration_seconds": Spec("86400", integer(1, 604800)),
            "load_balancing.algorithm.type": Spec("round_robin", choice(
                "round_robin", "least_outstanding_requests", "weighted_random")),
            "load_balancing.algorithm.anomaly_mitigation": Spec("off", choice("on", "off")),
            "slow_start.duration_seconds": Spec("0", slow_start),
            **cross_zone,
            **_HEALTH_ROUTING,
        }
        if version in ("HTTP2", "GRPC"):
            specs["waf.http2.traffic_inspection_behavior"] = Spec("inspect_immediately", choice(
                "inspect_immediately", "inspect_after_sufficient_data"))
            specs["routing.http2.rst_stream_error_forwarding.enabled"] = Spec("false", boolean)
        return specs
    udp = protocol in UDP_PROTOCOLS
    preserve = "false" if target_type == "ip" and protocol in ("TCP", "TLS") else "true"
    return {
        **common,
        "deregistration_delay.connection_termination.enabled": Spec("true" if udp else "false", boolean),
        "stickiness.type": Spec("source_ip", choice(*_STICKY_TYPES)),
        "proxy_protocol_v2.enabled": Spec("false", boolean),
        "preserve_client_ip.enabled": Spec(preserve, boolean),
        **cross_zone,
        **_HEALTH_ROUTING,
        "target_health_state.unhealthy.connection_termination.enabled": Spec("false" if udp else "true", boolean),
        "target_health_state.unhealthy.draining_interval_seconds": Spec("0", integer(0, 360000)),
    }


def defaults(specs: dict[str, Spec]) -> dict[str, str]:
    return {key: spec.default for key, spec in specs.items()}


def _merge(noun: str, specs: dict[str, Spec], current: dict[str, str], changes: list[dict[str, Any]]
           ) -> dict[str, str]:
    merged = {key: current.get(key, spec.default) for key, spec in specs.items()}
    for item in changes:
        key, value = item.get("Key"), item.get("Value")
        if not isinstance(key, str) or key not in specs:
            raise validation(f"{noun} attribute key '{key}' is not recognized")
        value = value if isinstance(value, str) else ""
        expected = specs[key].check(value)
        if expected is not None:
            # Our wording: AWS's messages for out-of-range values vary by attribute.
            raise validation(f"{noun} attribute '{key}' value '{value}' is not valid: it must be {expected}")
        merged[key] = value
    return merged


def listed(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in values.items()]


# -- cross-attribute rules -----------------------------------------------------------------------------------


def _check_load_balancer(lb_type: str, before: dict[str, str], after: dict[str, str]) -> None:
    for logs in ("access_logs", "connection_logs", "health_check_logs"):
        if after.get(f"{logs}.s3.enabled") == "true" and not after.get(f"{logs}.s3.bucket"):
            # Our wording: without S3, Turnout cannot check the bucket; it must at least be named.
            raise invalid_config(f"The value of '{logs}.s3.bucket' cannot be empty when '{logs}.s3.enabled' is true")
    if lb_type == "application" and after.get("load_balancing.cross_zone.enabled") != "true":
        # The model: "The default for Application Load Balancers is true, and can't be changed."
        raise invalid_config("Cross-zone load balancing cannot be disabled for Application Load Balancers")
    key = "secondary_ips.auto_assigned.per_subnet"
    if key in after and int(after[key]) < int(before.get(key, "0")):
        raise invalid_config(f"The value of '{key}' cannot be decreased")


def _check_target_group(tg: TargetGroup, after: dict[str, str]) -> None:
    protocol = tg.protocol
    if tg.target_type == "alb":
        return
    sticky = after.get("stickiness.type")
    allowed = ("lb_cookie", "app_cookie") if protocol in ALB_PROTOCOLS else ("source_ip",)
    if sticky is not None and sticky not in allowed:
        raise invalid_config(f"Stickiness type '{sticky}' is not supported for target groups with the "
                             f"{protocol} protocol")
    cookie = after.get("stickiness.app_cookie.cookie_name", "")
    if after.get("stickiness.enabled") == "true" and sticky == "app_cookie" and not cookie:
        raise invalid_config("You must set an application cookie name to enable stickiness of type 'app_cookie'")
    if cookie.upper().startswith("AWSALB"):
        # The reference: names starting with AWSALB, AWSALBAPP and AWSALBTG are reserved. Our wording.
        raise validation(f"Application cookie name '{cookie}' is reserved for use by the load balancer")
    if after.get("load_balancing.algorithm.anomaly_mitigation") == "on" and \
            after.get("load_balancing.algorithm.type") != "weighted_random":
        raise invalid_config("Anomaly mitigation is only available with the weighted_random load balancing algorithm")
    if protocol in UDP_PROTOCOLS:
        if after.get("preserve_client_ip.enabled") == "false":
            raise invalid_config(f"Client IP preservation cannot be disabled for {protocol} target groups")
        if after.get("target_health_state.unhealthy.connection_termination.enabled") == "true":
            raise invalid_config(f"Unhealthy connection termination cannot be enabled for {protocol} target groups")
    if after.get("target_health_state.unhealthy.draining_interval_seconds", "0") != "0" and \
            after.get("target_health_state.unhealthy.connection_termination.enabled") == "true":
        raise invalid_config("target_health_state.unhealthy.draining_interval_seconds can only be configured when "
                             "target_health_state.unhealthy.connection_termination.enabled is false")


# -- stored sets ---------------------------------------------------------------------------------------------


def lb_attributes(lb: LoadBalancer) -> dict[str, str]:
    specs = load_balancer_specs(lb.type, lb.scheme)
    return {key: lb.attributes.get(key, spec.default) for key, spec in specs.items()}


def tg_attributes(tg: TargetGroup) -> dict[str, str]:
    specs = target_group_specs(tg.target_type, tg.protocol, tg.protocol_version)
    return {key: tg.attributes.get(key, spec.default) for key, spec in specs.items()}


def deregistration_delay(tg: TargetGroup) -> int:
    return int(tg_attributes(tg).get("deregistration_delay.timeout_seconds", "0"))


def _check_lb_keys(lb_type: str, specs: dict[str, Spec], changes: list[dict[str, Any]]) -> None:
    """A key of another load balancer type is InvalidConfigurationRequest; a key of no type is left to ``_merge``
    (ValidationError "... is not recognized"). Both wordings are AWS's, as the Terraform provider quotes them
    (``modifyLoadBalancerAttributes`` in ``internal/service/elbv2/load_balancer.go``; the CLI transcript of
    hashicorp/terraform-provider-aws#3611 for ``idle_timeout.timeout_seconds`` on a network load balancer)."""
    known = {*load_balancer_specs("application", "internal"), *load_balancer_specs("network", "internal")}
    for item in changes:
        key = item.get("Key")
        if isinstance(key, str) and key in known and key not in specs:
            raise invalid_config(f"Load balancer attribute key '{key}' is not supported on load balancers with type "
                                 f"'{lb_type}'")


def modify_lb_attributes(db: Database, lb: LoadBalancer, changes: list[dict[str, Any]]) -> dict[str, str]:
    _check_lb_keys(lb.type, load_balancer_specs(lb.type, lb.scheme), changes)
    before = lb_attributes(lb)
    after = _merge("Load balancer", load_balancer_specs(lb.type, lb.scheme), before, changes)
    _check_load_balancer(lb.type, before, after)
    update_load_balancer(db, replace(lb, attributes=after))
    return after


class AttributeOperations:
    """Mixed into :class:`Elbv2Provider`."""

    db: Database

    def describe_load_balancer_attributes(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        lb = get_load_balancer(self.db, ctx.account_id, ctx.region, req["LoadBalancerArn"])
        return {"Attributes": listed(lb_attributes(lb))}

    def modify_load_balancer_attributes(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        lb = get_load_balancer(self.db, ctx.account_id, ctx.region, req["LoadBalancerArn"])
        return {"Attributes": listed(modify_lb_attributes(self.db, lb, req["Attributes"]))}

    def describe_target_group_attributes(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        tg = get_target_group(self.db, ctx.account_id, ctx.region, req["TargetGroupArn"])
        return {"Attributes": listed(tg_attributes(tg))}

    def modify_target_group_attributes(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        tg = get_target_group(self.db, ctx.account_id, ctx.region, req["TargetGroupArn"])
        specs = target_group_specs(tg.target_type, tg.protocol, tg.protocol_version)
        after = _merge("Target group", specs, tg_attributes(tg), req["Attributes"])
        if tg.target_type == "alb" and after != tg_attributes(tg):
            # The NLB guide: for an alb target group these attributes "always use their default values".
            raise invalid_config("Target group attributes cannot be modified for target groups with target type "
                                 "'alb'")
        _check_target_group(tg, after)
        update_target_group(self.db, replace(tg, attributes=after))
        return {"Attributes": listed(after)}
