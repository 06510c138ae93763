"""Sample values generated from botocore shapes, for the wire round-trip tests.

Two generators: :class:`Sampler` is deterministic (a handful of samples per shape that together set every member,
with lists of 0, 1 and 2 items, maps, unicode and characters that need escaping in XML, URLs and JSON), and
:func:`strategy` builds Hypothesis strategies from the same shapes. Values are what a boto3 caller (for inputs)
or a Turnout provider (for outputs) hands over: ``datetime`` for timestamps, ``bytes`` for blobs.

Constraints (min/max/enum/pattern) are deliberately ignored: botocore's serializers do not check them when called
directly, and the round trip must carry any value, not only valid ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.model import ListShape, MapShape, Shape, StructureShape
from hypothesis import strategies as st

FULL, ONE, EMPTY, MINIMAL = "full", "one", "empty", "minimal"
MAX_DEPTH = 12

# Strings that exercise escaping in every protocol: XML markup, URL-reserved characters, JSON escapes, CR/LF
# (XML parsers fold a bare CR unless it is written as a character reference), unicode beyond the BMP.
STRINGS = (
    "plain",
    "a&b<c>d\"e'f",
    "sp ace+plus=eq;semi/slash?q#h%25pct&amp;",
    "ünïcödé 漢字 \U0001f642",
    "line\nbreak\ttab\r\ncrlf\rcr",
    "  padded  ",
    "",
    "back\\slash \"quoted\" ]]> <![CDATA[x]]>",
)
BLOBS = (bytes(range(256)), b"\x00", b"", "text blob \u00e9".encode())
FLOATS = (0.1, -2.5e-300, 0.0, 1e300, 123456.789, -0.5)
SPECIAL_FLOATS = (math.inf, -math.inf, math.nan)
BASE_TIME = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)
TIMES = (
    BASE_TIME,
    datetime(2009, 1, 1, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC),
)
DOCUMENTS: tuple[Any, ...] = (
    {"s": "x<&>", "n": 1, "f": 1.5, "b": True, "null": None, "l": [1, "two", {"three": 3}], "o": {"e": []}},
    [1, 2],
    {},
    "scalar",
)


@dataclass
class Sampler:
    """Deterministic samples. ``special_floats`` adds inf/-inf/NaN (requests only: AWS never answers them)."""

    special_floats: bool = True
    counter: int = 0
    covered: set[tuple[str, str]] = field(default_factory=set)
    rotation: dict[str, int] = field(default_factory=dict)

    def samples(self, shape: StructureShape | None) -> list[dict[str, Any]]:
        """Samples for an operation's input or output: full, one-item, empty-collection and required-only, then
        more full samples until every member (each union member in turn) has been set once."""
        if shape is None:
            return [{}]
        wanted = members_of(shape)
        out = []
        for pick, mode in enumerate((FULL, ONE, EMPTY, MINIMAL, FULL, FULL, FULL, FULL, FULL, FULL)):
            if pick >= 4 and wanted <= self.covered:
                break
            self.counter = pick
            value = self.value(shape, mode, pick, 0)
            out.append(value if isinstance(value, dict) else {})
        return out

    def value(self, shape: Shape, mode: str, pick: int, depth: int) -> Any:
        kind = shape.type_name
        self.counter += 1
        n = self.counter
        if depth > MAX_DEPTH:
            mode = MINIMAL
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            return self._structure(shape, mode, pick, depth)
        if kind == "list":
            assert isinstance(shape, ListShape)
            size = {FULL: 2, ONE: 1}.get(mode, 0)
            item_mode = mode if size else ONE
            return [self.value(shape.member, item_mode, pick + i, depth + 1) for i in range(size)]
        if kind == "map":
            assert isinstance(shape, MapShape)
            size = {FULL: 2, ONE: 1}.get(mode, 0)
            return {
                f"k{i}-{STRINGS[(n + i) % len(STRINGS)]}": self.value(shape.value, mode, pick + i, depth + 1)
                for i in range(size)
            }
        return self.scalar(kind, n)

    def _structure(self, shape: StructureShape, mode: str, pick: int, depth: int) -> Any:
        if shape.is_document_type:
            return DOCUMENTS[pick % len(DOCUMENTS)]
        members = shape.members
        if shape.is_tagged_union:
            names = list(members)
            turn = self.rotation.get(shape.name, 0)
            self.rotation[shape.name] = turn + 1
            chosen = names[turn % len(names)]
            self.covered.add((shape.name, chosen))
            return {chosen: self.value(members[chosen], FULL if mode == MINIMAL else mode, pick, depth + 1)}
        required = set(shape.required_members)
        out = {}
        for name, member in members.items():
            if mode == MINIMAL and name not in required:
                continue
            self.covered.add((shape.name, name))
            out[name] = self.value(member, mode, pick, depth + 1)
        return out

    def scalar(self, kind: str, n: int) -> Any:
        if kind == "string":
            return f"{STRINGS[n % len(STRINGS)]}{n}" if n % 3 else STRINGS[n % len(STRINGS)]
        if kind == "integer":
            return (1000 + n, -n, 0, 2**31 - 1)[n % 4]
        if kind == "long":
            return (2**53 + n, -(2**40) - n, 0, 2**63 - 1)[n % 4]
        if kind in ("float", "double"):
            if self.special_floats and n % 7 == 0:
                return SPECIAL_FLOATS[n % len(SPECIAL_FLOATS)]
            return FLOATS[n % len(FLOATS)] + (n if n % 2 else 0)
        if kind == "boolean":
            return n % 2 == 0
        if kind == "timestamp":
            return TIMES[n % len(TIMES)] + timedelta(seconds=n)
        if kind == "blob":
            return BLOBS[n % len(BLOBS)]
        raise AssertionError(f"no sample for {kind}")


def walk(shape: Shape, depth: int = 0) -> Iterator[Shape]:
    """Every shape reachable from ``shape`` (each structure name once, to the sampler's depth)."""
    seen: set[str] = set()
    stack = [(shape, 0)]
    while stack:
        current, level = stack.pop()
        yield current
        if level > MAX_DEPTH:
            continue
        if isinstance(current, StructureShape):
            if current.name in seen:
                continue
            seen.add(current.name)
            stack.extend((m, level + 1) for m in current.members.values())
        elif isinstance(current, ListShape):
            stack.append((current.member, level + 1))
        elif isinstance(current, MapShape):
            stack.append((current.value, level + 1))


def members_of(shape: Shape | None) -> set[tuple[str, str]]:
    """(structure, member) pairs reachable from ``shape``: what the samples must set at least once."""
    if shape is None:
        return set()
    return {
        (s.name, name)
        for s in walk(shape)
        if isinstance(s, StructureShape) and not s.is_document_type
        for name in s.members
    }


# -- Hypothesis ------------------------------------------------------------------------------------------------

# Text AWS can carry in every protocol: no surrogates (not encodable), and none of the C0 controls that XML 1.0
# cannot represent even as character references (tab, LF and CR stay in).
_SURROGATE: tuple[Literal["Cs"]] = ("Cs",)
XML_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=_SURROGATE,
                  exclude_characters="".join(chr(c) for c in range(32) if c not in (9, 10, 13))),
    max_size=12,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _deferred(shape: Shape, special_floats: bool, depth: int) -> st.SearchStrategy[Any]:
    return st.deferred(lambda: strategy(shape, special_floats=special_floats, depth=depth))


