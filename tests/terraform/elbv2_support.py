"""The Terraform AWS provider's (v6.x) calls for ``aws_lb``, ``aws_lb_target_group``, ``aws_lb_listener`` and
``aws_lb_listener_rule``, replayed through boto3, and its reads turned into the Terraform attributes it stores.

Each replay class mirrors one resource of ``internal/service/elbv2`` (``load_balancer.go``, ``target_group.go``,
``listener.go``, ``listener_rule.go``): ``create`` (the provider's existence check, the create call, its waiter or
read-after-create retry and the attributes it sends by default), ``read`` (the refresh: every call the Read
function makes, flattened as the provider flattens it), ``update`` (the calls an attribute change makes) and
``delete`` (the delete call and the wait or not-found code it relies on). A configuration is a dict of Terraform
attribute names; :func:`plan_diff` is the plan after a refresh: the configured attributes whose refreshed value
differs (a perpetual diff if not empty).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def code_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The AWS error code ``call`` fails with (the provider's ``errs.IsA`` / ``tfawserr.ErrCodeEquals`` tests)."""
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return str(info.value.response["Error"]["Code"])


def plan_diff(config: dict[str, Any], state: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The configured attributes whose refreshed state differs: ``{name: (configured, refreshed)}``."""
    return {k: (v, state.get(k)) for k, v in config.items() if state.get(k) != v}


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def tags_in(config: dict[str, Any]) -> dict[str, Any]:
    """getTagsIn: the ``Tags`` member of a create, left out when the resource has no tags."""
    tags = config.get("tags") or {}
    return {"Tags": tag_list(tags)} if tags else {}


class Tagged:
    """The provider's transparent tagging of ELB resources: DescribeTags on read, RemoveTags/AddTags on update."""

    def __init__(self, elb: Any) -> None:
        self.elb = elb

    def tags(self, arn: str) -> dict[str, str]:
        described = self.elb.describe_tags(ResourceArns=[arn])["TagDescriptions"]
        return {t["Key"]: t["Value"] for d in described if d["ResourceArn"] == arn for t in d["Tags"]}

    def update_tags(self, arn: str, old: dict[str, str], new: dict[str, str]) -> None:
        removed = [k for k in old if k not in new]
        if removed:
            self.elb.remove_tags(ResourceArns=[arn], TagKeys=removed)
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if changed:
            self.elb.add_tags(ResourceArns=[arn], Tags=tag_list(changed))


# -- aws_lb --------------------------------------------------------------------------------------------------

# The attributes the provider sends for an application load balancer (loadBalancerAttributes, load_balancer.go):
# Terraform name -> (attribute key, Terraform type, schema default).
LB_ATTRIBUTES: dict[str, tuple[str, type, Any]] = {
    "client_keep_alive": ("client_keep_alive.seconds", int, 3600),
    "desync_mitigation_mode": ("routing.http.desync_mitigation_mode", str, "defensive"),
    "drop_invalid_header_fields": ("routing.http.drop_invalid_header_fields.enabled", bool, False),
    "enable_deletion_protection": ("deletion_protection.enabled", bool, False),
    "enable_http2": ("routing.http2.enabled", bool, True),
    "enable_tls_version_and_cipher_suite_headers": (
        "routing.http.x_amzn_tls_version_and_cipher_suite.enabled", bool, False),
    "enable_waf_fail_open": ("waf.fail_open.enabled", bool, False),
    "enable_xff_client_port": ("routing.http.xff_client_port.enabled", bool, False),
    "enable_zonal_shift": ("zonal_shift.config.enabled", bool, False),
    "idle_timeout": ("idle_timeout.timeout_seconds", int, 60),
    "preserve_host_header": ("routing.http.preserve_host_header.enabled", bool, False),
    "xff_header_processing_mode": ("routing.http.xff_header_processing.mode", str, "append"),
}
LB_DEFAULTS: dict[str, Any] = {"load_balancer_type": "application", "internal": False,
                               **{name: spec[2] for name, spec in LB_ATTRIBUTES.items()}}


def to_api(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def from_api(kind: type, value: str) -> Any:
    return value == "true" if kind is bool else kind(value)


class LoadBalancerReplay(Tagged):
    def __init__(self, elb: Any, ec2: Any) -> None:
        super().__init__(elb)
        self.ec2 = ec2

    def create(self, config: dict[str, Any]) -> str:
        # findLoadBalancer by name first: tfresource.NotFound (LoadBalancerNotFound) means the name is free.
        assert code_of(self.elb.describe_load_balancers, Names=[config["name"]]) == "LoadBalancerNotFound"
        request: dict[str, Any] = {"Name": config["name"], **tags_in(config),
                                   "Type": config["load_balancer_type"],
                                   "SecurityGroups": sorted(config["security_groups"]),
                                   "Subnets": sorted(config["subnets"])}
        if config["internal"]:
            request["Scheme"] = "internal"
        created = self.elb.create_load_balancer(**request)["LoadBalancers"][0]
        arn = str(created["LoadBalancerArn"])
        self.wait_active(arn)
        # access_logs / connection_logs blocks absent: "enabled = false" is sent for both; then every attribute of
        # the type, with its configured value or the schema default.
        attributes = [{"Key": "access_logs.s3.enabled", "Value": "false"},
                      {"Key": "connection_logs.s3.enabled", "Value": "false"}]
        attributes += [{"Key": key, "Value": to_api(config[name])} for name, (key, _, _) in LB_ATTRIBUTES.items()]
        self.elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=attributes)
        self.wait_active(arn)
        return arn

    def wait_active(self, arn: str) -> None:
        """waitLoadBalancerActive: DescribeLoadBalancers until ``active`` (Turnout is active from the first read;
        the provider's 30 s delay and 10 s polling are not replayed)."""
        described = self.elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
        assert [lb["State"]["Code"] for lb in described] == ["active"]

    def read(self, arn: str) -> dict[str, Any]:
        lb = self.elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
        assert lb["LoadBalancerArn"] == arn  # the provider's eventual-consistency check
        attributes = {a["Key"]: a["Value"] for a in
                      self.elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]}
        capacity = self.elb.describe_capacity_reservation(LoadBalancerArn=arn)
        state: dict[str, Any] = {
            "arn": lb["LoadBalancerArn"], "dns_name": lb["DNSName"], "zone_id": lb["CanonicalHostedZoneId"],
            "internal": lb["Scheme"] == "internal", "ip_address_type": lb["IpAddressType"],
            "load_balancer_type": lb["Type"], "name": lb["LoadBalancerName"],
            "security_groups": set(lb.get("SecurityGroups", [])),
            "subnets": {z["SubnetId"] for z in lb["AvailabilityZones"]}, "vpc_id": lb["VpcId"],
            "access_logs": [{"enabled": attributes["access_logs.s3.enabled"] == "true",
                             "bucket": attributes["access_logs.s3.bucket"],
                             "prefix": attributes["access_logs.s3.prefix"]}],
            "connection_logs": [{"enabled": attributes["connection_logs.s3.enabled"] == "true",
                                 "bucket": attributes["connection_logs.s3.bucket"],
                                 "prefix": attributes["connection_logs.s3.prefix"]}],
            "minimum_load_balancer_capacity": [capacity["MinimumLoadBalancerCapacity"]]
            if "MinimumLoadBalancerCapacity" in capacity else [],
            "tags": self.tags(arn),
        }
        for name, (key, kind, _) in LB_ATTRIBUTES.items():
            if key in attributes:
                state[name] = from_api(kind, attributes[key])
        return state

    def update(self, arn: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        changed = [{"Key": key, "Value": to_api(new[name])} for name, (key, _, _) in LB_ATTRIBUTES.items()
                   if old[name] != new[name]]
        if changed:
            self.elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=changed)
        if old["security_groups"] != new["security_groups"]:
            self.elb.set_security_groups(LoadBalancerArn=arn, SecurityGroups=sorted(new["security_groups"]))
        if old["subnets"] != new["subnets"]:
            self.elb.set_subnets(LoadBalancerArn=arn, Subnets=sorted(new["subnets"]))
        self.update_tags(arn, old.get("tags", {}), new.get("tags", {}))
        self.wait_active(arn)

    def delete(self, arn: str) -> None:
        self.elb.delete_load_balancer(LoadBalancerArn=arn)
        self.wait_network_interfaces_detached(arn)

    def wait_network_interfaces_detached(self, arn: str) -> None:
        """waitForALBNetworkInterfacesToDetach: DescribeNetworkInterfaces (attachment owner ``amazon-elb``,
        description ``ELB app/<name>/<id>``) until none is left.

        The provider only logs a warning when this wait fails. EC2 network interfaces are being added by another
        branch in parallel: until DescribeNetworkInterfaces exists here it answers NotImplemented, which this
        replay tolerates like the provider does; once it answers, the load balancer's interfaces must be gone.
        """
        name = arn.split(":loadbalancer/", 1)[1]
        try:
            found = self.ec2.describe_network_interfaces(Filters=[
                {"Name": "attachment.instance-owner-id", "Values": ["amazon-elb"]},
                {"Name": "description", "Values": [f"ELB {name}"]},
            ])["NetworkInterfaces"]
        except ClientError as error:
            assert error.response["Error"]["Code"] == "NotImplemented"
            return
        assert found == []

    def gone(self, arn: str) -> bool:
        """The refresh after destroy: tfresource.NotFound (LoadBalancerNotFound) drops the resource."""
        return code_of(self.elb.describe_load_balancers, LoadBalancerArns=[arn]) == "LoadBalancerNotFound"


