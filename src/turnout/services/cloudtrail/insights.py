"""CloudTrail Insights selectors of trails: PutInsightSelectors and GetInsightSelectors.

The selectors are checked and kept with the trail (``HasInsightSelectors`` in DescribeTrails and GetTrail), as the
Terraform provider and the console read them. Turnout does not compute Insights events: no baseline of API call
or error rates is learnt and no Insights event is ever recorded or delivered. Turnout has no event data stores,
so the ``EventDataStore`` / ``InsightsDestination`` forms of the two calls find none.

Rules (the API reference of PutInsightSelectors and the model's documentation of its errors):

* ``InsightType`` is ``ApiCallRateInsight`` or ``ApiErrorRateInsight``, ``EventCategories`` members are
  ``Management`` or ``Data`` (absent: management events); anything else is InvalidInsightSelectorsException;
* Insights on the API call rate of management events need a trail that logs write management events, on the API
  error rate a trail that logs management events; Insights on data events need a trail that logs data events;
* an empty list turns Insights off; GetInsightSelectors on a trail without Insights is InsightNotEnabledException.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...core.context import RequestContext
from ...store.db import Database
from ...wire.errors import ServiceError
from .selectors import DEFAULT_SELECTOR
from .store import trails as trail_store
from .store.trails import Trail
from .trail_rules import error, resolve

INSIGHT_TYPES = ("ApiCallRateInsight", "ApiErrorRateInsight")
EVENT_CATEGORIES = ("Management", "Data")


def invalid(message: str) -> ServiceError:
    return error("InvalidInsightSelectorsException", message)


def _no_event_data_store(req: dict[str, Any]) -> None:
    """The event-data-store form of the calls: refused with TrailName, and otherwise naming no store of ours."""
    store = req.get("EventDataStore")
    if req.get("TrailName") is not None and (store is not None or req.get("InsightsDestination") is not None):
        # The reference: TrailName cannot be used with EventDataStore or InsightsDestination. Our wording.
        raise error("InvalidParameterCombinationException",
                    "TrailName cannot be specified with EventDataStore or InsightsDestination.")
    if req.get("TrailName") is None:
        if store is None:
            # Our wording: one of the two must name what the selectors are for.
            raise error("InvalidParameterCombinationException", "Specify either TrailName or EventDataStore.")
        # Our wording: Turnout has no event data stores.
        raise error("EventDataStoreNotFoundException", f"The specified event data store {store} was not found.")


def _logs_management(trail: Trail, *, write: bool) -> bool:
    """Whether the trail's event selectors (the default one when none were put) keep management events (``write``:
    write management events)."""
    if trail.advanced_event_selectors is not None:
        for selector in trail.advanced_event_selectors:
            fields = {f["Field"]: f for f in selector.get("FieldSelectors", ())}
            if fields.get("eventCategory", {}).get("Equals") != ["Management"]:
                continue
            read_only = fields.get("readOnly", {}).get("Equals")
            if not write or read_only != ["true"]:
                return True
        return False
    selectors = trail.event_selectors if trail.event_selectors is not None else [DEFAULT_SELECTOR]
    return any(s.get("IncludeManagementEvents", True) and (not write or s.get("ReadWriteType") != "ReadOnly")
               for s in selectors)


def _logs_data(trail: Trail) -> bool:
    if trail.advanced_event_selectors is not None:
        return any({"Field": "eventCategory", "Equals": ["Data"]} in s.get("FieldSelectors", ())
                   for s in trail.advanced_event_selectors)
    return any(s.get("DataResources") for s in trail.event_selectors or ())


def check_insight_selectors(trail: Trail, selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The selectors as stored and answered, or InvalidInsightSelectorsException (the messages are ours: AWS
    documents the rules, not its wording)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for selector in selectors:
        kind = selector.get("InsightType")
        if kind not in INSIGHT_TYPES:
            raise invalid(f"Value {kind} for InsightType is invalid. Valid values are ApiCallRateInsight and "
                          "ApiErrorRateInsight.")
        if kind in seen:
            raise invalid(f"The Insights type {kind} is specified more than once.")
        seen.add(kind)
        categories = selector.get("EventCategories")
        for category in categories or ():
            if category not in EVENT_CATEGORIES:
                raise invalid(f"Value {category} for EventCategories is invalid. Valid values are Management and "
                              "Data.")
        if categories is not None and len(set(categories)) != len(categories):
            raise invalid(f"The EventCategories of the Insights type {kind} contain duplicates.")
        if "Management" in (categories or ["Management"]):
            write = kind == "ApiCallRateInsight"
            if not _logs_management(trail, write=write):
                logged = "write management events" if write else "management events"
                raise invalid(f"The trail {trail.name} must log {logged} to enable {kind} Insights on management "
                              "events.")
        if "Data" in (categories or ()) and not _logs_data(trail):
            raise invalid(f"The trail {trail.name} must log data events to enable {kind} Insights on data events.")
        shaped: dict[str, Any] = {"InsightType": kind}
        if categories:
            shaped["EventCategories"] = list(categories)
        out.append(shaped)
    return out


class InsightOperations:
    """Mixed into the CloudTrail provider."""

    db: Database

    def put_insight_selectors(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        _no_event_data_store(req)
        trail = resolve(self.db, ctx.account_id, ctx.region, req["TrailName"], home_only=True)
        selectors = check_insight_selectors(trail, list(req.get("InsightSelectors") or []))
        trail = replace(trail, insight_selectors=selectors or None)  # an empty list turns Insights off
        trail_store.save(self.db, trail)
        return {"TrailARN": trail.arn, "InsightSelectors": selectors}

    def get_insight_selectors(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        _no_event_data_store(req)
        trail = resolve(self.db, ctx.account_id, ctx.region, req["TrailName"])
        if not trail.insight_selectors:
            # Our wording; the exception is the model's for "a trail ... that does not have Insights events enabled".
            raise error("InsightNotEnabledException", f"Trail {trail.arn} does not have Insights enabled.")
        return {"TrailARN": trail.arn, "InsightSelectors": trail.insight_selectors}
