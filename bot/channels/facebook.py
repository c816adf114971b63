"""Facebook Messenger channel: signed webhooks, every batched event once, agent replies via the Send API.

Replaces Rasa's `facebook` connector (same name and URL, /webhooks/facebook/webhook), which checks only the
old sha1 signature, answers 200 to a bad one, handles only the first event of a batch, does not
de-duplicate redeliveries and sends with a blocking `requests.post`. The webhook's intake (handshake,
signature, each event queued once) is messenger_intake.py, served here and by the webhook ingress
(bot/webhook_ingress.py); the turn of each queued event runs in the queue's consumer in this Rasa process.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage

from bot.channels.identity import identify
from bot.channels.messenger_api import MessengerSendClient, MessengerSendError
from bot.channels.messenger_intake import DEDUPE_PREFIX, MessengerIntake, event_kind
from bot.channels.payloads import vouch
from bot.channels.queued_channel import Handler, QueuedWebhookChannel, redis_url_of
from bot.channels.webhook_queue import QueueEntry
from bot.channels.webhooks import (
    AgentReplyOutput,
    DeliveryMarks,
    attachment_line,
    attachment_reply_for,
    record_without_nlu,
)
from bot.channels.webhooks import split_text as split_parts

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000  # Messenger's limit for one text message
MAX_TEMPLATE_TEXT_CHARS = 640  # button template text
MAX_TITLE_CHARS = 20  # button and quick-reply titles
MAX_PAYLOAD_CHARS = 1000
MAX_QUICK_REPLIES = 13
MAX_TEMPLATE_BUTTONS = 3
HUMAN_AGENT_TAG = "HUMAN_AGENT"
# postback payloads from the page's own buttons that are not Rasa `/intent` strings (upper case);
# the Get Started button opens the conversation as web chat widgets do ("/get_started" -> utter_greet)
POSTBACK_INTENTS = {"GET_STARTED": "/get_started"}


def split_text(text: Text, limit: int = MAX_TEXT_CHARS) -> List[Text]:
    """The text in parts of at most `limit` (Messenger's 2000) characters (webhooks.split_text)."""
    return split_parts(text, limit)


def short_title(title: Any) -> Text:
    """A button or quick-reply title cut to Messenger's 20 characters."""
    title = str(title or "").strip()
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1].rstrip() + "…"


def payload_text(payload: Any) -> Text:
    """The Rasa message for a quick-reply or postback payload (`/intent{...}` strings pass unchanged)."""
    payload = str(payload or "").strip()
    return POSTBACK_INTENTS.get(payload.upper(), payload)


def attachment_kind(message: Dict[Text, Any], attachment: Dict[Text, Any]) -> Text:
    """image, sticker, video, audio, file, location, fallback, or another type Meta may add."""
    if message.get("sticker_id") or (attachment.get("payload") or {}).get("sticker_id"):
        return "sticker"
    return str(attachment.get("type") or "file")


def attachment_marker(message: Dict[Text, Any], attachments: List[Dict[Text, Any]]) -> Text:
    """Readable text for the tracker and the agent, e.g. `[Hình ảnh] https://…`, one line each."""
    lines = []
    for attachment in attachments:
        kind = attachment_kind(message, attachment)
        payload = attachment.get("payload") or {}
        if kind == "sticker":
            detail = ""
        elif kind == "location" and isinstance(payload.get("coordinates"), dict):
            coordinates = payload["coordinates"]
            detail = f"{coordinates.get('lat')},{coordinates.get('long')}"
        else:
            detail = " ".join(str(part) for part in (attachment.get("title"), payload.get("url")) if part)
        lines.append(attachment_line(kind, detail))
    return "\n".join(lines) or attachment_line("sticker")


def attachment_reply(message: Dict[Text, Any], attachments: List[Dict[Text, Any]]) -> Text:
    """The polite answer to a non-text message."""
    return attachment_reply_for(attachment_kind(message, a) for a in attachments)


class MessengerStore(DeliveryMarks):
    """De-duplication marks of Messenger in Redis (keys `senmart:fb:mid:{mid}`, `senmart:fb:sent:{id}`)."""

    def __init__(self, redis_url: Text) -> None:
        super().__init__(redis_url, DEDUPE_PREFIX, "Messenger")


