"""Acknowledge, then process: verified webhook events wait in a durable Redis stream; a consumer in every
Rasa process runs their turns.

The webhook answers as soon as an event is verified, de-duplicated by the platform's message id and
appended to the stream (one Lua call), so Meta and Zalo get their 200 within milliseconds whatever the bot,
the action server or the platform's send API are doing. Each Rasa process runs one consumer of the stream's
group (common/webhook_keys.py):

- one customer's events are handled one at a time, in the order they arrived, whichever process reads them
  (a per-sender order list and a per-sender lease, both checked in one Lua call);
- a failure is retried with back-off (`WEBHOOK_ATTEMPTS`, first wait `WEBHOOK_BACKOFF_SECONDS`, doubling);
  then the event goes to the dead-letter list, which the staff service counts in /metrics;
- a consumer renews its lease while it works; when it dies, its events are claimed by another consumer
  after `WEBHOOK_RECLAIM_SECONDS` (XAUTOCLAIM) and handled from where it stopped
  (bot/channels/webhook_turns.py makes a repeated attempt neither rerun the turn nor resend a reply).

Delivery is at least once to the handler and exactly once to the customer as far as the handler's records
allow. Keys of one channel share the `senmart:webhook:<channel>` prefix (several keys per call: one Redis,
not a cluster).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError, ResponseError

from common.privacy import mask_digits
from common.redis_client import LazyClient
from common.webhook_keys import (
    DEAD_LETTERS_KEPT,
    GROUP,
    dead_letter_key,
    queue_prefix,
    stream_key,
)

logger = logging.getLogger(__name__)

DEDUPE_SECONDS = 86_400  # a redelivery of the same message id within a day is acknowledged, not queued
IDLE_CONSUMER_SECONDS = 3600  # consumers of dead processes without pending events are removed after that
# events one consumer holds at once, running or waiting for their sender's earlier ones (a customer who
# sends ten messages in a row takes ten of these, not the running slots, so others are not held up)
MAX_HELD = 64

ENQUEUE = """
if not redis.call('SET', KEYS[1], 'queued', 'NX', 'EX', ARGV[1]) then return false end
local id = redis.call('XADD', KEYS[2], '*', 'sender', ARGV[2], 'dedupe', ARGV[3], 'event', ARGV[4],
  'received', ARGV[5])
redis.call('RPUSH', KEYS[3], id)
redis.call('EXPIRE', KEYS[3], ARGV[1])
return id
"""

# 'gone': handled already; 'wait': an earlier event of the sender is not done, or another consumer holds
# the sender's lease; 'go': this consumer holds the lease and the event is the sender's oldest
GATE = """
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return 'gone' end
local head = redis.call('LINDEX', KEYS[2], 0)
while head and head ~= ARGV[1] and #redis.call('XRANGE', KEYS[1], head, head) == 0 do
  redis.call('LPOP', KEYS[2])
  head = redis.call('LINDEX', KEYS[2], 0)
end
if head and head ~= ARGV[1] then return 'wait' end
if redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then return 'go' end
if redis.call('GET', KEYS[3]) == ARGV[2] then
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
  return 'go'
end
return 'wait'
"""

HEARTBEAT = """
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
"""

# ARGV[4]: the dead letter (JSON) or '' when the event was handled
FINISH = """
if ARGV[4] ~= '' then
  redis.call('LPUSH', KEYS[6], ARGV[4])
  redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[5]) - 1)
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('LREM', KEYS[2], 1, ARGV[2])
if redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('DEL', KEYS[3]) end
redis.call('HDEL', KEYS[4], ARGV[2])
redis.call('DEL', KEYS[5])
return 1
"""


# the oldest dead letter back into the stream, counted as attempted once (KEYS[4]: the key prefix)
REQUEUE = """
local function text(v)
  if type(v) == 'string' then return v elseif type(v) == 'number' then return tostring(v) end
  return ''
