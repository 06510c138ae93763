"""From an access key id to a secret and a principal, following the product's credential contract.

* ``test`` / ``test``: the root of the default account ``000000000000``.
* a 12-digit access key id with secret ``test``: the root of that account, created on first use.
* ``AKIA...``: an access key made by ``CreateAccessKey``, of an IAM user or (``user_lower`` empty) of the
  account's root; inactive keys are refused.
* ``ASIA...``: STS temporary credentials, valid only with their session token and before their expiry.

The keys and sessions are IAM's and STS's: :class:`CredentialResolver` asks them through the protocols of
:mod:`turnout.auth.ports`, whose implementations ``server.build_gateway`` hands it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .. import DEFAULT_ACCOUNT
from ..core.principal import Principal, Session
from .ports import AccessKey, AccessKeys, KeyOwner, KeyUse, Sessions, TemporaryCredentials

ROOT_SECRET = "test"
ROOT_KEY_OWNER = ""  # AccessKey.user_lower of the root user's own access keys


@dataclass(frozen=True, slots=True)
class Credential:
    secret: str
    principal: Principal
    session_token: str | None = None
    expires_at: datetime | None = None


class UnknownAccessKey(LookupError):
    pass


class NoCredentials:
    """Neither access keys nor sessions: a gateway not wired to IAM and STS knows only the root credentials."""

    def access_key(self, access_key_id: str) -> AccessKey | None:
        return None

    def key_owner(self, account_id: str, user_id: str) -> KeyOwner | None:
        return None

    def note_keys_used(self, uses: Sequence[KeyUse]) -> None:
        return None

    def temporary_credentials(self, access_key_id: str) -> TemporaryCredentials | None:
        return None


class CredentialResolver:
    """The credential contract over IAM's access keys (``keys``) and STS's sessions (``sessions``)."""

    __slots__ = ("keys", "sessions")

    def __init__(self, keys: AccessKeys, sessions: Sessions) -> None:
        self.keys = keys
        self.sessions = sessions

    def resolve(self, access_key_id: str) -> Credential:
        """The credential behind ``access_key_id``; raises :class:`UnknownAccessKey` when there is none."""
        if access_key_id == "test":
            return Credential(ROOT_SECRET, Principal.root(DEFAULT_ACCOUNT, access_key_id))
        if len(access_key_id) == 12 and access_key_id.isdigit():
            return Credential(ROOT_SECRET, Principal.root(access_key_id, access_key_id))
        if access_key_id.startswith("ASIA"):
            return self._session(access_key_id)
        return self._long_term_key(access_key_id)

    def user_principal(self, account_id: str, user_id: str, access_key_id: str | None,
                       session: Session | None = None) -> Principal | None:
        """The IAM user ``user_id`` as it is now (a renamed user keeps its id), or None when it was deleted."""
        user = self.keys.key_owner(account_id, user_id)
        if user is None:
            return None
        return Principal(account_id, "IAMUser", user.arn, user_id, user.name, access_key_id, session)

    def _long_term_key(self, access_key_id: str) -> Credential:
        """An ``AKIA...`` key and its owner as they are now."""
        key = self.keys.access_key(access_key_id)
        if key is None or key.status != "Active":
            raise UnknownAccessKey(access_key_id)
        if key.user_lower == ROOT_KEY_OWNER:
            return Credential(key.secret, Principal.root(key.account_id, access_key_id))
        owner = key.owner
        if owner is None:  # the user was deleted (its keys go with it; a key without its user is refused)
            raise UnknownAccessKey(access_key_id)
        principal = Principal(key.account_id, "IAMUser", owner.arn, owner.user_id, owner.name, access_key_id)
        return Credential(key.secret, principal)

    def _session(self, access_key_id: str) -> Credential:
        found = self.sessions.temporary_credentials(access_key_id)
        if found is None:
            raise UnknownAccessKey(access_key_id)
        principal: Principal | None
        if found.principal_type == "IAMUser":
            # GetSessionToken of an IAM user: the user as it is now; its credentials die with the user.
            principal = self.user_principal(found.account_id, found.principal_id, access_key_id, found.session)
            if principal is None:
                raise UnknownAccessKey(access_key_id)
        else:
            principal = Principal(
                found.account_id, found.principal_type, found.arn, found.principal_id, found.name, access_key_id,
                found.session,
            )
        return Credential(found.secret, principal, found.session_token, found.expires_at)


NO_CREDENTIALS = CredentialResolver(NoCredentials(), NoCredentials())
