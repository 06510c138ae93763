"""Server-side input validation from the service model, with AWS's wording.

AWS's front ends report constraint violations as
``1 validation error detected: Value 'x' at 'roleName' failed to satisfy constraint: Member must ...``;
several violations are counted and joined with ``; ``. Paths use lower-camel member names and, for list
elements, ``name.N.member`` as AWS prints them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

MAX_REPORTED = 10


@lru_cache(maxsize=4096)
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None  # a Java-only construct: AWS enforces it, we cannot; never reject on it


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return "[" + ", ".join(str(v) for v in value) + "]" if isinstance(value, list) else str(value)
    return str(value)


def validate(shape: StructureShape | None, params: dict[str, Any]) -> str | None:
    """Return AWS's validation message for ``params``, or None when they satisfy the model."""
    if shape is None:
        return None
    errors: list[str] = []
    _structure(shape, params, "", errors)
    if not errors:
        return None
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(errors[:MAX_REPORTED])


def _structure(shape: StructureShape, value: dict[str, Any], path: str, errors: list[str]) -> None:
    required = shape.required_members
    for name, member in shape.members.items():
        member_path = f"{path}.{_camel(name)}" if path else _camel(name)
        member_value = value.get(name)
        if member_value is None:
            if name in required:
                errors.append(f"Value null at '{member_path}' failed to satisfy constraint: Member must not be null")
            continue
        _value(member, member_value, member_path, errors)


def _value(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    meta = shape.metadata
    type_name = shape.type_name
    prefix = f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must"
    if type_name == "structure":
        assert isinstance(shape, StructureShape)
        if isinstance(value, dict):
            _structure(shape, value, path, errors)
        return
    if type_name == "list":
        assert isinstance(shape, ListShape)
        _length(meta, len(value), prefix, errors)
        for index, item in enumerate(value, 1):
            _value(shape.member, item, f"{path}.{index}.member", errors)
        return
    if type_name == "map":
        assert isinstance(shape, MapShape)
        _length(meta, len(value), prefix, errors)
        for key, item in value.items():
            _value(shape.key, key, f"{path}.{key}.key", errors)
            _value(shape.value, item, f"{path}.{key}.value", errors)
        return
    if type_name == "string" and isinstance(value, str):
        _length(meta, len(value), prefix, errors)
        enum = meta.get("enum")
        if enum and value not in enum:
            errors.append(f"{prefix} satisfy enum value set: [{', '.join(enum)}]")
        pattern = meta.get("pattern")
        if pattern:
            compiled = _pattern(pattern)
            if compiled is not None and compiled.fullmatch(value) is None:
                errors.append(f"{prefix} satisfy regular expression pattern: {pattern}")
        return
    if type_name in ("integer", "long", "float", "double") and not isinstance(value, bool):
        if "min" in meta and value < meta["min"]:
            errors.append(f"{prefix} have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            errors.append(f"{prefix} have value less than or equal to {meta['max']}")
        return
    if type_name == "blob" and isinstance(value, bytes | bytearray):
        _length(meta, len(value), prefix, errors)


def _length(meta: dict[str, Any], length: int, prefix: str, errors: list[str]) -> None:
    if "min" in meta and length < meta["min"]:
        errors.append(f"{prefix} have length greater than or equal to {meta['min']}")
    if "max" in meta and length > meta["max"]:
        errors.append(f"{prefix} have length less than or equal to {meta['max']}")
