"""The event stream keeps entries only as long as the retention (a real Redis)."""

import asyncio
import json
import time

import redis

from bot.event_broker import RedisStreamEventBroker

STREAM = "test:retention"


async def _publish_after_old_entries(url):
    plain = redis.Redis.from_url(url, decode_responses=True)
    plain.delete(STREAM)
    day_ago = int((time.time() - 86400) * 1000)
    for i in range(3):  # three entries written a day ago
        plain.xadd(STREAM, {"data": json.dumps({"event": "user", "text": f"cũ {i}"})}, id=f"{day_ago + i}-0")
    broker = RedisStreamEventBroker(url, stream=STREAM, retention_seconds=3600)
    broker.publish({"event": "user", "sender_id": "s1", "text": "mới"})
    await asyncio.wait_for(broker._writer, timeout=10)
    await broker.close()
    texts = [json.loads(fields["data"])["text"] for _, fields in plain.xrange(STREAM)]
    plain.delete(STREAM)
    plain.close()
    return texts


def test_entries_older_than_the_retention_are_trimmed(redis_server):
    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    assert asyncio.run(_publish_after_old_entries(url)) == ["mới"]


def test_no_retention_keeps_everything():
    broker = RedisStreamEventBroker("redis://127.0.0.1:1/0", retention_seconds="")
    assert broker.retention_seconds is None
