"""core/tagging.py: reading a request's tags, each service's checks in its own order with its own errors, the quota,
merging into stored tags."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.core import tagging
from turnout.core.tagging import Tag, TagRules
from turnout.wire.errors import ServiceError


def _error(code: str) -> tagging.ErrorFactory:
    return lambda text: ServiceError(code, text)


def _too_many() -> ServiceError:
    return ServiceError("TooMany", "too many")


EVERY_CHECK = TagRules(
    checks={"duplicate": _error("Duplicate"), "empty": _error("Empty"), "reserved": _error("Reserved"),
            "key_length": _error("KeyLength"), "value_length": _error("ValueLength")},
    too_many=_too_many, max_tags=3, key_max=5, value_max=3, count_request="last",
)


def _raised(rules: TagRules, tags: list[Tag]) -> tuple[str, str] | None:
    try:
        tagging.check(rules, tags)
    except ServiceError as exc:
        return exc.code, exc.message
    return None


# -- reading ------------------------------------------------------------------------------------------------------


def test_read_takes_either_casing_and_reads_what_is_missing_as_empty() -> None:
    assert tagging.read([{"Key": "a", "Value": "1"}, {"key": "b", "value": "2"}, {"Key": "c"}, {"Value": "4"},
                         {"Key": 5, "Value": None}]) == [Tag("a", "1"), Tag("b", "2"), Tag("c", ""), Tag("", "4"),
                                                          Tag("", "")]
    assert tagging.read(None) == []


def test_shapes_name_the_members_as_the_service_does() -> None:
    tags = [Tag("a", "1"), Tag("b", "")]
    assert tagging.shapes(tags) == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}]
    assert tagging.shapes(tags, "key", "value") == [{"key": "a", "value": "1"}, {"key": "b", "value": ""}]


# -- checks ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("tag", "expected"), [
    (Tag("", "v"), ("Empty", "")),
    (Tag("aws:x", "v"), ("Reserved", "aws:x")),
    (Tag("AwS:", "v"), ("Reserved", "AwS:")),
    (Tag("long-k", "v"), ("KeyLength", "long-k")),
    (Tag("k", "long"), ("ValueLength", "long")),  # the value length's error is given the value
    (Tag("k", "abc"), None),  # at the maxima
    (Tag("awsx:", "v"), None),
])
def test_each_check_raises_the_services_error(tag: Tag, expected: tuple[str, str] | None) -> None:
    assert _raised(EVERY_CHECK, [tag]) == expected


def test_the_first_broken_check_in_the_services_order_wins() -> None:
    # "aws:long" breaks both the reserved prefix and the key length: the order of the checks decides.
    tag = Tag("aws:long", "v")
    reserved_first = TagRules(checks={"reserved": _error("Reserved"), "key_length": _error("KeyLength")}, key_max=5)
    length_first = TagRules(checks={"key_length": _error("KeyLength"), "reserved": _error("Reserved")}, key_max=5)
    assert _raised(reserved_first, [tag]) == ("Reserved", "aws:long")
    assert _raised(length_first, [tag]) == ("KeyLength", "aws:long")
    # a broken tag earlier in the request wins over any check of a later one
    assert _raised(EVERY_CHECK, [Tag("k", "long"), Tag("", "")]) == ("ValueLength", "long")


def test_a_check_the_service_does_not_make_is_not_made() -> None:
    only_reserved = TagRules(checks={"reserved": _error("Reserved")})
    assert _raised(only_reserved, [Tag("", "x" * 1000), Tag("", "")]) is None
    assert _raised(only_reserved, [Tag("k" * 1000, "")] * 60) is None  # no count either


def test_duplicates_are_exact_unless_keys_ignore_case() -> None:
    tags = [Tag("Env", "a"), Tag("env", "b")]
    assert _raised(EVERY_CHECK, tags) is None
    assert _raised(EVERY_CHECK, [Tag("env", "a"), Tag("env", "b")]) == ("Duplicate", "env")
    ignoring = TagRules(checks={"duplicate": _error("Duplicate")}, ignore_case=True)
    assert _raised(ignoring, tags) == ("Duplicate", "env")


def test_the_request_is_counted_first_last_or_not_at_all() -> None:
    four = [Tag(f"k{n}", "") for n in range(3)] + [Tag("aws:x", "")]
    first = TagRules(checks={"reserved": _error("Reserved")}, too_many=_too_many, max_tags=3, count_request="first")
    last = TagRules(checks={"reserved": _error("Reserved")}, too_many=_too_many, max_tags=3, count_request="last")
    never = TagRules(checks={"reserved": _error("Reserved")}, too_many=_too_many, max_tags=3)
    assert _raised(first, four) == ("TooMany", "too many")
    assert _raised(last, four) == ("Reserved", "aws:x")
    assert _raised(last, [*four[:3], Tag("k3", "")]) == ("TooMany", "too many")
    assert _raised(never, [*four[:3], Tag("k3", "")]) is None
    assert _raised(last, four[:3]) is None  # at the maximum


# -- merging and removing -------------------------------------------------------------------------------------------


def test_merge_keeps_places_takes_new_values_and_appends_new_keys() -> None:
    rules = TagRules(too_many=_too_many, max_tags=3)
    stored = [Tag("a", "1"), Tag("b", "2")]
    assert tagging.merge(rules, stored, [Tag("b", "3"), Tag("c", "4")]) == [Tag("a", "1"), Tag("b", "3"),
                                                                             Tag("c", "4")]
    assert tagging.merge(rules, stored, [Tag("c", "1"), Tag("c", "2")]) == [*stored, Tag("c", "2")]
    with pytest.raises(ServiceError) as raised:
        tagging.merge(rules, stored, [Tag("c", ""), Tag("d", "")])
    assert raised.value.code == "TooMany"


def test_merge_ignoring_case_takes_the_new_casing_in_the_old_place() -> None:
    rules = TagRules(ignore_case=True)
    assert tagging.merge(rules, [Tag("Env", "dev"), Tag("team", "ops")], [Tag("ENV", "prod")]) == [
        Tag("ENV", "prod"), Tag("team", "ops")]


_keys = st.text(alphabet="abAB:", max_size=3)
_tags = st.lists(st.builds(Tag, _keys, st.text(alphabet="xy", max_size=2)), max_size=8)


@given(stored=_tags, new=_tags, ignore_case=st.booleans())
def test_merge_is_an_ordered_upsert(stored: list[Tag], new: list[Tag], ignore_case: bool) -> None:
    rules = TagRules(ignore_case=ignore_case)
    stored = tagging.merge(rules, [], stored)  # a resource's stored tags have unique keys
    merged = tagging.merge(rules, stored, new)
    same = rules.same_key
    # unique keys; every key of either side, the old ones first in their old order
    assert len({same(t.key) for t in merged}) == len(merged)
    assert [same(t.key) for t in merged[:len(stored)]] == [same(t.key) for t in stored]
    assert {same(t.key) for t in merged} == {same(t.key) for t in stored + new}
    # a key given takes its last given tag, others keep theirs
    last = {same(t.key): t for t in new}
    for tag in merged:
        assert tag == last.get(same(tag.key), tag)


@given(stored=_tags, new=_tags, maximum=st.integers(0, 10))
def test_merge_raises_exactly_when_the_merged_tags_exceed_the_maximum(stored: list[Tag], new: list[Tag],
                                                                      maximum: int) -> None:
    rules = TagRules(too_many=_too_many, max_tags=maximum)
    unique = len({t.key for t in stored + new})
    stored = tagging.merge(TagRules(), [], stored)
    try:
        tagging.merge(rules, stored, new)
    except ServiceError:
        assert unique > maximum
    else:
        assert unique <= maximum


@given(st.text(max_size=8))
def test_reserved_is_the_aws_prefix_in_any_casing(key: str) -> None:
    assert tagging.is_reserved(key) == key.lower().startswith("aws:")
    assert tagging.is_reserved("aWs:" + key)