# -- aws_lb_target_group ---------------------------------------------------------------------------------------

HEALTH_CHECK_DEFAULTS: dict[str, Any] = {"enabled": True, "healthy_threshold": 3, "interval": 30,
                                         "port": "traffic-port", "protocol": "HTTP", "unhealthy_threshold": 3}
TG_DEFAULTS: dict[str, Any] = {"target_type": "instance", "deregistration_delay": "300", "slow_start": 0,
                               "proxy_protocol_v2": False}


def _health_check_request(check: dict[str, Any], *, create: bool) -> dict[str, Any]:
    """The health check members CreateTargetGroup / ModifyTargetGroup get from the ``health_check`` block."""
    out: dict[str, Any] = {"HealthCheckEnabled": check["enabled"], "HealthCheckIntervalSeconds": check["interval"],
                           "HealthyThresholdCount": check["healthy_threshold"],
                           "UnhealthyThresholdCount": check["unhealthy_threshold"]}
    if check.get("timeout"):
        out["HealthCheckTimeoutSeconds"] = check["timeout"]
    if check["protocol"] != "TCP":
        if check.get("path") or not create:
            out["HealthCheckPath"] = check.get("path", "")
        if check.get("matcher"):
            out["Matcher"] = {"HttpCode": check["matcher"]}
    out["HealthCheckPort"] = check["port"]
    out["HealthCheckProtocol"] = check["protocol"]
    return out


