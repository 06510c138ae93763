"""One finished call as CloudTrail records it (``../shared/reference/aws-facts.md`` section 4).

:func:`drafts` turns a :class:`~turnout.core.context.RequestContext` into the event's record, eventVersion
``1.11``, with the denormalised values ``LookupEvents`` searches by. The store gives each record its
``eventID`` when it writes it (the id encodes the event's place in the store: :mod:`.store`).

* ``userIdentity`` by principal type: ``Root``, ``IAMUser`` (``userName``), ``AssumedRole`` (``sessionContext``
  with ``sessionIssuer`` and ``attributes``, ``sourceIdentity``), ``FederatedUser``, and ``AWSService`` with
  ``invokedBy`` for a service principal's own calls (ECS assuming the infrastructure role). A call a service makes
  with a customer's role (``ctx.invoked_by``) carries ``invokedBy`` too, and its ``sourceIPAddress`` and
  ``userAgent`` are the service principal (``ecs.amazonaws.com``), as AWS writes them.
* ``awsRegion``: IAM is global and logged in ``us-east-1``; STS is logged in the region of the endpoint called
  (the region the request was signed for: a call to the global endpoint is signed for ``us-east-1``, a regional
  one for its region, and AWS logs regional STS calls in that region); every other service in its region.
* ``requestParameters``/``responseElements``: :mod:`.elements`; ``responseElements`` is null for read-only
  calls and for failures. ``errorCode``/``errorMessage``: the service's error as answered (AccessDenied with its
  exact message), the message cut to 1 KB.
* ``readOnly``: the action's access level in the Service Authorization Reference (Read and List are read-only).
* ``resources`` (:mod:`.resources`). A call on a resource of another account (AssumeRole of a role in another
  account) is recorded in both accounts, with one ``sharedEventID``; a service principal's call, in the account
  of the resource it acted on.
* ``tlsDetails`` is absent: Turnout is served over plain HTTP, and AWS writes the element only for TLS
  connections. ``apiVersion``, ``vpcEndpointId``, ``additionalEventData`` and ``eventContext`` are not written.

Calls that never had a principal (a signature that did not verify, an unknown access key) are not recorded:
CloudTrail records authenticated calls only.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from ...core import ids
from ...core.principal import Principal
from ..s3.events import is_data_event
from .elements import request_parameters, response_elements
from .resources import Resource, authorized_arns, resources_of

if TYPE_CHECKING:
    from ...core.context import RequestContext

EVENT_VERSION = "1.11"
ERROR_MESSAGE_MAX = 1024
GLOBAL_REGION = "us-east-1"
ROOT_USERNAME = "root"  # what event history shows as the user name of the root user's events
READ_LEVELS = frozenset({"Read", "List"})
_READ_PREFIXES = ("Get", "List", "Describe", "Lookup", "Search")  # operations the reference does not list


class Draft(NamedTuple):
    """A record ready to store, with the values ``LookupEvents`` returns and matches. The record's JSON text is
    ``parts`` around its eventTime, requestID and eventID; the store gives it its eventID (:meth:`text`). Drafts
    of repeated calls share their parts (``shape_id``: stored once). A tuple of strings: drafts wait in the
    recorder's queue, and the garbage collector stops tracking such tuples, so waiting costs it nothing."""

    account_id: str
    region: str
    event_time: int  # epoch seconds (the record's eventTime)
    event_name: str
    event_source: str
    read_only: bool
    username: str | None
    access_key_id: str | None
    resources: str  # [[ResourceType, ResourceName], ...] as JSON
    lookups: tuple[tuple[str, str], ...]  # the (attribute, value) pairs it is found by; ("", "") for all events
    parts: tuple[str, str, str, str]  # the record's text before eventTime, requestID, eventID, and after
    request_id: str
    shape_id: int | None  # the id of ``parts`` when they are shared by repeated calls

    def text(self, event_id: str) -> str:
        return assemble(self.parts, self.event_time, self.request_id, event_id)

    def record(self, event_id: str = "") -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.text(event_id))
        return loaded

    def escaped(self) -> Draft:
        """This draft with every lone UTF-16 surrogate (text with no UTF-8 form, which the database cannot
        store) written out as the six characters ``\\udXXX``, and its record kept inline (not shared)."""
        before_time, before_request, before_event, tail = (_escape_json(part) for part in self.parts)
        return self._replace(
            username=None if self.username is None else _escape(self.username),
            access_key_id=None if self.access_key_id is None else _escape(self.access_key_id),
            resources=_escape_json(self.resources),
            lookups=tuple((_escape(attribute), _escape(value)) for attribute, value in self.lookups),
            parts=(before_time, before_request, before_event, tail),
            event_name=_escape(self.event_name), shape_id=None,  # request ids are ours: always ASCII
        )


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(text: str) -> str:
    """``text`` with each lone surrogate as ``\\udXXX`` (plain text: one backslash)."""
    if text.isascii():
        return text
    return _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def _escape_json(text: str) -> str:
    """JSON text with each lone surrogate (only ever inside a string) as an escaped backslash and ``udXXX``, so
    that the string's value reads ``\\udXXX`` as in :func:`_escape` (an escape ``\\udXXX`` would decode back
    to the surrogate)."""
    if text.isascii():
        return text
    return _SURROGATE.sub(lambda found: f"\\\\u{ord(found.group()):04x}", text)


