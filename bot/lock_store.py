"""Rasa lock store on Redis: one turn at a time per conversation, in arrival order, across processes.

Why not Rasa's own: Rasa 3.6's `RedisLockStore` keeps a conversation's ticket queue as one JSON string that
every worker reads with GET, changes in Python and writes back with SET. Two workers that do this at the same
time overwrite each other's tickets, so two turns of one conversation can run at once; and a waiter looks
again only every `wait_time_in_seconds` (1 s), so a queued message waits up to a second after the turn
before it ended.

The algorithm here, per conversation (all keys under `<key_prefix>:lock:{<conversation>}:`, the braces make
them one Redis Cluster hash slot):

- `queue`: a sorted set of the callers' random tokens scored by ticket number, the ticket taken with INCR on
  `seq` inside the same Lua script. The script runs atomically in Redis, so the queue order is the order in
  which the callers reached Redis, whichever worker or machine they run on.
- `alive:<token>`: a key with a TTL of `lock_ttl_seconds` that the caller's heartbeat task renews every
  third of it, while waiting and while holding. The holder is the first queue member whose `alive` key
  exists; members in front of it whose key has expired (a worker killed with SIGKILL, waiting or holding)
  are dropped by whichever script looks at the queue next. So a crashed worker blocks the queue for at most
  `lock_ttl_seconds`, and a live one is never cut short, however long its turn.
- `wake:<token>`: leaving the queue (Lua, only for a token that is in it, so nobody else's token can
  release) RPUSHes onto the next holder's `wake` list. Waiters BLPOP their own list: they wake on the
  release itself, no polling, and a push that comes before the BLPOP is not lost. The BLPOP timeout is the
  remaining TTL of the holder's `alive` key (capped at `wake_fallback_seconds`), so the crashed-holder case
  is noticed as soon as its key expires and a lost push costs at most the cap.

Every key has a TTL that living members keep extending, so nothing is left behind. A caller that waits
longer than `lock_lifetime` (Rasa's `TICKET_LOCK_LIFETIME`, 60 s by default) leaves the queue and gets a
`LockError`, as with Rasa's store. The lease is only as good as the heartbeat: an event loop blocked for
longer than `lock_ttl_seconds` loses the lock (logged as an error).

endpoints.yml:
    lock_store:
      type: bot.lock_store.AtomicRedisLockStore
      url: ${REDIS_HOST}          # a host name, or a redis:// / rediss:// URL
      port: ${REDIS_PORT}
      db: ${REDIS_DB}
      password: ${REDIS_PASSWORD}
      key_prefix: senmart
      lock_ttl_seconds: ${LOCK_TTL_SECONDS}  # how long a crashed worker can hold a conversation
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncGenerator, List, Optional, Text

import redis.asyncio as aioredis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from common.redis_client import async_client

logger = logging.getLogger(__name__)

DEFAULT_LOCK_TTL_SECONDS = 30.0
DEFAULT_WAKE_FALLBACK_SECONDS = 5.0
_KEY_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")

# Drops expired members from the front of the queue; returns the first live token or false.
_LIVE_HEAD = """
local function live_head(queue, base)
  while true do
    local head = redis.call('ZRANGE', queue, 0, 0)[1]
    if not head then return false end
    if redis.call('EXISTS', base .. 'alive:' .. head) == 1 then return head end
    redis.call('ZREM', queue, head)
    redis.call('DEL', base .. 'wake:' .. head)
  end
end
local function extend(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
"""

# KEYS: queue, seq. ARGV: token, ttl_ms, base. Returns {ticket, 1 if holding, PTTL of the holder's key}.
_ENQUEUE = (
    _LIVE_HEAD
    + """
local queue, seq, token, ttl, base = KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), ARGV[3]
local ticket = redis.call('ZSCORE', queue, token)
if ticket then
  ticket = tonumber(ticket)
else
  ticket = redis.call('INCR', seq)
  local tail = redis.call('ZRANGE', queue, -1, -1, 'WITHSCORES')[2]
  if tail and tonumber(tail) >= ticket then
    ticket = tonumber(tail) + 1
    redis.call('SET', seq, ticket)
  end
  redis.call('ZADD', queue, ticket, token)
end
redis.call('SET', base .. 'alive:' .. token, 1, 'PX', ttl)
extend(queue, ttl)
extend(seq, ttl)
local head = live_head(queue, base)
if head == token then return {ticket, 1, 0} end
return {ticket, 0, redis.call('PTTL', base .. 'alive:' .. head)}
"""
)

# KEYS: queue. ARGV: token, base. Returns {1, 0} holding, {0, PTTL of the holder's key} waiting, {-1, 0} gone.
_TRY = (
    _LIVE_HEAD
    + """
local queue, token, base = KEYS[1], ARGV[1], ARGV[2]
local head = live_head(queue, base)
if head == token then return {1, 0} end
if not redis.call('ZSCORE', queue, token) then return {-1, 0} end
return {0, redis.call('PTTL', base .. 'alive:' .. head)}
"""
)

# KEYS: queue. ARGV: token, ttl_ms, base. Removes the token; if it was first, wakes the next live member.
_LEAVE = (
    _LIVE_HEAD
    + """
