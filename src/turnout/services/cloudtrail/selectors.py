"""Event selectors: PutEventSelectors/GetEventSelectors, and which recorded events a trail's selectors keep.

Basic selectors (``EventSelectors``) choose management events by ``ReadWriteType`` (All, ReadOnly, WriteOnly),
``IncludeManagementEvents`` and ``ExcludeManagementEventSources``; their ``DataResources`` are checked and stored,
but Turnout has no data events, so they select nothing. Advanced selectors (``AdvancedEventSelectors``) are
checked, stored and applied field by field to every record (``eventCategory``, ``readOnly``, ``eventSource``,
``eventName``, ``resources.type``, ``resources.ARN``, ``userIdentity.arn``, ``errorCode``...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ...core.context import RequestContext
from ...store.db import Database
from ...wire.errors import ServiceError
from .store import trails as trail_store
from .store.trails import Trail
from .trail_rules import error, resolve

MAX_EVENT_SELECTORS = 5
MAX_DATA_RESOURCES = 250
MAX_ADVANCED_VALUES = 500

DEFAULT_SELECTOR: dict[str, Any] = {
    "ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [], "ExcludeManagementEventSources": [],
}
# Data resource types basic event selectors take, and the service each one's ARNs name.
DATA_RESOURCE_TYPES = {"AWS::S3::Object": "s3", "AWS::Lambda::Function": "lambda", "AWS::DynamoDB::Table": "dynamodb"}
EXCLUDABLE_SOURCES = ("kms.amazonaws.com", "rdsdata.amazonaws.com")
ADVANCED_FIELDS = frozenset({
    "eventCategory", "eventSource", "eventName", "eventType", "readOnly", "resources.type", "resources.ARN",
    "userIdentity.arn", "errorCode", "vpcEndpointId", "sessionCredentialFromConsole",
})
POSITIVE = ("Equals", "StartsWith", "EndsWith")
NEGATIVE = ("NotEquals", "NotStartsWith", "NotEndsWith")


def invalid(message: str) -> ServiceError:
    return error("InvalidEventSelectorsException", message)


# -- checks ------------------------------------------------------------------------------------------------


def check_event_selectors(selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checked basic selectors, with AWS's defaults filled in as GetEventSelectors answers them."""
    if not 1 <= len(selectors) <= MAX_EVENT_SELECTORS:
        # Our wording for the documented limit ("Specify a valid number of event selectors (1 to 5)").
        raise invalid(f"A trail can have 1 to {MAX_EVENT_SELECTORS} event selectors; {len(selectors)} were given.")
    total = 0
    out = []
    for selector in selectors:
        resources = []
        for resource in selector.get("DataResources") or []:
            kind = resource.get("Type")
            if kind not in DATA_RESOURCE_TYPES:
                raise invalid(f"Value {kind} for DataResources.Type is invalid.")
            values = resource.get("Values") or []
            service = DATA_RESOURCE_TYPES[kind]
            for value in values:
                if "*" in value or not (value == f"arn:aws:{service}" or value.startswith(f"arn:aws:{service}:")):
                    raise invalid(f"Value {value} for DataResources.Values is invalid.")
            total += len(values)
            resources.append({"Type": kind, "Values": list(values)})
        excluded = list(selector.get("ExcludeManagementEventSources") or [])
        for source in excluded:
            if source not in EXCLUDABLE_SOURCES:
                raise invalid(f"Value {source} for ExcludeManagementEventSources is invalid.")
        out.append({
            "ReadWriteType": selector.get("ReadWriteType") or "All",
            "IncludeManagementEvents": selector.get("IncludeManagementEvents", True) is not False,
            "DataResources": resources,
            "ExcludeManagementEventSources": excluded,
        })
    if total > MAX_DATA_RESOURCES:
        # Our wording for the documented limit of 250 data resources per trail.
        raise invalid(f"A trail can have at most {MAX_DATA_RESOURCES} data resources; {total} were given.")
    return out


