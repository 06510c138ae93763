"""Account-wide reads of the IAM tables: GetAccountSummary's counts."""

from __future__ import annotations

from ....store.db import Database
from . import attachments, entities, instance_profiles, policies
from .records import AccountCounts


def counts(db: Database, account: str) -> AccountCounts:
    return AccountCounts(
        users=entities.count(db, "iam_users", account),
        groups=entities.count(db, "iam_groups", account),
        roles=entities.count(db, "iam_roles", account),
        policies=policies.count(db, account),
        attachments=attachments.attachment_total(db, account),
        instance_profiles=instance_profiles.count(db, account),
    )
