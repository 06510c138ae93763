"""Server-side input validation from the service model, with AWS's wording.

AWS's front ends report constraint violations as
``1 validation error detected: Value 'x' at 'roleName' failed to satisfy constraint: Member must ...``;
several violations are counted and joined with ``; ``. Paths use lower-camel member names and, for list
elements, ``name.N.member`` as AWS prints them (``tags.1.member.key``). The forms below are AWS's as seen in
its responses:

* a missing required member: ``Value null at 'roleName' failed to satisfy constraint: Member must not be null``;
* a string: ``Member must satisfy regular expression pattern: <pattern>`` (reported before the length),
  ``Member must have length less than or equal to 64`` / ``greater than or equal to 1``,
  ``Member must satisfy enum value set: [A, B]``; numbers: ``Member must have value less than or equal to N``;
* a sensitive member's value is not echoed: ``Value at 'password' failed to satisfy constraint: ...``;
* a list of scalars is reported once, at the list, with every constraint of its members:
  ``Value '[a, b]' at 'clientIDList' failed to satisfy constraint: Member must satisfy constraint: [Member must
  have length less than or equal to 255, Member must have length greater than or equal to 1]``; maps likewise
  with ``Map keys must satisfy constraint: [...]`` then ``Map value must satisfy constraint: [...]``.

Each shape is compiled once into a checker (cached by shape identity); members without constraints cost nothing.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

# AWS does not document a cap; the count always covers every violation, the message lists the first ten.
MAX_REPORTED = 10

Check = Callable[[Any, str, list[str]], None]  # value, AWS path, errors to append to
Test = Callable[[Any], bool]  # True when a scalar satisfies all its constraints
_checks: dict[int, tuple[Shape, Check | None]] = {}


ENUM_WORDING = "satisfy enum value set: ["


def violations(shape: StructureShape | None, params: dict[str, Any]) -> list[str]:
    """Each constraint ``params`` violate, in AWS's wording (``Value 'x' at 'y' failed to satisfy ...``)."""
    if shape is None:
        return []
    check = _checker(shape)
    if check is None:
        return []
    errors: list[str] = []
    check(params, "", errors)
    return errors


def validate(shape: StructureShape | None, params: dict[str, Any]) -> str | None:
    """Return AWS's validation message for ``params``, or None when they satisfy the model."""
    return message(violations(shape, params))


def message(errors: list[str]) -> str | None:
    """AWS's ``N validation error(s) detected: ...`` for a list of violations (None when there are none)."""
    if not errors:
        return None
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(errors[:MAX_REPORTED])


# -- rendering --------------------------------------------------------------------------------------------------

def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def show(value: Any) -> str:
    """A value as AWS echoes it (Java's ``toString``: ``[a, b]`` for lists, ``{k=v}`` for maps)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"  # AWS prints its internal buffer object here; not reproducible
    return str(value)


def _prefix(shape: Shape, value: Any, path: str) -> str:
    if shape.metadata.get("sensitive"):
        return f"Value at '{path}' failed to satisfy constraint: "
    return f"Value '{show(value)}' at '{path}' failed to satisfy constraint: "


# -- patterns ---------------------------------------------------------------------------------------------------

_PROPERTY = re.compile(r"\\p\{(\w+)\}")
_SURROGATES = re.compile(r"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", re.IGNORECASE)


@cache
def _category_class(category: str) -> str:
    """Character-class ranges (without brackets) for a Unicode general category prefix such as ``L``."""
    points = [cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)).startswith(category)]
    ranges: list[str] = []
    start = prev = points[0]
    for cp in [*points[1:], -1]:
        if cp != prev + 1:
            ranges.append(f"\\U{start:08x}" if start == prev else f"\\U{start:08x}-\\U{prev:08x}")
            start = cp
        prev = cp
    return "".join(ranges)


def _java_to_python(pattern: str) -> str:
    """Rewrite the Java regex constructs the models use that Python's ``re`` lacks: ``\\p{L}``-style
    categories and supplementary characters written as UTF-16 surrogate pairs."""
    pattern = _SURROGATES.sub(
        lambda m: f"\\U{0x10000 + ((int(m[1], 16) - 0xD800) << 10) + int(m[2], 16) - 0xDC00:08x}", pattern
    )
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        match = _PROPERTY.match(pattern, index) if char == "\\" else None
        if match is not None:
            ranges = _category_class(match[1])
            out.append(ranges if in_class else f"[{ranges}]")
            index = match.end()
            continue
        if char == "\\":
            out.append(pattern[index:index + 2])
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        index += 1
    return "".join(out)


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The model's (Java) pattern for Python: ``\\w``, ``\\d``, ``\\s`` are ASCII-only as in Java, and the
    whole value must match (Java's ``matches``). None for a construct we cannot translate: never reject on it."""
    try:
        return re.compile(_java_to_python(pattern), re.ASCII)
    except (re.error, KeyError, IndexError):
        return None