_last_second: tuple[int, str] = (0, "")


def time_text(seconds: int) -> str:
    """``2026-11-27T21:44:28Z`` for epoch seconds (the last one converted is kept)."""
    global _last_second
    if _last_second[0] != seconds:
        _last_second = (seconds, datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _last_second[1]


def assemble(parts: Sequence[str], event_time: int, request_id: str, event_id: str) -> str:
    """A record's JSON text from its parts."""
    return parts[0] + time_text(event_time) + parts[1] + request_id + parts[2] + event_id + parts[3]


def shape_digest(parts: Sequence[str]) -> int:
    """The id of shared record parts: 64 bits of their BLAKE2b hash, signed (an SQL BIGINT)."""
    # surrogatepass: parts may hold a lone surrogate (written escaped when stored: Draft.escaped)
    digest = hashlib.blake2b("\x00".join(parts).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def iso_seconds(value: datetime) -> str:
    """``2026-11-27T21:44:28Z``: eventTime, and the session creation date."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@cache
def read_only(signing_name: str, operation: str) -> bool:
    from ...reference.authorization import catalog

    action = catalog().action(signing_name, operation)
    if action is not None:
        return action.access_level in READ_LEVELS
    return operation.startswith(_READ_PREFIXES)


def _session_context(principal: Principal) -> dict[str, Any] | None:
    session = principal.session
    if session is None:
        return None
    try:
        created = iso_seconds(datetime.fromisoformat(session.issued_at))
    except ValueError:
        created = session.issued_at
    context: dict[str, Any] = {}
    if principal.type in ("AssumedRole", "FederatedUser"):
        issuer = {
            "type": session.issuer_type, "principalId": session.issuer_id, "arn": session.issuer_arn,
            "accountId": principal.account_id,
        }
        if session.issuer_type != "Root":
            issuer["userName"] = session.issuer_name
        context["sessionIssuer"] = issuer
    context["attributes"] = {"creationDate": created, "mfaAuthenticated": "true" if session.mfa_authenticated
                             else "false"}
    if session.source_identity is not None:
        context["sourceIdentity"] = session.source_identity
    return context


def user_identity(principal: Principal) -> dict[str, Any]:
    """The ``userIdentity`` of ``principal`` (without ``invokedBy``, which depends on the call)."""
    identity: dict[str, Any]
    if principal.type == "AWSService":
        return {"type": "AWSService", "invokedBy": principal.arn}
    identity = {"type": principal.type, "principalId": principal.principal_id, "arn": principal.arn,
                "accountId": principal.account_id}
    if principal.access_key_id is not None:
        identity["accessKeyId"] = principal.access_key_id
    if principal.type == "IAMUser" and principal.name is not None:
        identity["userName"] = principal.name
    context = _session_context(principal)
    if context is not None:
        identity["sessionContext"] = context
    return identity


def username(principal: Principal, operation: str, params: dict[str, Any]) -> str | None:
    """What ``LookupEvents`` shows (and matches) as the event's ``Username``.

    An IAM user's name; a role session's name (so the sessions ECS opens with the infrastructure role are found
    as ``ECSNetworkingWithELB``, as the ECS guide says); ``root`` for the root user. A service principal's
    AssumeRole is found by the session name it asked for (event history lists a service's role assumption, an
    EC2 instance's for example, under the session name); its other calls by the service principal. AWS
    documents no table for this; it is our reading of its event history.
    """
    kind = principal.type
    if kind == "Root":
        return ROOT_USERNAME
    if kind == "AWSService":
        session = params.get("RoleSessionName") if operation.startswith("AssumeRole") else None
        return session if isinstance(session, str) else principal.arn
    return principal.name


def aws_region(ctx: RequestContext) -> str:
    service = ctx.service
    if service is not None and service.name == "iam":
        return GLOBAL_REGION
    return ctx.region


def _recipients(principal: Principal, resources: list[Resource], failed: bool) -> list[str]:
    """The accounts the event is recorded in: the caller's, and those of resources it acted on in other accounts
    (a failed call only in the caller's, unless the caller is a service principal, which has no account)."""
    accounts = [principal.account_id] if principal.account_id else []
    if failed and accounts:
        return accounts
    for found in resources:
        if found.account_id and found.account_id not in accounts:
            accounts.append(found.account_id)
    return accounts


def lookup_pairs(event_name: str, event_source: str, is_read: bool, user: str | None, key: str | None,
                 resources: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The (lookup attribute, value) pairs an event is found by (``("", "")``: every event; EventId aside)."""
    pairs = [("", ""), ("EventName", event_name), ("EventSource", event_source),
             ("ReadOnly", "true" if is_read else "false")]
    if user:
        pairs.append(("Username", user))
    if key:
        pairs.append(("AccessKeyId", key))
    for rtype, rname in resources:
        pairs.extend((("ResourceType", rtype), ("ResourceName", rname)))
    return tuple(dict.fromkeys(pairs))


# Placeholders for what changes from call to call in a record's text (random, so no input can contain them).
_MARK = secrets.token_hex(12)
_TIME, _REQUEST, _EVENT = f"@{_MARK}T", f"@{_MARK}R", f"@{_MARK}E"
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True, slots=True)
class Shape:
    """One recipient's record of a call with its time, request id and event id left out: calls repeated with the
    same caller, parameters and outcome share it (``_shapes``; then ``shape_id`` is set)."""

    account_id: str
    region: str
    event_name: str
    event_source: str
    read_only: bool
    username: str | None
    access_key_id: str | None
    resources: str
    lookups: tuple[tuple[str, str], ...]
    parts: tuple[str, str, str, str]  # the text around eventTime, requestID and eventID
    shape_id: int | None = None

    def draft(self, event_time: int, request_id: str) -> Draft:
        return Draft(self.account_id, self.region, event_time, self.event_name, self.event_source, self.read_only,
                     self.username, self.access_key_id, self.resources, self.lookups, self.parts, request_id,
                     self.shape_id)


def _split(text: str) -> tuple[str, str, str, str]:
    before_time, _, rest = text.partition(_TIME)
    before_request, _, rest = rest.partition(_REQUEST)
    before_event, _, tail = rest.partition(_EVENT)
    return before_time, before_request, before_event, tail


def _build(ctx: RequestContext, principal: Principal, resources: list[Resource]) -> list[Shape]:
    service, operation = ctx.service, ctx.operation
    assert service is not None and operation is not None
    name = operation.name
    error = ctx.error
    accounts = _recipients(principal, resources, error is not None)
    if not accounts:
        return []
    is_read = read_only(service.signing_name, name)
    identity = user_identity(principal)
    invoked_by = ctx.invoked_by
    if invoked_by is not None and principal.type != "AWSService":
        identity = {**identity, "invokedBy": invoked_by}
    region = aws_region(ctx)
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": identity,
        "eventTime": _TIME,
        "eventSource": service.event_source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ctx.source_ip,
        "userAgent": ctx.user_agent,
    }
    if error is not None:
        record["errorCode"] = error.code
        record["errorMessage"] = error.message[:ERROR_MESSAGE_MAX]
    record["requestParameters"] = request_parameters(operation, ctx.params)
    record["responseElements"] = (
        None if error is not None or is_read else response_elements(operation, ctx.result)
    )
    record["requestID"] = _REQUEST
    record["eventID"] = _EVENT
    record["readOnly"] = is_read
    if resources:
        record["resources"] = [found.element() for found in resources]
    record["eventType"] = "AwsApiCall"
    record["managementEvent"] = True
    found_as = tuple((found.type, found.name) for found in resources)
    user = username(principal, name, ctx.params)
    key = principal.access_key_id
    lookups = lookup_pairs(name, service.event_source, is_read, user, key, found_as)
    shared = ids.request_id() if len(accounts) > 1 else None
    out = []
    for account in accounts:
        record["recipientAccountId"] = account
        if shared is not None:
            record["sharedEventID"] = shared
        record["eventCategory"] = "Management"
        out.append(Shape(account, region, name, service.event_source, is_read, user, key,
                          _dumps([list(pair) for pair in found_as]), lookups, _split(_dumps(record))))
    return out


def _principal_key(principal: Principal) -> tuple[Any, ...]:
    session = principal.session
    held = None if session is None else (session.issuer_type, session.issuer_arn, session.issuer_id,
                                         session.issuer_name, session.issued_at, session.mfa_authenticated,
                                         session.source_identity)
    return (principal.type, principal.arn, principal.principal_id, principal.account_id, principal.access_key_id,
            principal.name, held)


_SCALARS = (str, int, bool)
_shapes: dict[tuple[Any, ...], list[Shape]] = {}
SHAPES_KEPT = 4096


class _Unkeyed(Exception):
    """A parameter value with no key of its own (a timestamp, bytes): the call's record is built whole."""


def _frozen(value: Any) -> Any:
    """A list or structure of scalars as a key (tagged, so that a list of pairs never equals a structure)."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list):
        return ("L", *(_frozen(item) for item in value))
    if isinstance(value, dict):
        return ("D", *sorted((name, _frozen(item)) for name, item in value.items()))
    raise _Unkeyed


def _shape_key(ctx: RequestContext, principal: Principal, authorized: tuple[str, ...]) -> tuple[Any, ...] | None:
    """What a call's record depends on besides its time and ids, for calls whose record has no response
    (reads, failures); None for others (and for parameters holding values other than strings, numbers, booleans,
    and lists and structures of them: a pipeline polling DescribeServices or DescribeTasks names its services or
    tasks in a list)."""
    params = ctx.params
    assert ctx.service is not None and ctx.operation is not None
    error = ctx.error
    if error is None and not read_only(ctx.service.signing_name, ctx.operation.name):
        return None
    try:
        frozen = tuple(sorted((name, _frozen(value)) for name, value in params.items()))
    except _Unkeyed:
        return None
    return (_principal_key(principal), ctx.service.name, ctx.operation.name, ctx.region, ctx.source_ip,
            ctx.user_agent, ctx.invoked_by, None if error is None else (error.code, error.message), frozen,
            authorized)


def drafts(ctx: RequestContext, found: list[Shape] | None = None) -> list[Draft]:
    """The records of ``ctx``'s call, one per account it is recorded in (none for an unauthenticated call);
    ``found``: its :func:`shapes`, when looked up already."""
    second = int(ctx.received_at.timestamp())
    return [shape.draft(second, ctx.request_id) for shape in (shapes(ctx) if found is None else found)]


def shapes(ctx: RequestContext) -> list[Shape]:
    """The shapes of ``ctx``'s records (:func:`drafts` without their eventTime and request id): a repeated call's
    are the cached ones, the same objects each time (their ``shape_id`` set)."""
    principal, service, operation = ctx.principal, ctx.service, ctx.operation
    if principal is None or service is None or operation is None:
        return []
    if service.name == "s3" and is_data_event(operation.name):
        return []  # S3 object-level calls are data events, not management events (services/s3/events.py)
    authorized = authorized_arns(ctx)
    key = _shape_key(ctx, principal, authorized)
    found = _shapes.get(key) if key is not None else None
    if found is None:
        found = _build(ctx, principal, resources_of(ctx, authorized))
        if key is not None and len(found) == 1:
            if len(_shapes) >= SHAPES_KEPT:
                _shapes.clear()
            found = [replace(found[0], shape_id=shape_digest(found[0].parts))]
            _shapes[key] = found
    return found


def draft_of(record: dict[str, Any], *, account_id: str, region: str, event_time: int, username: str | None,
             access_key_id: str | None, resources: tuple[tuple[str, str], ...] = ()) -> Draft:
    """A draft of a record made elsewhere (bulk loads: ``bench/cloudtrail.py``; tests). ``event_time`` is its
    eventTime in epoch seconds; its ``eventID`` is replaced by the store's."""
    request_id = str(record.get("requestID", ""))
    parts = _split(_dumps({**record, "eventTime": _TIME, "requestID": _REQUEST, "eventID": _EVENT}))
    read = bool(record.get("readOnly"))
    name, source = str(record.get("eventName", "")), str(record.get("eventSource", ""))
    lookups = lookup_pairs(name, source, read, username, access_key_id, resources)
    return Draft(account_id, region, event_time, name, source, read, username, access_key_id,
                 _dumps([list(pair) for pair in resources]), lookups, parts, request_id, None)
