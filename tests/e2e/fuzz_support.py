"""Hypothesis strategies for the requests of any operation, built from its botocore input shape.

Each value is drawn from one of several families, per member:

* valid: what the model allows (an enum's values, text within the length bounds, numbers within their range);
* boundary: the bounds themselves and one past them (empty and maximal text, min-1, max+1);
* hostile: strings a probe would try (NUL, path traversal, wildcards, format and SQL injection, markup,
  bidirectional controls, CR/LF, policy variables, JSON nested 1,000 deep, 70,000 characters) and, where the wire
  can carry them, lone surrogates;
* wrong type (JSON protocol only, where the body is written here): a string where a number is expected, an
  object where a list is, and so on;
* deep nesting (JSON protocol only): a member replaced by arrays nested hundreds deep;
* huge values: long text, long lists, integers past 64 bits.

For the JSON protocol (ECS, CloudTrail) the strategy draws the wire body itself (a JSON document), so any of the
above can be sent. For the other protocols (query, EC2, rest-xml) it draws the typed parameters botocore's
serializer writes: every value it can serialize, with text restricted where HTTP cannot carry it (header values).
"""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from hypothesis import strategies as st

DEEP = '{"a":' + "[" * 1000 + "]" * 1000 + "}"
HOSTILE_TEXT = (
    "", " ", "\x00", "a\x00b", "../../../../etc/passwd", "..", "/", "*", "?", "%s%n%x%d", "' OR '1'='1' --",
    "arn:aws:iam::000000000000:role/../../admin", "arn:aws:ecs:us-east-1:000000000000:cluster/*",
    "arn:aws:iam::000000000000:user/", "arn:", "<a>&amp;</a><![CDATA[x]]>", "\u202e\ufeff\u200b",
    "\U0001f642" * 3, "\r\n\r\nX-Injected: 1", "${aws:username}", "null", "NaN", "-1", "1e309", "0x7fffffff",
    "\U0001f642" * 300, "a" * 70_000, "[" * 1000, DEEP, '{"Version":"2012-10-17","Statement":[]}',
    "default", "latest", "1", "us-east-1", "AKIAIOSFODNN7EXAMPLE",
)
SURROGATES = ("\ud800", "a\udfffb", "\udc00\ud800")  # no UTF-8 form: only the JSON protocol can send them
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
TOKEN_TEXT = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.!~*'", min_size=1, max_size=20)  # header names
SAFE_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=24)
NAME_TEXT = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", min_size=1, max_size=32)
BIG_INTEGERS = (2**31, 2**31 - 1, -(2**31) - 1, 2**63, 2**63 - 1, -(2**63) - 1, 2**64, 10**30, 0, -1)
# Members that are HTTP framing, not input: a Content-Length that lies about the body is the transport's matter
# (issue 11, finding 6: a short body is waited on), not the operation's.
TRANSPORT_HEADERS = frozenset({"content-length"})
CONTAINERS = frozenset({"structure", "list", "map"})
MAX_DEPTH = 6  # structure levels drawn member by member (deeper ones stay empty)


def deep(depth: int) -> Any:
    """Arrays nested ``depth`` deep."""
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


