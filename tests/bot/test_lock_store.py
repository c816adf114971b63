"""AtomicRedisLockStore against a real redis-server: order, exclusion, crashes, cancellation, wake-up latency.

Run as a script, this file is the worker process of the multi-process tests (`python <this file> <json>`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
import redis
from rasa.core.lock_store import LockError, LockStore
from rasa.core.utils import number_of_sanic_workers
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import AtomicRedisLockStore, Lease

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DB = 7  # apart from the databases the other tests and services flush
TTL = 2.0
CONVERSATION = "khách-42"


@pytest.fixture()
def prefix() -> str:
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture()
def sync_redis(redis_server):
    client = redis.Redis(host=redis_server.host, port=redis_server.port, db=DB, decode_responses=True)
    yield client
    client.close()


@pytest.fixture()
async def make_store(redis_server, prefix):
    """Stores on the test Redis (one per simulated worker), closed after the test."""
    stores: List[AtomicRedisLockStore] = []

    def make(ttl: float = TTL) -> AtomicRedisLockStore:
        store = AtomicRedisLockStore(
            host=redis_server.host, port=redis_server.port, db=DB, key_prefix=prefix, lock_ttl_seconds=ttl
        )
        stores.append(store)
        return store

    yield make
    for store in stores:
        await store.close()


@pytest.fixture()
async def store(make_store) -> AtomicRedisLockStore:
    return make_store()


@pytest.fixture()
def spawn(redis_server, prefix):
    """Start worker processes (this file as a script); kill the ones still running after the test."""
    started: List[subprocess.Popen] = []

    def start(mode: str, **config: Any) -> subprocess.Popen:
        config = {
            "mode": mode,
            "host": redis_server.host,
            "port": redis_server.port,
            "prefix": prefix,
            **config,
        }
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), json.dumps(config)], cwd=PROJECT_ROOT, env=env
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


async def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Await until check() is truthy (the test's own polling, not the store's)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout}s")


def queue_key(prefix: str, conversation: str = CONVERSATION) -> str:
    return f"{prefix}:lock:{{{conversation}}}:queue"


class Holder:
    """Holds a conversation's lock in a task until `release()`."""

    def __init__(self, store: AtomicRedisLockStore, conversation: str = CONVERSATION) -> None:
        self.acquired = asyncio.Event()
        self.done = asyncio.Event()
        self.lease: Lease | None = None
        self.released_at = 0.0
        self.task = asyncio.create_task(self._hold(store, conversation))

    async def _hold(self, store: AtomicRedisLockStore, conversation: str) -> None:
        async with store.lock(conversation, lock_lifetime=60) as lease:
            self.lease = lease
            self.acquired.set()
            await self.done.wait()
            self.released_at = time.monotonic()

    async def release(self) -> None:
        self.done.set()
        await self.task


async def acquire_at(store: AtomicRedisLockStore, conversation: str = CONVERSATION) -> float:
    """Wait for the lock; return when it was acquired (monotonic)."""
    async with store.lock(conversation, lock_lifetime=60):
        return time.monotonic()


async def test_ten_acquirers_in_one_process_are_served_one_at_a_time_in_arrival_order(
    store, sync_redis, prefix
):
    inside = 0
    most_inside = 0
    served: List[int] = []
    tickets: Dict[int, int] = {}

    async def customer_message(i: int) -> None:
        nonlocal inside, most_inside
        await asyncio.sleep(i * 0.01)  # arrival order 0..9
        async with store.lock(CONVERSATION, lock_lifetime=30) as lease:
            inside += 1
            most_inside = max(most_inside, inside)
            served.append(i)
            tickets[i] = lease.ticket
            await asyncio.sleep(0.03)
            inside -= 1

    await asyncio.gather(*(customer_message(i) for i in range(10)))

    assert most_inside == 1
    assert served == list(range(10))
    first = tickets[0]
    assert [tickets[i] for i in served] == list(range(first, first + 10))
    assert sync_redis.exists(queue_key(prefix)) == 0


