"""The parts of many IAM entities at once (inline policies, attached policies, tags), shaped as
GetAccountAuthorizationDetails answers them: the store reads each with one query for a whole page of entities.
Each function answers, for every key it is given, what the one-entity read answers, in the same order (a key
without any gets an empty list)."""

from __future__ import annotations

from collections.abc import Collection

from ...store.db import Database
from .common import tag_dicts
from .store import attachments as attachment_store
from .store import inline_policies as inline_store
from .store import tags as tag_store
from .store.records import EntityKind


def inline_policies(db: Database, account: str, entity_type: EntityKind, keys: Collection[str]
                    ) -> dict[str, list[dict[str, str]]]:
    """Each entity's inline policies, by name: ``[{PolicyName, PolicyDocument}]``."""
    grouped = inline_store.of_entities(db, account, entity_type, keys)
    return {key: [{"PolicyName": p.policy_name, "PolicyDocument": p.document} for p in found]
            for key, found in grouped.items()}


def attached_policies(db: Database, account: str, entity_type: EntityKind, keys: Collection[str]
                      ) -> dict[str, list[dict[str, str]]]:
    """Each entity's attached managed policies, in the order they were attached: ``[{PolicyName, PolicyArn}]``."""
    grouped = attachment_store.of_entities(db, account, entity_type, keys)
    return {
        key: [{"PolicyName": a.policy_arn.rsplit("/", 1)[-1], "PolicyArn": a.policy_arn} for a in found]
        for key, found in grouped.items()
    }


def tags(db: Database, account: str, resource_type: str, keys: Collection[str]) -> dict[str, list[dict[str, str]]]:
    """Each resource's tags in the order they were added: ``[{Key, Value}]`` (as :func:`common.get_tags`)."""
    return {key: tag_dicts(found) for key, found in tag_store.of_many(db, account, resource_type, keys).items()}
