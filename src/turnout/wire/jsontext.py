"""JSON text that callers send (request bodies, policy documents), parsed so that every failure is a ValueError.

``json.loads`` raises :class:`RecursionError` (not a ValueError) on text nested deeper than the interpreter's
stack allows, such as ``'{"a":' + '[' * 1000 + ']' * 1000 + '}'``; callers that turn a ValueError into the
service's own error (SerializationException, MalformedPolicyDocument) would answer a 500 instead. :func:`loads`
makes it a ValueError, and refuses nesting deeper than :data:`MAX_DEPTH` before anything downstream (validation,
policy compilation, CloudTrail's request parameters) walks the value recursively.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64  # our bound: no AWS input shape or policy grammar nests anywhere near this deep
_OPENERS = re.compile(r"[\[{]")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
# An escape of a surrogate, or one encoded as UTF-8 bytes (invalid UTF-8, which json.loads decodes from bytes with
# "surrogatepass").
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


class TooDeep(ValueError):
    """The text nests arrays and objects deeper than :data:`MAX_DEPTH`."""


def loads(text: str | bytes) -> Any:
    """``json.loads(text)``; a ValueError (never a RecursionError) for text too deeply nested."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeep("JSON nested too deeply") from None
    if _may_nest(text) and depth(value) > MAX_DEPTH:
        raise TooDeep("JSON nested too deeply")
    return value


def _may_nest(text: str | bytes) -> bool:
    """Whether the text has enough brackets to nest past MAX_DEPTH (counted at C speed: the usual case is no)."""
    if isinstance(text, bytes):
        return text.count(b"[") + text.count(b"{") > MAX_DEPTH
    return text.count("[") + text.count("{") > MAX_DEPTH


def depth(value: Any) -> int:
    """How deeply ``value`` nests lists and dicts (a scalar: 0), walked without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        level += 1
        if level > deepest:
            deepest = level
            if deepest > MAX_DEPTH:
                return deepest
        stack.extend((child, level) for child in item)
    return deepest


def has_lone_surrogate(body: bytes, value: Any) -> bool:
    """Whether a parsed JSON body holds a string with a lone UTF-16 surrogate (``"\\ud800"``): text that has no
    UTF-8 form. Only an escape or surrogate bytes (which json.loads lets through from bytes) can make one, so
    bodies without either are answered at once."""
    if _MAYBE_SURROGATE.search(body) is None:
        return False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item) is not None:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
