"""Elastic Load Balancing (v2; IAM prefix ``elasticloadbalancing``): resources and condition keys per operation.

Nearly every resource is named by an ARN parameter, used as given and classified by the reference's templates
(``listener/app/...`` or ``listener/net/...``). Creates act on the ARN the new resource will have, its generated
id unknown (``targetgroup/<name>/*``). Tags given to a create are authorized again as ``elasticloadbalancing:
AddTags`` on the new resource with ``elasticloadbalancing:CreateAction`` (AWS's tag-on-create rule).
Describe* actions take no resource-level permissions in the reference: they are checked on ``"*"``.
"""

from __future__ import annotations

from collections.abc import Iterable

from .resources_base import (
    STAR,
    Env,
    Extra,
    KeyValue,
    ServiceRules,
    Spec,
    build_arn,
    custom,
    given,
    has,
    param,
    pluck,
    strings,
    template,
    value_of,
)

PREFIX = "elasticloadbalancing"
_KINDS = {"application": "app", "network": "net", "gateway": "gwy"}
LOAD_BALANCER = given("LoadBalancerArn", "loadbalancer/app/", "loadbalancer/net/", "loadbalancer/gwy/")
LISTENER = given("ListenerArn", "listener/app", "listener/net", "listener/gwy")
RULE = given("RuleArn", "listener-rule/app", "listener-rule/net")
TARGET_GROUP = given("TargetGroupArn", "targetgroup")
TRUST_STORE = given("TrustStoreArn", "truststore")
ANY = ("listener-rule/app", "listener-rule/net", "listener/app", "listener/gwy", "listener/net",
       "loadbalancer/app/", "loadbalancer/gwy/", "loadbalancer/net/", "targetgroup", "truststore")

DEFAULTS: dict[str, tuple[Spec, ...]] = {
    **{t: (LOAD_BALANCER,) for t in ("loadbalancer/app/", "loadbalancer/net/", "loadbalancer/gwy/")},
    **{t: (LISTENER,) for t in ("listener/app", "listener/net", "listener/gwy")},
    **{t: (RULE,) for t in ("listener-rule/app", "listener-rule/net")},
    "targetgroup": (TARGET_GROUP,),
    "truststore": (TRUST_STORE,),
    "loadbalancer": (template("loadbalancer", LoadBalancerName=param("LoadBalancerName")),),  # Classic (v1)
}


def _new_load_balancer(env: Env) -> Iterable[str]:
    """CreateLoadBalancer: ``loadbalancer/<app|net|gwy>/<name>/*`` (the id is generated)."""
    name = env.params.get("Name")
    if not isinstance(name, str):
        return ()
    kind = _KINDS.get(str(env.params.get("Type") or "application"), "app")
    return (build_arn(env, PREFIX, f"loadbalancer/{kind}/", LoadBalancerName=name, LoadBalancerId="*"),)


def _split(arn: object, kind: str) -> tuple[str, str, list[str]] | None:
    """``arn:aws:elasticloadbalancing:<region>:<account>:<kind>/<...>`` -> (region, account, path parts)."""
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) != 6 or not parts[5].startswith(kind + "/"):
        return None
    return parts[3], parts[4], parts[5].split("/")[1:]


def _new_listener(env: Env) -> Iterable[str]:
    """The listener CreateListener makes on the load balancer: ``listener/<kind>/<lb name>/<lb id>/*``."""
    found = _split(env.params.get("LoadBalancerArn"), "loadbalancer")
    if found is None or len(found[2]) != 3:
        return ()
    region, account, (kind, name, lb_id) = found
    return (build_arn(env, PREFIX, f"listener/{kind}", account=account, region=region,
                      LoadBalancerName=name, LoadBalancerId=lb_id, ListenerId="*"),)


def _new_rule(env: Env) -> Iterable[str]:
    """The rule CreateRule makes on the listener: ``listener-rule/<kind>/<lb name>/<lb id>/<listener id>/*``."""
    found = _split(env.params.get("ListenerArn"), "listener")
    if found is None or len(found[2]) != 4 or found[2][0] not in ("app", "net"):
        return ()
    region, account, (kind, name, lb_id, listener_id) = found
    return (build_arn(env, PREFIX, f"listener-rule/{kind}", account=account, region=region,
                      LoadBalancerName=name, LoadBalancerId=lb_id, ListenerId=listener_id, ListenerRuleId="*"),)


NEW_LOAD_BALANCER = custom(_new_load_balancer, "loadbalancer/app/", "loadbalancer/net/", "loadbalancer/gwy/",
                           needs=("Name",))
NEW_TARGET_GROUP = template("targetgroup", TargetGroupName=param("Name"), TargetGroupId=STAR)
NEW_TRUST_STORE = template("truststore", TrustStoreName=param("Name"), TrustStoreId=STAR)
NEW_LISTENER = custom(_new_listener, "listener/app", "listener/net", "listener/gwy", needs=("LoadBalancerArn",))
NEW_RULE = custom(_new_rule, "listener-rule/app", "listener-rule/net", needs=("ListenerArn",))

OPS: dict[str, tuple[Spec, ...]] = {
    "CreateLoadBalancer": (NEW_LOAD_BALANCER,),
    "CreateTargetGroup": (NEW_TARGET_GROUP,),
    "CreateTrustStore": (NEW_TRUST_STORE,),
    "AddTags": (given("ResourceArns", *ANY),),
    "RemoveTags": (given("ResourceArns", *ANY),),
    "GetResourcePolicy": (given("ResourceArn", "truststore"),),
    "SetRulePriorities": (given("RulePriorities[].RuleArn", "listener-rule/app", "listener-rule/net"),),
}


def _tag_on_create(op: str, created: Spec) -> tuple[Extra, ...]:
    return (Extra("AddTags", has("Tags"), specs=(created,), keys={"elasticloadbalancing:CreateAction": op}),)


EXTRAS = {
    "CreateLoadBalancer": _tag_on_create("CreateLoadBalancer", NEW_LOAD_BALANCER),
    "CreateTargetGroup": _tag_on_create("CreateTargetGroup", NEW_TARGET_GROUP),
    "CreateTrustStore": _tag_on_create("CreateTrustStore", NEW_TRUST_STORE),
    "CreateListener": _tag_on_create("CreateListener", NEW_LISTENER),
    "CreateRule": _tag_on_create("CreateRule", NEW_RULE),
}


def _subnets(env: Env) -> KeyValue:
    found = strings(env.params.get("Subnets")) + strings(pluck(env.params, "SubnetMappings[].SubnetId"))
    return found or None


def _scheme(env: Env) -> KeyValue:
    scheme = env.params.get("Scheme")
    if isinstance(scheme, str) and scheme:
        return scheme
    return "internet-facing" if env.operation == "CreateLoadBalancer" else None  # AWS's default scheme


REQUEST_KEYS = {
    "elasticloadbalancing:ListenerProtocol": value_of("Protocol"),
    "elasticloadbalancing:Scheme": _scheme,
    "elasticloadbalancing:SecurityGroup": value_of("SecurityGroups"),
    "elasticloadbalancing:SecurityPolicy": lambda env: strings(env.params.get("SslPolicy")) or None,
    "elasticloadbalancing:Subnet": _subnets,
}

RULES = ServiceRules(
    prefix="elasticloadbalancing",
    defaults=DEFAULTS,
    ops=OPS,
    request_keys=REQUEST_KEYS,
    extras=EXTRAS,
)
