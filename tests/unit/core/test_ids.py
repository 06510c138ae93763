"""Identifiers keep AWS's formats: request ids are random version-4 UUIDs in canonical text."""

from __future__ import annotations

import uuid

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
