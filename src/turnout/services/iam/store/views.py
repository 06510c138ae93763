"""IAM's state as the rest of Turnout reads it: the identities authorization evaluates
(:class:`turnout.authz.ports.Identities`), the access keys authentication resolves
(:class:`turnout.auth.ports.AccessKeys`) and the role STS assumes.

The records that cross are the consumers' own (``authz.ports``, ``auth.ports``), so that neither imports IAM;
:class:`IdentityViews` is built on a database at start (``server.build_gateway``) and handed to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ....auth.ports import AccessKey, KeyOwner, KeyUse
from ....authz.ports import EntityFacts, Identity, InlinePolicy, LinkedRole, PassedRole
from ....reference.managed_policies import catalogue, is_aws_managed
from ....store.db import Database
from ..service_linked import LINKED_SERVICES
from . import roles

_TABLES = {"user": "iam_users", "group": "iam_groups", "role": "iam_roles"}
# A group has no permissions boundary: NULL in its place.
_BOUNDARY = {"user": "permissions_boundary", "group": "NULL", "role": "permissions_boundary"}

_FACTS_SQL = {
    # The trust policy's saved form, principals bound to their unique ids (services/iam/principal_ids.py).
    "role": "SELECT r.arn, COALESCE(r.trust_policy_saved, r.trust_policy), r.permissions_boundary, t.tag_key, "
            "t.tag_value FROM iam_roles r "
            "LEFT JOIN iam_tags t ON t.account_id = r.account_id AND t.resource_type = 'role' "
            "AND t.resource_key = r.name_lower WHERE r.account_id = ? AND r.name_lower = ? ORDER BY t.seq",
    "user": "SELECT r.arn, NULL, r.permissions_boundary, t.tag_key, t.tag_value FROM iam_users r "
            "LEFT JOIN iam_tags t ON t.account_id = r.account_id AND t.resource_type = 'user' "
            "AND t.resource_key = r.name_lower WHERE r.account_id = ? AND r.name_lower = ? ORDER BY t.seq",
    "group": "SELECT arn, NULL, NULL, NULL, NULL FROM iam_groups WHERE account_id = ? AND name_lower = ?",
}


@dataclass(frozen=True, slots=True)
class AssumableRole:
    """A role as AssumeRole reads it."""

    account_id: str
    name: str
    name_lower: str
    role_id: str
    arn: str
    max_session_duration: int


@dataclass(frozen=True, slots=True)
class IdentityViews:
    """The reads (and the two bookkeeping writes: a key's and a role's last use) others make of IAM's tables."""

    db: Database

    # -- authentication (auth.ports.AccessKeys) ----------------------------------------------------------------

    def access_key(self, access_key_id: str) -> AccessKey | None:
        row = self.db.one(
            "SELECT k.secret, k.status, k.account_id, k.user_lower, u.user_id, u.name, u.arn FROM iam_access_keys k "
            "LEFT JOIN iam_users u ON u.account_id = k.account_id AND u.name_lower = k.user_lower "
            "WHERE k.access_key_id = ?",
            (access_key_id,),
        )
        if row is None:
            return None
        owner = None if row["user_id"] is None else KeyOwner(row["user_id"], row["name"], row["arn"])
        return AccessKey(access_key_id, row["secret"], row["status"], row["account_id"], row["user_lower"], owner)

    def key_owner(self, account_id: str, user_id: str) -> KeyOwner | None:
        row = self.db.one("SELECT name, arn FROM iam_users WHERE account_id = ? AND user_id = ?", (account_id, user_id))
        return None if row is None else KeyOwner(user_id, row["name"], row["arn"])

    def note_keys_used(self, uses: Sequence[KeyUse]) -> None:
        self.db.executemany(
            "UPDATE iam_access_keys SET last_used_at = ?, last_used_service = ?, last_used_region = ? "
            "WHERE access_key_id = ?",
            [(use.used_at, use.service, use.region, use.access_key_id) for use in uses],
        )

    # -- the policies of a caller (authz.ports.PolicySource) -----------------------------------------------------

    def user_by_id(self, account: str, user_id: str) -> Identity | None:
        row = self.db.one(
            "SELECT name_lower, arn, permissions_boundary FROM iam_users WHERE account_id = ? AND user_id = ?",
            (account, user_id),
        )
        return None if row is None else Identity("user", row[0], row[1], row[2])

    def role_by_id(self, account: str, role_id: str) -> Identity | None:
        row = self.db.one(
            "SELECT name_lower, arn, permissions_boundary FROM iam_roles WHERE account_id = ? AND role_id = ?",
            (account, role_id),
        )
        return None if row is None else Identity("role", row[0], row[1], row[2])

    def identity(self, account: str, kind: str, name: str) -> Identity | None:
        table = _TABLES.get(kind)
        if table is None:
            return None
        row = self.db.one(
            f"SELECT name_lower, arn, {_BOUNDARY[kind]} FROM {table} WHERE account_id = ? AND name_lower = ?",
            (account, name.lower()),
        )
        return None if row is None else Identity(kind, row[0], row[1], row[2])

    def inline_policies(self, account: str, identity: Identity) -> list[InlinePolicy]:
        return [
            InlinePolicy(row[0], row[1])
            for row in self.db.all(
                "SELECT policy_name, document FROM iam_inline_policies WHERE account_id = ? AND entity_type = ? "
                "AND entity_lower = ? ORDER BY policy_name",
                (account, identity.kind, identity.name_lower),
            )
        ]

    def attached_policies(self, account: str, identity: Identity) -> list[str]:
        return [
            row[0]
            for row in self.db.all(
                "SELECT policy_arn FROM iam_attachments WHERE account_id = ? AND entity_type = ? "
                "AND entity_lower = ? ORDER BY seq",
                (account, identity.kind, identity.name_lower),
            )
        ]

    def groups_of(self, account: str, user: Identity) -> list[Identity]:
        return [
            Identity("group", row[0], row[1], None)
            for row in self.db.all(
                "SELECT g.name_lower, g.arn FROM iam_group_members m JOIN iam_groups g "
                "ON g.account_id = m.account_id AND g.name_lower = m.group_lower "
                "WHERE m.account_id = ? AND m.user_lower = ? ORDER BY g.name_lower",
                (account, user.name_lower),
            )
        ]

    def tags(self, account: str, resource_type: str, resource_key: str) -> dict[str, str]:
        rows = self.db.all(
            "SELECT tag_key, tag_value FROM iam_tags WHERE account_id = ? AND resource_type = ? "
            "AND resource_key = ? ORDER BY seq",
            (account, resource_type, resource_key),
        )
        return {row[0]: row[1] for row in rows}

    def managed_policy_document(self, account: str, arn: str) -> str | None:
        if is_aws_managed(arn):
            found = catalogue().get(arn)
            return None if found is None else found.default_version.document
        row = self.db.one(
            "SELECT v.document FROM iam_policies p JOIN iam_policy_versions v ON v.account_id = p.account_id "
            "AND v.policy_arn = p.arn AND v.version_id = p.default_version WHERE p.account_id = ? AND p.arn = ?",
            (account, arn),
        )
        return None if row is None else str(row[0])

    # -- IAM's own resources (authz.ports.IamResources) ----------------------------------------------------------

    def entity_facts(self, account: str, kind: str, name: str) -> EntityFacts | None:
        rows = self.db.all(_FACTS_SQL[kind], (account, name.lower()))
        if not rows:
            return None
        first = rows[0]
        tags = {row[3]: row[4] for row in rows if row[3] is not None}
        return EntityFacts(first[0], first[1], first[2], tags)

    def access_key_user(self, access_key_id: str) -> str | None:
        row = self.db.one(
            "SELECT u.name FROM iam_access_keys k JOIN iam_users u ON u.account_id = k.account_id "
            "AND u.name_lower = k.user_lower WHERE k.access_key_id = ?",
            (access_key_id,),
        )
        return None if row is None else str(row[0])

    def linked_role(self, service: str) -> LinkedRole | None:
        spec = LINKED_SERVICES.get(service)
        return None if spec is None else LinkedRole(spec.role_name, spec.path)

    # -- roles passed and assumed (authz.ports.Roles; STS) -------------------------------------------------------

    def role_to_pass(self, account: str, name: str) -> PassedRole | None:
        row = self.db.one(
            "SELECT arn, name, role_id, account_id, COALESCE(trust_policy_saved, trust_policy) AS trust_policy "
            "FROM iam_roles WHERE account_id = ? AND name_lower = ?",
            (account, name.lower()),
        )
        return None if row is None else PassedRole(row[0], row[1], row[2], row[3], row[4])

    def role_to_assume(self, account: str, name: str) -> AssumableRole | None:
        row = self.db.one(
            "SELECT account_id, name, name_lower, role_id, arn, max_session_duration FROM iam_roles "
            "WHERE account_id = ? AND name_lower = ?",
            (account, name.lower()),
        )
        return None if row is None else AssumableRole(row[0], row[1], row[2], row[3], row[4], int(row[5]))

    def note_role_used(self, role: AssumableRole, when: datetime, region: str) -> None:
        roles.note_used(self.db, role.account_id, role.name_lower, when.isoformat(), region)
