"""The records IAM's store returns: frozen, typed snapshots of stored entities (datetimes decoded, flags as bools).

Names are IAM's: unique case-insensitively, so every entity keyed by name carries ``name_lower`` (its key in the
store) beside ``name`` (as the caller wrote it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

EntityKind = Literal["role", "user", "group"]  # what attachments, inline policies and tags hang off


@dataclass(frozen=True, slots=True)
class Role:
    account_id: str
    name_lower: str
    name: str
    role_id: str
    path: str
    arn: str
    trust_policy: str  # as written
    trust_policy_saved: str | None  # its saved form, principals bound to unique ids (None: nothing bound)
    description: str | None
    max_session_duration: int
    max_signin_session_duration: int | None
    permissions_boundary: str | None
    linked_service: str | None  # the service principal of a service-linked role
    created_at: datetime
    last_used_at: datetime | None = None
    last_used_region: str | None = None


@dataclass(frozen=True, slots=True)
class User:
    account_id: str
    name_lower: str
    name: str
    user_id: str
    path: str
    arn: str
    permissions_boundary: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Group:
    account_id: str
    name_lower: str
    name: str
    group_id: str
    path: str
    arn: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    """A customer managed policy (AWS managed ones live in the read-only catalogue, :mod:`..managed`)."""

    account_id: str
    arn: str
    name: str
    name_lower: str
    policy_id: str
    path: str
    description: str | None
    default_version: str
    next_version: int  # the number the next version gets
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    account_id: str
    policy_arn: str
    version_id: str  # "v<number>"
    document: str
    created_at: datetime

    @property
    def number(self) -> int:
        return int(self.version_id.lstrip("v") or 0)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A managed policy attached to a role, user or group; ``seq`` orders an entity's attachments."""

    account_id: str
    entity_type: EntityKind
    entity_lower: str
    policy_arn: str
    seq: int


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    account_id: str
    entity_type: EntityKind
    entity_lower: str
    policy_name: str
    document: str


@dataclass(frozen=True, slots=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key_id: str
    account_id: str
    user_lower: str  # the owner (the root user's keys: ``auth.credentials.ROOT_KEY_OWNER``)
    secret: str
    status: str  # Active | Inactive
    created_at: datetime
    last_used_at: datetime | None = None
    last_used_service: str | None = None
    last_used_region: str | None = None


@dataclass(frozen=True, slots=True)
class LoginProfile:
    account_id: str
    user_lower: str
    password_hash: str  # salted scrypt, never the password
    password_reset_required: bool
    max_signin_session_duration: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InstanceProfile:
    account_id: str
    name_lower: str
    name: str
    profile_id: str
    path: str
    arn: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeletionTask:
    """A DeleteServiceLinkedRole task, as GetServiceLinkedRoleDeletionStatus reports it."""

    account_id: str
    task_id: str
    role_name: str
    status: str
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PolicyEntity:
    """An entity a managed policy is attached to or bounds (ListEntitiesForPolicy)."""

    kind: EntityKind
    name: str
    name_lower: str
    entity_id: str


@dataclass(frozen=True, slots=True)
class AccountCounts:
    """The entity counts of GetAccountSummary."""

    users: int
    groups: int
    roles: int
    policies: int
    attachments: int
    instance_profiles: int