async def test_worker_processes_exclude_each_other_and_are_served_in_ticket_order(spawn, sync_redis, prefix):
    workers, turns = 4, 15
    for worker in range(workers):
        spawn("contend", worker=worker, turns=turns, hold=0.01)
    await eventually(lambda: sync_redis.llen(f"{prefix}:test:ready") == workers)
    sync_redis.rpush(f"{prefix}:test:go", *range(workers))
    await eventually(lambda: sync_redis.llen(f"{prefix}:test:events") == workers * turns * 2, timeout=60)

    events = [json.loads(e) for e in sync_redis.lrange(f"{prefix}:test:events", 0, -1)]
    # no interleaving: every start is followed by the end of the same turn
    for start, end in zip(events[::2], events[1::2]):
        assert (start[0], start[1], start[2]) == (end[0], end[1], "start")
        assert end[2] == "end"
    tickets = [start[1] for start in events[::2]]
    assert tickets == sorted(tickets) and len(set(tickets)) == len(tickets)
    owners = [start[0] for start in events[::2]]
    assert sorted(set(owners)) == list(range(workers))
    handovers = sum(1 for a, b in itertools.pairwise(owners) if a != b)
    assert handovers >= workers * turns // 2  # they really contended
    gaps = [nxt[3] - end[3] for end, nxt in zip(events[1::2], events[2::2])]
    print(
        f"\ncross-process handover (release → next holder's first write): median "
        f"{statistics.median(gaps) * 1000:.1f} ms, max {max(gaps) * 1000:.1f} ms over {len(gaps)}"
    )
    assert max(gaps) < 0.5
    assert sync_redis.exists(queue_key(prefix)) == 0


async def test_different_conversations_do_not_wait_for_each_other(store):
    # ids chosen so that a naive key scheme would make them collide
    conversations = ["a", "a}:queue", "{a}", "a:seq", "khách:42"]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def turn(conversation: str) -> None:
        async with store.lock(conversation, lock_lifetime=30):
            await asyncio.sleep(0.3)

    ticking = asyncio.create_task(ticker())
    started = time.monotonic()
    await asyncio.gather(*(turn(c) for c in conversations))
    elapsed = time.monotonic() - started
    ticking.cancel()

    assert elapsed < 0.6  # one after the other would take 1.5 s
    assert ticks >= 15  # the event loop kept running


async def test_a_holder_killed_with_sigkill_loses_the_lock_within_its_ttl(spawn, store, sync_redis, prefix):
    holder = spawn("hold", conversation=CONVERSATION, ttl=TTL)
    await eventually(lambda: sync_redis.llen(f"{prefix}:test:held") == 1)
    waiter = asyncio.create_task(acquire_at(store))
    await eventually(lambda: sync_redis.zcard(queue_key(prefix)) == 2)
    await asyncio.sleep(0.2)  # the waiter is in its BLPOP

    holder.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    holder.wait(timeout=10)
    acquired_at = await asyncio.wait_for(waiter, timeout=TTL + 5)

    elapsed = acquired_at - killed_at
    print(f"\nlock of the SIGKILLed holder passed on {elapsed:.2f}s after the kill (ttl {TTL:g}s)")
    assert TTL / 2 < elapsed < TTL + 0.3  # heartbeat every ttl/3: the lease had 2/3..1 ttl left
    assert sync_redis.exists(queue_key(prefix)) == 0


async def test_a_waiter_killed_with_sigkill_is_skipped_within_its_ttl(spawn, store, sync_redis, prefix):
    holder = Holder(store)
    await holder.acquired.wait()
    dead = spawn("wait", conversation=CONVERSATION, ttl=TTL)
    await eventually(lambda: sync_redis.zcard(queue_key(prefix)) == 2)
    waiter = asyncio.create_task(acquire_at(store))
    await eventually(lambda: sync_redis.zcard(queue_key(prefix)) == 3)

    dead.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    dead.wait(timeout=10)
    await holder.release()
    acquired_at = await asyncio.wait_for(waiter, timeout=TTL + 5)

    elapsed = acquired_at - killed_at
    print(f"\nticket of the SIGKILLed waiter skipped {elapsed:.2f}s after the kill (ttl {TTL:g}s)")
    assert TTL / 2 < elapsed < TTL + 0.3
    assert sync_redis.llen(f"{prefix}:test:acquired") == 0  # the dead waiter never got it
    assert sync_redis.exists(queue_key(prefix)) == 0


