"""A queued webhook event (bot/channels/webhook_queue.py) answered once, however often it is attempted.

The turn runs with a collecting output, and its replies are stored in Redis before the first is sent; each
platform send that went through is counted, so a retry sends only what is left. When a process died after
the turn but before its replies were stored, the turn is not run again: the tracker holds the customer's
message (by the platform's message id) and the bot's replies after it, and those are sent instead.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

import redis.asyncio as aioredis
from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.events import BotUttered, UserUttered

from bot.channels.webhook_queue import QueueEntry
from bot.channels.webhooks import AgentReplyOutput

logger = logging.getLogger(__name__)

TURN_SECONDS = 86_400  # a stored turn outlives any retry schedule; it is deleted when the event is done


class TurnCollector(OutputChannel):
    """Collects a turn's replies as Rasa hands them to an output channel (`send_response` dicts)."""

    def __init__(self, channel_name: Text) -> None:
        self.channel_name = channel_name
        self.messages: List[Dict[Text, Any]] = []

    def name(self) -> Text:  # type: ignore[override]
        """The channel the replies are for."""
        return self.channel_name

    @property
    def sent(self) -> int:
        """Replies so far (read by the never-silent guard)."""
        return len(self.messages)

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Keep the message as Rasa gave it."""
        self.messages.append(json.loads(json.dumps(message, default=str)))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """A plain text (the guard's apology, the answer to an attachment)."""
        self.messages.append({"text": text})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Text with buttons."""
        self.messages.append({"text": text, "buttons": buttons})

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Text with quick replies."""
        self.messages.append({"text": text, "quick_replies": quick_replies})

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        """An image."""
        self.messages.append({"image": image})

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:
        """An attachment."""
        self.messages.append({"attachment": attachment})

    async def send_elements(
        self, recipient_id: Text, elements: Iterable[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """A carousel."""
        self.messages.append({"elements": list(elements)})

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """A custom payload."""
        self.messages.append({"custom": json_message})


def replies_in_tracker(events: Iterable[Any], message_id: Text) -> Optional[List[Dict[Text, Any]]]:
    """The bot's replies to the customer's message `message_id` (None when the tracker does not have it)."""
    replies: Optional[List[Dict[Text, Any]]] = None
    for event in events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if event.message_id == message_id:
                replies = []
        elif replies is not None and isinstance(event, BotUttered):
            replies.append(json.loads(json.dumps(event.message(), default=str)))
    return replies


class TurnBook:
    """The stored turns: a hash per event with `messages` (JSON list) and `sent` (sends that are done)."""

    def __init__(self, redis: Callable[[], aioredis.Redis], turn_key: Callable[[Text], Text]) -> None:
        self._redis = redis
        self._key = turn_key

    async def replies(self, entry_id: Text) -> Optional[List[Dict[Text, Any]]]:
        """The stored replies of a turn that ran, or None."""
        stored = await self._redis().hget(self._key(entry_id), "messages")
        return json.loads(stored) if stored is not None else None

    async def keep(self, entry_id: Text, messages: List[Dict[Text, Any]]) -> None:
        """Store the turn's replies before any is sent."""
        key = self._key(entry_id)
        await self._redis().hset(key, "messages", json.dumps(messages, ensure_ascii=False))
        await self._redis().expire(key, TURN_SECONDS)

    async def sent(self, entry_id: Text) -> int:
        """How many platform sends of the replies went through (or were given up for good)."""
        return int(await self._redis().hget(self._key(entry_id), "sent") or 0)

    async def count_sent(self, entry_id: Text) -> None:
        """One more platform send is done."""
        await self._redis().hincrby(self._key(entry_id), "sent", 1)


async def answer_once(
    book: TurnBook,
    entry: QueueEntry,
    attempt: int,
    run_turn: Callable[[TurnCollector], Awaitable[None]],
    tracker_store: Any,
    output: AgentReplyOutput,
    channel_name: Text,
) -> None:
    """Run the event's turn unless it ran already, then send what of its replies was not sent yet through
    `output` (an AgentReplyOutput in strict mode: a failure that may succeed later is raised); the
    conversation is read from Rasa's `tracker_store` when a later attempt finds no stored turn."""
    messages = await book.replies(entry.id) if attempt > 1 else None
    if messages is None:
        # a first attempt cannot have run the turn; a later one looks in the tracker first
        recorded = None
        if attempt > 1:
            tracker = await tracker_store.retrieve(entry.sender_id)
            recorded = replies_in_tracker(tracker.events if tracker else [], entry.dedupe_id)
        if recorded is None:
            collector = TurnCollector(channel_name)
            await run_turn(collector)
            messages = collector.messages
        else:
            logger.info(
                "%s message %s was answered before a restart: its answer is sent.",
                channel_name,
                entry.dedupe_id,
            )
            messages = recorded
        await book.keep(entry.id, messages)
    output.skip = await book.sent(entry.id) if attempt > 1 else 0
    output.on_sent = lambda: book.count_sent(entry.id)
    output.strict = True
    for message in messages:
        await output.send_response(entry.sender_id, dict(message))
