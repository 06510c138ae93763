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


def test_a_forked_worker_makes_request_ids_of_its_own() -> None:
    """Workers are forked from one process: each draws request ids from a generator seeded again in the child."""
    import os

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, then out at once
        os.write(write, ",".join(ids.request_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = pipe.read().split(",")
    parent = [ids.request_id() for _ in range(3)]
    assert len(child) == 3 and not set(child) & set(parent)


def test_seeding_the_shared_generator_does_not_repeat_request_ids() -> None:
    """Tests (Hypothesis among them) seed Python's shared generator: request ids come from a generator of their own."""
    import random

    random.seed(7)
    first = ids.request_id()
    random.seed(7)
    assert ids.request_id() != first
