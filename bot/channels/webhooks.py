"""What the signed-webhook channels share (Messenger: facebook.py, Zalo: zalo.py) once an event is queued:
marks of sent agent messages, text splitting, the Vietnamese transcript lines for attachments and the
polite answer to them, and recording such a message without NLU. Their webhooks' intake (body limit,
refusals) is webhook_intake.py; the queue's consumer and the turn of a queued event, queued_channel.py."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

import redis.asyncio as aioredis
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered

from bot.channels.webhook_queue import DEDUPE_SECONDS
from common.redis_client import LazyClient

logger = logging.getLogger(__name__)

ATTACHMENT_LABELS = {
    "image": "Hình ảnh",
    "gif": "Ảnh GIF",
    "sticker": "Nhãn dán",
    "video": "Video",
    "audio": "Âm thanh",
    "file": "Tệp",
    "location": "Vị trí",
    "link": "Liên kết",
    "fallback": "Liên kết",
}
OTHER_ATTACHMENT_LABEL = "Tệp đính kèm"
STICKER_REPLY = (
    "SenMart đã nhận được nhãn dán của bạn. Hiện trợ lý ảo chỉ đọc được tin nhắn chữ, bạn cần mình hỗ trợ "
    "gì thì nhắn bằng chữ giúp mình nhé."
)
ATTACHMENT_REPLY = (
    "SenMart đã nhận được {what} bạn gửi. Hiện trợ lý ảo chỉ đọc được tin nhắn chữ, bạn mô tả giúp mình "
    "bằng lời nhé; nếu cần gửi giấy tờ, hình ảnh hay hóa đơn, bạn gửi qua email hotro@senmart.vn."
)
ATTACHMENT_WORDS = {
    "image": "hình ảnh",
    "gif": "hình ảnh",
    "video": "video",
    "audio": "tin nhắn thoại",
    "location": "vị trí",
    "link": "liên kết",
}
OTHER_ATTACHMENT_WORD = "tệp"


def split_text(text: Text, limit: int) -> List[Text]:
    """The text in parts of at most `limit` characters, cut at paragraph, line, sentence or word ends."""
    text = (text or "").strip()
    parts: List[Text] = []
    while len(text) > limit:
        cut = limit
        for separator in ("\n\n", "\n", ". ", " "):
            index = text.rfind(separator, 0, limit)
            if index > limit // 2:
                cut = index + (1 if separator == ". " else 0)  # the full stop stays with its sentence
                break
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def attachment_line(kind: Text, detail: Text = "") -> Text:
    """One transcript line for something the customer sent, e.g. `[Hình ảnh] https://…`."""
    return f"[{ATTACHMENT_LABELS.get(kind, OTHER_ATTACHMENT_LABEL)}] {detail}".strip()


def attachment_reply_for(kinds: Iterable[Text]) -> Text:
    """The polite answer to a message of these attachment kinds (stickers only: the sticker answer)."""
    kinds = list(kinds) or ["sticker"]
    if all(kind == "sticker" for kind in kinds):
        return STICKER_REPLY
    words = {ATTACHMENT_WORDS.get(kind, OTHER_ATTACHMENT_WORD) for kind in kinds if kind != "sticker"}
    what = words.pop() if len(words) == 1 else "hình ảnh/tệp"
    return ATTACHMENT_REPLY.format(what=what)


class DeliveryMarks:
    """Marks of sent agent messages in Redis (`{prefix}:sent:{message_id}`); received message ids
    (`{prefix}:mid:{id}`) are marked by the webhook queue (webhook_queue.py) when it takes them."""

    def __init__(self, redis_url: Text, prefix: Text, channel: Text) -> None:
        self.redis_url = redis_url
        self.prefix = prefix
        self.channel = channel
        # shared with the channel's webhook queue (its short calls)
        self.client = LazyClient(redis_url, socket_timeout=3, socket_connect_timeout=3, decode_responses=True)

    @property
    def redis(self) -> aioredis.Redis:
        """The client, created on first use inside the server's event loop."""
        return self.client.get()

    async def claim_send(self, message_id: Text) -> bool:
        """Reserve an agent message for sending; False when it was sent already."""
        key = f"{self.prefix}:sent:{message_id}"
        return bool(await self.redis.set(key, "1", nx=True, ex=DEDUPE_SECONDS))

    async def release_send(self, message_id: Text) -> None:
        """The agent message was not delivered: a retry of the relay may send it."""
        await self.redis.delete(f"{self.prefix}:sent:{message_id}")


