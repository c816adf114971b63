"""Zalo Official Account channel: signed webhook events in, CS messages out through Zalo's OpenAPI.

Webhook `POST /webhooks/zalo/webhook` (credentials.yml `bot.channels.zalo.ZaloChannel`): its intake (the
signature, the interaction noted, each message queued once) is zalo_intake.py, served here and by the
webhook ingress (bot/webhook_ingress.py); the turn of each queued event runs in the queue's consumer in this
Rasa process (webhook_queue.py).

Customers may get free CS replies within 48 h of their last interaction (zalo_window.py); after 7 days Zalo
refuses them (-230). An agent's reply outside the window is not sent and the agent is told why
(common/delivery.py).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage

from bot.channels.identity import identify
from bot.channels.payloads import turn_buttons, vouch
from bot.channels.queued_channel import Handler, QueuedWebhookChannel, redis_url_of
from bot.channels.webhook_queue import QueueEntry
from bot.channels.webhooks import (
    AgentReplyOutput,
    DeliveryMarks,
    attachment_line,
    attachment_reply_for,
    record_without_nlu,
    split_text,
)
from bot.channels.zalo_api import (
    USER_INACTIVE,
    ZaloError,
    ZaloOAuthClient,
    ZaloSendClient,
    ZaloTokenStore,
)
from bot.channels.zalo_intake import DEDUPE_PREFIX, NOT_CONFIGURED, SEND_PREFIX, ZaloIntake, masked
from bot.channels.zalo_window import InteractionClock
from common.delivery import ZALO_WINDOW, NotDelivered

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000  # Zalo's limit for one CS text message
CHOICE = re.compile(r"\A\s*(\d{1,2})\s*[.)]?\s*\Z")


def attachment_detail(kind: Text, payload: Dict[Text, Any]) -> Text:
    """What the transcript line shows after the label: the URL, a file's name, a place's coordinates."""
    if kind == "sticker":
        return ""
    coordinates = payload.get("coordinates")
    if kind == "location" and isinstance(coordinates, dict):
        return f"{coordinates.get('latitude')},{coordinates.get('longitude')}"
    parts = (payload.get("name"), payload.get("url")) if kind == "file" else (payload.get("url"),)
    return " ".join(str(part) for part in parts if part)


def attachments_of(event_name: Text, message: Dict[Text, Any]) -> List[Dict[Text, Any]]:
    """The attachments of a non-text event, each with a `type` (the event's when Zalo left it out)."""
    default = event_name[len(SEND_PREFIX) :] or "file"
    found = []
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict):
            found.append({**attachment, "type": str(attachment.get("type") or default)})
    return found or [{"type": default, "payload": {}}]


def attachment_marker(attachments: List[Dict[Text, Any]], caption: Text = "") -> Text:
    """Transcript text, e.g. `[Hình ảnh] https://…` a line each, then the caption the customer wrote."""
    lines = [
        attachment_line(a["type"], attachment_detail(a["type"], a.get("payload") or {})) for a in attachments
    ]
    return "\n".join(lines + ([caption] if caption else []))


def numbered(text: Text, buttons: Iterable[Dict[Text, Any]]) -> Text:
    """Text followed by its buttons as numbered lines (a link: `2. Title: https://…`)."""
    lines = [text.strip()] if text and text.strip() else []
    for number, button in enumerate(buttons, start=1):
        title = str(button.get("title") or button.get("payload") or "").strip()
        lines.append(f"{number}. {title}: {button['url']}" if button.get("url") else f"{number}. {title}")
    return "\n".join(lines)


def chosen_payload(text: Text, events: Iterable[Any]) -> Optional[Text]:
    """The payload of numbered option `text` ("2", "2.") of the latest bot message with buttons."""
    choice = CHOICE.match(text)
    offered = turn_buttons(events)
    if not choice or not offered:
        return None
    index = int(choice.group(1)) - 1
    buttons = [b for b in offered[0] if not b.get("url")]
    return buttons[index]["payload"].strip() if 0 <= index < len(buttons) else None


