"""Reads Rasa's event stream (consumer group `handoff`) and adds customer messages to open tickets.

Every event then goes to the listeners the staff service registers (staff/app.py: the content studio's
"Bot chưa hiểu" inbox and per-day figures), so the handoff package does not know who else listens. New
tickets come the same way (ticket_events.py, outcome `ticket_opened`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Text, Tuple

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from common.contracts import TICKET_OPENED_EVENT
from handoff.ticket_store import TicketStore

logger = logging.getLogger(__name__)

GROUP = "handoff"
NON_TEXT_PLACEHOLDER = "[Khách gửi nội dung không phải văn bản]"

Entry = Tuple[Text, Optional[Dict[Text, Text]]]
# a listener gets every event of the stream and what the tickets made of it (`appended`, `ignored`, …)
Listener = Callable[[Dict[Text, Any], Text], Awaitable[Any]]


def customer_message(event: Dict[Text, Any]) -> Optional[Dict[Text, Any]]:
    """The transcript entry of a Rasa `user` event, or None for any other event."""
    if event.get("event") != "user" or not isinstance(event.get("sender_id"), str):
        return None
    timestamp = event.get("timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        return None
    text = event.get("text")
    if not isinstance(text, str) or not text:
        # images, stickers, attachments: the agent must still see that the customer wrote
        text = NON_TEXT_PLACEHOLDER
    parse_data = event.get("parse_data")
    intent = parse_data.get("intent") if isinstance(parse_data, dict) else None
    intent = intent if isinstance(intent, dict) else {}
    confidence = intent.get("confidence")
    return {
        "role": "customer",
        "text": text,
        "timestamp": float(timestamp),
        "intent": intent.get("name") if isinstance(intent.get("name"), str) else None,
        "confidence": float(confidence)
        if isinstance(confidence, (int, float)) and not isinstance(confidence, bool)
        else None,
        "agent": None,
    }


class EventConsumer:
    """One consumer of the group; safe to run in every service process (at-least-once, idempotent)."""

    def __init__(
        self,
        store: TicketStore,
        stream: Text,
        group: Text = GROUP,
        consumer: Optional[Text] = None,
        block_ms: int = 1000,
        batch: int = 100,
        reclaim_idle_ms: int = 30_000,
        reclaim_every_seconds: float = 5.0,
        listeners: Sequence[Listener] = (),
    ) -> None:
        self.store = store
        self.redis = store.redis
        self.stream = stream
        self.group = group
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.block_ms = block_ms
        self.batch = batch
        self.reclaim_idle_ms = reclaim_idle_ms
        self.reclaim_every_seconds = reclaim_every_seconds
        self.listeners = list(listeners)

    async def ensure_group(self) -> None:
        """Create the consumer group (from the stream's start: replays are harmless) if missing."""
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def handle(self, entry_id: Text, fields: Optional[Dict[Text, Text]]) -> Text:
        """Apply one stream entry; returns what happened (for logs and tests). Never raises on bad data."""
        try:
            event = json.loads((fields or {}).get("data") or "null")
        except (TypeError, ValueError):
            logger.warning("Stream entry %s is not JSON; skipped.", entry_id)
            return "invalid"
        if not isinstance(event, dict):
            return "invalid"
        if event.get("event") == "user" and isinstance(event.get("sender_id"), str):
            await self.store.count_conversation(event["sender_id"])  # for the handoff rate
        await self.store.profiles.link_from_event(event)  # one customer across channels
        message = customer_message(event)
        if event.get("event") == TICKET_OPENED_EVENT:
            outcome = "ticket_opened"  # written by create_handoff: for the listeners
        elif message is None:
            outcome = "ignored"
        else:
            _, outcome = await self.store.append_customer_event(
                event["sender_id"], message["timestamp"], message
            )
        await self.notify(event, outcome)
        return outcome

    async def notify(self, event: Dict[Text, Any], outcome: Text) -> None:
        """Every listener in turn; a bug in one must not hold up the tickets or the others."""
        for listener in self.listeners:
            try:
                await listener(event, outcome)
            except (RedisConnectionError, RedisTimeoutError, OSError):
                raise  # not acknowledged: the entry is applied again once Redis is back
            except Exception:
                logger.exception("Event listener %r failed on an event; skipped.", listener)

    async def process(self, entries: Sequence[Entry]) -> List[Text]:
        """Handle entries in order, then acknowledge the applied ones in one XACK (a turn writes about ten
        events; one round trip each was most of this consumer's Redis calls). Entries of a batch cut short by
        Redis going away stay pending and are applied again, as every entry may be (at-least-once)."""
        outcomes = []
        applied: List[Text] = []
        for entry_id, fields in entries:
            if entry_id is None:  # deleted from the stream while pending (Redis 6.2 XAUTOCLAIM)
                continue
            try:
                outcomes.append(await self.handle(entry_id, fields))
            except (RedisConnectionError, RedisTimeoutError, OSError):
                raise  # not acknowledged: retried once Redis is back
            except Exception:
                # a bug or an odd event must not block the stream: log it and move on
                logger.exception("Stream entry %s could not be applied; skipped.", entry_id)
                outcomes.append("failed")
            applied.append(entry_id)
        if applied:
            await self.redis.xack(self.stream, self.group, *applied)
        return outcomes

    async def read_once(self, block_ms: Optional[int] = None) -> List[Text]:
        """Read and handle new entries (blocking up to block_ms)."""
        block = self.block_ms if block_ms is None else block_ms
        try:
            response = await self.redis.xreadgroup(
                self.group, self.consumer, {self.stream: ">"}, count=self.batch, block=block or None
            )
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            await self.ensure_group()
            return []
        outcomes = []
        for _, entries in response or []:
            outcomes += await self.process(entries)
        return outcomes

    async def reclaim_once(self, min_idle_ms: Optional[int] = None) -> List[Text]:
        """Take over entries another (crashed) consumer read but never acknowledged, and handle them."""
        idle = self.reclaim_idle_ms if min_idle_ms is None else min_idle_ms
        outcomes = []
        start = "0-0"
        while True:
            try:
                response = await self.redis.xautoclaim(
                    self.stream, self.group, self.consumer, idle, start_id=start, count=self.batch
                )
            except ResponseError as error:
                if "NOGROUP" not in str(error):
                    raise
                await self.ensure_group()
                return outcomes
            start, entries = response[0], response[1]
            outcomes += await self.process(entries)
            if start in ("0-0", b"0-0") or not entries:
                return outcomes

    async def forget_idle_consumers(self, idle_ms: int = 3_600_000) -> None:
        """Remove consumers of old processes that hold nothing and were idle for an hour."""
        for info in await self.redis.xinfo_consumers(self.stream, self.group):
            if info["name"] != self.consumer and info["pending"] == 0 and info["idle"] > idle_ms:
                await self.redis.xgroup_delconsumer(self.stream, self.group, info["name"])

    async def run(self) -> None:
        """Consume until cancelled; survives Redis outages (logs and retries)."""
        loop = asyncio.get_running_loop()
        next_reclaim = 0.0
        while True:
            try:
                if loop.time() >= next_reclaim:
                    await self.ensure_group()
                    await self.reclaim_once()
                    await self.forget_idle_consumers()
                    next_reclaim = loop.time() + self.reclaim_every_seconds
                await self.read_once()
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                logger.warning("Event consumer: Redis unavailable (%s); retrying in 1 s.", error)
                next_reclaim = 0.0
                await asyncio.sleep(1.0)
            except Exception:
                logger.exception("Event consumer failed; retrying in 1 s.")
                await asyncio.sleep(1.0)
