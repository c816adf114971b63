"""Makes sure a customer never gets silence when the bot fails (action server down, crash)."""

from __future__ import annotations

import logging
import time
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered

logger = logging.getLogger(__name__)

APOLOGY = (
    "Xin lỗi bạn, hệ thống của SenMart đang gặp sự cố nên mình chưa trả lời được. Bạn vui lòng thử "
    "lại sau ít phút hoặc gọi hotline 1900 6868 (24/7) để được hỗ trợ ngay nhé."
)


def sent_count(channel: OutputChannel) -> int:
    """How many messages an output channel has sent so far (-1 when it cannot tell)."""
    if isinstance(channel, CollectingOutputChannel):
        return len(channel.messages)
    return getattr(channel, "sent", -1)


async def _is_paused(sender_id: Text) -> bool:
    """Whether an agent owns the conversation (then silence is intended)."""
    from sanic import Sanic

    try:
        agent = Sanic.get_app().ctx.agent
        tracker = await agent.tracker_store.retrieve(sender_id)
        return bool(tracker and tracker.is_paused())
    except Exception:  # cannot tell: rather apologise than leave the customer alone
        logger.exception("Could not read the tracker of %s", sender_id)
        return False


def _spool() -> Any:
    """The tracker store's spool for turns Redis did not take (bot/tracker_spool.py), if it has one."""
    from sanic import Sanic

    try:
        store = Sanic.get_app().ctx.agent.tracker_store
    except Exception:  # no running app (tests)
        return None
    inner = getattr(store, "tracker_store", store)  # Rasa wraps ours in its FailSafeTrackerStore
    return getattr(inner, "spool", None)


def keep_unprocessed(message: UserMessage) -> None:
    """A message the bot could not process (Redis down for the lock, a crash) still reaches its
    conversation: the customer's words and the apology are spooled and stored with the next turn."""
    spool = _spool()
    if spool is None:
        logger.error("The message of %s could not be processed nor kept.", message.sender_id)
        return
    now = time.time()
    user = UserUttered(
        message.text,
        input_channel=message.input_channel,
        message_id=message.message_id,
        metadata=message.metadata,
        timestamp=now,
    )
    spool.keep(message.sender_id, [user.as_dict(), BotUttered(APOLOGY, timestamp=now).as_dict()])


def never_silent(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[None]]:
    """Wraps Rasa's message handler: no reply and not paused -> an apology with the hotline."""

    async def handler(message: UserMessage) -> None:
        channel = message.output_channel
        before = sent_count(channel)
        try:
            await on_new_message(message)
        except Exception:
            logger.exception("Handling the message of %s failed", message.sender_id)
            keep_unprocessed(message)
        if before >= 0 and sent_count(channel) == before and not await _is_paused(message.sender_id):
            await channel.send_text_message(message.sender_id, APOLOGY)

    return handler
