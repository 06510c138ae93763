"""Policy variables: ``${aws:username}``, ``${aws:PrincipalTag/team, 'default'}`` and ``${*}``/``${?}``/``${$}``.

A policy string is parsed once into a *template*: a tuple of pieces, each either ``Glob`` text (where ``*`` and
``?`` are wildcards for the operators that take them), ``Lit`` text (never a wildcard: the escapes, and later the
values substituted for variables) or a ``Var``. Resolving a template against a request gives a tuple of
``(text, is_glob)`` pieces, ``NO_VALUE`` when a variable has no value and no default (AWS: the value then
matches nothing, and negated operators match it), or ``BAD_VALUE`` when a variable resolves to a multivalued
key (which cannot be substituted; the value is unusable).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final

from turnout.policy.model import ContextValue


@dataclass(frozen=True, slots=True)
class Glob:
    text: str


@dataclass(frozen=True, slots=True)
class Lit:
    text: str


@dataclass(frozen=True, slots=True)
class Var:
    name: str
    key: str  # lower-cased, for the case-insensitive context lookup
    default: str | None


Piece = Glob | Lit | Var
Template = tuple[Piece, ...]
Resolved = tuple[tuple[str, bool], ...]  # (text, is_glob)


class Unresolved(Enum):
    NO_VALUE = "no value"
    BAD_VALUE = "bad value"


NO_VALUE: Final = Unresolved.NO_VALUE
BAD_VALUE: Final = Unresolved.BAD_VALUE

_VARIABLE = re.compile(r"\$\{([^{}]*)\}")
_BODY = re.compile(r"^\s*([A-Za-z0-9_.:/+=@-]+)\s*(?:,\s*'([^']*)'\s*)?$")
_ESCAPES: Final = {"*": "*", "?": "?", "$": "$"}


def parse_template(text: str) -> Template:
    """Split ``text`` into glob text, literal escapes and variables (a malformed ``${...}`` stays as text)."""
    if "${" not in text:
        return (Glob(text),)
    pieces: list[Piece] = []
    position = 0
    for found in _VARIABLE.finditer(text):
        body = found.group(1)
        escape = _ESCAPES.get(body.strip())
        matched = _BODY.match(body)
        if escape is None and matched is None:
            continue
        if found.start() > position:
            pieces.append(Glob(text[position:found.start()]))
        if escape is not None:
            pieces.append(Lit(escape))
        elif matched is not None:
            name = matched.group(1)
            pieces.append(Var(name, name.lower(), matched.group(2)))
        position = found.end()
    if position < len(text):
        pieces.append(Glob(text[position:]))
    return tuple(pieces)


def has_variables(template: Template) -> bool:
    return any(isinstance(piece, Var) for piece in template)


def static_pieces(template: Template) -> Resolved:
    """The pieces of a template without variables (callers check ``has_variables`` first)."""
    return tuple((piece.text, isinstance(piece, Glob)) for piece in template if not isinstance(piece, Var))


def resolve(template: Template, values: Mapping[str, ContextValue]) -> Resolved | Unresolved:
    """Substitute variables from the (lower-cased) request context."""
    out: list[tuple[str, bool]] = []
    for piece in template:
        if isinstance(piece, Var):
            value = values.get(piece.key)
            if value is None:
                if piece.default is None:
                    return NO_VALUE
                out.append((piece.default, False))
            elif isinstance(value, str):
                out.append((value, False))
            else:
                return BAD_VALUE
        else:
            out.append((piece.text, isinstance(piece, Glob)))
    return tuple(out)


def joined(pieces: Resolved) -> str:
    return "".join(text for text, _ in pieces)
