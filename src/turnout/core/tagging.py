"""Resource tags, as every service handles them: reading a request's ``Tags`` list (``Key``/``Value`` in any
casing), the checks AWS makes of them (duplicate keys, empty keys, the reserved ``aws:`` prefix, key and value
lengths, the number of tags per resource), and merging tags into a resource's stored ones. (Removing keys is one
DELETE per key in each store: nothing to share.)

Pure: no SQL, no service. The rules are the same everywhere but each service words and codes its errors its own way,
checks them in its own order and checks some of them only: a service states its rules once as a :class:`TagRules`
value holding its error factories, and the checks raise exactly the error it gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..wire.errors import ServiceError

RESERVED_PREFIX = "aws:"  # "reserved for AWS use", in every service, in any casing

# A check of one tag. ``duplicate``: its key was given before in the same request; ``empty``: no key;
# ``reserved``: the key starts with ``aws:`` (any casing); ``key_length`` / ``value_length``: longer than the
# service's maximum.
Check = Literal["duplicate", "empty", "reserved", "key_length", "value_length"]
# A service's error for a broken check, given the tag's key (its value for ``value_length``).
ErrorFactory = Callable[[str], ServiceError]


@dataclass(frozen=True, slots=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class TagRules:
    """One service's tag rules.

    ``checks``: the checks made of each tag of a request, in the order the service makes them (a mapping keeps its
    order), each with the service's error. ``too_many``: the error for more than ``max_tags`` tags on a resource
    (None: the service does not count). ``count_request``: whether the tags of a request are counted on their own,
    ``first`` (before the checks of each tag) or ``last`` (after them); None: only the resource's tags once merged
    (:func:`merge`). ``ignore_case``: tag keys are the same key whatever their casing (IAM).
    """

    checks: Mapping[Check, ErrorFactory] = field(default_factory=dict)
    too_many: Callable[[], ServiceError] | None = None
    max_tags: int = 50
    count_request: Literal["first", "last"] | None = None
    key_max: int = 128
    value_max: int = 256
    ignore_case: bool = False

    def same_key(self, key: str) -> str:
        """What identifies ``key`` among a resource's keys."""
        return key.lower() if self.ignore_case else key


def read(tags: Iterable[Mapping[str, Any]] | None) -> list[Tag]:
    """A request's ``Tags`` list, whether its members say ``Key``/``Value`` (most services) or ``key``/``value``
    (ECS). A missing or non-text key or value reads as empty text (the checks answer an empty key)."""
    out: list[Tag] = []
    for tag in tags or ():
        key = tag.get("Key", tag.get("key"))
        value = tag.get("Value", tag.get("value"))
        out.append(Tag(key if isinstance(key, str) else "", value if isinstance(value, str) else ""))
    return out


def shapes(tags: Iterable[Tag], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    """Tags in a service's wire shape (``[{"Key": ..., "Value": ...}]`` unless it names the members otherwise)."""
    return [{key: tag.key, value: tag.value} for tag in tags]


def check(rules: TagRules, tags: Sequence[Tag]) -> None:
    """The tags of one request, checked as ``rules`` say: raise the service's error for the first broken rule."""
    if rules.count_request == "first":
        check_count(rules, len(tags))
    seen: set[str] = set()
    for tag in tags:
        for name, error in rules.checks.items():
            if _breaks(rules, name, tag, seen):
                raise error(tag.value if name == "value_length" else tag.key)
        seen.add(rules.same_key(tag.key))
    if rules.count_request == "last":
        check_count(rules, len(tags))


def _breaks(rules: TagRules, name: Check, tag: Tag, seen: set[str]) -> bool:
    if name == "duplicate":
        return rules.same_key(tag.key) in seen
    if name == "empty":
        return not tag.key
    if name == "reserved":
        return is_reserved(tag.key)
    if name == "key_length":
        return len(tag.key) > rules.key_max
    return len(tag.value) > rules.value_max


def is_reserved(key: str) -> bool:
    """Whether ``key`` is in AWS's namespace (``aws:`` in any casing)."""
    return key.lower().startswith(RESERVED_PREFIX)


def check_count(rules: TagRules, count: int) -> None:
    """Raise the service's error when a resource would hold ``count`` tags, more than it may."""
    if rules.too_many is not None and count > rules.max_tags:
        raise rules.too_many()


def merge(rules: TagRules, stored: Sequence[Tag], given: Iterable[Tag]) -> list[Tag]:
    """A resource's tags once ``given`` are added: a key already there keeps its place and takes the new value (and,
    keys being the same whatever their casing, the new casing); a new key comes last. The merged tags are checked
    against the service's maximum."""
    merged = {rules.same_key(tag.key): tag for tag in stored}
    for tag in given:
        merged[rules.same_key(tag.key)] = tag
    out = list(merged.values())
    check_count(rules, len(out))
    return out
