"""Identifiers keep AWS's formats: request ids are random version-4 UUIDs in canonical text."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from turnout.core import ids


def test_request_ids_are_canonical_version_4_uuids() -> None:
    seen = set()
    variants = set()
    for _ in range(2000):
        text = ids.request_id()
        parsed = uuid.UUID(text)
        assert str(parsed) == text  # lower-case, dashes at 8-4-4-4-12
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        variants.add(text[19])
        seen.add(text)
    assert len(seen) == 2000
    assert variants == set("89ab")  # the variant digit takes all four values (two random bits)


def test_ecs_event_ids_are_uuids_too() -> None:
    assert uuid.UUID(ids.ecs_event_id()).version == 4


@given(st.binary(min_size=16, max_size=16))
def test_uuid4_text_is_what_the_uuid_module_makes_of_the_same_digits(raw: bytes) -> None:
    """The one maker of UUID text (request ids, CloudTrail eventIDs) sets the version and variant as uuid does."""
    assert ids.uuid4_text(raw.hex()) == str(uuid.UUID(bytes=raw, version=4))
