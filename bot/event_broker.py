"""Event broker that appends every Rasa event to a Redis stream (read by the handoff service)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from asyncio import AbstractEventLoop
from typing import Any, Dict, Optional, Text
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from rasa.core.brokers.broker import EventBroker
from rasa.shared.exceptions import ConnectionException
from rasa.utils.endpoints import EndpointConfig

from common.contracts import EVENT_STREAM
from common.redis_client import async_client

logger = logging.getLogger(__name__)

DEFAULT_STREAM = EVENT_STREAM
DEFAULT_MAXLEN = 100_000
TRIM_EVERY_SECONDS = 60.0
# Rasa starts only once the stream answers; Redis may still be starting (containers start together, and
# podman waits for no health check): keep trying this long before giving up (endpoints.yml `connect_seconds`)
DEFAULT_CONNECT_SECONDS = 60.0


def without_password(url: Text) -> Text:
    """The Redis URL for a log line or an error: its password replaced by ***."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


class RedisStreamEventBroker(EventBroker):
    """XADDs events, in order, to a Redis stream; keeps them while Redis is unreachable.

    endpoints.yml:
        event_broker:
          type: bot.event_broker.RedisStreamEventBroker
          url: redis://host:port/db
          stream: senmart:events   # optional
          maxlen: 100000           # optional, approximate trimming
    """

    def __init__(
        self,
        url: Text,
        stream: Text = DEFAULT_STREAM,
        maxlen: int = DEFAULT_MAXLEN,
        retention_seconds: Any = None,
    ) -> None:
        self.url = url
        self.stream = stream
        self.maxlen = int(maxlen)
        # entries older than this are trimmed (XTRIM MINID), at most once a TRIM_EVERY_SECONDS
        self.retention_seconds = float(retention_seconds) if retention_seconds not in (None, "") else None
        self._trimmed_at = 0.0
        self._client = async_client(url)
        self._queue: "asyncio.Queue[Dict[Text, Any]]" = asyncio.Queue()
        self._writer: Optional[asyncio.Task] = None

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: Optional[AbstractEventLoop] = None
    ) -> Optional["RedisStreamEventBroker"]:
        """Creates the broker from endpoints.yml and checks Redis answers."""
        if broker_config is None:
            return None
        kwargs = {
            k: v for k, v in broker_config.kwargs.items() if k in ("stream", "maxlen", "retention_seconds")
        }
        broker = cls(broker_config.url, **kwargs)
        connect_seconds = float(broker_config.kwargs.get("connect_seconds") or DEFAULT_CONNECT_SECONDS)
        deadline = time.monotonic() + connect_seconds
        while True:
            try:
                await broker._client.ping()
                return broker
            except (aioredis.RedisError, OSError) as error:
                where = without_password(broker_config.url)
                if time.monotonic() >= deadline:
                    raise ConnectionException(
                        f"Cannot connect to Redis event stream at {where} (tried for {connect_seconds:.0f} s)"
                    ) from error
                logger.warning(
                    "Redis event stream at %s not answering yet (%s); retrying in 1 s", where, error
                )
                await asyncio.sleep(1.0)

    def publish(self, event: Dict[Text, Any]) -> None:
        """Queues the event; a single writer task keeps the stream in publish order."""
        self._queue.put_nowait(event)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        delay = 0.1
        while not self._queue.empty():
            event = self._queue.get_nowait()
            while True:
                try:
                    await self._client.xadd(
                        self.stream,
                        {"data": json.dumps(event, ensure_ascii=False)},
                        maxlen=self.maxlen,
                        approximate=True,
                    )
                    delay = 0.1
                    await self._trim_old()
                    break
                except (aioredis.RedisError, OSError):
                    logger.warning("Redis event stream unreachable; retrying in %.1fs", delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)

    async def _trim_old(self) -> None:
        """Drop entries older than the retention (personal data is not kept longer than needed)."""
        now = time.time()
        if not self.retention_seconds or now - self._trimmed_at < TRIM_EVERY_SECONDS:
            return
        self._trimmed_at = now
        oldest_kept = int((now - self.retention_seconds) * 1000)
        await self._client.xtrim(self.stream, minid=f"{oldest_kept}-0", approximate=False)

    def is_ready(self) -> bool:
        """The broker buffers while Redis is down, so it is always ready to accept events."""
        return True

    async def close(self) -> None:
        """Flushes queued events (up to 5 s) and closes the connection."""
        if self._writer and not self._writer.done():
            try:
                await asyncio.wait_for(self._writer, timeout=5)
            except asyncio.TimeoutError:
                logger.error("Dropped %d unpublished events on shutdown", self._queue.qsize())
        await self._client.close()
