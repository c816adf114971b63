"""socket.io's pub/sub carries JSON: a pickled message someone PUBLISHes to Redis is never run."""

import asyncio
import os
import pickle

import redis

from bot.channels.socketio_manager import JsonRedisManager


class RunsCode:
    """Unpickling this would create a file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


async def _exchange(url, tmp_path):
    manager = JsonRedisManager(url, channel="test-socketio")
    received = []

    async def listen():
        async for data in manager._listen():
            received.append(data)
            if data.get("method") == "emit":
                return

    task = asyncio.create_task(listen())
    await asyncio.sleep(0.3)  # subscribed
    publisher = redis.Redis.from_url(url)
    publisher.publish("test-socketio", pickle.dumps(RunsCode(tmp_path / "pwned")))
    publisher.publish("test-socketio", b"[1, 2]")
    await manager._publish({"method": "emit", "event": "bot_uttered", "data": {"text": "Chào bạn"}})
    await asyncio.wait_for(task, timeout=5)
    publisher.close()
    return received


def test_only_json_objects_are_read(redis_server, tmp_path):
    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    received = asyncio.run(_exchange(url, tmp_path))
    assert received == [{"method": "emit", "event": "bot_uttered", "data": {"text": "Chào bạn"}}]
    assert not (tmp_path / "pwned").exists()