class AgentReplyOutput(OutputChannel, ABC):
    """An output channel that sends agents' replies (bot events with `custom.agent`, from the staff
    service's relay) once per `message_id`, in parts; subclasses send one part (`send_agent_part`)."""

    marks: Optional[DeliveryMarks] = None
    max_chars = 2000  # characters per message of the platform
    sent = 0  # read by the never-silent guard
    # set by webhook_turns.answer_once for a queued turn's replies: a failure that may succeed later is
    # raised (the queue retries), the first `skip` platform sends went through before and are not repeated,
    # and `on_sent` counts each send that needs no repeat
    strict = False
    skip = 0
    on_sent: Optional[Callable[[], Awaitable[Any]]] = None

    def replayed(self) -> bool:
        """Whether this platform send went through in an earlier attempt (then it is skipped)."""
        if self.skip > 0:
            self.skip -= 1
            self.sent += 1
            return True
        return False

    async def settled(self, delivered: bool) -> None:
        """A platform send is done: delivered, or given up for good (not to be repeated)."""
        if delivered:
            self.sent += 1
        if self.on_sent is not None:
            await self.on_sent()

    def must_retry(self, error: Exception) -> bool:
        """Whether a failed send is raised for the queue to retry (strict mode, a transient failure that
        did not reach the platform)."""
        return (
            self.strict
            and getattr(error, "retryable", False)
            and not getattr(error, "maybe_delivered", False)
        )

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Agent messages (`custom.agent`) through send_agent_message; the rest as Rasa does."""
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("agent"), dict):
            await self.send_agent_message(recipient_id, message.get("text") or "", custom["agent"])
            return
        await super().send_response(recipient_id, message)

    async def send_agent_message(self, recipient_id: Text, text: Text, agent: Dict[Text, Any]) -> None:
        """An agent's reply split at `max_chars`; skipped when its `message_id` was sent already (the
        relay retried). A failure before any part went out frees the id (unless the request may have
        arrived) and is raised, so the relay sees it; after a part went out it is only logged."""
        parts = split_text(text, self.max_chars)
        if not parts:
            return
        await self.check_agent_reply(recipient_id)
        message_id = str(agent.get("message_id") or "")
        if message_id and self.marks is not None and not await self.marks.claim_send(message_id):
            logger.info("Agent message %s was sent already; skipped", message_id)
            return
        delivered = 0
        try:
            for part in parts:
                await self.send_agent_part(recipient_id, part)
                delivered += 1
                self.sent += 1
        except Exception as error:
            if delivered:  # part of it reached the customer: sending again would repeat that part
                logger.error("Agent message %s only partly delivered: %s", message_id, error)
                return
            if message_id and self.marks is not None and not getattr(error, "maybe_delivered", False):
                await self.marks.release_send(message_id)
            raise self.agent_failure(error) from None

    async def check_agent_reply(self, recipient_id: Text) -> None:
        """Raise when the channel may not send an agent's reply now (nothing by default)."""

    @abstractmethod
    async def send_agent_part(self, recipient_id: Text, text: Text) -> None:
        """Send one part of an agent's reply (each channel's own API)."""

    def agent_failure(self, error: Exception) -> Exception:
        """What the relay gets for a failed agent reply (the error itself by default)."""
        return error


async def record_without_nlu(
    agent: Any,
    text: Text,
    output: OutputChannel,
    sender_id: Text,
    *,
    input_channel: Text,
    message_id: Text,
    metadata: Dict[Text, Any],
    reply: Text,
) -> None:
    """Record a non-text message (its transcript line, e.g. `[Hình ảnh] https://…`) in the tracker without
    NLU or prediction, and answer `reply` unless an agent owns the conversation (`agent`: Rasa's)."""
    # no NLU on a marker: nothing to understand, and no intent to act on
    parse_data = {"text": text, "intent": {"name": None, "confidence": 0.0}, "entities": []}
    user_message = UserMessage(
        text,
        output,
        sender_id,
        parse_data=parse_data,
        input_channel=input_channel,
        message_id=message_id,
        metadata=metadata,
    )
    async with agent.lock_store.lock(sender_id):
        tracker = await agent.processor.log_message(user_message, should_save_tracker=False)
        if not tracker.is_paused():
            await output.send_text_message(sender_id, reply)
            if getattr(output, "sent", 0):
                tracker.update(BotUttered(reply))
        await agent.processor.save_tracker(tracker)
