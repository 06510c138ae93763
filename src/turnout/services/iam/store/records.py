"""The records IAM's store returns: frozen, typed snapshots of stored entities (datetimes decoded, flags as bools).

Names are IAM's: unique case-insensitively, so every entity keyed by name carries ``name_lower`` (its key in the
store) beside ``name`` (as the caller wrote it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal, TypeVar

from ....core.tagging import Tag as Tag  # the tags of roles, users, policies, instance profiles

R = TypeVar("R")

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


def builder(cls: type[R]) -> Callable[..., R]:
    """``cls(*values)`` for a frozen, slotted record, at half the cost: the ``__init__`` a frozen dataclass gets sets
    each field through ``object.__setattr__`` (about 0.1 us a field, the larger part of reading a role on GetRole's
    path); the builder sets the slots directly. Every field is given, in order (defaults do not apply). Generated
    as dataclasses and namedtuple generate their methods."""
    setters = [getattr(cls, field.name).__set__ for field in fields(cls)]  # type: ignore[arg-type]
    names = ", ".join(f"v{i}" for i in range(len(setters)))
    body = "".join(f"    s{i}(o, v{i})\n" for i in range(len(setters)))
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls, **{f"s{i}": s for i, s in enumerate(setters)}}
    exec(f"def build({names}):\n    o = new(cls)\n{body}    return o\n", namespace)
    build: Callable[..., R] = namespace["build"]
    build.__qualname__ = build.__name__ = f"build_{cls.__name__}"
    return build