class TargetGroupReplay(Tagged):
    def create(self, config: dict[str, Any]) -> str:
        assert code_of(self.elb.describe_target_groups, Names=[config["name"]]) == "TargetGroupNotFound"
        request: dict[str, Any] = {
            "Name": config["name"], **tags_in(config), "TargetType": config["target_type"],
            "Port": config["port"], "Protocol": config["protocol"],
            # protocol_version unset: d.Get is "" and the provider sends it as is for HTTP/HTTPS groups.
            "ProtocolVersion": config.get("protocol_version", ""), "VpcId": config["vpc_id"],
            **_health_check_request(config["health_check"][0], create=True),
        }
        arn = str(self.elb.create_target_group(**request)["TargetGroups"][0]["TargetGroupArn"])
        # RetryWhenNotFound(findTargetGroupByARN), then the attributes: only deregistration_delay is sent when the
        # stickiness and health blocks are absent (targetGroupAttributes.expand skips false, 0 and "").
        assert self.elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]["TargetGroupArn"] == arn
        attributes = [{"Key": "deregistration_delay.timeout_seconds", "Value": config["deregistration_delay"]}]
        if config["slow_start"]:
            attributes.append({"Key": "slow_start.duration_seconds", "Value": str(config["slow_start"])})
        self.elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=attributes)
        return arn

    def read(self, arn: str) -> dict[str, Any]:
        group = self.elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
        attributes = {a["Key"]: a["Value"] for a in
                      self.elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]}
        check: dict[str, Any] = {
            "enabled": group["HealthCheckEnabled"], "healthy_threshold": group["HealthyThresholdCount"],
            "interval": group["HealthCheckIntervalSeconds"], "port": group["HealthCheckPort"],
            "protocol": group["HealthCheckProtocol"], "timeout": group["HealthCheckTimeoutSeconds"],
            "unhealthy_threshold": group["UnhealthyThresholdCount"],
        }
        if "HealthCheckPath" in group:
            check["path"] = group["HealthCheckPath"]
        if "Matcher" in group:
            check["matcher"] = group["Matcher"].get("HttpCode") or group["Matcher"].get("GrpcCode")
        state: dict[str, Any] = {
            "arn": group["TargetGroupArn"], "name": group["TargetGroupName"], "target_type": group["TargetType"],
            "port": group.get("Port"), "protocol": group.get("Protocol"),
            "protocol_version": group.get("ProtocolVersion"), "vpc_id": group.get("VpcId"),
            "ip_address_type": group.get("IpAddressType"), "load_balancer_arns": set(group["LoadBalancerArns"]),
            "health_check": [check], "tags": self.tags(arn),
            "stickiness": [{"enabled": attributes["stickiness.enabled"] == "true",
                            "type": attributes["stickiness.type"],
                            "cookie_duration": int(attributes["stickiness.lb_cookie.duration_seconds"])}],
            "deregistration_delay": attributes["deregistration_delay.timeout_seconds"],
            "slow_start": int(attributes["slow_start.duration_seconds"]),
            "load_balancing_algorithm_type": attributes["load_balancing.algorithm.type"],
            "load_balancing_anomaly_mitigation": attributes["load_balancing.algorithm.anomaly_mitigation"],
            "load_balancing_cross_zone_enabled": attributes["load_balancing.cross_zone.enabled"],
            "proxy_protocol_v2": attributes.get("proxy_protocol_v2.enabled", "false") == "true",
        }
        return state

    def update(self, arn: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        if old["health_check"] != new["health_check"]:
            self.elb.modify_target_group(TargetGroupArn=arn,
                                         **_health_check_request(new["health_check"][0], create=False))
        changed = []
        if old["deregistration_delay"] != new["deregistration_delay"]:
            changed.append({"Key": "deregistration_delay.timeout_seconds", "Value": new["deregistration_delay"]})
        if old["slow_start"] != new["slow_start"]:
            changed.append({"Key": "slow_start.duration_seconds", "Value": str(new["slow_start"])})
        if changed:
            self.elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=changed)
        self.update_tags(arn, old.get("tags", {}), new.get("tags", {}))

    def delete(self, arn: str) -> None:
        """DeleteTargetGroup; the provider retries ResourceInUse "is currently in use by a listener or a rule"
        for two minutes (a listener being destroyed in parallel)."""
        self.elb.delete_target_group(TargetGroupArn=arn)

    def gone(self, arn: str) -> bool:
        return code_of(self.elb.describe_target_groups, TargetGroupArns=[arn]) == "TargetGroupNotFound"


