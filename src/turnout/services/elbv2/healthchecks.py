"""A target group's health check settings: AWS's documented defaults per protocol and target type, and the
validation CreateTargetGroup and ModifyTargetGroup apply.

Defaults, from the CreateTargetGroup reference: protocol HTTP for Application Load Balancer protocols (HTTPS for an
HTTPS group), TCP for Network Load Balancer protocols; port ``traffic-port``; interval 30 seconds (35 for lambda);
timeout 6 seconds for HTTP, 10 for HTTPS, TCP and TLS, 30 for lambda; healthy threshold 5; unhealthy threshold 2
(5 for lambda); path ``/`` (``/AWS.ALB/healthcheck`` for gRPC); matcher ``200`` (``200-399`` for an HTTP health
check of a Network Load Balancer group, gRPC code ``12``). Health checks of a lambda group are disabled by default;
those of instance, ip and alb groups cannot be disabled.
"""

from __future__ import annotations

import re
from typing import Any

from .attributes import ALB_PROTOCOLS
from .errors import invalid_config, validation
from .target_health import HealthCheck

FIELDS = ("HealthCheckProtocol", "HealthCheckPort", "HealthCheckEnabled", "HealthCheckIntervalSeconds",
          "HealthCheckTimeoutSeconds", "HealthyThresholdCount", "UnhealthyThresholdCount", "HealthCheckPath",
          "Matcher")
HTTP_CHECKS = ("HTTP", "HTTPS")
_CODES = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


def defaults(target_type: str, protocol: str | None, version: str | None) -> dict[str, Any]:
    if target_type == "lambda":
        return {"HealthCheckEnabled": False, "HealthCheckIntervalSeconds": 35, "HealthCheckTimeoutSeconds": 30,
                "HealthyThresholdCount": 5, "UnhealthyThresholdCount": 5, "HealthCheckPath": "/",
                "Matcher": {"HttpCode": "200"}}
    if protocol in ALB_PROTOCOLS:
        check_protocol = protocol
    elif target_type == "alb":
        check_protocol = "HTTP"
    else:
        check_protocol = "TCP"
    out: dict[str, Any] = {
        "HealthCheckProtocol": check_protocol,
        "HealthCheckPort": "traffic-port",
        "HealthCheckEnabled": True,
        "HealthCheckIntervalSeconds": 30,
        "HealthCheckTimeoutSeconds": 6 if protocol == "HTTP" else 10,
        "HealthyThresholdCount": 5,
        "UnhealthyThresholdCount": 2,
    }
    out.update(http_parts(protocol, version, check_protocol))
    return out


def http_parts(protocol: str | None, version: str | None, check_protocol: str) -> dict[str, Any]:
    """Path and matcher an HTTP(S) health check has by default (nothing for TCP)."""
    if check_protocol not in HTTP_CHECKS:
        return {}
    if version == "GRPC":
        return {"HealthCheckPath": "/AWS.ALB/healthcheck", "Matcher": {"GrpcCode": "12"}}
    return {"HealthCheckPath": "/", "Matcher": {"HttpCode": "200" if protocol in ALB_PROTOCOLS else "200-399"}}


def given(req: dict[str, Any]) -> dict[str, Any]:
    return {name: req[name] for name in FIELDS if req.get(name) is not None}


def _check_codes(codes: str, low: int, high: int, what: str) -> None:
    ok = bool(_CODES.match(codes))
    if ok:
        for part in codes.split(","):
            bounds = [int(n) for n in part.split("-")]
            ok = ok and all(low <= n <= high for n in bounds) and bounds == sorted(bounds)
    if not ok:
        # Our wording, after the reference's ranges.
        raise validation(f"{what} '{codes}' is not valid: specify values or ranges from {low} to {high}, such as "
                         f"'{low}' or '{low},{low + 1}' or '{low}-{low + 99 if low < 100 else high}'")


def merge(target_type: str, protocol: str | None, version: str | None, current: dict[str, Any],
          changes: dict[str, Any]) -> dict[str, Any]:
    """The settings after ``changes`` (members of the request), validated as a whole."""
    out = dict(current)
    if target_type == "lambda":
        out.update(changes)
    else:
        new_protocol = changes.get("HealthCheckProtocol", out.get("HealthCheckProtocol"))
        if new_protocol != out.get("HealthCheckProtocol"):
            # A new check protocol brings its own path and matcher unless they are given too.
            out.pop("HealthCheckPath", None)
            out.pop("Matcher", None)
            out.update(http_parts(protocol, version, str(new_protocol)))
        for name in ("HealthCheckPath", "Matcher"):
            if name in changes and new_protocol not in HTTP_CHECKS:
                what = "path" if name == "HealthCheckPath" else "matcher"
                raise invalid_config(f"Health check {what} cannot be specified for the {new_protocol} health check "
                                     "protocol")  # our wording
        out.update(changes)
    _validate(target_type, protocol, version, out)
    return out


def _validate(target_type: str, protocol: str | None, version: str | None, check: dict[str, Any]) -> None:
    if target_type != "lambda" and check.get("HealthCheckEnabled") is False:
        raise invalid_config(f"Health check enabled must be true for target groups with target type '{target_type}'")
    check_protocol = check.get("HealthCheckProtocol")
    if check_protocol is not None:
        allowed = HTTP_CHECKS if protocol in ALB_PROTOCOLS or target_type == "alb" else (*HTTP_CHECKS, "TCP")
        if check_protocol not in allowed:
            raise invalid_config(f"Health check protocol '{check_protocol}' is not supported for target groups with "
                                 f"the '{protocol}' protocol")  # our wording, after the reference
    port = str(check.get("HealthCheckPort", "traffic-port"))
    if port != "traffic-port" and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise validation(f"Health check port '{port}' is not valid: specify 'traffic-port' or a port from 1 to "
                         "65535")  # our wording
    path = check.get("HealthCheckPath")
    if path is not None and not str(path).startswith("/"):
        raise validation(f"Health check path '{path}' must begin with a '/' character")  # our wording
    matcher = check.get("Matcher") or {}
    if matcher.get("HttpCode") is not None and matcher.get("GrpcCode") is not None:
        raise validation("Only one of HttpCode or GrpcCode can be specified in a matcher")  # our wording
    if matcher.get("GrpcCode") is not None:
        if version != "GRPC":
            raise invalid_config("A gRPC code matcher requires the GRPC protocol version")  # our wording
        _check_codes(str(matcher["GrpcCode"]), 0, 99, "gRPC code")
    if matcher.get("HttpCode") is not None:
        if version == "GRPC":
            raise invalid_config("An HTTP code matcher cannot be used with the GRPC protocol version")  # our wording
        high = 499 if protocol in ALB_PROTOCOLS or target_type == "lambda" else 599
        _check_codes(str(matcher["HttpCode"]), 200, high, "HTTP code")
    interval = int(check["HealthCheckIntervalSeconds"])
    timeout = int(check["HealthCheckTimeoutSeconds"])
    if timeout >= interval:
        raise invalid_config(f"Health check timeout '{timeout}' must be smaller than the interval '{interval}'")


def settings(check: dict[str, Any]) -> HealthCheck:
    """What the health state machine reads."""
    return HealthCheck(
        enabled=bool(check.get("HealthCheckEnabled", True)),
        interval=int(check["HealthCheckIntervalSeconds"]),
        healthy_threshold=int(check["HealthyThresholdCount"]),
        unhealthy_threshold=int(check["UnhealthyThresholdCount"]),
    )
