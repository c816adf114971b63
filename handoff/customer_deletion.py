"""A customer's data removed everywhere on request (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15).

Tickets and transcripts (TicketStore), the Rasa conversation itself (its tracker keys, which also ends a
pause an open ticket left), the customer's entries in the event stream, the studio inbox items their
messages fed, their Messenger/Zalo webhook dead letters, and their customer-profile link with the digests
only they carried. Each part reports a
count, so the admin sees what was removed.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from common.tracker_keys import conversation_keys
from common.webhook_keys import WEBHOOK_CHANNELS, dead_letter_key

logger = logging.getLogger(__name__)

STREAM_BATCH = 1000


async def purge_stream(redis: Any, stream: Text, sender_id: Text, batch: int = STREAM_BATCH) -> int:
    """XDEL every entry of the stream whose event belongs to the conversation; how many."""
    deleted, start = 0, "-"
    while True:
        entries = await redis.xrange(stream, min=start, max="+", count=batch)
        doomed = []
        for entry_id, fields in entries:
            try:
                event = json.loads(fields.get("data") or "null")
            except (TypeError, ValueError):
                continue
            if isinstance(event, dict) and event.get("sender_id") == sender_id:
                doomed.append(entry_id)
        if doomed:
            deleted += int(await redis.xdel(stream, *doomed))
        if len(entries) < batch:
            return deleted
        start = "(" + entries[-1][0]  # exclusive: after the last entry read


async def purge_dead_letters(redis: Any, sender_id: Text) -> int:
    """Remove the customer's Messenger/Zalo webhook dead letters (they hold what they wrote); how many."""
    deleted = 0
    for channel in WEBHOOK_CHANNELS:
        key = dead_letter_key(channel)
        for item in await redis.lrange(key, 0, -1):
            try:
                letter = json.loads(item)
            except (TypeError, ValueError):
                continue
            if isinstance(letter, dict) and letter.get("sender_id") == sender_id:
                deleted += int(await redis.lrem(key, 0, item))
    return deleted


async def delete_customer_data(
    store: Any,
    sender_id: Text,
    tracker_prefix: Text,
    stream: Text,
    forget_inbox: Optional[Callable[[Text], Awaitable[int]]] = None,
) -> Dict[Text, Any]:
    """Delete everything kept about one conversation; what was removed, by part."""
    tickets = await store.delete_customer(sender_id)  # tickets, transcripts, profile link
    tracker = int(await store.redis.delete(*conversation_keys(tracker_prefix, sender_id)))
    events = await purge_stream(store.redis, stream, sender_id)
    inbox = await forget_inbox(sender_id) if forget_inbox else 0
    dead_letters = await purge_dead_letters(store.redis, sender_id)
    logger.info(
        "Customer data deleted on request: %d ticket(s), %d tracker key(s), %d stream entries, "
        "%d inbox item(s), %d webhook dead letter(s).",
        len(tickets),
        tracker,
        events,
        inbox,
        dead_letters,
    )
    return {
        "deleted_tickets": tickets,
        "count": len(tickets),
        "tracker_keys": tracker,
        "stream_entries": events,
        "inbox_items": inbox,
        "webhook_dead_letters": dead_letters,
    }
