"""A Rasa tracker's events as the chat messages a person reads (customer, bot, agent)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Text

# 32 hex characters: the session ids the chat page creates (Messenger and REST ids never match)
# UserUttered events Rasa adds for trigger_intent (e.g. the CSAT request): not written by the customer
EXTERNAL_PREFIX = "EXTERNAL: "
NO_TEXT = "[Khách gửi nội dung không phải văn bản]"


class ConversationNotFound(LookupError):
    """No conversation of the wanted channel under this id."""


def agent_name(event: Dict[Text, Any]) -> Optional[Text]:
    """The agent who wrote a bot event (relay.send_agent_message), or None for the bot."""
    name = (event.get("metadata") or {}).get("agent")
    if not name:
        custom = (event.get("data") or {}).get("custom")
        agent = custom.get("agent") if isinstance(custom, dict) else None
        name = agent.get("name") if isinstance(agent, dict) else None
    return str(name) if name else None


def buttons_of(data: Dict[Text, Any]) -> List[Dict[Text, Text]]:
    """Buttons or quick replies of a bot event as `{"title", "payload"}`."""
    found = []
    for button in data.get("buttons") or data.get("quick_replies") or []:
        if isinstance(button, dict) and button.get("payload") is not None:
            payload = str(button["payload"])
            found.append({"title": str(button.get("title") or payload), "payload": payload})
    return found


def image_of(data: Dict[Text, Any]) -> Optional[Text]:
    """The image URL of a bot event (`image`, or an image attachment as socket.io sends it)."""
    if data.get("image"):
        return str(data["image"])
    attachment = data.get("attachment")
    if isinstance(attachment, dict) and attachment.get("type") == "image":
        src = (attachment.get("payload") or {}).get("src")
        return str(src) if src else None
    return None


def messages_from_events(events: Iterable[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """Customer, bot and agent messages in order, button payloads shown as their titles."""
    # a customer message equal to a payload offered since the previous customer message
    # (`/give_rating{"rating": 5}`) is shown as that button's title ("⭐ 5"); otherwise as typed
    messages: List[Dict[Text, Any]] = []
    offered: Dict[Text, Text] = {}  # payload -> title of the buttons shown since the last customer message
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = event.get("text")
            text = "" if text is None else str(text)
            if text.startswith(EXTERNAL_PREFIX):
                continue
            shown = offered.get(text) or text
            messages.append(
                {
                    "role": "customer",
                    "text": shown if shown.strip() else NO_TEXT,
                    "timestamp": event.get("timestamp"),
                }
            )
            offered = {}
        elif kind == "bot":
            message = _bot_message(event)
            if message is not None:
                messages.append(message)
                offered.update({b["payload"]: b["title"] for b in message.get("buttons", [])})
    return messages


def _bot_message(event: Dict[Text, Any]) -> Optional[Dict[Text, Any]]:
    data = event.get("data") or {}
    text = str(event.get("text") or "")
    buttons = buttons_of(data)
    image = image_of(data)
    custom = data.get("custom") if isinstance(data.get("custom"), dict) else None
    if not (text or buttons or image or custom):
        return None
    agent = agent_name(event)
    message: Dict[Text, Any] = {
        "role": "agent" if agent else "bot",
        "text": text,
        "timestamp": event.get("timestamp"),
    }
    if buttons:
        message["buttons"] = buttons
    if image:
        message["image"] = image
    if custom:
        message["custom"] = custom
    if agent:
        message["agent"] = agent
    return message
