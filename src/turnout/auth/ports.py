"""What authentication needs from the services that own credentials, stated as protocols.

``auth`` imports no service: IAM (long-term access keys and their users) and STS (temporary credentials)
implement these protocols, and ``server.build_gateway`` hands the implementations to the
:class:`~turnout.auth.credentials.CredentialResolver` it builds. The records that cross are ``auth``'s own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..core.principal import Session


@dataclass(frozen=True, slots=True)
class KeyOwner:
    """The IAM user an access key belongs to, as it is now (a renamed user keeps its id)."""

    user_id: str
    name: str
    arn: str


@dataclass(frozen=True, slots=True)
class AccessKey:
    """A long-term (``AKIA...``) access key made by CreateAccessKey."""

    access_key_id: str
    secret: str
    status: str  # Active | Inactive
    account_id: str
    user_lower: str  # the owner's lower-case name; "" (credentials.ROOT_KEY_OWNER): the account's root
    owner: KeyOwner | None  # None when the owner is root, or when the user is gone


@dataclass(frozen=True, slots=True)
class KeyUse:
    """When and where a long-term key was last used (IAM's GetAccessKeyLastUsed reads it)."""

    access_key_id: str
    used_at: str  # ISO 8601
    service: str
    region: str


@dataclass(frozen=True, slots=True)
class TemporaryCredentials:
    """An STS session's credentials (``ASIA...``) and whom they stand for."""

    access_key_id: str
    account_id: str
    secret: str
    session_token: str
    expires_at: datetime
    principal_type: str  # AssumedRole | IAMUser (GetSessionToken of a user) | Root | FederatedUser
    arn: str
    principal_id: str
    name: str | None
    session: Session


class AccessKeys(Protocol):
    """IAM's long-term access keys and users."""

    def access_key(self, access_key_id: str) -> AccessKey | None:
        """The key and its owner as they are now (one read: every request of an IAM user makes it)."""

    def key_owner(self, account_id: str, user_id: str) -> KeyOwner | None:
        """The IAM user ``user_id`` of ``account_id``, or None when it was deleted."""

    def note_keys_used(self, uses: Sequence[KeyUse]) -> None:
        """Record when and where keys were last used (in the caller's write transaction)."""


class Sessions(Protocol):
    """STS's temporary credentials."""

    def temporary_credentials(self, access_key_id: str) -> TemporaryCredentials | None:
        """The session behind an ``ASIA...`` key, or None."""
