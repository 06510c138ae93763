"""``iam_login_profiles``: users' console passwords (a salted hash only)."""

from __future__ import annotations

from ....store.codec import iso, when
from ....store.db import Database
from .records import LoginProfile


def get(db: Database, account: str, user_lower: str) -> LoginProfile | None:
    row = db.one(
        "SELECT account_id, user_lower, password_hash, password_reset_required, max_signin_session_duration, "
        "created_at FROM iam_login_profiles WHERE account_id = ? AND user_lower = ?",
        (account, user_lower),
    )
    if row is None:
        return None
    return LoginProfile(row[0], row[1], row[2], bool(row[3]), row[4], when(row[5]))


def insert(db: Database, profile: LoginProfile) -> None:
    db.execute(
        "INSERT INTO iam_login_profiles (account_id, user_lower, password_hash, password_reset_required, "
        "max_signin_session_duration, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (profile.account_id, profile.user_lower, profile.password_hash, int(profile.password_reset_required),
         profile.max_signin_session_duration, iso(profile.created_at)),
    )


def save(db: Database, profile: LoginProfile) -> None:
    """Write the password hash, the reset flag and the sign-in session duration."""
    db.execute(
        "UPDATE iam_login_profiles SET password_hash = ?, password_reset_required = ?, "
        "max_signin_session_duration = ? WHERE account_id = ? AND user_lower = ?",
        (profile.password_hash, int(profile.password_reset_required), profile.max_signin_session_duration,
         profile.account_id, profile.user_lower),
    )


def delete(db: Database, account: str, user_lower: str) -> None:
    db.execute("DELETE FROM iam_login_profiles WHERE account_id = ? AND user_lower = ?", (account, user_lower))
