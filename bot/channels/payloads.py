"""Which `/intent{…}` payloads a customer may send: the buttons the bot itself offered (every channel).

The channel vouches for a payload by setting `metadata["senmart_payload"] = "offered"`
(bot/nlu/inbound.py reads it); whatever the client put under that key is dropped first. A payload is
offered when a bot message of the latest turn carried it as a button or quick reply, or when the
channel itself received it as a button press the platform signed (a Messenger postback or quick reply).
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Iterable, List, Mapping, Set, Text

from rasa.core.channels.channel import UserMessage

from bot.channels.identity import identify
from bot.nlu.inbound import OFFERED, PAYLOAD_FLAG, is_payload

logger = logging.getLogger(__name__)


def turn_buttons(events: Iterable[Any]) -> List[List[Mapping[Text, Any]]]:
    """The buttons and quick replies of each bot message since the customer's last message, latest first."""
    found: List[List[Mapping[Text, Any]]] = []
    for event in reversed(list(events)):
        kind = getattr(event, "type_name", None) or (
            event.get("event") if isinstance(event, Mapping) else None
        )
        if kind == "user":
            break
        if kind != "bot":
            continue
        data = getattr(event, "data", None) if not isinstance(event, Mapping) else event.get("data")
        buttons = [
            button
            for key in ("buttons", "quick_replies")
            for button in (data or {}).get(key) or []
            if isinstance(button, Mapping) and isinstance(button.get("payload"), str)
        ]
        if buttons:
            found.append(buttons)
    return found


def offered_payloads(events: Iterable[Any]) -> Set[Text]:
    """Payloads of the buttons and quick replies the bot sent since the customer's last message."""
    return {button["payload"].strip() for buttons in turn_buttons(events) for button in buttons}


async def _offered_to(sender_id: Text) -> Set[Text]:
    from sanic import Sanic

    try:
        tracker = await Sanic.get_app().ctx.agent.tracker_store.retrieve(sender_id)
    except Exception:  # cannot tell: the payload is read as words, which is safe
        logger.exception("Could not read the tracker of %s to check a payload", sender_id)
        return set()
    return offered_payloads(tracker.events) if tracker else set()


async def vouch(message: UserMessage, *, from_button: bool = False) -> None:
    """Set the payload flag on the message's metadata when the payload was offered; drop it otherwise."""
    metadata = dict(message.metadata) if isinstance(message.metadata, Mapping) else {}
    claimed = metadata.pop(PAYLOAD_FLAG, None)
    if is_payload(message.text):
        text = (message.text or "").strip()
        if from_button or text in await _offered_to(message.sender_id):
            metadata[PAYLOAD_FLAG] = OFFERED
        else:
            logger.info("Typed payload from %s read as words (claimed flag: %r)", message.sender_id, claimed)
    message.metadata = metadata


def vouched(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[Any]]:
    """Wraps a channel's message handler: payloads and identity claims are checked before Rasa sees them."""

    async def handler(message: UserMessage) -> Any:
        await vouch(message)
        identify(message)  # and who the customer verifiably is (bot/channels/identity.py)
        return await on_new_message(message)

    return handler
