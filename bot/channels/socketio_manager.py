"""python-socketio's Redis manager speaking JSON: a pub/sub message is data, never code.

AsyncRedisManager publishes `pickle.dumps(...)` and unpickles every message on its channel: whoever can
PUBLISH to Redis runs code in every Rasa worker. This manager publishes JSON and reads only JSON objects;
anything else on the channel is logged and dropped. Its Redis client retries on a fresh connection after
a Redis restart (common/redis_client.py).
"""

from __future__ import annotations

import json
import logging
from typing import Any, AsyncIterator, Dict, Text

from redis.exceptions import RedisError
from socketio import AsyncRedisManager

from common.redis_client import resilient_options

logger = logging.getLogger(__name__)


class JsonRedisManager(AsyncRedisManager):
    """AsyncRedisManager with JSON on the wire."""

    def __init__(self, url: Text, channel: Text, **kwargs: Any) -> None:
        options = {**resilient_options(), **(kwargs.pop("redis_options", None) or {})}
        super().__init__(url, channel=channel, redis_options=options, **kwargs)

    async def _publish(self, data: Dict[Text, Any]) -> Any:
        payload = json.dumps(data, ensure_ascii=False)
        for attempt in (1, 2):
            try:
                if attempt == 2:
                    self._redis_connect()
                return await self.redis.publish(self.channel, payload)
            except RedisError:
                logger.error("Cannot publish to Redis (attempt %d of 2)", attempt)
        return None

    async def _listen(self) -> AsyncIterator[Dict[Text, Any]]:
        async for message in super()._listen():
            try:
                data = json.loads(message)
            except (TypeError, ValueError):
                data = None
            if isinstance(data, dict):
                yield data
            else:
                logger.warning("Dropped a socket.io pub/sub message that is not a JSON object")
