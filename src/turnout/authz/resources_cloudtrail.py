"""CloudTrail: resources and condition keys per operation.

Trails, event data stores, channels and dashboards are named by name/id or by ARN; an ARN is used as given, a
name or id is put in the reference's template in the request's region. Creates of resources with generated ids
act on ``<type>/*``. ``ListInsightsMetricData`` is not an action of its own: AWS authorizes it as
``cloudtrail:LookupEvents`` and, with a trail, ``cloudtrail:ListInsightsData`` on that trail (API reference).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .resources_base import STAR, Env, Extra, ServiceRules, Spec, build_arn, custom, given, has, param, template

TRAIL = template("trail", TrailName=param("Name", "TrailName", given=True))
EVENT_DATA_STORE = template("eventdatastore", EventDataStoreId=param("EventDataStore", "EventDataStores", given=True))
CHANNEL = template("channel", ChannelId=param("Channel", given=True))
DASHBOARD = template("dashboard", DashboardName=param("DashboardId", given=True))
ALL_TYPES = ("channel", "dashboard", "eventdatastore", "trail")

DEFAULTS: dict[str, tuple[Spec, ...]] = {
    "trail": (TRAIL,),
    "eventdatastore": (EVENT_DATA_STORE,),
    "channel": (CHANNEL,),
    "dashboard": (DASHBOARD,),
}

_FROM = re.compile(r"\bFROM\s+[`\"]?([A-Za-z0-9:/_.-]+)", re.IGNORECASE)


def _queried_stores(env: Env) -> Iterable[str]:
    """StartQuery: the event data stores its SQL statement reads (``FROM <id or ARN>``)."""
    statement = env.params.get("QueryStatement")
    if not isinstance(statement, str):
        return ()
    owner = env.params.get("EventDataStoreOwnerAccountId") or env.account
    out = []
    for found in _FROM.findall(statement):
        if found.startswith("arn:"):
            out.append(found)
        else:
            out.append(build_arn(env, "cloudtrail", "eventdatastore", account=owner, EventDataStoreId=found))
    return out


def _channel_destinations(env: Env) -> Iterable[str]:
    """CreateChannel: the event data stores it delivers to (destinations of type EVENT_DATA_STORE)."""
    destinations = env.params.get("Destinations")
    if not isinstance(destinations, list):
        return ()
    return [d["Location"] for d in destinations
            if isinstance(d, dict) and d.get("Type") == "EVENT_DATA_STORE" and isinstance(d.get("Location"), str)
            and d["Location"].startswith("arn:")]


OPS: dict[str, tuple[Spec, ...]] = {
    "CreateEventDataStore": (template("eventdatastore", EventDataStoreId=STAR),),
    "CreateChannel": (template("channel", ChannelId=STAR),
                      custom(_channel_destinations, "eventdatastore", needs=("Destinations",))),
    "CreateDashboard": (template("dashboard", DashboardName=param("Name")),),
    "AddTags": (given("ResourceId", *ALL_TYPES),),
    "RemoveTags": (given("ResourceId", *ALL_TYPES),),
    "ListTags": (given("ResourceIdList", *ALL_TYPES),),
    "PutResourcePolicy": (given("ResourceArn", *ALL_TYPES),),
    "GetResourcePolicy": (given("ResourceArn", *ALL_TYPES),),
    "DeleteResourcePolicy": (given("ResourceArn", *ALL_TYPES),),
    "ListInsightsData": (given("InsightSource", "trail", "eventdatastore"),),
    "StartQuery": (custom(_queried_stores, "eventdatastore", needs=("QueryStatement",)),),
    "ListInsightsMetricData": (),  # cloudtrail:LookupEvents takes no resource
}

NAMED_TRAIL = template("trail", TrailName=param("TrailName", given=True))
EXTRAS = {"ListInsightsMetricData": (Extra("ListInsightsData", has("TrailName"), specs=(NAMED_TRAIL,)),)}

RULES = ServiceRules(
    prefix="cloudtrail",
    defaults=DEFAULTS,
    ops=OPS,
    actions={"ListInsightsMetricData": "LookupEvents"},
    extras=EXTRAS,
)
