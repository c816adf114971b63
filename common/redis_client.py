"""Redis clients built one way for every process: they survive a Redis restart.

A pooled connection that Redis closed (a restart, a timeout on the server side) fails the first
command that uses it. redis-py retries a command on a fresh connection only when asked to, so every
client here is built with a short retry on connection errors: a Redis that is back answers the next
command instead of failing it (issue 15: "A Redis restart loses customer messages").
Rasa-free: the staff service, the channels and the stores share it.
"""

from typing import Any, Dict, Optional, Text

import redis.asyncio as aioredis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

RETRIES = 3  # fresh connections tried after the first failure: ~0.05 s, 0.1 s, 0.2 s apart
HEALTH_CHECK_SECONDS = 15  # a connection idle this long is pinged before it is used again


def resilient_options() -> Dict[Text, Any]:
    """Keyword arguments for redis-py clients: retry a command on a new connection when the old one
    was closed (only connection errors: a timeout may mean the command ran, and XADD/INCR must not run
    twice)."""
    from redis.asyncio.retry import Retry

    return {
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES),
        "retry_on_error": [RedisConnectionError],
        "health_check_interval": HEALTH_CHECK_SECONDS,
    }


def async_client(url: Optional[Text] = None, **options: Any) -> aioredis.Redis:
    """An asyncio client from a redis:// URL, or from host/port/… keyword arguments."""
    merged = {**resilient_options(), **options}
    if url:
        return aioredis.Redis.from_url(url, **merged)
    return aioredis.Redis(**merged)


class LazyClient:
    """An asyncio client made on first use, inside the event loop that uses it (a server's, a test's), and
    closed with `close()`; `options` as for async_client."""

    def __init__(self, url: Text, **options: Any) -> None:
        self.url = url
        self.options = options
        self._client: Optional[aioredis.Redis] = None

    def get(self) -> aioredis.Redis:
        """The client, made now if needed."""
        if self._client is None:
            self._client = async_client(self.url, **self.options)
        return self._client

    async def close(self) -> None:
        """Close the client, if one was made; the next `get` makes a new one."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
