"""Actions (of listeners and rules) and conditions (of rules): validation, and normalisation to what AWS returns.

Both are stored as JSON text in botocore's shape, exactly as Describe* returns them (``usage.py`` reads the
stored actions to tell which load balancers use a target group):

* ``forward`` always carries ``ForwardConfig`` with every target group's ``Weight`` (1 when not given) and a
  ``TargetGroupStickinessConfig``; with a single target group it also carries ``TargetGroupArn``, as AWS answers
  both forms; with several (a weighted forward) only ``ForwardConfig``.
* ``redirect`` carries all five URI components, the ones not given as their ``#{...}`` placeholders.
* ``host-header`` and ``path-pattern`` conditions carry both the legacy ``Values`` and the ``*Config`` form.
* ``Order`` is kept when the request gives it (Turnout's choice: it is not invented when absent).

``authenticate-oidc``, ``authenticate-cognito`` and ``jwt-validation`` actions are refused with
InvalidConfigurationRequest: Turnout has no identity provider to authenticate against.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from ...store.db import Database
from ...wire.errors import ServiceError
from . import store
from .attributes import ALB_PROTOCOLS
from .errors import error, invalid_config, validation
from .store import LoadBalancer, TargetGroup, get_target_group, load_balancers_using, target_groups_of

TERMINAL = ("forward", "redirect", "fixed-response")
_CONFIGS = {"forward": "ForwardConfig", "redirect": "RedirectConfig", "fixed-response": "FixedResponseConfig",
            "authenticate-oidc": "AuthenticateOidcConfig", "authenticate-cognito": "AuthenticateCognitoConfig",
            "jwt-validation": "JwtValidationConfig"}
TARGET_GROUPS_PER_ACTION = 5  # "target-groups-per-action-on-application-load-balancer"
UNIQUE_TARGET_GROUPS_PER_LB = 100  # "target-groups-per-application-load-balancer"
MAX_WEIGHT = 999
MAX_STICKINESS_SECONDS = 604800
CONTENT_TYPES = ("text/plain", "text/css", "text/html", "application/javascript", "application/json")
# Target group protocols a Network Load Balancer listener can forward to (the NLB guide's table).
NLB_FORWARDS = {"TCP": ("TCP", "TCP_UDP"), "TLS": ("TCP", "TLS"), "UDP": ("UDP", "TCP_UDP"), "TCP_UDP": ("TCP_UDP",)}


def invalid_action(message: str) -> ServiceError:
    return error("InvalidLoadBalancerAction", message)


def _weight_error() -> ServiceError:
    return validation("The weight for each target group must be between 0 and 999, inclusive")


# -- actions ---------------------------------------------------------------------------------------------------


def _forward(action: dict[str, Any]) -> dict[str, Any]:
    arn = action.get("TargetGroupArn")
    config: dict[str, Any] | None = action.get("ForwardConfig")
    if arn is None and config is None:
        raise invalid_action("For actions of type 'forward', you must specify one of the following fields: "
                             "'TargetGroupArn', 'ForwardConfig'")  # our wording, after AWS's for 'redirect'
    groups: list[dict[str, Any]] = list((config or {}).get("TargetGroups") or [])
    if arn is not None and groups and (len(groups) != 1 or groups[0].get("TargetGroupArn") != arn):
        # Our wording of the API reference's rule.
        raise validation("If you specify both 'TargetGroupArn' and 'ForwardConfig', 'ForwardConfig' can contain "
                         "only one target group and it must be the target group specified in 'TargetGroupArn'")
    if not groups:
        if arn is None:
            raise validation("You must specify at least one target group in 'ForwardConfig'")  # our wording
        groups = [{"TargetGroupArn": arn}]
    if len(groups) > TARGET_GROUPS_PER_ACTION:
        # Our wording for the "target groups per forward action" quota.
        raise validation(f"You cannot specify more than {TARGET_GROUPS_PER_ACTION} target groups in a forward "
                         "action")
    tuples: list[dict[str, Any]] = []
    for group in groups:
        tg_arn = group.get("TargetGroupArn")
        if not tg_arn:
            raise validation("A target group ARN must be specified for each target group")  # our wording
        weight = group.get("Weight")
        if weight is None:
            if len(groups) > 1:
                raise _weight_error()  # AWS answers a missing weight of a weighted forward so
            weight = 1
        if not 0 <= weight <= MAX_WEIGHT:
            raise _weight_error()
        if any(t["TargetGroupArn"] == tg_arn for t in tuples):
            raise validation(f"Target group '{tg_arn}' is specified more than once in the forward action")  # ours
        tuples.append({"TargetGroupArn": tg_arn, "Weight": weight})
    sticky: dict[str, Any] = (config or {}).get("TargetGroupStickinessConfig") or {}
    enabled = bool(sticky.get("Enabled", False))
    duration = sticky.get("DurationSeconds")
    stickiness: dict[str, Any] = {"Enabled": enabled}
    if duration is not None:
        if not 1 <= duration <= MAX_STICKINESS_SECONDS:
            raise validation(f"The target group stickiness duration must be between 1 and {MAX_STICKINESS_SECONDS} "
                             "seconds")  # our wording
        stickiness["DurationSeconds"] = duration
    elif enabled:
        raise validation("A stickiness duration must be specified when target group stickiness is enabled")  # ours
    out: dict[str, Any] = {"Type": "forward"}
    if len(tuples) == 1:
        out["TargetGroupArn"] = tuples[0]["TargetGroupArn"]
    out["ForwardConfig"] = {"TargetGroups": tuples, "TargetGroupStickinessConfig": stickiness}
    return out


def _redirect(action: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] | None = action.get("RedirectConfig")
    if config is None:
        raise invalid_action("For actions of type 'redirect', you must specify the following fields: "
                             "'RedirectConfig'")
    protocol = config.get("Protocol") or "#{protocol}"
    port = config.get("Port") or "#{port}"
    host = config.get("Host") or "#{host}"
    path = config.get("Path") or "/#{path}"
    query = config["Query"] if config.get("Query") is not None else "#{query}"
    if port != "#{port}" and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise validation(f"The redirect port '{port}' must be '#{{port}}' or a number from 1 to 65535")  # ours
    if not path.startswith("/"):
        raise validation(f"The redirect path '{path}' must start with a '/'")  # our wording
    if (protocol, port, host, path, query) == ("#{protocol}", "#{port}", "#{host}", "/#{path}", "#{query}"):
        # Our wording: AWS refuses a redirect to the request's own URL (it would loop).
        raise invalid_action("The redirect action must change at least one of the following: protocol, port, host, "
                             "path or query")
    return {"Type": "redirect", "RedirectConfig": {"Protocol": protocol, "Port": port, "Host": host, "Path": path,
                                                   "Query": query, "StatusCode": config["StatusCode"]}}


def _fixed_response(action: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] | None = action.get("FixedResponseConfig")
    if config is None:
        raise invalid_action("For actions of type 'fixed-response', you must specify the following fields: "
                             "'FixedResponseConfig'")
    out: dict[str, Any] = {}
    if config.get("MessageBody") is not None:
        out["MessageBody"] = config["MessageBody"]
    out["StatusCode"] = config["StatusCode"]
    content_type = config.get("ContentType")
    if content_type is not None:
        if content_type not in CONTENT_TYPES:
            raise validation(f"Content type '{content_type}' must be one of '{', '.join(CONTENT_TYPES)}'")  # ours
        out["ContentType"] = content_type
    return {"Type": "fixed-response", "FixedResponseConfig": out}


_BUILDERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "forward": _forward, "redirect": _redirect, "fixed-response": _fixed_response}


def _one(action: dict[str, Any], lb_type: str) -> dict[str, Any]:
    kind = action["Type"]
    if kind not in TERMINAL:
        raise invalid_config(f"Actions of type '{kind}' are not supported by Turnout: it has no identity provider "
                             "to authenticate requests against")
    if lb_type == "network" and kind != "forward":
        # Our wording: Network Load Balancers only forward.
        raise invalid_action(f"Actions of type '{kind}' are not supported for load balancers of type 'network'")
    for member in ("TargetGroupArn", *_CONFIGS.values()):
        allowed = ("TargetGroupArn", "ForwardConfig") if kind == "forward" else (_CONFIGS[kind],)
        if action.get(member) is not None and member not in allowed:
            raise invalid_action(f"For actions of type '{kind}', you cannot specify the following fields: "
                                 f"'{member}'")  # our wording, after AWS's "you must specify"
    built = _BUILDERS[kind](action)
    if action.get("Order") is not None:
        built["Order"] = action["Order"]
    return built


def normalise_actions(actions: list[dict[str, Any]] | None, lb_type: str) -> list[dict[str, Any]]:
    """The actions as AWS stores and returns them, after AWS's checks (target groups are checked apart)."""
    if not actions:
        raise validation("At least one action must be specified")  # our wording
    if len(actions) > 1:
        orders = [action.get("Order") for action in actions]
        if any(order is None for order in orders):
            raise invalid_action("The order must be specified for each action when more than one action is "
                                 "specified")  # our wording of the reference ("required for rules with multiple")
        if len(set(orders)) != len(orders):
            raise invalid_action("Each action must have a unique order")  # our wording
    built = [_one(action, lb_type) for action in actions]
    built.sort(key=lambda action: action.get("Order") or 0)
    terminal = [action for action in built if action["Type"] in TERMINAL]
    if len(terminal) > 1:
        # Our wording: one forward, redirect or fixed-response action ends the list.
        raise invalid_action("You can specify only one action of type 'forward', 'redirect' or 'fixed-response'")
    return built


