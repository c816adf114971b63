"""The Redis keys of the staff accounts (staff/): accounts, sessions, sign-in failures, presence and the
audit log, all under `senmart:staff:`. Rasa-free; the one place these names are spelled."""

from __future__ import annotations

from typing import Text

PREFIX = "senmart:staff:"
USERS = PREFIX + "users"  # set of account ids
AUDIT_STREAM = PREFIX + "audit"  # stream of audit entries (staff/audit.py)


def user_key(user_id: Text) -> Text:
    """Hash of one account: name, email, role, active, password (argon2id), must_change, capacity."""
    return f"{PREFIX}user:{user_id}"


def email_key(email: Text) -> Text:
    """Lower-cased e-mail → account id (unique)."""
    return f"{PREFIX}email:{email.strip().lower()}"


def name_key(folded_name: Text) -> Text:
    """Folded display name → account id (unique: customers see the name of who answers them)."""
    return f"{PREFIX}name:{folded_name}"


def session_key(token_digest: Text) -> Text:
    """Hash of one session, by the SHA-256 of its cookie token (the token itself is never stored)."""
    return f"{PREFIX}session:{token_digest}"


def user_sessions_key(user_id: Text) -> Text:
    """Set of the digests of one account's sessions (sign-out everywhere)."""
    return f"{PREFIX}sessions:{user_id}"


def failures_key(kind: Text, digest: Text) -> Text:
    """Counter of failed sign-ins of one account (`account`) or client address (`address`)."""
    return f"{PREFIX}failures:{kind}:{digest}"


def lock_key(kind: Text, digest: Text) -> Text:
    """Present while the account or address is locked out."""
    return f"{PREFIX}locked:{kind}:{digest}"


def presence_key(user_id: Text) -> Text:
    """`online` or `away` with an expiry; absent = offline."""
    return f"{PREFIX}presence:{user_id}"
