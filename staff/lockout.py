"""Back-off and temporary lockout after failed sign-ins, counted in Redis per account (the e-mail typed,
whether or not it exists: the answer must not tell) and per client address, each with an expiry."""

from __future__ import annotations

import hashlib
from typing import Text

from common import staff_keys as keys

# KEYS: failures, lock. ARGV: window seconds, threshold, lock seconds. Returns the count of failures.
FAILURE_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if count >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])
  redis.call('DEL', KEYS[1])
end
return count
"""

ACCOUNT = "account"
ADDRESS = "address"


def _digest(value: Text) -> Text:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


class Lockout:
    """`failures` failed sign-ins of an account within `window` seconds lock it for `lock` seconds
    (`address_failures` for a client address); each failure is answered after a growing delay."""

    def __init__(
        self,
        redis,
        failures: int,
        address_failures: int,
        window_seconds: float,
        lock_seconds: float,
        delay_cap_seconds: float,
    ) -> None:
        self.redis = redis
        self.failures = failures
        self.address_failures = address_failures
        self.window = max(1, int(window_seconds))
        self.lock = max(1, int(lock_seconds))
        self.delay_cap = delay_cap_seconds
        self._failure = redis.register_script(FAILURE_SCRIPT)

    async def locked_for(self, email: Text, address: Text) -> int:
        """Seconds until the account or the address may try again (0: not locked)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.ttl(keys.lock_key(ACCOUNT, _digest(email)))
            pipe.ttl(keys.lock_key(ADDRESS, _digest(address)))
            ttls = await pipe.execute()
        return max([0, *[ttl for ttl in ttls if ttl and ttl > 0]])

    async def failed(self, email: Text, address: Text) -> int:
        """Count a failure of both; returns the account's count in the window (the last one locks it)."""
        count = 0
        for kind, value, threshold in (
            (ADDRESS, address, self.address_failures),
            (ACCOUNT, email, self.failures),
        ):
            digest = _digest(value)
            count = await self._failure(
                keys=[keys.failures_key(kind, digest), keys.lock_key(kind, digest)],
                args=[self.window, threshold, self.lock],
            )
        return int(count)

    async def succeeded(self, email: Text) -> None:
        """A good sign-in clears the account's count (not the address's)."""
        await self.redis.delete(keys.failures_key(ACCOUNT, _digest(email)))

    def delay(self, count: int) -> float:
        """How late to answer the `count`-th failure: 0.1 s, 0.2 s, 0.4 s … up to the cap."""
        return min(self.delay_cap, 0.1 * 2 ** max(0, count - 1))