async def test_a_long_turn_keeps_its_lock_past_the_ttl(make_store, sync_redis, prefix):
    first, second = make_store(ttl=0.6), make_store(ttl=0.6)
    holder = Holder(first)
    await holder.acquired.wait()
    waiter = asyncio.create_task(acquire_at(second))
    await asyncio.sleep(2.0)  # more than three TTLs

    assert not waiter.done()
    assert sync_redis.zrange(queue_key(prefix), 0, 0) == [holder.lease.token]
    await holder.release()
    acquired_at = await asyncio.wait_for(waiter, timeout=2)
    assert 0 <= acquired_at - holder.released_at < 0.5


async def test_cancelled_and_timed_out_waiters_do_not_block_the_ones_behind(store, sync_redis, prefix):
    holder = Holder(store)
    await holder.acquired.wait()
    cancelled = asyncio.create_task(acquire_at(store))
    await eventually(lambda: sync_redis.zcard(queue_key(prefix)) == 2)
    timed_out = asyncio.create_task(asyncio.wait_for(acquire_at(store), timeout=1.0))
    await eventually(lambda: sync_redis.zcard(queue_key(prefix)) == 3)
    last = asyncio.create_task(acquire_at(store))
    await eventually(lambda: sync_redis.zcard(queue_key(prefix)) == 4)

    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    with pytest.raises(asyncio.TimeoutError):
        await timed_out
    assert sync_redis.zcard(queue_key(prefix)) == 2  # holder and `last`: both left at once

    await holder.release()
    acquired_at = await asyncio.wait_for(last, timeout=TTL)
    assert acquired_at - holder.released_at < 0.5  # not after the ttl of the ones that left
    assert sync_redis.exists(queue_key(prefix)) == 0


async def test_a_waiter_gives_up_after_lock_lifetime_with_rasas_lock_error(store, sync_redis, prefix):
    holder = Holder(store)
    await holder.acquired.wait()
    started = time.monotonic()
    with pytest.raises(LockError):
        async with store.lock(CONVERSATION, lock_lifetime=0.3):
            pass
    assert 0.29 < time.monotonic() - started < 0.8
    assert sync_redis.zrange(queue_key(prefix), 0, -1) == [holder.lease.token]
    await holder.release()


async def test_release_with_a_wrong_token_does_nothing(store, sync_redis, prefix):
    holder = Holder(store)
    await holder.acquired.wait()

    assert await store.release(CONVERSATION, uuid.uuid4().hex) is False
    assert await store.release("another-conversation", holder.lease.token) is False
    assert sync_redis.zrange(queue_key(prefix), 0, -1) == [holder.lease.token]
    with pytest.raises(LockError):  # still held
        async with store.lock(CONVERSATION, lock_lifetime=0.3):
            pass

    await holder.release()
    assert sync_redis.exists(queue_key(prefix)) == 0


async def test_a_waiter_is_woken_right_after_the_release(make_store, sync_redis, prefix):
    first, second = make_store(), make_store()  # two workers' stores
    latencies = []
    for _ in range(20):
        holder = Holder(first)
        await holder.acquired.wait()
        waiter = asyncio.create_task(acquire_at(second))
        await eventually(lambda: sync_redis.zcard(queue_key(prefix)) == 2)
        await asyncio.sleep(0.03)  # in its BLPOP
        await holder.release()
        latencies.append(await waiter - holder.released_at)
    print(
        f"\nwake-up latency (release → waiter holds): median {statistics.median(latencies) * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms over {len(latencies)}"
    )
    assert max(latencies) < 0.5