# -- compiled checks --------------------------------------------------------------------------------------------

def _checker(shape: Shape) -> Check | None:
    cached = _checks.get(id(shape))
    if cached is not None and cached[0] is shape:
        return cached[1]
    _checks[id(shape)] = (shape, None)  # recursive shapes: the inner reference sees "nothing to check" for now
    kind = shape.type_name
    if kind == "structure":
        check = _structure(shape)
    elif kind == "list":
        check = _list(shape)
    elif kind == "map":
        check = _map(shape)
    else:
        check = _scalar(shape)
    _checks[id(shape)] = (shape, check)
    return check


def _constraints(shape: Shape) -> list[tuple[str, str, Test]]:
    """The constraints of a scalar as (kind, wording after "Member must", test), in the order AWS reports
    separate violations of one value: pattern first, then length or range, then enum. String lengths count
    code points (Smithy's definition)."""
    meta = shape.metadata
    kind = shape.type_name
    out: list[tuple[str, str, Test]] = []
    if kind == "string":
        pattern = meta.get("pattern")
        compiled = compile_pattern(pattern) if pattern else None
        if compiled is not None:
            out.append(("pattern", f"satisfy regular expression pattern: {pattern}", _matches(compiled)))
    if kind in ("string", "blob"):
        out.extend(_constraints_of_size(shape))
    elif kind in ("integer", "long", "float", "double"):
        if "min" in meta:
            low = meta["min"]
            out.append(("min", f"have value greater than or equal to {low}", lambda v: v >= low))
        if "max" in meta:
            high = meta["max"]
            out.append(("max", f"have value less than or equal to {high}", lambda v: v <= high))
    enum = meta.get("enum") if kind == "string" else None
    if enum:
        allowed = frozenset(enum)
        out.append(("enum", f"satisfy enum value set: [{', '.join(enum)}]", lambda v: v in allowed))
    return out


def _matches(compiled: re.Pattern[str]) -> Test:
    return lambda v: compiled.fullmatch(v) is not None


_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str, "integer": int, "long": int, "float": (int, float), "double": (int, float),
    "blob": (bytes, bytearray),
}


def _applies(shape: Shape) -> Test:
    """Whether a value has the Python type the constraints of ``shape`` are written for."""
    expected = _TYPES.get(shape.type_name, object)
    return lambda v: isinstance(v, expected) and not isinstance(v, bool)


def _scalar(shape: Shape) -> Check | None:
    constraints = _constraints(shape)
    if not constraints:
        return None
    applies = _applies(shape)

    def check(value: Any, path: str, errors: list[str]) -> None:
        if not applies(value):
            return
        for _, wording, test in constraints:
            if not test(value):
                errors.append(f"{_prefix(shape, value, path)}Member must {wording}")

    return check


_NOT_NULL = "Member must not be null"
_BRACKET_ORDER = {"max": 0, "min": 1, "pattern": 2, "enum": 3}