local queue, token, ttl, base = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
if not redis.call('ZSCORE', queue, token) then return 0 end
local first = redis.call('ZRANGE', queue, 0, 0)[1]
redis.call('ZREM', queue, token)
redis.call('DEL', base .. 'alive:' .. token, base .. 'wake:' .. token)
if first == token then
  local nxt = live_head(queue, base)
  if nxt then
    redis.call('RPUSH', base .. 'wake:' .. nxt, 1)
    redis.call('PEXPIRE', base .. 'wake:' .. nxt, ttl)
  end
end
return 1
"""
)

# KEYS: queue, seq. ARGV: token, ttl_ms, base. Renews a member's keys; 0 if it is no longer in the queue.
_HEARTBEAT = (
    _LIVE_HEAD
    + """
local queue, seq, token, ttl, base = KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), ARGV[3]
if not redis.call('ZSCORE', queue, token) then return 0 end
redis.call('SET', base .. 'alive:' .. token, 1, 'PX', ttl)
extend(queue, ttl)
extend(seq, ttl)
return 1
"""
)


class NoTicketLock(LockError):
    """Rasa's synchronous TicketLock API was called; this store only offers `async with store.lock()`."""

    def __init__(self) -> None:
        super().__init__("AtomicRedisLockStore has no TicketLock; use `async with store.lock(...)`")


@dataclass(frozen=True)
class Lease:
    """What `lock()` yields to the holder: its ticket (arrival order) and its token."""

    conversation_id: Text
    ticket: int
    token: Text


@dataclass(frozen=True)
class _Keys:
    """The Redis keys of one conversation's lock."""

    base: Text

    @property
    def queue(self) -> Text:
        """Sorted set of tokens by ticket."""
        return self.base + "queue"

    @property
    def seq(self) -> Text:
        """Ticket counter."""
        return self.base + "seq"

    def wake(self, token: Text) -> Text:
        """The list a waiter BLPOPs."""
        return f"{self.base}wake:{token}"


