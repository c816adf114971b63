"""Server-side sessions of signed-in staff. The browser holds a random 32-byte token in an HttpOnly cookie;
Redis holds only its SHA-256, with the account id, the CSRF token of the session, when it started and when
it was last used. A session ends after `idle_seconds` without use or `max_seconds` after sign-in, at
sign-out, or when its account is disabled (every session of an account: sign-out everywhere)."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Callable, Optional, Text, Tuple

from common import staff_keys as keys

COOKIE_NAME = "senmart_staff"


def digest(token: Text) -> Text:
    """The SHA-256 of a cookie token: the session's key (a leaked database holds no usable token)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """A live session."""

    digest: Text
    user_id: Text
    csrf_token: Text
    created_at: float
    last_seen: float


class SessionStore:
    """Sessions in Redis with idle and absolute timeouts."""

    def __init__(
        self, redis, idle_seconds: float, max_seconds: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.redis = redis
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self.clock = clock

    def _ttl_ms(self, created_at: float, now: float) -> int:
        """Until the idle or the absolute timeout, whichever comes first (at least 1 ms)."""
        until = min(now + self.idle_seconds, created_at + self.max_seconds)
        return max(1, int((until - now) * 1000))

    async def create(self, user_id: Text) -> Tuple[Text, Session]:
        """A new session; returns the cookie token (shown to the browser only) and the session."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(digest(token), user_id, secrets.token_urlsafe(32), now, now)
        fields = {
            "user_id": user_id,
            "csrf": session.csrf_token,
            "created_at": repr(now),
            "last_seen": repr(now),
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.session_key(session.digest), mapping=fields)
            pipe.pexpire(keys.session_key(session.digest), self._ttl_ms(now, now))
            pipe.sadd(keys.user_sessions_key(user_id), session.digest)
            pipe.expire(keys.user_sessions_key(user_id), int(self.max_seconds) + 60)
            await pipe.execute()
        return token, session

    async def resolve(self, token: Text) -> Optional[Session]:
        """The live session of a cookie token (its idle clock restarted), or None when unknown or past
        a timeout (then it is deleted)."""
        if not token or len(token) > 128:
            return None
        key = keys.session_key(digest(token))
        fields = await self.redis.hgetall(key)
        if not fields or "user_id" not in fields:
            return None
        now = self.clock()
        created_at, last_seen = float(fields["created_at"]), float(fields["last_seen"])
        if now - last_seen >= self.idle_seconds or now - created_at >= self.max_seconds:
            await self.revoke(token)
            return None
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, "last_seen", repr(now))
            pipe.pexpire(key, self._ttl_ms(created_at, now))
            await pipe.execute()
        return Session(digest(token), fields["user_id"], fields["csrf"], created_at, now)

    async def revoke(self, token: Text) -> None:
        """End one session (sign-out)."""
        key = keys.session_key(digest(token))
        user_id = await self.redis.hget(key, "user_id")
        await self.redis.delete(key)
        if user_id:
            await self.redis.srem(keys.user_sessions_key(user_id), digest(token))

    async def revoke_all(self, user_id: Text, keep: Optional[Text] = None) -> int:
        """End every session of an account (sign-out everywhere, disabled account, password reset);
        `keep` names the digest of one to keep (the one that changed the password)."""
        digests = await self.redis.smembers(keys.user_sessions_key(user_id))
        gone = [d for d in digests if d != keep]
        if gone:
            await self.redis.delete(*[keys.session_key(d) for d in gone])
            await self.redis.srem(keys.user_sessions_key(user_id), *gone)
        return len(gone)