# -- actions and conditions (listener.go, listener_rule.go) -----------------------------------------------------


def forward(target_group_arn: str, order: int = 1) -> list[dict[str, Any]]:
    """A ``default_action`` / ``action`` block list: forward to one target group (target_group_arn form)."""
    return [{"type": "forward", "order": order, "target_group_arn": target_group_arn}]


def expand_actions(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"Type": a["type"], "Order": a.get("order") or i + 1, "TargetGroupArn": a["target_group_arn"]}
            for i, a in enumerate(actions)]


def flatten_actions(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """flattenListenerActions for forward actions configured with target_group_arn (flattenForwardActionOneOf)."""
    out = []
    for action in sorted(actions, key=lambda a: a.get("Order", 0)):
        assert action["Type"] == "forward"
        out.append({"type": "forward", "order": action["Order"], "target_group_arn": action.get("TargetGroupArn", "")})
    return out


def expand_conditions(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for condition in conditions:
        if "path_pattern" in condition:
            out.append({"Field": "path-pattern",
                        "PathPatternConfig": {"Values": sorted(condition["path_pattern"]["values"])}})
        elif "http_header" in condition:
            header = condition["http_header"]
            out.append({"Field": "http-header", "HttpHeaderConfig": {
                "HttpHeaderName": header["http_header_name"], "Values": sorted(header["values"])}})
        else:
            raise AssertionError(f"condition not replayed: {condition}")
    return out


def flatten_conditions(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``condition`` set, read from the *Config members as the provider reads them (values sorted: sets)."""
    out: list[dict[str, Any]] = []
    for condition in conditions:
        if condition["Field"] == "path-pattern":
            out.append({"path_pattern": {"values": sorted(condition["PathPatternConfig"]["Values"])}})
        elif condition["Field"] == "http-header":
            config = condition["HttpHeaderConfig"]
            out.append({"http_header": {"http_header_name": config["HttpHeaderName"],
                                        "values": sorted(config["Values"])}})
    return sorted(out, key=repr)  # a set in Terraform: compared in a canonical order


# -- aws_lb_listener --------------------------------------------------------------------------------------------


class ListenerReplay(Tagged):
    def create(self, config: dict[str, Any]) -> str:
        created = self.elb.create_listener(
            LoadBalancerArn=config["load_balancer_arn"], **tags_in(config),
            DefaultActions=expand_actions(config["default_action"]), Port=config["port"],
            Protocol=config["protocol"])
        arn = str(created["Listeners"][0]["ListenerArn"])
        assert self.elb.describe_listeners(ListenerArns=[arn])["Listeners"][0]["ListenerArn"] == arn
        # listenerAttributes.expand on create: the one bool attribute of HTTP listeners is always sent (false
        # when not configured); string attributes only when set.
        self.elb.modify_listener_attributes(ListenerArn=arn, Attributes=[
            {"Key": "routing.http.response.server.enabled", "Value": to_api(config.get(
                "routing_http_response_server_enabled", False))}])
        return arn

    def read(self, arn: str) -> dict[str, Any]:
        listener = self.elb.describe_listeners(ListenerArns=[arn])["Listeners"][0]
        attributes = {a["Key"]: a["Value"] for a in
                      self.elb.describe_listener_attributes(ListenerArn=arn)["Attributes"]}
        return {
            "arn": listener["ListenerArn"], "load_balancer_arn": listener["LoadBalancerArn"],
            "port": listener["Port"], "protocol": listener["Protocol"], "ssl_policy": listener.get("SslPolicy", ""),
            "default_action": flatten_actions(listener["DefaultActions"]),
            "routing_http_response_server_enabled": attributes["routing.http.response.server.enabled"] == "true",
            "tags": self.tags(arn),
        }

    def update(self, arn: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        if any(old[k] != new[k] for k in ("default_action", "port", "protocol")):
            request: dict[str, Any] = {"ListenerArn": arn, "Port": new["port"], "Protocol": new["protocol"]}
            if old["default_action"] != new["default_action"]:
                request["DefaultActions"] = expand_actions(new["default_action"])
            self.elb.modify_listener(**request)
        self.update_tags(arn, old.get("tags", {}), new.get("tags", {}))

    def delete(self, arn: str) -> None:
        self.elb.delete_listener(ListenerArn=arn)

    def gone(self, arn: str) -> bool:
        return code_of(self.elb.describe_listeners, ListenerArns=[arn]) == "ListenerNotFound"


# -- aws_lb_listener_rule ---------------------------------------------------------------------------------------


class RuleReplay(Tagged):
    def create(self, config: dict[str, Any]) -> str:
        created = self.elb.create_rule(
            ListenerArn=config["listener_arn"], **tags_in(config),
            Actions=expand_actions(config["action"]), Conditions=expand_conditions(config["condition"]),
            Priority=config["priority"])
        return str(created["Rules"][0]["RuleArn"])

    def read(self, arn: str) -> dict[str, Any]:
        rule = self.elb.describe_rules(RuleArns=[arn])["Rules"][0]
        listener_arn = arn.replace(":listener-rule/", ":listener/").rsplit("/", 1)[0]  # listenerARNFromRuleARN
        return {
            "arn": rule["RuleArn"], "listener_arn": listener_arn,
            "priority": 99999 if rule["Priority"] == "default" else int(rule["Priority"]),
            "action": rule["Actions"], "condition": flatten_conditions(rule["Conditions"]), "tags": self.tags(arn),
        }

    def update(self, arn: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        """``lifecycle { ignore_changes = [action] }``: only the priority, the conditions and the tags."""
        if old["priority"] != new["priority"]:
            self.elb.set_rule_priorities(RulePriorities=[{"RuleArn": arn, "Priority": new["priority"]}])
        if old["condition"] != new["condition"]:
            modified = self.elb.modify_rule(RuleArn=arn, Conditions=expand_conditions(new["condition"]))
            assert modified["Rules"], "the provider fails on a ModifyRule answer without rules"
        self.update_tags(arn, old.get("tags", {}), new.get("tags", {}))

    def delete(self, arn: str) -> None:
        self.elb.delete_rule(RuleArn=arn)

    def gone(self, arn: str) -> bool:
        return code_of(self.elb.describe_rules, RuleArns=[arn]) == "RuleNotFound"


def rule_plan(config: dict[str, Any], state: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The rule's plan: ``action`` is ignored (ignore_changes), conditions compare as a set."""
    wanted = {k: v for k, v in config.items() if k != "action"}
    wanted["condition"] = flatten_conditions(expand_conditions(config["condition"]))
    return plan_diff(wanted, state)