async def test_rasa_creates_it_from_endpoints_yml_and_calls_lock_as_the_agent_does(
    redis_server, sync_redis, prefix, monkeypatch
):
    # what `${REDIS_PORT}` etc. expand to: strings, an empty password
    config = EndpointConfig.from_dict(
        {
            "type": "bot.lock_store.AtomicRedisLockStore",
            "url": redis_server.host,
            "port": str(redis_server.port),
            "db": str(DB),
            "password": "",
            "key_prefix": prefix,
            "lock_ttl_seconds": "2",
        }
    )
    store = LockStore.create(config)
    try:
        assert isinstance(store, AtomicRedisLockStore)
        assert store.lock_ttl_seconds == 2.0
        async with store.lock("conv", lock_lifetime=60, wait_time_in_seconds=1) as lease:
            assert lease.conversation_id == "conv"
            keys = sync_redis.keys(f"{prefix}:*")
            assert sorted(keys) == sorted(
                f"{prefix}:lock:{{conv}}:{suffix}" for suffix in ("queue", "seq", f"alive:{lease.token}")
            )
            assert all(0 < sync_redis.pttl(key) <= 2000 for key in keys)
        async with store.lock("conv"):  # Agent.handle_message's call
            pass
        assert sync_redis.keys(f"{prefix}:*") == [f"{prefix}:lock:{{conv}}:seq"]
        assert 0 < sync_redis.pttl(f"{prefix}:lock:{{conv}}:seq") <= 2000
    finally:
        await store.close()

    url_store = LockStore.create(
        EndpointConfig.from_dict(
            {"type": "bot.lock_store.AtomicRedisLockStore", "url": redis_server.url, "key_prefix": prefix}
        )
    )
    db0 = redis.Redis.from_url(redis_server.url)  # redis://host:port/0
    try:
        async with url_store.lock("conv"):
            assert db0.exists(f"{prefix}:lock:{{conv}}:queue") == 1
            assert sync_redis.exists(f"{prefix}:lock:{{conv}}:queue") == 0
    finally:
        await url_store.close()
        db0.close()

    monkeypatch.setenv("SANIC_WORKERS", "3")
    assert number_of_sanic_workers(config) == 3
    with pytest.raises(ValueError, match="lock_ttl"):
        LockStore.create(
            EndpointConfig.from_dict({"type": "bot.lock_store.AtomicRedisLockStore", "lock_ttl": 2})
        )
    with pytest.raises(ValueError, match="key_prefix"):
        AtomicRedisLockStore(key_prefix="sen:mart")


# ---- worker process for the tests above -------------------------------------------------------------


async def _worker(config: Dict[str, Any]) -> None:
    store = AtomicRedisLockStore(
        host=config["host"],
        port=config["port"],
        db=DB,
        key_prefix=config["prefix"],
        lock_ttl_seconds=config.get("ttl", TTL),
    )
    red, test = store.red, f"{config['prefix']}:test:"
    conversation = config.get("conversation", CONVERSATION)
    mode: str = config["mode"]
    if mode == "contend":
        worker = config["worker"]
        await red.rpush(test + "ready", worker)
        await red.blpop([test + "go"], timeout=60)
        for _ in range(config["turns"]):
            async with store.lock(conversation, lock_lifetime=60) as lease:
                await red.rpush(test + "events", json.dumps([worker, lease.ticket, "start", time.time()]))
                await asyncio.sleep(config["hold"])
                await red.rpush(test + "events", json.dumps([worker, lease.ticket, "end", time.time()]))
    elif mode in ("hold", "wait"):
        async with store.lock(conversation, lock_lifetime=3600):
            await red.rpush(test + ("held" if mode == "hold" else "acquired"), 1)
            await asyncio.sleep(3600)  # until SIGKILL
    await store.close()


if __name__ == "__main__":
    asyncio.run(_worker(json.loads(sys.argv[1])))
