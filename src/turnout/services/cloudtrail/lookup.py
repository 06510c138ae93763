"""``LookupEvents``: the event history of the caller's account in the region called, newest first.

* One lookup attribute at most (``EventId``, ``EventName``, ``ReadOnly`` ``true``/``false``, ``Username``,
  ``ResourceType``, ``ResourceName``, ``EventSource``, ``AccessKeyId``); values match exactly (case-sensitive).
* ``StartTime``/``EndTime`` inclusive, to the second (events carry whole seconds); the last 90 days only: an
  earlier ``StartTime`` is read as 90 days ago, as the event history holds nothing older.
* ``MaxResults`` 1-50, default 50. ``NextToken`` is bound to the query it continues (account, region,
  attribute, time range, category): with any other, ``InvalidNextTokenException``. ``MaxResults`` may change
  from page to page. Events recorded after the first page never appear in its later pages.
* ``EventCategory`` ``insight``: Turnout has no CloudTrail Insights, so no Insights event exists: the answer is
  empty (after the attribute check AWS makes for Insights lookups: only EventId, EventName and EventSource).

The gateway validates the model's constraints first (an unknown attribute key, a value over 2,000 characters,
``MaxResults`` over 50 or an unknown category get the ``ValidationException`` of every JSON service); the
checks below are CloudTrail's own. AWS does not publish the messages of its CloudTrail errors: the wording here
is ours.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ...core.context import RequestContext
from ...wire.errors import ServiceError
from . import store

WINDOW = timedelta(days=90)
MAX_RESULTS = 50
INSIGHT_ATTRIBUTES = frozenset({"EventId", "EventName", "EventSource"})


class LookupOperations:
    """The ``LookupEvents`` operation of the CloudTrail provider."""

    def lookup_events(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        provider: Any = self
        attributes = req.get("LookupAttributes") or []
        if len(attributes) > 1:
            raise provider.error("InvalidLookupAttributesException",
                                 "You cannot specify more than one lookup attribute.")
        key: str | None = attributes[0]["AttributeKey"] if attributes else None
        value: str = attributes[0]["AttributeValue"] if attributes else ""
        category = req.get("EventCategory")
        if category is not None and category != "insight":  # the model allows only "insight"
            raise provider.error("InvalidEventCategoryException", f"Event category {category} is not valid.")
        if category == "insight" and key is not None and key not in INSIGHT_ATTRIBUTES:
            raise provider.error("InvalidLookupAttributesException",
                                 f"The lookup attribute {key} is not supported for Insights events.")
        if key == "ReadOnly" and value not in ("true", "false"):
            raise provider.error("InvalidLookupAttributesException",
                                 f"Invalid value {value} for lookup attribute ReadOnly: specify true or false.")
        limit = req.get("MaxResults", MAX_RESULTS)
        if not 1 <= limit <= MAX_RESULTS:
            raise provider.error("InvalidMaxResultsException", f"MaxResults must be between 1 and {MAX_RESULTS}.")
        given_start: datetime | None = req.get("StartTime")
        given_end: datetime | None = req.get("EndTime")
        if given_start is not None and given_end is not None and given_start > given_end:
            raise provider.error("InvalidTimeRangeException", "The start time must not be after the end time.")
        binding = _binding(ctx, key, value, given_start, given_end, category)
        before = _cursor(provider, req.get("NextToken"), binding)

        # The events waiting were written and indexed before this call was authorized (the provider's precheck).
        if category == "insight":
            return {"Events": []}
        now = ctx.received_at
        start = int((now - WINDOW).timestamp())
        if given_start is not None:
            start = max(start, int(given_start.timestamp()))
        end = int((given_end or now).timestamp())
        account, region = ctx.account_id, ctx.region
        db = ctx.gateway.db
        if key == "EventId":
            pair = store.by_event_id(db, account, region, value)
            found = [] if pair is None else [pair]
            found = [p for p in found if start <= p[0] <= end and (before is None or p < before)]
        else:
            found = store.find(db, account, region, key or store.ALL, value, start, end, before, limit + 1)
        page, more = found[:limit], len(found) > limit
        stored = store.events(db, [seq for _, seq in page])
        events = [_event(stored[seq]) for _, seq in page if seq in stored]
        result: dict[str, Any] = {"Events": events}
        if more:
            result["NextToken"] = _token(page[-1], binding)
        return result


def _event(stored: store.LookupEvent) -> dict[str, Any]:
    event: dict[str, Any] = {
        "EventId": stored.event_id,
        "EventName": stored.event_name,
        "ReadOnly": "true" if stored.read_only else "false",
    }
    if stored.access_key_id:
        event["AccessKeyId"] = stored.access_key_id
    event["EventTime"] = datetime.fromtimestamp(stored.event_time, UTC)
    event["EventSource"] = stored.event_source
    if stored.username:
        event["Username"] = stored.username
    event["Resources"] = [{"ResourceType": rtype, "ResourceName": rname} for rtype, rname in stored.resources]
    event["CloudTrailEvent"] = stored.record_text
    return event


def _binding(ctx: RequestContext, key: str | None, value: str, start: datetime | None, end: datetime | None,
             category: str | None) -> str:
    """What a NextToken is bound to: the query, MaxResults aside."""
    query = [ctx.account_id, ctx.region, key, value, start.timestamp() if start else None,
             end.timestamp() if end else None, category]
    return hashlib.sha256(json.dumps(query).encode()).hexdigest()[:16]


def _token(last: tuple[int, int], binding: str) -> str:
    payload = json.dumps({"t": last[0], "s": last[1], "q": binding}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _cursor(provider: Any, token: str | None, binding: str) -> tuple[int, int] | None:
    if token is None:
        return None
    invalid: ServiceError = provider.error("InvalidNextTokenException", "The NextToken is not valid for this request.")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        cursor = (int(data["t"]), int(data["s"]))
        bound = data["q"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise invalid from None
    if bound != binding:
        raise invalid
    return cursor