def strategy(shape: Shape | None, *, special_floats: bool, depth: int = 0) -> st.SearchStrategy[Any]:
    """A Hypothesis strategy for values of ``shape`` (bounded sizes and depth; a union always has one member)."""
    if shape is None:
        return st.just({})
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if shape.is_document_type:
            return st.sampled_from(DOCUMENTS)
        if depth > 5 and not shape.is_tagged_union:
            return st.just({})
        members = {name: _deferred(m, special_floats, depth + 1) for name, m in shape.members.items()}
        if shape.is_tagged_union:
            return st.one_of([st.fixed_dictionaries({name: s}) for name, s in members.items()])
        return st.fixed_dictionaries({}, optional=members)
    if kind == "list":
        assert isinstance(shape, ListShape)
        return st.lists(strategy(shape.member, special_floats=special_floats, depth=depth + 1), max_size=3)
    if kind == "map":
        assert isinstance(shape, MapShape)
        return st.dictionaries(XML_TEXT, strategy(shape.value, special_floats=special_floats, depth=depth + 1),
                               max_size=3)
    if kind == "string":
        return XML_TEXT
    if kind in ("integer", "long"):
        bits = 31 if kind == "integer" else 63
        return st.integers(-(2**bits), 2**bits - 1)
    if kind in ("float", "double"):
        return st.floats(allow_nan=special_floats, allow_infinity=special_floats)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        # Microsecond instants between 1900 and 2200, tz-aware UTC.
        return st.integers(-(70 * 365 * 86400 * 10**6), 230 * 365 * 86400 * 10**6).map(
            lambda us: _EPOCH + timedelta(microseconds=us))
    if kind == "blob":
        return st.binary(max_size=16)
    raise AssertionError(f"no strategy for {kind}")