def target_group_arns(actions: list[dict[str, Any]]) -> list[str]:
    found = [group["TargetGroupArn"] for action in actions if action["Type"] == "forward"
             for group in action["ForwardConfig"]["TargetGroups"]]
    return list(dict.fromkeys(found))


def weights(actions: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> dict[str, int]:
    """Target group -> weight of the forward action (a plain TargetGroupArn forward: weight 1)."""
    for action in actions:
        if action.get("Type") != "forward":
            continue
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
        if groups:
            return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
        if action.get("TargetGroupArn"):
            return {action["TargetGroupArn"]: 1}
    return {}


def stored_weights(db: Database, account: str, region: str, named: str) -> dict[str, int] | None:
    """Target group -> weight of a rule's (or listener's) forward action as stored now, read without a role (for
    what Turnout itself reports); None when there is no such rule or listener."""
    rule = store.rule(db, account, region, named)
    if rule is not None:
        return weights(rule.actions)
    listener = store.listener(db, account, region, named)
    return None if listener is None else weights(listener.default_actions)


def check_target_groups(db: Database, lb: LoadBalancer, listener_protocol: str | None,
                        actions: list[dict[str, Any]]) -> None:
    """The forwarded-to target groups exist and suit the load balancer (type, protocol, VPC, no other load
    balancer, the unique target group quota)."""
    account, region = lb.account_id, lb.region
    arns = target_group_arns(actions)
    shared: list[str] = []
    for arn in arns:
        tg = get_target_group(db, account, region, arn)
        _suits(tg, lb, listener_protocol)
        if any(other != lb.arn for other in load_balancers_using(db, account, region, arn)):
            shared.append(arn)
    if shared:
        raise error("TargetGroupAssociationLimit", "The following target groups cannot be associated with more than "
                                                   f"one load balancer: {', '.join(shared)}")
    unique = set(target_groups_of(db, account, region, lb.arn)) | set(arns)
    if lb.type == "application" and len(unique) > UNIQUE_TARGET_GROUPS_PER_LB:
        # Our wording; the model documents "You've reached the limit on the number of unique target groups per
        # load balancer across all listeners".
        raise error("TooManyUniqueTargetGroupsPerLoadBalancer", "You've reached the limit of "
                    f"{UNIQUE_TARGET_GROUPS_PER_LB} unique target groups per load balancer across all listeners")


def _suits(tg: TargetGroup, lb: LoadBalancer, listener_protocol: str | None) -> None:
    arn, target_type, protocol = tg.arn, tg.target_type, tg.protocol
    if lb.type == "application":
        if target_type != "lambda" and (target_type == "alb" or protocol not in ALB_PROTOCOLS):
            # Our wording: an Application Load Balancer forwards HTTP(S) only.
            raise error("IncompatibleProtocols", f"Target group '{arn}' has protocol '{protocol}', which is not "
                                                 "supported by load balancers of type 'application'")
    else:
        if target_type == "lambda":
            raise invalid_config(f"Target group '{arn}' has target type 'lambda', which is not supported by load "
                                 "balancers of type 'network'")  # our wording
        if protocol not in NLB_FORWARDS.get(listener_protocol or "", ()):
            raise error("IncompatibleProtocols", f"Target group '{arn}' has protocol '{protocol}', which is not "
                                                 f"compatible with listener protocol '{listener_protocol}'")  # ours
    if target_type != "lambda" and tg.vpc_id != lb.vpc_id:
        raise invalid_config(f"Target group '{arn}' is in a different VPC than load balancer '{lb.arn}'")


# -- conditions ------------------------------------------------------------------------------------------------

CONFIG_OF = {"http-header": "HttpHeaderConfig", "http-request-method": "HttpRequestMethodConfig",
             "host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig",
             "query-string": "QueryStringConfig", "source-ip": "SourceIpConfig"}
_ONCE = ("host-header", "http-request-method", "path-pattern", "source-ip")  # the others may repeat
CONDITION_VALUES = 5  # "condition-values-per-alb-rule"
CONDITION_WILDCARDS = 5  # "condition-wildcards-per-alb-rule"
_HOST = re.compile(r"^[A-Za-z0-9.*?-]{1,128}$")
_PATH = re.compile(r"^[A-Za-z0-9_\-.$/~\"'@:+&*?]{1,128}$")
_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$")
_METHOD = re.compile(r"^[A-Z_-]{1,40}$")


def _values(values: Any, field: str, check: re.Pattern[str] | None = None, *, regex: Any = None) -> list[str]:
    found = [str(v) for v in (values or [])]
    if not found and not regex:
        raise validation("A condition value must be specified")
    for value in found:
        if check is not None and not check.match(value):
            raise validation(f"The value '{value}' is not valid for a condition of type '{field}'")  # our wording
        if check is None and len(value) > 128:
            raise validation(f"The value '{value}' of a condition of type '{field}' cannot be longer than 128 "
                             "characters")  # our wording
    return found


def _source_ip(values: list[str]) -> None:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
            valid = "/" in value
        except ValueError:
            valid = False
        if not valid:
            raise validation(f"The value '{value}' is not a valid CIDR block for a condition of type "
                             "'source-ip'")  # our wording


def _condition(condition: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The normalised condition, and the strings counted against the values and wildcards quotas."""
    field = condition.get("Field")
    if not field:
        raise validation("A condition field must be specified")
    if field not in CONFIG_OF:
        raise validation(f"Condition field '{field}' must be one of '[{', '.join(CONFIG_OF)}]'")
    name = CONFIG_OF[field]
    for other in CONFIG_OF.values():
        if other != name and condition.get(other) is not None:
            raise validation(f"You cannot provide '{other}' for a condition of type '{field}'")  # our wording
    legacy = condition.get("Values")
    config: dict[str, Any] | None = condition.get(name)
    if legacy is not None and config is not None:
        raise validation(f"You cannot provide both Values and '{name}' for a condition of type '{field}'")
    if condition.get("RegexValues") is not None:
        raise validation(f"Specify regular expressions in '{name}' for a condition of type '{field}'")  # ours
    if legacy is not None and field not in ("host-header", "path-pattern"):
        raise validation(f"You must provide '{name}' rather than Values for a condition of type '{field}'")  # ours
    config = config or {}
    out: dict[str, Any] = {"Field": field}
    if field in ("host-header", "path-pattern"):
        regex = config.get("RegexValues")
        values = _values(legacy if legacy is not None else config.get("Values"), field,
                         _HOST if field == "host-header" else _PATH, regex=regex)
        inner: dict[str, Any] = {"Values": values} if values else {}
        if regex:
            inner["RegexValues"] = _values(regex, field)
        if values:
            out["Values"] = values
        out[name] = inner
        return out, values + list(inner.get("RegexValues", []))
    if field == "http-header":
        header = config.get("HttpHeaderName")
        if not header or not _HEADER.match(header):
            raise validation(f"The HTTP header name '{header or ''}' is not valid")  # our wording
        regex = config.get("RegexValues")
        values = _values(config.get("Values"), field, regex=regex)
        out[name] = {"HttpHeaderName": header, **({"Values": values} if values else {})}
        if regex:
            out[name]["RegexValues"] = _values(regex, field)
        return out, values + list(out[name].get("RegexValues", []))
    if field == "query-string":
        pairs = config.get("Values") or []
        if not pairs:
            raise validation("A condition value must be specified")
        normal: list[dict[str, str]] = []
        for pair in pairs:
            if not pair.get("Value"):
                raise validation("A value must be specified for each key/value pair of a 'query-string' "
                                 "condition")  # our wording
            normal.append({**({"Key": pair["Key"]} if pair.get("Key") else {}), "Value": pair["Value"]})
        out[name] = {"Values": normal}
        return out, [f"{p.get('Key', '')}{p['Value']}" for p in normal]
    values = _values(config.get("Values"), field, _METHOD if field == "http-request-method" else None)
    if field == "source-ip":
        _source_ip(values)
    out[name] = {"Values": values}
    return out, values


def normalise_conditions(conditions: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A rule's conditions as AWS stores and returns them, within AWS's quotas."""
    if not conditions:
        raise validation("At least one condition must be specified")  # our wording
    out: list[dict[str, Any]] = []
    counted: list[str] = []
    for condition in conditions:
        built, values = _condition(condition)
        if built["Field"] in _ONCE and any(c["Field"] == built["Field"] for c in out):
            raise validation(f"A rule can only have one '{built['Field']}' condition")  # our wording
        out.append(built)
        counted.extend(values)
    if len(counted) > CONDITION_VALUES:
        raise validation(f"A rule can only have '{CONDITION_VALUES}' condition values")
    if sum(value.count("*") + value.count("?") for value in counted) > CONDITION_WILDCARDS:
        raise validation(f"A rule can only have '{CONDITION_WILDCARDS}' wildcards")  # our wording, after the above
    return out