class MessengerOutput(AgentReplyOutput):
    """Sends bot replies (messaging_type RESPONSE) and agent replies (HUMAN_AGENT tag) via the Send API."""

    @classmethod
    def name(cls) -> Text:
        """Same name as Rasa's connector."""
        return "facebook"

    max_chars = MAX_TEXT_CHARS

    def __init__(self, client: MessengerSendClient, store: Optional[MessengerStore] = None) -> None:
        super().__init__()
        self.client = client
        self.store = self.marks = store
        self.sent = 0  # read by the never-silent guard
        self._aborted = False

    async def _send(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """One bot message. A transient failure is raised when the queue retries the turn's replies (strict
        mode) or, for a message pushed later (CSAT, the bot's return), when nothing was sent yet; else it
        is logged, as is a permanent one."""
        if self.replayed():
            return
        if self._aborted:
            raise MessengerSendError("an earlier send of this turn failed", retryable=True)
        try:
            await self.client.send(recipient_id, message, "RESPONSE")
        except MessengerSendError as error:
            if self.must_retry(error) or (not self.strict and error.retryable and self.sent == 0):
                self._aborted = True
                logger.error("Reply to %s not sent yet, retried: %s", recipient_id, error)
                raise
            # resending would repeat what the customer may already have, or cannot succeed
            logger.error("Reply to %s not delivered: %s", recipient_id, error)
            await self.settled(delivered=False)
            return
        await self.settled(delivered=True)

    async def send_agent_part(self, recipient_id: Text, text: Text) -> None:
        """One part of an agent's reply, with the human-agent tag (sent once: AgentReplyOutput)."""
        await self.client.send(recipient_id, {"text": text}, "MESSAGE_TAG", tag=HUMAN_AGENT_TAG)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Text, split at Messenger's 2000 characters."""
        for part in split_text(text):
            await self._send(recipient_id, {"text": part})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Up to 3 buttons: a button template; more (or a long text): quick replies."""
        if len(buttons) <= MAX_TEMPLATE_BUTTONS and len(text or "") <= MAX_TEMPLATE_TEXT_CHARS and text:
            template_buttons = []
            for button in buttons:
                if button.get("url"):
                    item = {
                        "type": "web_url",
                        "url": button["url"],
                        "title": short_title(button.get("title")),
                    }
                else:
                    item = {
                        "type": "postback",
                        "title": short_title(button.get("title")),
                        "payload": str(button.get("payload") or button.get("title") or "")[
                            :MAX_PAYLOAD_CHARS
                        ],
                    }
                template_buttons.append(item)
            attachment = {
                "type": "template",
                "payload": {"template_type": "button", "text": text, "buttons": template_buttons},
            }
            await self._send(recipient_id, {"attachment": attachment})
            return
        await self.send_quick_replies(recipient_id, text, buttons)

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Text with up to 13 quick replies (titles cut to 20 characters)."""
        replies = [
            {
                "content_type": "text",
                "title": short_title(reply.get("title")),
                "payload": str(reply.get("payload") or reply.get("title") or "")[:MAX_PAYLOAD_CHARS],
            }
            for reply in quick_replies
            if not reply.get("url")
        ]
        if len(replies) > MAX_QUICK_REPLIES:
            dropped = len(replies) - MAX_QUICK_REPLIES
            logger.warning("Messenger shows at most %d quick replies; %d dropped", MAX_QUICK_REPLIES, dropped)
        parts = split_text(text) or ["…"]
        for part in parts[:-1]:
            await self._send(recipient_id, {"text": part})
        await self._send(recipient_id, {"text": parts[-1], "quick_replies": replies[:MAX_QUICK_REPLIES]})

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        """An image by URL."""
        await self._send(recipient_id, {"attachment": {"type": "image", "payload": {"url": image}}})

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:
        """A Messenger attachment dict ({type, payload}), a file URL, or else its text."""
        if isinstance(attachment, dict) and attachment.get("type") and "payload" in attachment:
            await self._send(recipient_id, {"attachment": attachment})
        elif isinstance(attachment, str) and attachment.startswith(("http://", "https://")):
            await self._send(recipient_id, {"attachment": {"type": "file", "payload": {"url": attachment}}})
        else:
            await self.send_text_message(recipient_id, str(attachment))

    async def send_elements(
        self, recipient_id: Text, elements: Iterable[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """A generic template (carousel)."""
        items = []
        for element in elements:
            item = dict(element)
            if item.get("buttons"):
                item["buttons"] = [{"type": "postback", **button} for button in item["buttons"]]
            items.append(item)
        attachment = {"type": "template", "payload": {"template_type": "generic", "elements": items[:10]}}
        await self._send(recipient_id, {"attachment": attachment})

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """`handoff` and `agent` payloads send nothing extra; other custom JSON is a Messenger message."""
        if "handoff" in json_message or "agent" in json_message:
            return  # the ticket id is in the text already; agent texts go through send_agent_message
        message = dict(json_message)
        recipient_id = (message.pop("sender", None) or {}).get("id") or recipient_id
        await self._send(recipient_id, message)


class MessengerChannel(QueuedWebhookChannel):
    """Messenger webhook under Rasa's `facebook` name and URL: GET /webhook, Meta's verification handshake;
    POST /webhook, signed event deliveries (messenger_intake.py), queued and answered by this process."""

    @classmethod
    def name(cls) -> Text:
        """Same name, hence URL, as Rasa's connector: /webhooks/facebook/webhook."""
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Keys: verify, secret, page-access-token, graph-url, redis-url (see credentials.yml)."""
        if credentials is None:
            cls.raise_missing_credentials_exception()
        return cls(
            verify_token=credentials.get("verify") or "",
            app_secret=credentials.get("secret") or "",
            page_access_token=credentials.get("page-access-token") or "",
            graph_url=credentials.get("graph-url") or None,
            redis_url=credentials.get("redis-url") or None,
        )

    def __init__(
        self,
        verify_token: Text,
        app_secret: Text,
        page_access_token: Text,
        graph_url: Optional[Text] = None,
        redis_url: Optional[Text] = None,
    ) -> None:
        self.client = MessengerSendClient(page_access_token, graph_url)
        url = redis_url_of(redis_url)
        self.store = MessengerStore(url)
        self.open_queue(url, self.store)
        self.intake = MessengerIntake(verify_token, app_secret, self.queue)
        if not (verify_token and app_secret and page_access_token):
            logger.warning(
                "Messenger channel not configured (FB_VERIFY_TOKEN, FB_APP_SECRET or FB_PAGE_ACCESS_TOKEN "
                "empty): its webhook refuses requests."
            )

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Output for messages pushed later: agent replies, the bot's return, the CSAT request."""
        return MessengerOutput(self.client, self.store)

    async def run_turn(self, agent: Any, guarded: Handler, entry: QueueEntry, output: OutputChannel) -> None:
        """A queued Messenger event as a turn (_process)."""
        await self._process(agent, guarded, entry.event, entry.sender_id, entry.dedupe_id, output)

    async def _process(
        self,
        agent: Any,
        guarded: Callable[[UserMessage], Awaitable[None]],
        event: Dict[Text, Any],
        sender_id: Text,
        mid: Text,
        output: OutputChannel,
    ) -> None:
        """Turn the event into a Rasa message (text, quick reply, postback) or log an attachment."""
        kind = event_kind(event)
        quick_reply: Dict[Text, Any] = {}
        if kind == "postback":
            postback = event["postback"]
            text = payload_text(postback.get("payload") or postback.get("title"))
            metadata: Optional[Dict[Text, Any]] = None
        else:
            message = event["message"]
            attachments = [a for a in message.get("attachments") or [] if isinstance(a, dict)]
            quick_reply = message.get("quick_reply") if isinstance(message.get("quick_reply"), dict) else {}
            text = payload_text(quick_reply.get("payload")) or str(message.get("text") or "").strip()
            metadata = {"attachments": attachments} if attachments else None
            if not text:
                if attachments or message.get("sticker_id"):
                    await self._log_attachments(agent, output, sender_id, mid, message, attachments)
                else:
                    logger.info("Messenger message %s without text or attachments ignored.", mid)
                return
        if not text:
            logger.info("Messenger %s %s without a payload ignored.", kind, mid)
            return
        user_message = UserMessage(
            text, output, sender_id, input_channel=self.name(), message_id=mid, metadata=metadata
        )
        # a postback or quick reply is a press of a button this page sent (the webhook is signed)
        await vouch(user_message, from_button=kind == "postback" or bool(quick_reply.get("payload")))
        identify(user_message, {"messenger": sender_id})  # the sender of a signed delivery
        await guarded(user_message)

    async def _log_attachments(
        self,
        agent: Any,
        output: OutputChannel,
        sender_id: Text,
        mid: Text,
        message: Dict[Text, Any],
        attachments: List[Dict[Text, Any]],
    ) -> None:
        """Record an image/sticker/file in the tracker without NLU or prediction; reply politely unless
        an agent owns the conversation."""
        await record_without_nlu(
            agent,
            attachment_marker(message, attachments),
            output,
            sender_id,
            input_channel=self.name(),
            message_id=mid,
            metadata={"attachments": attachments or [{"sticker_id": message.get("sticker_id")}]},
            reply=attachment_reply(message, attachments),
        )
