"""Passwords: argon2id hashes (argon2-cffi's PasswordHasher), the rule for new ones, one-time passwords.
A password is never logged, stored in clear or returned, except a one-time password shown once."""

from __future__ import annotations

import secrets
from typing import Text

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from common.http import InvalidRequest

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 takes any length; a bound keeps a sign-in cheap to refuse
_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, 3 passes)
# verified against when the e-mail is unknown, so that both cases take the same time
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def hash_password(password: Text) -> Text:
    """The argon2id hash (with its own salt and parameters) to store."""
    return _HASHER.hash(password)


def verify_password(stored_hash: Text, password: Text) -> bool:
    """True when `password` matches; an empty hash (no account) still costs one verification."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: Text) -> bool:
    """True when the hash was made with older parameters."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def one_time_password() -> Text:
    """A random password for a new account or a reset: 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def check_new_password(password: object) -> Text:
    """A new password a person chose, or InvalidRequest (Vietnamese) when it is too short or too long."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise InvalidRequest("weak_password", f"Mật khẩu mới cần ít nhất {MIN_LENGTH} ký tự.")
    if len(password) > MAX_LENGTH:
        raise InvalidRequest("invalid_password", f"Mật khẩu dài tối đa {MAX_LENGTH} ký tự.")
    return password
