"""Background upkeep: expired claims back to the queue, expired tickets out of the indexes."""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from handoff.ticket_store import TicketStore

logger = logging.getLogger(__name__)


async def run_reaper(store: TicketStore, interval_seconds: float, sweep_every: int = 60) -> None:
    """Requeue tickets whose claim lease expired, every interval, until cancelled (safe in every process)."""
    rounds = 0
    while True:
        try:
            await store.requeue_expired()
            if rounds % sweep_every == 0:
                await store.sweep_indexes()
            rounds += 1
        except asyncio.CancelledError:
            raise
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            logger.warning("Lease reaper: Redis unavailable (%s).", error)
        except Exception:
            logger.exception("Lease reaper failed; trying again.")
        await asyncio.sleep(interval_seconds)