class Strategies:
    """Strategies for one protocol's requests (``wire``: JSON bodies; otherwise typed parameters)."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self.wire = protocol == "json"
        self.hostile = HOSTILE_TEXT + (SURROGATES if self.wire else ())

    # -- entry point ------------------------------------------------------------------------------------------

    def request(self, shape: StructureShape | None) -> st.SearchStrategy[dict[str, Any]]:
        if shape is None:
            return st.just({})
        top = self.structure(shape, 0, location=None)
        if not self.wire:
            return top
        # The whole body replaced now and then: deep nesting, a wrong top-level type is the parser's own case.
        return st.one_of(top, top, top, st.just({"deep": deep(1200)}))

    # -- shapes -------------------------------------------------------------------------------------------

    def value(self, shape: Shape, depth: int, location: str | None) -> st.SearchStrategy[Any]:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            if shape.is_document_type:
                return st.one_of(st.just({"a": [1, "x", None]}), st.just(deep(300)), st.just("scalar"))
            base = self.structure(shape, depth, location)
        elif kind == "list":
            assert isinstance(shape, ListShape)
            base = self.list(shape, depth, location)
        elif kind == "map":
            assert isinstance(shape, MapShape)
            base = self.map(shape, depth, location)
        else:
            base = self.scalar(shape, location)
        if not self.wire:
            return base
        return st.one_of(base, base, base, base, base, base, self.wrong_type(kind), st.just(deep(700)))

    def structure(self, shape: StructureShape, depth: int, location: str | None) -> st.SearchStrategy[Any]:
        if depth > MAX_DEPTH:
            return st.just({})
        members = {}
        required = set(shape.required_members)
        for name, member in shape.members.items():
            if str(member.serialization.get("name", "")).lower() in TRANSPORT_HEADERS:
                continue
            where = member.serialization.get("location") if not self.wire else None
            key = str(member.serialization.get("name", name)) if self.wire else name
            members[key] = (name in required, self.value(member, depth + 1, where or location))
        if shape.is_tagged_union and members:
            return st.one_of([st.fixed_dictionaries({k: s}) for k, (_, s) in members.items()])
        needed = {k: s for k, (req, s) in members.items() if req}
        optional = {k: s for k, (req, s) in members.items() if not req}
        full = st.fixed_dictionaries(needed, optional=optional)
        if not needed or not self.wire:
            return full
        # A required member left out now and then (the wire body can say anything).
        return st.one_of(full, full, full, st.fixed_dictionaries({}, optional={**needed, **optional}))

    def list(self, shape: ListShape, depth: int, location: str | None) -> st.SearchStrategy[Any]:
        item = self.value(shape.member, depth + 1, location)
        small = st.lists(item, max_size=3)
        if location in ("header", "headers", "querystring") or depth > 1 or shape.member.type_name in CONTAINERS:
            return small
        # Huge: 1,000 short items, in the top levels' lists of scalars only (bodies stay well under 1 MB).
        short = self.short(shape.member)
        return st.one_of(small, small, small, short.map(lambda one: [one] * 1000))

    def short(self, shape: Shape) -> st.SearchStrategy[Any]:
        """A small valid-looking scalar of ``shape`` (the items of huge lists)."""
        enum = shape.metadata.get("enum")
        if enum:
            return st.sampled_from(enum)
        if shape.type_name == "string":
            return NAME_TEXT
        return self.scalar(shape, None)

    def map(self, shape: MapShape, depth: int, location: str | None) -> st.SearchStrategy[Any]:
        keys = TOKEN_TEXT if location == "headers" else self.text(shape.key, location)
        return st.dictionaries(keys, self.value(shape.value, depth + 1, location), max_size=3)

    def scalar(self, shape: Shape, location: str | None) -> st.SearchStrategy[Any]:
        kind = shape.type_name
        if kind == "string":
            return self.text(shape, location)
        if kind in ("integer", "long"):
            return self.integer(shape)
        if kind in ("float", "double"):
            floats = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, -1.0, 1e308])
            return floats | st.sampled_from(["NaN", "Infinity"]) if self.wire else floats
        if kind == "boolean":
            return st.booleans()
        if kind == "timestamp":
            return self.timestamp()
        if kind == "blob":
            raw = st.binary(max_size=64) | st.just(b"\x00" * 100_000)
            return raw.map(lambda b: base64.b64encode(b).decode()) if self.wire else raw
        return st.none()

    def text(self, shape: Shape, location: str | None) -> st.SearchStrategy[Any]:
        if location in ("header", "headers"):
            return HEADER_TEXT  # HTTP cannot carry the rest in a header value
        metadata = shape.metadata
        enum = metadata.get("enum")
        low = int(metadata.get("min", 0))
        high = int(metadata.get("max", 256))
        families: list[st.SearchStrategy[str]] = [
            st.sampled_from(enum) if enum else NAME_TEXT,
            SAFE_TEXT,
            st.sampled_from(self.hostile),
            st.sampled_from(["", "x" * low, "x" * max(low - 1, 0), "x" * min(high, 70_000),
                             "x" * min(high + 1, 70_001)]),
        ]
        if location == "uri":
            return st.one_of(families).filter(bool)  # an empty label leaves the path without the member
        return st.one_of(families)

    def integer(self, shape: Shape) -> st.SearchStrategy[Any]:
        metadata = shape.metadata
        bits = 31 if shape.type_name == "integer" else 63
        low = int(metadata.get("min", -(2**bits)))
        high = int(metadata.get("max", 2**bits - 1))
        values: st.SearchStrategy[Any] = (st.integers(low, high) | st.sampled_from([low, high, low - 1, high + 1])
                                          | st.sampled_from(BIG_INTEGERS))
        if not self.wire:
            values |= st.sampled_from(["abc", "1.5", "", " 7", "0x10"])  # written as given on the query string
        return values

    def timestamp(self) -> st.SearchStrategy[Any]:
        if self.wire:  # epoch seconds, as the JSON protocol writes them, and worse
            return st.one_of(st.floats(-1e10, 1e10), st.sampled_from([0, -1, 1e20, 2**63, "2024-01-01T00:00:00Z",
                                                                       "yesterday", ""]))
        first = datetime(1, 1, 2, tzinfo=UTC)
        return st.integers(0, (datetime(9999, 12, 30, tzinfo=UTC) - first).days).map(
            lambda days: first + timedelta(days=days))

    def wrong_type(self, kind: str) -> st.SearchStrategy[Any]:
        wrong: dict[str, list[Any]] = {
            "structure": [[], "x", 1, True],
            "list": ["x", {}, 1, {"0": "x"}],
            "map": [[], "x", 1],
            "string": [1, 1.5, True, [], {}, ["x"]],
            "integer": ["1", 1.5, True, [], {}, 2**70, -(2**70)],
            "long": ["1", 1.5, [], 2**70],
            "boolean": ["true", 1, 0, [], None],
            "timestamp": [[], {}, True, "not a date", math.inf],
            "blob": [1, [], "not base64 !!", {}],
            "float": ["x", [], True],
            "double": ["x", [], True],
        }
        return st.sampled_from(wrong.get(kind, [None]))