def _bracket(member: Shape) -> tuple[str, Test] | None:
    """``[Member must ..., Member must ...]`` and a test for the scalar members of a list or map; None when
    the members have no constraints. AWS lists every constraint of the member, maximum first."""
    constraints = _constraints(member)
    if not constraints:
        return None
    ranked = sorted(constraints, key=lambda c: _BRACKET_ORDER[c[0]])
    wording = "[" + ", ".join(f"Member must {w}" for _, w, _ in ranked) + "]"
    applies = _applies(member)
    tests = [t for _, _, t in constraints]
    return wording, lambda v: not applies(v) or all(t(v) for t in tests)


def _structure(shape: StructureShape) -> Check | None:
    if shape.is_document_type:
        return None
    required = set(shape.required_members)
    plan = []
    for name, member in shape.members.items():
        member_check = _checker(member)
        if member_check is not None or name in required:
            plan.append((name, _camel(name), name in required, member_check))
    if not plan:
        return None

    def check(value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, dict):
            return
        for name, segment, is_required, member_check in plan:
            item = value.get(name)
            member_path = f"{path}.{segment}" if path else segment
            if item is None:
                if is_required:
                    errors.append(f"Value null at '{member_path}' failed to satisfy constraint: {_NOT_NULL}")
            elif member_check is not None:
                member_check(item, member_path, errors)

    return check


def _list(shape: ListShape) -> Check | None:
    own = _constraints_of_size(shape)
    member = shape.member
    bracket = _bracket(member) if member.type_name not in ("structure", "list", "map") else None
    item_check = _checker(member) if bracket is None else None
    if not own and bracket is None and item_check is None:
        return None
    sensitive = shape.metadata.get("sensitive") or member.metadata.get("sensitive")

    def check(value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, list | tuple):
            return
        _size(shape, own, value, path, errors)
        if bracket is not None:
            wording, test = bracket
            if not all(test(item) for item in value):
                errors.append(_collection_prefix(sensitive, value, path) + f"Member must satisfy constraint: {wording}")
        elif item_check is not None:
            for index, item in enumerate(value, 1):
                if item is not None:
                    item_check(item, f"{path}.{index}.member", errors)

    return check


def _map(shape: MapShape) -> Check | None:
    own = _constraints_of_size(shape)
    keys = _bracket(shape.key)
    value_shape = shape.value
    values = _bracket(value_shape) if value_shape.type_name not in ("structure", "list", "map") else None
    value_check = _checker(value_shape) if values is None else None
    if not own and keys is None and values is None and value_check is None:
        return None
    sensitive = shape.metadata.get("sensitive") or value_shape.metadata.get("sensitive")

    def check(value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, dict):
            return
        _size(shape, own, value, path, errors)
        prefix = _collection_prefix(sensitive, value, path)
        if keys is not None and not all(keys[1](k) for k in value):
            errors.append(f"{prefix}Map keys must satisfy constraint: {keys[0]}")
        if values is not None and not all(values[1](v) for v in value.values()):
            errors.append(f"{prefix}Map value must satisfy constraint: {values[0]}")
        elif value_check is not None:
            for key, item in value.items():
                if item is not None:
                    value_check(item, f"{path}.{key}.value", errors)  # AWS's path for map values: not seen

    return check


def _constraints_of_size(shape: Shape) -> list[tuple[str, str, Test]]:
    meta = shape.metadata
    out: list[tuple[str, str, Test]] = []
    if "min" in meta:
        low = meta["min"]
        out.append(("min", f"have length greater than or equal to {low}", lambda v: len(v) >= low))
    if "max" in meta:
        high = meta["max"]
        out.append(("max", f"have length less than or equal to {high}", lambda v: len(v) <= high))
    return out


def _size(shape: Shape, own: list[tuple[str, str, Test]], value: Any, path: str, errors: list[str]) -> None:
    for _, wording, test in own:
        if not test(value):
            errors.append(f"{_prefix(shape, value, path)}Member must {wording}")


def _collection_prefix(sensitive: Any, value: Any, path: str) -> str:
    if sensitive:
        return f"Value at '{path}' failed to satisfy constraint: "
    return f"Value '{show(value)}' at '{path}' failed to satisfy constraint: "
