"""Clients from common.redis_client answer the first command after a Redis restart (a real redis-server)."""

import asyncio

import pytest
import redis
import redis.asyncio as aioredis

from common.redis_client import async_client


async def _first_command_after_restart(client, restart) -> str:
    await client.set("k", "before")
    await asyncio.to_thread(restart)  # the pooled connection is now closed by the old server's death
    try:
        return await client.get("k") or "missing"
    finally:
        await client.aclose() if hasattr(client, "aclose") else await client.close()


def test_the_first_command_after_a_restart_succeeds(restartable_redis):
    url, restart = restartable_redis
    value = asyncio.run(_first_command_after_restart(async_client(url, decode_responses=True), restart))
    assert value in ("before", "missing")  # answered (AOF may or may not hold the last second)


def test_a_plain_client_fails_that_command(restartable_redis):
    """What the factory fixes: redis-py's default client raises on the dead pooled connection."""
    url, restart = restartable_redis
    plain = aioredis.Redis.from_url(url, decode_responses=True)
    with pytest.raises(redis.exceptions.ConnectionError):
        asyncio.run(_first_command_after_restart(plain, restart))


def test_the_printed_redis_url_hides_the_password():
    from bot.settings import RedisTarget

    target = RedisTarget.from_url("redis://:s3cret-pass@redis.internal:6380/2")
    assert target.url == "redis://:s3cret-pass@redis.internal:6380/2"
    assert target.safe_url == "redis://:***@redis.internal:6380/2"
    assert RedisTarget("127.0.0.1", 16379).safe_url == "redis://127.0.0.1:16379/0"
