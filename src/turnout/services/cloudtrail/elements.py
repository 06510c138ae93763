"""``requestParameters`` and ``responseElements``: a call's input and output as CloudTrail writes them.

CloudTrail writes them as JSON with each member name's first letter lower-cased (``RoleName`` -> ``roleName``,
``DBInstanceIdentifier`` -> ``dBInstanceIdentifier``), timestamps in the Java form its records show
(``"Nov 29, 2026, 4:31:59 AM"``) and blobs in base64. Secrets are never kept:

* members the service model marks sensitive (passwords, private keys, SAML assertions, user data...) are written
  ``"HIDDEN_DUE_TO_SECURITY_REASONS"``, the placeholder AWS's records use;
* credentials a call returns are left out: ``SecretAccessKey`` (CreateAccessKey, AssumeRole...) as AWS does, and
  ``SessionToken`` too (AWS writes the token; Turnout's tokens are live credentials, so they are not stored).

IAM answers policy documents URL-encoded in its responses, and CloudTrail keeps them so in ``responseElements``
(``"assumeRolePolicyDocument": "%7B%22Version%22..."``); request documents stay as sent. EC2's own
``requestParameters`` layout (``"groupSet": {"items": [...]}``) is not reproduced: its members are written like
every other service's.

Converters are compiled once per shape (as the wire serializers are) and cached by shape identity.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.model import OperationModel, Shape

from ...wire.values import url_encode

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
OMITTED_OUTPUT = frozenset({"SecretAccessKey", "SessionToken"})
_URL_ENCODED = frozenset({"policyDocumentType"})  # IAM's policy document shape (see turnout.gateway.protocols)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Convert = Callable[[Any], Any]


def java_time(value: datetime) -> str:
    """``Nov 29, 2026, 4:31:59 AM``: how CloudTrail writes timestamps inside request and response elements."""
    value = value.astimezone(UTC) if value.tzinfo is not None else value
    hour = value.hour % 12 or 12
    half = "AM" if value.hour < 12 else "PM"
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}, {hour}:{value.minute:02}:{value.second:02} {half}"


def lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _timestamp(value: Any) -> Any:
    return java_time(value) if isinstance(value, datetime) else value


def _blob(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value


def _hidden(_: Any) -> str:
    return HIDDEN


class Elements:
    """Compiled converters for one direction (request or response)."""

    def __init__(self, *, output: bool) -> None:
        self.output = output
        self._converters: dict[int, tuple[Shape, Convert | None]] = {}

    def convert(self, shape: Shape | None, data: dict[str, Any] | None) -> dict[str, Any] | None:
        """The element for ``data`` (None when there is nothing to write)."""
        if not data or shape is None:
            return None
        converter = self.converter(shape)
        converted = converter(data) if converter is not None else data
        return converted if converted else None

    def converter(self, shape: Shape) -> Convert | None:
        cached = self._converters.get(id(shape))
        if cached is not None and cached[0] is shape:
            return cached[1]
        kind = shape.type_name
        convert: Convert | None
        if shape.metadata.get("sensitive"):
            convert = _hidden
        elif kind == "structure":
            convert = None if shape.is_document_type else self._structure(shape)
        elif kind == "list":
            convert = self._list(shape)
        elif kind == "map":
            convert = self._map(shape)
        elif kind == "timestamp":
            convert = _timestamp
        elif kind == "blob":
            convert = _blob
        elif kind == "string" and self.output and shape.name in _URL_ENCODED:
            convert = _url_encoded
        else:
            convert = None
        self._converters[id(shape)] = (shape, convert)
        return convert

    def _structure(self, shape: Shape) -> Convert:
        plan: dict[str, tuple[str, Convert | None]] | None = None
        omitted = OMITTED_OUTPUT if self.output else frozenset()

        def convert(data: Any) -> Any:
            nonlocal plan
            if not isinstance(data, dict):
                return data
            if plan is None:
                plan = {
                    name: (lower_first(name), self.converter(member))
                    for name, member in shape.members.items()
                    if name not in omitted
                }
            out: dict[str, Any] = {}
            for name, value in data.items():
                entry = plan.get(name)
                if entry is None or value is None:
                    continue  # unknown members (never in validated input) and omitted secrets
                key, member_convert = entry
                out[key] = value if member_convert is None else member_convert(value)
            return out

        return convert

    def _list(self, shape: Shape) -> Convert:
        def convert(data: Any) -> Any:
            item_convert = self.converter(shape.member)
            if item_convert is None or not isinstance(data, list | tuple):
                return list(data) if isinstance(data, tuple) else data
            return [item_convert(v) for v in data]

        return convert

    def _map(self, shape: Shape) -> Convert:
        def convert(data: Any) -> Any:
            value_convert = self.converter(shape.value)
            if value_convert is None or not isinstance(data, dict):
                return data
            return {k: value_convert(v) for k, v in data.items()}

        return convert


def _url_encoded(value: Any) -> Any:
    return url_encode(value) if isinstance(value, str) else value


REQUEST = Elements(output=False)
RESPONSE = Elements(output=True)


def request_parameters(operation: OperationModel, params: dict[str, Any]) -> dict[str, Any] | None:
    """``requestParameters``: None when the call had no parameters."""
    return REQUEST.convert(operation.input_shape, params)


def response_elements(operation: OperationModel, result: dict[str, Any] | None) -> dict[str, Any] | None:
    """``responseElements`` of a successful write: None when the operation answers nothing."""
    return RESPONSE.convert(operation.output_shape, result)
