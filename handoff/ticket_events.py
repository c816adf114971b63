"""A new ticket as an event on Rasa's event stream, so its listeners hear of it on the one event path.

`create_handoff` writes it after the ticket exists; the event consumer (event_consumer.py) hands it to
the listeners the staff service registered (the studio's inbox records the opening customer messages and
counts the handoff for its day and reason). Delivery is at least once, like every stream event: listeners
de-duplicate by `ticket_id`.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, Text

from redis.exceptions import RedisError

from common.contracts import TICKET_OPENED_EVENT
from handoff.ticket_rules import HandoffRequest

logger = logging.getLogger(__name__)

# the opening of the conversation is what listeners need (the inbox reads the first customer texts);
# the whole transcript stays with the ticket
OPENING_MESSAGES = 20
STREAM_MAXLEN = 100_000  # as Rasa's broker trims it (bot/event_broker.py)


def ticket_opened(handoff: HandoffRequest, ticket_id: Text, timestamp: float) -> Dict[Text, Any]:
    """The event: which conversation, why, when, and its opening messages."""
    return {
        "event": TICKET_OPENED_EVENT,
        "sender_id": handoff.sender_id,
        "ticket_id": ticket_id,
        "timestamp": timestamp,
        "reason": handoff.reason,
        "channel": handoff.channel,
        "opening": handoff.transcript[:OPENING_MESSAGES],
    }


async def announce(redis: Any, stream: Text, event: Dict[Text, Any]) -> bool:
    """Append the event to the stream; a Redis failure is logged (the ticket itself exists already)."""
    try:
        await redis.xadd(
            stream, {"data": json.dumps(event, ensure_ascii=False)}, maxlen=STREAM_MAXLEN, approximate=True
        )
        return True
    except (RedisError, OSError) as problem:
        logger.warning(
            "Ticket %s opened but not announced on %s: %s", event.get("ticket_id"), stream, problem
        )
        return False