def _as_bool(value: Any) -> bool:
    """YAML or environment value → bool ("true", "1", "yes" are true)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class AtomicRedisLockStore(LockStore):
    """FIFO per-conversation lock in Redis: atomic Lua scripts, BLPOP wake-ups, crash-bounded leases."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **options: Any) -> None:
        """Rasa passes `endpoint_config` (`url` = host or redis:// URL); code and tests pass keywords."""
        if endpoint_config is not None:
            options = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **options}
        try:
            self._configure(**options)
        except TypeError as error:
            raise ValueError(f"Bad lock_store options in endpoints.yml: {error}") from error
        super().__init__()

    def _configure(
        self,
        host: Text = "localhost",
        port: Any = 6379,
        db: Any = 1,
        username: Optional[Text] = None,
        password: Optional[Text] = None,
        use_ssl: Any = False,
        ssl_certfile: Optional[Text] = None,
        ssl_keyfile: Optional[Text] = None,
        ssl_ca_certs: Optional[Text] = None,
        key_prefix: Optional[Text] = None,
        socket_timeout: Any = DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
        lock_ttl_seconds: Any = DEFAULT_LOCK_TTL_SECONDS,
        wake_fallback_seconds: Any = DEFAULT_WAKE_FALLBACK_SECONDS,
    ) -> None:
        """Read the options (strings from ${ENV} expansion included) and create the Redis client."""
        self.socket_timeout = float(socket_timeout) if socket_timeout not in (None, "") else None
        self.lock_ttl_seconds = float(lock_ttl_seconds)
        self.wake_fallback_seconds = float(wake_fallback_seconds)
        if self.lock_ttl_seconds <= 0 or self.wake_fallback_seconds <= 0:
            raise ValueError("lock_ttl_seconds and wake_fallback_seconds must be positive")
        prefix = key_prefix or ""
        if prefix and not _KEY_PREFIX_PATTERN.match(prefix):
            raise ValueError(f"key_prefix must be letters, digits, '_' or '-' (got {prefix!r})")
        self.key_prefix = f"{prefix}:lock:" if prefix else "lock:"

        host = str(host or "localhost")
        if re.match(r"^(redis|rediss|unix)://", host):
            self.red = async_client(host, socket_timeout=self.socket_timeout)
        else:
            self.red = async_client(
                host=host,
                port=int(port),
                db=int(db),
                username=username or None,
                password=password or None,
                ssl=_as_bool(use_ssl),
                ssl_certfile=ssl_certfile or None,
                ssl_keyfile=ssl_keyfile or None,
                ssl_ca_certs=ssl_ca_certs or None,
                socket_timeout=self.socket_timeout,
            )
        self._enqueue = self.red.register_script(_ENQUEUE)
        self._try = self.red.register_script(_TRY)
        self._leave = self.red.register_script(_LEAVE)
        self._heartbeat_script = self.red.register_script(_HEARTBEAT)

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self.lock_ttl_seconds * 1000))

    def keys(self, conversation_id: Text) -> _Keys:
        """The Redis keys of `conversation_id`'s lock."""
        return _Keys(f"{self.key_prefix}{{{conversation_id}}}:")

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncGenerator[Lease, None]:  # type: ignore[override]
        """Hold `conversation_id`'s lock for the `async with` body; wait at most `lock_lifetime` seconds.

        `wait_time_in_seconds` (Rasa's polling interval) is accepted and ignored: waiters are woken.
        """
        keys = self.keys(conversation_id)
        # the holder's pid in its token: `queue()` tells operators (and tests) which worker holds a lock
        token = f"{os.getpid()}-{secrets.token_hex(12)}"
        heartbeat: Optional[asyncio.Task] = None
        try:
            started = time.monotonic()
            ticket, holding, holder_pttl = await self._enqueue(
                keys=[keys.queue, keys.seq], args=[token, self._ttl_ms, keys.base]
            )
            heartbeat = asyncio.create_task(self._keep_alive(conversation_id, keys, token))
            if not holding:
                await self._wait(conversation_id, keys, token, int(holder_pttl), started + lock_lifetime)
            logger.debug(
                "Acquired lock for conversation '%s' (ticket %s) after %.3fs.",
                conversation_id,
                ticket,
                time.monotonic() - started,
            )
            yield Lease(conversation_id, int(ticket), token)
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
            # shielded: a cancelled request (client gone) must still let the next message in at once
            await asyncio.shield(self._release_logged(conversation_id, token))

    async def _wait(
        self, conversation_id: Text, keys: _Keys, token: Text, holder_pttl: int, deadline: float
    ) -> None:
        """Block on this token's wake list until it is first in the queue."""
        cap = self.wake_fallback_seconds
        if self.socket_timeout:
            cap = min(cap, max(0.1, self.socket_timeout - 1))  # the BLPOP reply must beat the socket timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}' in time.")
            # woken by the release; otherwise look again just after the holder's key would expire
            timeout = min(cap, remaining, max(holder_pttl, 0) / 1000 + 0.01)
            await self.red.blpop([keys.wake(token)], timeout=round(max(timeout, 0.01), 3))
            state, holder_pttl = await self._try(keys=[keys.queue], args=[token, keys.base])
            if state == 1:
                return
            if state == -1:
                raise LockError(
                    f"Lost the queue place for conversation_id '{conversation_id}': no heartbeat for "
                    f"{self.lock_ttl_seconds:g}s (event loop or Redis stalled)."
                )

    async def _keep_alive(self, conversation_id: Text, keys: _Keys, token: Text) -> None:
        """Renew the token's keys every third of the TTL until cancelled."""
        while True:
            await asyncio.sleep(self.lock_ttl_seconds / 3)
            try:
                alive = await self._heartbeat_script(
                    keys=[keys.queue, keys.seq], args=[token, self._ttl_ms, keys.base]
                )
            except (aioredis.RedisError, OSError):
                logger.warning("Lock heartbeat for conversation '%s' failed; retrying.", conversation_id)
                continue
            if not alive:
                logger.error(
                    "Lock place of conversation '%s' expired: no heartbeat reached Redis for %gs.",
                    conversation_id,
                    self.lock_ttl_seconds,
                )
                return

    async def release(self, conversation_id: Text, token: Text) -> bool:
        """Remove `token` from the conversation's queue (waking the next); False if it is not in it."""
        keys = self.keys(conversation_id)
        return bool(await self._leave(keys=[keys.queue], args=[token, self._ttl_ms, keys.base]))

    async def _release_logged(self, conversation_id: Text, token: Text) -> None:
        try:
            await self.release(conversation_id, token)
        except (aioredis.RedisError, OSError):
            # the heartbeat has stopped, so the lock still ends when its TTL runs out
            logger.exception(
                "Could not release lock for conversation '%s'; it expires in %gs.",
                conversation_id,
                self.lock_ttl_seconds,
            )

    async def queue(self, conversation_id: Text) -> List[Text]:
        """Tokens queued for `conversation_id`, holder first (expired ones included until dropped)."""
        members = await self.red.zrange(self.keys(conversation_id).queue, 0, -1)
        return [m.decode() for m in members]

    async def close(self) -> None:
        """Close the Redis connections."""
        await self.red.close()
        await self.red.connection_pool.disconnect()

    # Rasa's synchronous ticket-lock API is only used by `LockStore.lock`, which this class replaces.
    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        """Not supported: use `lock()`."""
        raise NoTicketLock()

    def save_lock(self, lock: TicketLock) -> None:
        """Not supported: use `lock()`."""
        raise NoTicketLock()

    def delete_lock(self, conversation_id: Text) -> None:
        """Not supported: use `lock()`."""
        raise NoTicketLock()
