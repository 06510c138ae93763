"""Login profiles (a user's console password): create, get, update, delete.

Only a salted scrypt hash of the password is stored. Turnout has no account password policy operations, so every
password is checked against AWS's default policy (IAM User Guide, "Set an account password policy for IAM
users": at least 8 characters, and at least three of uppercase letters, lowercase letters, numbers and
symbols).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from dataclasses import replace
from typing import Any

from ...core.context import RequestContext
from ...store.db import Database
from ...wire.errors import ServiceError
from .common import already_exists, no_such_entity
from .store import login_profiles as login_store
from .store.records import LoginProfile, User
from .users import caller_user_name, user_row

MINIMUM_LENGTH = 8
# The symbols AWS's password policy counts: ! @ # $ % ^ & * ( ) _ + - = [ ] { } | '
SYMBOLS = frozenset("!@#$%^&*()_+-=[]{}|'")


def _violation(message: str) -> ServiceError:
    return ServiceError("PasswordPolicyViolation", message, 400)


def check_password(password: str) -> None:
    """AWS's default password policy. The messages are Turnout's (AWS does not document them)."""
    if len(password) < MINIMUM_LENGTH:
        raise _violation(f"Password should have a minimum length of {MINIMUM_LENGTH}")
    kinds = (
        any(c in string.ascii_uppercase for c in password),
        any(c in string.ascii_lowercase for c in password),
        any(c in string.digits for c in password),
        any(c in SYMBOLS for c in password),
    )
    if sum(kinds) < 3:
        raise _violation(
            "Password should have at least three of the following: uppercase letters, lowercase letters, "
            "numbers and symbols"
        )


def _hash(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def _shape(user: User, row: LoginProfile) -> dict[str, Any]:
    """A ``LoginProfile`` (never the password)."""
    profile: dict[str, Any] = {
        "UserName": user.name,
        "CreateDate": row.created_at,
        "PasswordResetRequired": row.password_reset_required,
    }
    if row.max_signin_session_duration is not None:
        profile["MaxSigninSessionDuration"] = row.max_signin_session_duration
    return profile


def profile_of(db: Database, account: str, user_lower: str) -> LoginProfile | None:
    return login_store.get(db, account, user_lower)


def has_profile(db: Database, account: str, user_lower: str) -> bool:
    return profile_of(db, account, user_lower) is not None


class LoginProfileOperations:
    """Mixed into :class:`IamProvider`."""

    db: Any

    def _login_user(self, ctx: RequestContext, req: dict[str, Any]) -> User:
        """The user a login-profile call addresses: UserName, else the calling IAM user."""
        name = req.get("UserName") or caller_user_name(ctx)
        if name is None:
            # The root user's password is not an IAM login profile; AWS asks for an AssumeRoot session here.
            raise ServiceError("ValidationError", "Must specify userName when calling with non-User credentials", 400)
        return user_row(self.db, ctx.account_id, name)

    def _profile(self, ctx: RequestContext, user: User) -> LoginProfile:
        row = profile_of(self.db, ctx.account_id, user.name_lower)
        if row is None:
            raise no_such_entity(f"Login Profile for User {user.name} cannot be found.")
        return row

    def create_login_profile(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        user = self._login_user(ctx, req)
        if has_profile(self.db, ctx.account_id, user.name_lower):
            raise already_exists(f"Login Profile for user {user.name} already exists.")
        password = req.get("Password")
        if password is None:
            # choice: the model makes Password optional (an AssumeRoot session omits it); AWS's wording is unknown
            raise ServiceError("ValidationError", "Password is required unless you call with an AssumeRoot session.",
                               400)
        check_password(password)
        reset = bool(req.get("PasswordResetRequired", False))
        login_store.insert(self.db, LoginProfile(ctx.account_id, user.name_lower, _hash(password), reset,
                                                 req.get("MaxSigninSessionDuration"), ctx.received_at))
        row = self._profile(ctx, user)
        return {"LoginProfile": _shape(user, row)}

    def get_login_profile(self, ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
        user = self._login_user(ctx, req)
        return {"LoginProfile": _shape(user, self._profile(ctx, user))}

    def update_login_profile(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        user = user_row(self.db, ctx.account_id, req["UserName"])
        row = self._profile(ctx, user)
        password_hash = row.password_hash
        if req.get("Password") is not None:
            check_password(req["Password"])
            password_hash = _hash(req["Password"])
        reset = row.password_reset_required
        if req.get("PasswordResetRequired") is not None:
            reset = bool(req["PasswordResetRequired"])
        signin = row.max_signin_session_duration
        if req.get("ResetMaxSigninSessionDuration"):
            if req.get("MaxSigninSessionDuration") is not None:
                # choice: AWS documents the conflict but not its text (as UpdateRole's, see roles.py)
                raise ServiceError(
                    "InvalidInput",
                    "You cannot specify both MaxSigninSessionDuration and ResetMaxSigninSessionDuration.", 400,
                )
            signin = None
        elif req.get("MaxSigninSessionDuration") is not None:
            signin = req["MaxSigninSessionDuration"]
        login_store.save(self.db, replace(row, password_hash=password_hash, password_reset_required=reset,
                                          max_signin_session_duration=signin))

    def delete_login_profile(self, ctx: RequestContext, req: dict[str, Any]) -> None:
        user = self._login_user(ctx, req)
        self._profile(ctx, user)
        login_store.delete(self.db, ctx.account_id, user.name_lower)