end
local item = redis.call('RPOP', KEYS[1])
if not item then return false end
local ok, letter = pcall(cjson.decode, item)
if not ok or type(letter) ~= 'table' then letter = {} end
local sender = text(letter['sender_id'])
local id = redis.call('XADD', KEYS[2], '*', 'sender', sender, 'dedupe', text(letter['message_id']),
  'event', text(letter['event']), 'received', text(letter['received_at']))
redis.call('RPUSH', KEYS[4] .. ':order:' .. sender, id)
redis.call('HSET', KEYS[3], id, 1)
return id
"""


@dataclass(frozen=True)
class QueueEntry:
    """One queued event: stream id, the customer, the platform's message id, the event as received."""

    id: Text
    sender_id: Text
    dedupe_id: Text
    event: Dict[Text, Any]
    received_at: float


@dataclass(frozen=True)
class QueueSettings:
    """Retry and recovery timing (environment: WEBHOOK_RECLAIM_SECONDS, WEBHOOK_ATTEMPTS,
    WEBHOOK_BACKOFF_SECONDS)."""

    reclaim_seconds: float = 30.0  # a lease not renewed for this long: its consumer is taken for dead
    attempts: int = 6  # tries of one event before it is dead-lettered (waits 1+2+4+8+16 s)
    backoff_seconds: float = 1.0
    # events one consumer runs at once: turns are CPU-bound and share the event loop with the webhook,
    # so more only slows the acknowledgements (ack p95 under 50 senders: 150–280 ms at 32, 53–94 ms at 2;
    # the backlog drained in 2.9–3.1 s at 32, 3.3–3.9 s at 2, 5.5 s at 1)
    concurrency: int = 2

    @classmethod
    def from_env(cls) -> "QueueSettings":
        """The settings from the environment, defaults where unset."""
        return cls(
            reclaim_seconds=float(os.environ.get("WEBHOOK_RECLAIM_SECONDS") or cls.reclaim_seconds),
            attempts=max(1, int(os.environ.get("WEBHOOK_ATTEMPTS") or cls.attempts)),
            backoff_seconds=float(os.environ.get("WEBHOOK_BACKOFF_SECONDS") or cls.backoff_seconds),
            concurrency=max(1, int(os.environ.get("WEBHOOK_CONCURRENCY") or cls.concurrency)),
        )


Handler = Callable[[QueueEntry, int], Awaitable[None]]


