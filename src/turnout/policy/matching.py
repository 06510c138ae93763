"""Wildcard matching for actions, resources and ARN-valued strings.

* Actions: case-insensitive, ``*`` and ``?`` in the action name; the service prefix must be literal (a
  wildcard service such as ``*:GetObject`` matches nothing); ``*`` alone matches every action. Nothing is
  trimmed: ``"s3: GetObject"`` or ``"s3:Get,Put"`` match nothing.
* Resources: case-sensitive. ``*`` alone matches everything. Otherwise the pattern is read as an ARN: within
  the first five segments a wildcard does not cross ``:``, except that a ``*`` that is the last character of
  a segment may (AWS: "If the * wildcard is the last character of a resource ARN segment, it can expand to
  match beyond the colon boundaries"); in the resource segment ``*``/``?`` match anything, ``/`` and ``:``
  included.
* Truncated ARNs (fewer than six segments) follow the behaviour iam-simulate observed against AWS (its
  P1-P10 matrix): identity, session and boundary policies read the missing segments as ``*``; resource-based
  and VPC endpoint policies do so only when the pattern holds a wildcard; SCPs and RCPs never do.
* ``ArnLike``/``ArnEquals`` (condition operators) compare the six segments separately, with no crossing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from typing import NamedTuple

from turnout.policy.model import ContextValue
from turnout.policy.variables import Resolved, Template, has_variables, parse_template, resolve, static_pieces

_STAR = "\x00"
_QMARK = "\x01"


class ShortArn(IntEnum):
    """How a truncated ARN pattern is read, by the kind of policy that holds it."""

    PAD = 0
    PAD_IF_WILDCARD = 1
    LITERAL = 2


def _marked(pieces: Resolved) -> str:
    """Join pieces, turning glob wildcards into sentinel characters so literal text cannot be a wildcard."""
    out = []
    for text, is_glob in pieces:
        out.append(text.replace("*", _STAR).replace("?", _QMARK) if is_glob else text)
    return "".join(out)


def _segment_regex(segment: str, *, in_resource: bool, crossing: bool) -> str:
    out = []
    last = len(segment) - 1
    for position, char in enumerate(segment):
        if char == _STAR:
            out.append(".*" if in_resource or (crossing and position == last) else "[^:]*")
        elif char == _QMARK:
            out.append("." if in_resource else "[^:]")
        else:
            out.append(re.escape(char))
    return "".join(out)


@lru_cache(maxsize=8192)
def _compile(source: str) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL)


compile_regex = _compile  # for the specialised statements (``compiled.py``): same flags, same cache


MATCH, NO_MATCH, ERROR = 1, 0, -1


def resource_segments(marked: str, mode: ShortArn) -> tuple[list[str] | None, bool]:
    """(segments, mismatch_is_error) of a marked resource pattern as read in ``mode`` (truncated ARNs padded
    with ``*`` segments where they are); None segments: the entry is rejected.

    Truncated ARNs (iam-simulate's observations): where they are expanded, an expanded pattern that does not
    match is an *error* (the statement does not apply, whether the entry is in Resource or NotResource); in
    SCPs/RCPs a truncated ARN that does not end with ``*`` is rejected (an error whatever the resource).
    """
    segments = marked.split(":", 5)
    error_on_mismatch = False
    if marked.startswith("arn:") and len(segments) < 6:
        wild = _STAR in marked or _QMARK in marked
        if mode is ShortArn.LITERAL and not marked.endswith(_STAR):
            return None, True
        if mode is ShortArn.PAD or (mode is ShortArn.PAD_IF_WILDCARD and wild):
            segments = segments + [_STAR] * (6 - len(segments))
            error_on_mismatch = True
    return segments, error_on_mismatch


def resource_regex(marked: str, mode: ShortArn) -> tuple[re.Pattern[str] | None, bool]:
    """(regex, mismatch_is_error) for a marked resource pattern; a None regex: the entry is rejected."""
    segments, error_on_mismatch = resource_segments(marked, mode)
    if segments is None:
        return None, error_on_mismatch
    parts = [
        _segment_regex(segment, in_resource=index == 5, crossing=True) for index, segment in enumerate(segments)
    ]
    return _compile(":".join(parts)), error_on_mismatch


def resource_shape(marked: str, mode: ShortArn) -> tuple[str, str] | None:
    """(prefix, suffix) when the pattern, read in ``mode``, is literal text around one ``*`` that matches any
    run of characters (``:`` included): then ``prefix + anything + suffix`` is the whole match. Else None."""
    segments, _ = resource_segments(marked, mode)
    if segments is None or _QMARK in marked:
        return None
    text = ":".join(segments)
    if text.count(_STAR) != 1:
        return None
    for index, segment in enumerate(segments):
        position = segment.find(_STAR)
        if position >= 0 and index != 5 and position != len(segment) - 1:
            return None  # a "*" inside an ARN segment does not cross ":"
    prefix, _, suffix = text.partition(_STAR)
    return prefix, suffix


def like_regex(pieces: Resolved) -> re.Pattern[str]:
    """``StringLike``: ``*`` any run of characters, ``?`` one character, over the whole string."""
    marked = _marked(pieces)
    return _compile("".join(".*" if c == _STAR else "." if c == _QMARK else re.escape(c) for c in marked))


def arn_like_regex(pieces: Resolved) -> re.Pattern[str] | None:
    """``ArnLike``: six colon-separated segments matched separately; None if the pattern is not an ARN."""
    segments = _marked(pieces).split(":", 5)
    if len(segments) != 6 or segments[0] != "arn":
        return None
    parts = [
        _segment_regex(segment, in_resource=index == 5, crossing=False) for index, segment in enumerate(segments)
    ]
    return _compile(":".join(parts))


def is_arn(value: str) -> bool:
    return value.startswith("arn:") and value.count(":") >= 5


class StaticForm(NamedTuple):
    """A Resource entry without variables as read in one mode: ``regex`` (None: the entry is rejected),
    ``mismatch_is_error``, ``literal`` (the text, when matching is string equality) and ``shape`` (prefix and
    suffix, when the entry is text around one ``*`` that matches anything)."""

    regex: re.Pattern[str] | None
    mismatch_is_error: bool
    literal: str | None
    shape: tuple[str, str] | None


@dataclass(slots=True)
class ResourcePattern:
    """One entry of a Resource/NotResource element, precompiled where it has no variables."""

    text: str
    template: Template
    dynamic: bool
    everything: bool
    _static: dict[ShortArn, tuple[re.Pattern[str] | None, bool]] = field(default_factory=dict, repr=False)

    def static_form(self, mode: ShortArn) -> StaticForm:
        """How an entry without variables reads in ``mode`` (for the specialised statements)."""
        compiled = self._static.get(mode)
        marked = _marked(static_pieces(self.template))
        if compiled is None:
            compiled = resource_regex(marked, mode)
            self._static[mode] = compiled
        regex, mismatch_is_error = compiled
        if regex is None:
            return StaticForm(None, mismatch_is_error, None, None)
        plain = not mismatch_is_error and _STAR not in marked and _QMARK not in marked
        return StaticForm(regex, mismatch_is_error, marked if plain else None, resource_shape(marked, mode))

    def state(self, resource: str, mode: ShortArn, values: Mapping[str, ContextValue]) -> int:
        """MATCH, NO_MATCH or ERROR; an entry whose variable has no value matches nothing (AWS)."""
        if self.everything:
            return MATCH
        if not self.dynamic:
            compiled = self._static.get(mode)
            if compiled is None:
                compiled = resource_regex(_marked(static_pieces(self.template)), mode)
                self._static[mode] = compiled
        else:
            pieces = resolve(self.template, values)
            if not isinstance(pieces, tuple):
                return NO_MATCH
            compiled = resource_regex(_marked(pieces), mode)
        regex, mismatch_is_error = compiled
        if regex is None:
            return ERROR
        if regex.fullmatch(resource) is not None:
            return MATCH
        return ERROR if mismatch_is_error else NO_MATCH


def compile_resource(text: str) -> ResourcePattern:
    template = parse_template(text)
    return ResourcePattern(text, template, has_variables(template), text == "*")


def _action_regex(name_pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in name_pattern))


@dataclass(frozen=True, slots=True)
class ActionMatcher:
    """The Action (or NotAction) element: ``everything`` for ``*``, exact lower-case names, and patterns."""

    everything: bool
    exact: frozenset[str]
    patterns: tuple[tuple[str, re.Pattern[str]], ...]  # (service, compiled name pattern)
    services: frozenset[str]  # literal service prefixes named (the index keys)

    def matches(self, service: str, action_lower: str) -> bool:
        if self.everything or action_lower in self.exact:
            return True
        if not self.patterns:
            return False
        name = action_lower[len(service) + 1:]
        return any(svc == service and regex.fullmatch(name) is not None for svc, regex in self.patterns)


def compile_actions(values: list[str]) -> tuple[ActionMatcher, list[str]]:
    """Normalise action strings; returns the matcher and the problems found (unusable entries never match)."""
    everything = False
    exact: set[str] = set()
    patterns: list[tuple[str, re.Pattern[str]]] = []
    services: set[str] = set()
    problems: list[str] = []
    for value in values:
        if value == "*":
            everything = True
            continue
        service, colon, name = value.lower().partition(":")
        if not colon or not service or "*" in service or "?" in service:
            problems.append(f"invalid action {value!r}")
            continue
        services.add(service)
        if "*" in name or "?" in name:
            patterns.append((service, _action_regex(name)))
        else:
            exact.add(f"{service}:{name}")
    return ActionMatcher(everything, frozenset(exact), tuple(patterns), frozenset(services)), problems
