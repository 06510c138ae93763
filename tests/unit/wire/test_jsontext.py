"""wire/jsontext: JSON text from callers fails only with ValueError (never RecursionError), deep nesting is
refused past MAX_DEPTH, and lone surrogates are told apart from valid pairs and escaped backslashes."""

from __future__ import annotations

import json

import pytest

from turnout.wire.jsontext import MAX_DEPTH, TooDeep, depth, has_lone_surrogate, loads


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_the_issue_probe_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        loads('{"a":' + nested(1000) + "}")
    with pytest.raises(TooDeep):
        loads(nested(100_000).encode())


def test_depth_bound() -> None:
    assert loads(nested(MAX_DEPTH)) is not None
    with pytest.raises(TooDeep):
        loads(nested(MAX_DEPTH + 1))
    # Many brackets side by side are not depth.
    wide = json.dumps([{"a": [1]} for _ in range(500)])
    assert len(loads(wide)) == 500
    assert depth(loads(wide)) == 3 and depth("x") == 0 and depth({}) == 1


@pytest.mark.parametrize(("body", "lone"), [
    (b'{"a": "\\ud800"}', True),
    (b'{"a": ["x", {"b": "y\\uDFFFz"}]}', True),
    (b'{"\\udc00": 1}', True),  # in a key
    (b'{"a": "\\ud83d\\ude00"}', False),  # a valid pair: one character
    (b'{"a": "\\\\ud800"}', False),  # an escaped backslash then the letters ud800
    (b'{"a": "plain"}', False),
    (b'{"a": "\xed\xa0\x80"}', True),  # a surrogate as (invalid) UTF-8 bytes: json.loads lets it through
    (b'{"a": "\xed\x9f\xbf"}', False),  # U+D7FF, the last character before the surrogates
])
def test_lone_surrogates(body: bytes, lone: bool) -> None:
    assert has_lone_surrogate(body, json.loads(body)) is lone