class WebhookQueue:
    """The durable queue of one webhook channel: `enqueue` in the webhook, `start`/`stop` with the server."""

    def __init__(
        self,
        redis_url: Text,
        channel: Text,
        dedupe_prefix: Text,
        settings: Optional[QueueSettings] = None,
        calls: Optional[LazyClient] = None,
    ) -> None:
        self.redis_url = redis_url
        self.channel = channel
        self.dedupe_prefix = dedupe_prefix  # e.g. senmart:fb -> senmart:fb:mid:<message id>
        self.settings = settings or QueueSettings.from_env()
        self.stream = stream_key(channel)
        self.prefix = queue_prefix(channel)
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"
        # short calls (the webhook, the consumer's scripts): 3 s timeouts; blocking reads: longer than a block
        self._calls = calls or LazyClient(
            redis_url, socket_timeout=3, socket_connect_timeout=3, decode_responses=True
        )
        self._reads = LazyClient(
            redis_url, socket_timeout=10, socket_connect_timeout=3, decode_responses=True
        )
        self._loop: Optional["asyncio.Task[None]"] = None
        self._working: Dict[Text, "asyncio.Task[None]"] = {}
        self._handler: Optional[Handler] = None
        self._wakers: Dict[Text, asyncio.Event] = {}  # senders whose next event waits in this process
        self._slots = asyncio.Semaphore(self.settings.concurrency)
        self._last_error_log = 0.0
        self._stopping = False

    # -- keys --------------------------------------------------------------------------------------------

    def _order_key(self, sender_id: Text) -> Text:
        return f"{self.prefix}:order:{sender_id}"

    def _lease_key(self, sender_id: Text) -> Text:
        return f"{self.prefix}:lease:{sender_id}"

    @property
    def _attempts_key(self) -> Text:
        return f"{self.prefix}:attempts"

    def turn_key(self, entry_id: Text) -> Text:
        """Where bot/channels/webhook_turns.py keeps the turn's replies (deleted when the event is done)."""
        return f"{self.prefix}:turn:{entry_id}"

    # -- clients -----------------------------------------------------------------------------------------

    @property
    def redis(self) -> aioredis.Redis:
        """Client for the webhook and the consumer's short calls."""
        return self._calls.get()

    @property
    def reader(self) -> aioredis.Redis:
        """Client for the blocking reads."""
        return self._reads.get()

    # -- the webhook side --------------------------------------------------------------------------------

    def _enqueue_arguments(self, sender_id: Text, dedupe_id: Text, event: Dict[Text, Any]) -> Tuple[Any, ...]:
        return (
            ENQUEUE,
            3,
            f"{self.dedupe_prefix}:mid:{dedupe_id}",
            self.stream,
            self._order_key(sender_id),
            DEDUPE_SECONDS,
            sender_id,
            dedupe_id,
            json.dumps(event, ensure_ascii=False),
            f"{time.time():.3f}",
        )

    async def enqueue(self, sender_id: Text, dedupe_id: Text, event: Dict[Text, Any]) -> bool:
        """Append a verified event; False when its message id was queued already (a redelivery)."""
        return bool(await self.redis.eval(*self._enqueue_arguments(sender_id, dedupe_id, event)))

    def add_enqueue(self, pipe: Pipeline, sender_id: Text, dedupe_id: Text, event: Dict[Text, Any]) -> None:
        """`enqueue` as one more call of `pipe` (a pipeline of `redis`, to save round trips): its result is
        the stream entry's id, or None for a redelivery."""
        pipe.eval(*self._enqueue_arguments(sender_id, dedupe_id, event))

    # -- the consumer side -------------------------------------------------------------------------------

    def start(self, handler: Handler) -> None:
        """Start consuming in the running event loop (the server's after_server_start)."""
        self._handler = handler
        self._slots = asyncio.Semaphore(self.settings.concurrency)
        self._stopping = False
        if self._loop is None or self._loop.done():
            self._loop = asyncio.ensure_future(self._consume())

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Stop reading; events in work get `grace_seconds` to finish, the rest stay pending for others."""
        self._stopping = True
        if self._loop is not None:
            # redis-py may turn a cancellation inside a connect into a ConnectionError: the flag ends the loop
            deadline = time.monotonic() + grace_seconds
            while not self._loop.done() and time.monotonic() < deadline:
                self._loop.cancel()  # again if the first was taken for a Redis error (then it sleeps)
                await asyncio.wait({self._loop}, timeout=0.05)
            self._loop = None
        working = list(self._working.values())
        if working:
            _, late = await asyncio.wait(working, timeout=grace_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._calls.close()
        await self._reads.close()

    async def idle(self) -> bool:
        """Whether nothing is queued or in work (tests and benchmarks wait for it)."""
        return not self._working and await self.redis.xlen(self.stream) == 0

    async def _ensure_group(self) -> None:
        try:
            await self.reader.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def _forget_idle_consumers(self) -> None:
        """Remove consumers of processes gone long ago that have nothing pending."""
        for info in await self.reader.xinfo_consumers(self.stream, GROUP):
            idle_ms, pending, name = info.get("idle", 0), info.get("pending", 0), info.get("name")
            if name != self.consumer and not pending and idle_ms > IDLE_CONSUMER_SECONDS * 1000:
                await self.reader.xgroup_delconsumer(self.stream, GROUP, name)

    async def _consume(self) -> None:
        next_claim, ready = 0.0, False
        while not self._stopping:
            try:
                if not ready:
                    await self._ensure_group()
                    await self._forget_idle_consumers()
                    ready = True
                if time.monotonic() >= next_claim:
                    await self._claim_abandoned()
                    next_claim = time.monotonic() + self.settings.reclaim_seconds / 3
                free = MAX_HELD - len(self._working)
                if free <= 0:
                    await asyncio.sleep(0.05)
                    continue
                block = int(min(1000, self.settings.reclaim_seconds * 1000 / 3))
                answer = await self.reader.xreadgroup(
                    GROUP, self.consumer, {self.stream: ">"}, count=free, block=block
                )
                for _stream, entries in answer or []:
                    for entry_id, fields in entries:
                        self._spawn(entry_id, fields)
            except asyncio.CancelledError:
                raise
            except ResponseError as error:
                if "NOGROUP" in str(error):
                    ready = False  # the stream was deleted: the group is made again
                    continue
                self._log_error("reading")
                await asyncio.sleep(1.0)
            except (RedisError, OSError):
                self._log_error("reading")
                await asyncio.sleep(1.0)

    async def _claim_abandoned(self) -> None:
        """Take over events whose consumer stopped renewing them (a dead process)."""
        start = "0-0"
        for _ in range(10):
            answer = await self.reader.xautoclaim(
                self.stream,
                GROUP,
                self.consumer,
                int(self.settings.reclaim_seconds * 1000),
                start_id=start,
                count=50,
            )
            start, entries = answer[0], answer[1]
            for entry_id, fields in entries:
                if entry_id in self._working:
                    continue
                logger.info("%s event %s taken over from a consumer that stopped.", self.channel, entry_id)
                self._spawn(entry_id, fields)
            if start in ("0-0", b"0-0"):
                return

    def _spawn(self, entry_id: Text, fields: Optional[Dict[Text, Text]]) -> None:
        if entry_id in self._working:
            return
        task = asyncio.ensure_future(self._work(entry_id, fields or {}))
        self._working[entry_id] = task
        task.add_done_callback(lambda _task: self._working.pop(entry_id, None))

    @staticmethod
    def _entry(entry_id: Text, fields: Dict[Text, Text]) -> QueueEntry:
        event = json.loads(fields["event"])
        if not isinstance(event, dict):
            raise ValueError("queued event is not an object")
        return QueueEntry(
            id=entry_id,
            sender_id=fields["sender"],
            dedupe_id=fields["dedupe"],
            event=event,
            received_at=float(fields.get("received") or 0),
        )

    async def _work(self, entry_id: Text, fields: Dict[Text, Text]) -> None:
        sender_id = fields.get("sender") or ""
        while not self._stopping:
            try:
                if not await self._wait_turn(entry_id, sender_id):
                    return
                beat = asyncio.ensure_future(self._heartbeat(entry_id, sender_id))
                try:
                    await self._attempt(entry_id, sender_id, fields)
                finally:
                    beat.cancel()
                return
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):
                # Redis did not answer (a timeout, a restart): the event is still this consumer's, so it
                # is tried again here (a repeated attempt neither reruns the turn nor resends a reply);
                # if this process dies meanwhile, another consumer takes it over after reclaim_seconds
                self._log_error(f"handling event {entry_id}")
                await asyncio.sleep(1.0)

    async def _wait_turn(self, entry_id: Text, sender_id: Text) -> bool:
        """Wait until the event is its sender's oldest and this consumer holds the sender's lease;
        False when the event was handled already (by a consumer that had claimed it)."""
        pause = 0.05
        while True:
            state = await self.redis.eval(
                GATE,
                3,
                self.stream,
                self._order_key(sender_id),
                self._lease_key(sender_id),
                entry_id,
                self.consumer,
                int(self.settings.reclaim_seconds * 1000),
            )
            if state == "go":
                return True
            if state == "gone":
                await self.redis.xack(self.stream, GROUP, entry_id)
                return False
            # woken at once when this process finishes one of the sender's events; polled for the others
            waker = self._wakers.setdefault(sender_id, asyncio.Event())
            try:
                await asyncio.wait_for(waker.wait(), pause)
            except asyncio.TimeoutError:
                pause = min(pause * 2, 0.5)

    async def _heartbeat(self, entry_id: Text, sender_id: Text) -> None:
        """Renew the sender's lease and the event's ownership while the event is handled."""
        while True:
            await asyncio.sleep(self.settings.reclaim_seconds / 3)
            try:
                await self.redis.eval(
                    HEARTBEAT,
                    2,
                    self.stream,
                    self._lease_key(sender_id),
                    GROUP,
                    self.consumer,
                    entry_id,
                    int(self.settings.reclaim_seconds * 1000),
                )
            except (RedisError, OSError):
                self._log_error(f"renewing event {entry_id}")

    async def _attempt(self, entry_id: Text, sender_id: Text, fields: Dict[Text, Text]) -> None:
        """Handle the event, retrying with back-off; dead-letter it after the last attempt."""
        try:
            entry = self._entry(entry_id, fields)
        except (KeyError, TypeError, ValueError) as error:
            await self._finish(entry_id, sender_id, self._dead_letter(entry_id, fields, error, 0))
            return
        assert self._handler is not None
        while True:
            attempt = int(await self.redis.hincrby(self._attempts_key, entry_id, 1))
            try:
                async with self._slots:  # a back-off wait below holds no slot
                    await self._handler(entry, attempt)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if attempt >= self.settings.attempts:
                    logger.error(
                        "%s event %s of %s failed %d times; moved to the dead letters: %s",
                        self.channel,
                        entry_id,
                        mask_digits(sender_id) or "?",
                        attempt,
                        error,
                    )
                    await self._finish(
                        entry_id, sender_id, self._dead_letter(entry_id, fields, error, attempt)
                    )
                    return
                wait = self.settings.backoff_seconds * 2 ** (attempt - 1)
                logger.warning(
                    "%s event %s failed (attempt %d of %d), retried in %.1f s: %s",
                    self.channel,
                    entry_id,
                    attempt,
                    self.settings.attempts,
                    wait,
                    error,
                )
                await asyncio.sleep(wait)
                continue
            await self._finish(entry_id, sender_id, "")
            return

    def _dead_letter(
        self, entry_id: Text, fields: Dict[Text, Text], error: BaseException, attempts: int
    ) -> Text:
        return json.dumps(
            {
                "channel": self.channel,
                "entry_id": entry_id,
                "sender_id": fields.get("sender"),
                "message_id": fields.get("dedupe"),
                "event": fields.get("event"),
                "received_at": fields.get("received"),
                "failed_at": round(time.time(), 3),
                "attempts": attempts,
                "error": f"{type(error).__name__}: {error}"[:500],
            },
            ensure_ascii=False,
        )

    async def _finish(self, entry_id: Text, sender_id: Text, dead_letter: Text) -> None:
        try:
            await self._finish_in_redis(entry_id, sender_id, dead_letter)
        finally:
            waker = self._wakers.pop(sender_id, None)
            if waker is not None:
                waker.set()

    async def _finish_in_redis(self, entry_id: Text, sender_id: Text, dead_letter: Text) -> None:
        await self.redis.eval(
            FINISH,
            6,
            self.stream,
            self._order_key(sender_id),
            self._lease_key(sender_id),
            self._attempts_key,
            self.turn_key(entry_id),
            dead_letter_key(self.channel),
            GROUP,
            entry_id,
            self.consumer,
            dead_letter,
            DEAD_LETTERS_KEPT,
        )

    async def dead_letters(self, limit: int = 100) -> List[Dict[Text, Any]]:
        """The newest dead letters."""
        items = await self.redis.lrange(dead_letter_key(self.channel), 0, limit - 1)
        return [json.loads(item) for item in items]

    async def retry_dead_letters(self) -> int:
        """Queue every dead letter again, oldest first (after the fault was fixed); how many. Each counts
        as a later attempt, so a turn that ran is not run again: its stored answer is sent."""
        count = 0
        keys = (dead_letter_key(self.channel), self.stream, self._attempts_key, self.prefix)
        while await self.redis.eval(REQUEUE, len(keys), *keys):
            count += 1
        return count

    def _log_error(self, doing: Text) -> None:
        """Redis trouble, logged at most every 10 s (the loop keeps trying)."""
        now = time.monotonic()
        if now - self._last_error_log > 10:
            self._last_error_log = now
            logger.exception("%s webhook queue: Redis failed while %s; retrying.", self.channel, doing)
