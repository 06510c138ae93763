"""EC2's ``Filter.N.Name`` / ``Filter.N.Value.M``: values of one filter OR together, filters AND together.

Values may hold the wildcards ``*`` (any run of characters) and ``?`` (one character); a backslash escapes
either (``\\*`` is a literal star). Matching is case-sensitive, on the whole value. ``tag:<key>`` matches the
value of the tag ``key``; ``tag-key`` any tag key; ``tag-value`` any tag value. A filter name the operation does
not know is refused as AWS refuses it: InvalidParameterValue "The filter 'x' is invalid". A filter sent without
values matches nothing (AWS does not document the case).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any, Generic, TypeVar

from .errors import invalid_value

T = TypeVar("T")

Value = str | int | bool | None
Field = Callable[[T], Value | Iterable[Value]]


def _text(value: Value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _texts(raw: Value | Iterable[Value]) -> list[str]:
    if raw is None or isinstance(raw, str | int | bool):
        single = _text(raw)
        return [] if single is None else [single]
    return [t for t in (_text(v) for v in raw) if t is not None]


# A compiled filter value: literal characters, and the two wildcards as markers (a literal "*" stays a string).
_STAR, _ONE = 0, 1
Token = str | int


@lru_cache(maxsize=1024)
def pattern(value: str) -> tuple[Token, ...]:
    """A filter value as tokens (``*`` and ``?`` wildcards, backslash escapes; a trailing backslash is literal)."""
    out: list[Token] = []
    escaped = False
    for ch in value:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "*":
            if not out or out[-1] != _STAR:
                out.append(_STAR)
        elif ch == "?":
            out.append(_ONE)
        else:
            out.append(ch)
    if escaped:
        out.append("\\")
    return tuple(out)


def wildcard_match(tokens: tuple[Token, ...], text: str) -> bool:
    """Whole-value wildcard matching, backtracking only to the last star (at most len(text) * len(tokens) steps,
    where a regular expression could take exponential time on a hostile value)."""
    t = p = 0
    star, mark = -1, 0
    while t < len(text):
        token = tokens[p] if p < len(tokens) else None
        if token == _ONE or (isinstance(token, str) and token == text[t]):
            t += 1
            p += 1
        elif token == _STAR:
            star, mark = p, t
            p += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            t = mark
        else:
            return False
    while p < len(tokens) and tokens[p] == _STAR:
        p += 1
    return p == len(tokens)


class Filters(Generic[T]):
    """The filters one Describe operation accepts: named fields of an item, and (optionally) its tags."""

    def __init__(self, fields: Mapping[str, Field[T]], tags: Callable[[T], Mapping[str, str]] | None = None) -> None:
        self.fields = dict(fields)
        self.tags = tags

    def _values(self, name: str) -> Callable[[T], list[str]] | None:
        field = self.fields.get(name)
        if field is not None:
            return lambda item: _texts(field(item))
        tags = self.tags
        if tags is None:
            return None
        if name.startswith("tag:"):
            key = name[4:]
            return lambda item: [v for k, v in tags(item).items() if k == key]
        if name == "tag-key":
            return lambda item: list(tags(item))
        if name == "tag-value":
            return lambda item: list(tags(item).values())
        return None

    def compile(self, filters: list[dict[str, Any]] | None) -> Callable[[T], bool]:
        """A predicate for the request's ``Filters``; raises InvalidParameterValue for an unknown filter."""
        tests: list[tuple[Callable[[T], list[str]], list[tuple[Token, ...]]]] = []
        for entry in filters or []:
            name = entry.get("Name")
            values = self._values(name) if isinstance(name, str) else None
            if values is None:
                raise invalid_value(f"The filter '{name if isinstance(name, str) else 'null'}' is invalid")
            patterns = [pattern(v) for v in entry.get("Values") or [] if isinstance(v, str)]
            tests.append((values, patterns))

        def matches(item: T) -> bool:
            for values, patterns in tests:
                have = values(item)
                if not any(wildcard_match(p, v) for p in patterns for v in have):
                    return False
            return True

        return matches

    def apply(self, items: Iterable[T], filters: list[dict[str, Any]] | None) -> list[T]:
        test = self.compile(filters)
        return [item for item in items if test(item)]
