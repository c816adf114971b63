"""Zalo's 48-hour window: when each Zalo user last interacted (Redis `senmart:zalo:last:{user_id}`, epoch
seconds), noted by the webhook's intake (zalo_intake.py) and read before a message is pushed (zalo.py).
Rasa-free.

Customers may get free CS replies within 48 h of their last interaction; after 7 days Zalo refuses them
(-230)."""

from __future__ import annotations

import time
from typing import Any, Callable, Optional, Text, Tuple

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

WINDOW_SECONDS = 48 * 3600  # free CS replies within 48 h of the user's last interaction
LAST_KEY = "senmart:zalo:last:{}"
LAST_TTL_SECONDS = 8 * 86_400  # past 7 days Zalo refuses anyway (-230)
# keeps the latest interaction time (a redelivered old event does not move it back); ARGV: time, ttl
NOTE_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


class InteractionClock:
    """When each Zalo user last interacted."""

    def __init__(self, redis: Callable[[], aioredis.Redis], clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self.clock = clock

    async def note(self, user_id: Text, at: float) -> None:
        """The user interacted at `at` (kept only when later than what is stored)."""
        await self._redis().eval(*self._note_arguments(user_id, at))

    def add_note(self, pipe: Pipeline, user_id: Text, at: float) -> None:
        """`note` as one more call of `pipe` (a pipeline, to save round trips)."""
        pipe.eval(*self._note_arguments(user_id, at))

    @staticmethod
    def _note_arguments(user_id: Text, at: float) -> Tuple[Any, ...]:
        return NOTE_SCRIPT, 1, LAST_KEY.format(user_id), f"{at:.3f}", LAST_TTL_SECONDS

    async def last(self, user_id: Text) -> Optional[float]:
        """The last interaction time, None when unknown or older than 8 days."""
        value = await self._redis().get(LAST_KEY.format(user_id))
        return float(value) if value else None

    async def window_open(self, user_id: Text) -> bool:
        """Whether a CS message may be sent now (last interaction within 48 h)."""
        last = await self.last(user_id)
        return last is not None and self.clock() - last < WINDOW_SECONDS
