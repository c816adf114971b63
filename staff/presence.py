"""Presence of the people who handle tickets: `online` or `away` as their console last reported it, kept
with an expiry (no report for `ttl` seconds: offline)."""

from __future__ import annotations

from typing import Dict, Iterable, Text

from common import staff_keys as keys

ONLINE = "online"
AWAY = "away"
OFFLINE = "offline"
REPORTED = (ONLINE, AWAY)
LABELS = {ONLINE: "Trực tuyến", AWAY: "Tạm vắng", OFFLINE: "Ngoại tuyến"}


class Presence:
    """Reads and writes presence in Redis."""

    def __init__(self, redis, ttl_seconds: float) -> None:
        self.redis = redis
        self.ttl_ms = max(1, int(ttl_seconds * 1000))

    async def report(self, user_id: Text, status: Text) -> None:
        """The console says the person is online or away (a heartbeat)."""
        await self.redis.set(keys.presence_key(user_id), status, px=self.ttl_ms)

    async def clear(self, user_id: Text) -> None:
        """Offline at once (sign-out)."""
        await self.redis.delete(keys.presence_key(user_id))

    async def of(self, user_ids: Iterable[Text]) -> Dict[Text, Text]:
        """Each id's presence."""
        ids = list(user_ids)
        if not ids:
            return {}
        values = await self.redis.mget([keys.presence_key(user_id) for user_id in ids])
        return {user_id: value if value in REPORTED else OFFLINE for user_id, value in zip(ids, values)}