def check_advanced(selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checked advanced selectors (the wording of these messages is ours: AWS documents the rules only)."""
    if not selectors:
        raise invalid("At least one advanced event selector must be specified.")
    total = 0
    out = []
    for selector in selectors:
        fields = []
        seen_category = False
        for field in selector.get("FieldSelectors") or []:
            name = field.get("Field", "")
            if name not in ADVANCED_FIELDS:
                raise invalid(f"Value {name} for Field is invalid.")
            operators = {op: list(field[op]) for op in (*POSITIVE, *NEGATIVE) if field.get(op)}
            if not operators:
                raise invalid(f"The field selector for {name} must have at least one operator.")
            if name == "eventCategory":
                seen_category = True
                if set(operators) != {"Equals"}:
                    raise invalid("The eventCategory field selector only supports the Equals operator.")
            if name == "readOnly" and (
                set(operators) != {"Equals"} or not set(operators["Equals"]) <= {"true", "false"}
            ):
                raise invalid("The readOnly field selector only supports Equals with the value true or false.")
            total += sum(len(values) for values in operators.values())
            fields.append({"Field": name, **operators})
        if not seen_category:
            raise invalid("Each advanced event selector must have an eventCategory field selector.")
        shaped: dict[str, Any] = {"FieldSelectors": fields}
        if selector.get("Name") is not None:
            shaped = {"Name": selector["Name"], **shaped}
        out.append(shaped)
    if total > MAX_ADVANCED_VALUES:
        raise invalid(f"A trail can have at most {MAX_ADVANCED_VALUES} values in all advanced event selector "
                      f"conditions; {total} were given.")
    return out


# -- matching ----------------------------------------------------------------------------------------------


def is_management(record: dict[str, Any]) -> bool:
    category = record.get("eventCategory", "Management")
    return category == "Management" and record.get("managementEvent", True) is not False


def matches(trail: Trail, record: dict[str, Any], read_only: bool) -> bool:
    """Whether the trail's selectors (AWS's default when none were put) keep this recorded event."""
    if trail.advanced_event_selectors is not None:
        return any(_advanced_match(s, record, read_only) for s in trail.advanced_event_selectors)
    selectors = trail.event_selectors if trail.event_selectors is not None else [DEFAULT_SELECTOR]
    return any(_basic_match(s, record, read_only) for s in selectors)


def _basic_match(selector: dict[str, Any], record: dict[str, Any], read_only: bool) -> bool:
    if not is_management(record) or not selector.get("IncludeManagementEvents", True):
        return False  # data resources would select data events; Turnout records none
    if record.get("eventSource") in (selector.get("ExcludeManagementEventSources") or ()):
        return False
    kind = str(selector.get("ReadWriteType", "All"))
    return kind == "All" or (kind == "ReadOnly") == read_only


def _values(field: str, record: dict[str, Any], read_only: bool) -> list[str]:
    if field == "eventCategory":
        return [str(record.get("eventCategory", "Management"))]
    if field == "readOnly":
        return ["true" if read_only else "false"]
    if field in ("resources.type", "resources.ARN"):
        key = "type" if field == "resources.type" else "ARN"
        return [str(r[key]) for r in record.get("resources") or () if isinstance(r, dict) and r.get(key)]
    if field == "userIdentity.arn":
        identity = record.get("userIdentity") or {}
        return [str(identity["arn"])] if identity.get("arn") else []
    value = record.get(field)
    if value is None:
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]


def _test(op: str, value: str, operand: str) -> bool:
    if op in ("Equals", "NotEquals"):
        return value == operand
    if op in ("StartsWith", "NotStartsWith"):
        return value.startswith(operand)
    return value.endswith(operand)


def _field_match(field: dict[str, Any], values: Iterable[str]) -> bool:
    values = list(values)
    positive = [(op, operand) for op in POSITIVE for operand in field.get(op) or ()]
    negative = [(op, operand) for op in NEGATIVE for operand in field.get(op) or ()]
    if positive and not any(_test(op, v, operand) for v in values for op, operand in positive):
        return False
    return not any(_test(op, v, operand) for v in values for op, operand in negative)


def _advanced_match(selector: dict[str, Any], record: dict[str, Any], read_only: bool) -> bool:
    return all(
        _field_match(field, _values(field["Field"], record, read_only)) for field in selector.get("FieldSelectors", ())
    )


# -- operations --------------------------------------------------------------------------------------------


class SelectorOperations:
    """PutEventSelectors and GetEventSelectors; mixed into the CloudTrail provider through TrailOperations."""

    db: Database

    def put_event_selectors(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        trail = resolve(self.db, ctx.account_id, ctx.region, req["TrailName"], home_only=True)
        basic, advanced = req.get("EventSelectors"), req.get("AdvancedEventSelectors")
        if basic is not None and advanced is None:
            trail = replace(trail, event_selectors=check_event_selectors(basic), advanced_event_selectors=None)
        elif advanced is not None and basic is None:
            trail = replace(trail, event_selectors=None, advanced_event_selectors=check_advanced(advanced))
        else:
            # Our wording for the documented rule: "You can use either AdvancedEventSelectors or EventSelectors,
            # but not both."
            raise error(
                "InvalidParameterCombinationException",
                "Specify either EventSelectors or AdvancedEventSelectors, but not both.",
            )
        trail_store.save(self.db, trail)
        return self._selectors(trail)

    def get_event_selectors(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        trail = resolve(self.db, ctx.account_id, ctx.region, req["TrailName"])
        return self._selectors(trail)

    @staticmethod
    def _selectors(trail: Trail) -> dict[str, Any]:
        if trail.advanced_event_selectors is not None:
            return {"TrailARN": trail.arn, "AdvancedEventSelectors": trail.advanced_event_selectors}
        selectors = trail.event_selectors if trail.event_selectors is not None else [DEFAULT_SELECTOR]
        return {"TrailARN": trail.arn, "EventSelectors": selectors}