class ZaloOutput(AgentReplyOutput):
    """Bot and agent messages as Zalo CS messages. Zalo's CS text message has no quick replies or
    postback buttons, so buttons arrive as numbered lines (the customer answers with the number)."""

    @classmethod
    def name(cls) -> Text:
        """The channel's name, as in the tracker's `input_channel`."""
        return "zalo"

    max_chars = MAX_TEXT_CHARS

    def __init__(
        self,
        client: ZaloSendClient,
        marks: Optional[DeliveryMarks],
        clock: InteractionClock,
        in_turn: bool = False,
    ) -> None:
        super().__init__()
        self.client = client
        self.marks = marks
        self.clock = clock
        self.in_turn = in_turn  # answering the customer's message: the window is open by definition
        self.sent = 0  # read by the never-silent guard

    async def _send(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """One bot message; outside the window (a pushed message: resume, CSAT) it is dropped, logged. A
        failure is logged, or raised for the queue to retry a turn's replies (strict mode, transient)."""
        if self.replayed():
            return
        if not self.in_turn and not await self.clock.window_open(recipient_id):
            logger.warning("Zalo message to %s not sent: outside the 48-hour window.", masked(recipient_id))
            return
        try:
            await self.client.send(recipient_id, message)
        except ZaloError as error:
            if self.must_retry(error):
                logger.warning("Zalo reply to %s not sent yet, retried: %s", masked(recipient_id), error)
                raise
            logger.error("Zalo reply to %s not delivered: %s", masked(recipient_id), error)
            await self.settled(delivered=False)
            return
        await self.settled(delivered=True)

    async def check_agent_reply(self, recipient_id: Text) -> None:
        """An agent's reply outside the 48-hour window is refused (NotDelivered), so the agent reads why."""
        if not await self.clock.window_open(recipient_id):
            logger.info("Agent message to %s refused: outside the 48-hour window.", masked(recipient_id))
            raise NotDelivered(ZALO_WINDOW)

    async def send_agent_part(self, recipient_id: Text, text: Text) -> None:
        """One part of an agent's reply (sent once: AgentReplyOutput)."""
        await self.client.send(recipient_id, {"text": text})

    def agent_failure(self, error: Exception) -> Exception:
        """Zalo's -230 (no interaction for 7 days) reaches the agent as the window's refusal."""
        return NotDelivered(ZALO_WINDOW) if getattr(error, "code", None) == USER_INACTIVE else error

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Text, split at Zalo's 2000 characters."""
        for part in split_text(text, MAX_TEXT_CHARS):
            await self._send(recipient_id, {"text": part})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Text with its buttons as numbered lines."""
        await self.send_text_message(recipient_id, numbered(text, buttons))

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Quick replies as numbered lines, like buttons."""
        await self.send_text_message(recipient_id, numbered(text, quick_replies))

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        """An image by URL: Zalo's media template (zalo-java-sdk v3/SendImageCSMessage.java)."""
        element = {"media_type": "image", "url": image}
        attachment = {"type": "template", "payload": {"template_type": "media", "elements": [element]}}
        await self._send(recipient_id, {"attachment": attachment})

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:
        """A link as text; anything else has no Zalo CS form and is logged, never sent as raw JSON."""
        if isinstance(attachment, str) and attachment.strip():
            await self.send_text_message(recipient_id, attachment)
        else:
            logger.info("Attachment of type %s not sent on Zalo.", type(attachment).__name__)

    async def send_elements(
        self, recipient_id: Text, elements: Iterable[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """A carousel as text: each element's title and subtitle, its buttons numbered."""
        for element in elements:
            text = "\n".join(str(element[k]) for k in ("title", "subtitle") if element.get(k))
            await self.send_text_message(recipient_id, numbered(text, element.get("buttons") or []))

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """Custom payloads send only their text: the `handoff` one has its text in the message before it,
        `agent` ones go through send_agent_message; others send their `text`, if any."""
        if "handoff" in json_message or "agent" in json_message:
            return
        text = json_message.get("text")
        if isinstance(text, str) and text.strip():
            await self.send_text_message(recipient_id, text)
        else:
            logger.info("Custom payload without text not sent on Zalo (keys %s).", sorted(json_message)[:5])


class ZaloChannel(QueuedWebhookChannel):
    """Zalo OA webhook (`POST /webhooks/zalo/webhook`: signed events, zalo_intake.py, queued and answered by
    this process; health `GET /webhooks/zalo/`)."""

    @classmethod
    def name(cls) -> Text:
        """The URL prefix: /webhooks/zalo/."""
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Keys: app-id, app-secret, oa-secret-key, access-token, refresh-token, api-url, oauth-url,
        redis-url (credentials.yml)."""
        if credentials is None:
            cls.raise_missing_credentials_exception()
        return cls(
            app_id=str(credentials.get("app-id") or ""),
            app_secret=str(credentials.get("app-secret") or ""),
            oa_secret_key=str(credentials.get("oa-secret-key") or ""),
            access_token=str(credentials.get("access-token") or ""),
            refresh_token=str(credentials.get("refresh-token") or ""),
            api_url=credentials.get("api-url") or None,
            oauth_url=credentials.get("oauth-url") or None,
            redis_url=credentials.get("redis-url") or None,
        )

    def __init__(
        self,
        app_id: Text,
        app_secret: Text,
        oa_secret_key: Text,
        access_token: Text = "",
        refresh_token: Text = "",
        api_url: Optional[Text] = None,
        oauth_url: Optional[Text] = None,
        redis_url: Optional[Text] = None,
    ) -> None:
        url = redis_url_of(redis_url)
        self.marks = DeliveryMarks(url, DEDUPE_PREFIX, "Zalo")
        self.open_queue(url, self.marks)
        self.tokens = ZaloTokenStore(
            lambda: self.marks.redis,
            ZaloOAuthClient(app_id, app_secret, oauth_url),
            seed_access_token=access_token,
            seed_refresh_token=refresh_token,
        )
        self.client = ZaloSendClient(self.tokens, api_url)
        self.clock = InteractionClock(lambda: self.marks.redis)
        self.intake = ZaloIntake(app_id, oa_secret_key, self.queue, self.clock)
        if not self.intake.configured:
            logger.warning("%s Its webhook refuses requests.", NOT_CONFIGURED)
        elif not (app_secret and (access_token or refresh_token)):
            logger.warning(
                "Zalo channel receives events but cannot reply: set ZALO_APP_SECRET and ZALO_ACCESS_TOKEN "
                "or ZALO_REFRESH_TOKEN."
            )

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Output for messages pushed later: agent replies, the bot's return, the CSAT request."""
        return ZaloOutput(self.client, self.marks, self.clock)

    def turn_output(self) -> ZaloOutput:
        """A queued event's replies answer the customer's message: the 48-hour window is open."""
        return ZaloOutput(self.client, self.marks, self.clock, in_turn=True)

    async def run_turn(self, agent: Any, guarded: Handler, entry: QueueEntry, output: OutputChannel) -> None:
        """A queued Zalo event as a turn (_process)."""
        name = str(entry.event.get("event_name") or "")
        message = entry.event.get("message") if isinstance(entry.event.get("message"), dict) else {}
        await self._process(agent, guarded, name, entry.sender_id, entry.dedupe_id, message, output)

    async def _process(
        self,
        agent: Any,
        guarded: Callable[[UserMessage], Awaitable[None]],
        name: Text,
        sender_id: Text,
        msg_id: Text,
        message: Dict[Text, Any],
        output: OutputChannel,
    ) -> None:
        """A text becomes a Rasa message; anything else a transcript line with a polite answer."""
        text = str(message.get("text") or "").strip()
        if name != "user_send_text":
            attachments = attachments_of(name, message)
            await record_without_nlu(
                agent,
                attachment_marker(attachments, text),
                output,
                sender_id,
                input_channel=self.name(),
                message_id=msg_id,
                metadata={"attachments": attachments},
                reply=attachment_reply_for(a["type"] for a in attachments),
            )
            return
        if not text:
            logger.info("Zalo text message %s without text ignored.", msg_id)
            return
        if CHOICE.match(text):  # "2": the second numbered option of the bot's last message
            tracker = await agent.tracker_store.retrieve(sender_id)
            text = chosen_payload(text, tracker.events if tracker else []) or text
        user_message = UserMessage(text, output, sender_id, input_channel=self.name(), message_id=msg_id)
        await vouch(user_message)  # a typed `/intent{…}` counts only when the bot offered it
        identify(user_message, {"zalo": sender_id})  # the sender of a signed event
        await guarded(user_message)
