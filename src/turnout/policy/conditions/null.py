"""The Null operator: ``true`` matches when the key is absent, ``false`` when it is present. A multivalued key
with no values counts as absent. ``ForAllValues:Null``/``ForAnyValue:Null`` behave as ``Null``; ``NullIfExists``
is not an operator. Policy variables are not substituted."""

from __future__ import annotations

from turnout.policy.conditions.base import INVALID, Parsed, PolicyValue
from turnout.policy.conditions.boolean import parse_bool
from turnout.policy.model import ContextValue
from turnout.policy.variables import Resolved


def parse_null_value(pieces: Resolved) -> Parsed:
    return parse_bool("".join(text for text, _ in pieces))


def null_matches(value: ContextValue | None, policy_values: tuple[PolicyValue, ...]) -> bool:
    absent = value is None or (not isinstance(value, str) and len(value) == 0)
    wanted = [pv.static for pv in policy_values if pv.static is not INVALID]
    return any(want is absent for want in wanted)
