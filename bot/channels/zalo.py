"""Zalo Official Account channel: signed webhook events in, CS messages out through Zalo's OpenAPI.

Webhook `POST /webhooks/zalo/webhook` (credentials.yml `bot.channels.zalo.ZaloChannel`). Zalo signs each
event in `X-ZEvent-Signature`: hex SHA-256 (a plain hash, no HMAC) of `app_id + raw body + timestamp + OA
secret key`, the timestamp taken from the body (zaloplatform/zalo-java-sdk, utils/MacUtils.java); some
senders write `mac=<hex>`. Zalo wants a 200 within 2 s and disables a webhook that keeps failing, so a
verified event is queued and acknowledged at once and its turn runs in the queue's consumer
(webhook_queue.py); a redelivery is acknowledged, never run twice.

Customers may get free CS replies within 48 h of their last interaction; after 7 days Zalo refuses them
(-230). An agent's reply outside the window is not sent and the agent is told why (common/delivery.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import time
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

import redis.asyncio as aioredis
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from redis.exceptions import RedisError
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.guard import never_silent
from bot.channels.identity import identify
from bot.channels.payloads import turn_buttons, vouch
from bot.channels.webhook_queue import QueueEntry, WebhookQueue
from bot.channels.webhook_turns import TurnBook, TurnCollector, answer_once
from bot.channels.webhooks import (
    AgentReplyOutput,
    DeliveryMarks,
    Refusals,
    attachment_line,
    attachment_reply_for,
    consume_while_serving,
    read_body,
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
from common.delivery import ZALO_WINDOW, NotDelivered
from common.privacy import mask_digits

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_048_576
MAX_TEXT_CHARS = 2000  # Zalo's limit for one CS text message
WINDOW_SECONDS = 48 * 3600  # free CS replies within 48 h of the user's last interaction
LAST_KEY = "senmart:zalo:last:{}"
LAST_TTL_SECONDS = 8 * 86_400  # past 7 days Zalo refuses anyway (-230)
SIGNATURE_FORMAT = re.compile(r"\A(?:mac=)?[0-9a-fA-F]{64}\Z")
CHOICE = re.compile(r"\A\s*(\d{1,2})\s*[.)]?\s*\Z")
NOT_CONFIGURED = "Zalo channel not configured: set ZALO_APP_ID and ZALO_OA_SECRET_KEY."
# keeps the latest interaction time (a redelivered old event does not move it back); ARGV: time, ttl
NOTE_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""
# Zalo event name → attachment kind, when the attachment does not say (user_send_image → image, …)
SEND_PREFIX = "user_send_"
PEOPLE_EVENTS = ("follow", "unfollow")


def masked(user_id: Any) -> Text:
    """A Zalo user id for logs: only its last two digits."""
    return mask_digits(str(user_id or "")) or "?"


def signature(app_id: Text, body: bytes, timestamp: Text, oa_secret_key: Text) -> Text:
    """Zalo's mac: hex SHA-256 of app_id + raw body + timestamp + OA secret key."""
    material = app_id.encode("utf-8") + body + timestamp.encode("utf-8") + oa_secret_key.encode("utf-8")
    return hashlib.sha256(material).hexdigest()


def event_time(payload: Dict[Text, Any], now: float) -> float:
    """The event's `timestamp` (ms, often a string) in seconds; now when missing or in the future."""
    try:
        seconds = int(str(payload.get("timestamp"))) / 1000
    except ValueError:
        return now
    return seconds if 0 < seconds <= now + 60 else now


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


class InteractionClock:
    """When each Zalo user last interacted (Redis `senmart:zalo:last:{user_id}`, epoch seconds)."""

    def __init__(self, redis: Callable[[], aioredis.Redis], clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self.clock = clock

    async def note(self, user_id: Text, at: float) -> None:
        """The user interacted at `at` (kept only when later than what is stored)."""
        await self._redis().eval(NOTE_SCRIPT, 1, LAST_KEY.format(user_id), f"{at:.3f}", LAST_TTL_SECONDS)

    async def last(self, user_id: Text) -> Optional[float]:
        """The last interaction time, None when unknown or older than 8 days."""
        value = await self._redis().get(LAST_KEY.format(user_id))
        return float(value) if value else None

    async def window_open(self, user_id: Text) -> bool:
        """Whether a CS message may be sent now (last interaction within 48 h)."""
        last = await self.last(user_id)
        return last is not None and self.clock() - last < WINDOW_SECONDS


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


class ZaloChannel(InputChannel):
    """Zalo OA webhook (`POST /webhooks/zalo/webhook`, health `GET /webhooks/zalo/`)."""

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
        self.app_id = app_id
        self.oa_secret_key = oa_secret_key
        url = redis_url or os.environ.get("REDIS_URL") or "redis://localhost:6379/0"
        self.marks = DeliveryMarks(url, "senmart:zalo", "Zalo")
        self.queue = WebhookQueue(url, self.name(), self.marks.prefix, calls=self.marks.client)
        self.turns = TurnBook(lambda: self.queue.redis, self.queue.turn_key)
        self.tokens = ZaloTokenStore(
            lambda: self.marks.redis,
            ZaloOAuthClient(app_id, app_secret, oauth_url),
            seed_access_token=access_token,
            seed_refresh_token=refresh_token,
        )
        self.client = ZaloSendClient(self.tokens, api_url)
        self.clock = InteractionClock(lambda: self.marks.redis)
        self.refusals = Refusals(channel="Zalo")
        if not self.configured:
            logger.warning("%s Its webhook refuses requests.", NOT_CONFIGURED)
        elif not (app_secret and (access_token or refresh_token)):
            logger.warning(
                "Zalo channel receives events but cannot reply: set ZALO_APP_SECRET and ZALO_ACCESS_TOKEN "
                "or ZALO_REFRESH_TOKEN."
            )

    @property
    def configured(self) -> bool:
        """Whether the webhook can check signatures (app id and OA secret key set)."""
        return bool(self.app_id and self.oa_secret_key)

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Output for messages pushed later: agent replies, the bot's return, the CSAT request."""
        return ZaloOutput(self.client, self.marks, self.clock)

    def signature_valid(self, body: bytes, timestamp: Text, header: Optional[Text]) -> bool:
        """`X-ZEvent-Signature: [mac=]<sha256(app_id + body + timestamp + OA secret key)>`."""
        if not self.configured:
            return False
        given = (header or "").strip()
        given = given[4:] if given.lower().startswith("mac=") else given
        expected = signature(self.app_id, body, timestamp, self.oa_secret_key)
        return hmac.compare_digest(expected.encode(), given.lower().encode("utf-8", "replace"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """GET /: health; POST /webhook: signed Zalo events."""
        guarded = never_silent(on_new_message)
        webhook = Blueprint("senmart_zalo_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.configured else "not configured"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            if not self.configured:
                return response.json({"error": "not_configured", "message": NOT_CONFIGURED}, status=503)
            client = request.ip or "?"
            refused = self.refusals.before_reading(request, MAX_BODY_BYTES)
            if refused is not None:
                return refused
            header = request.headers.get("X-ZEvent-Signature") or ""
            if not SIGNATURE_FORMAT.match(header.strip()):
                self.refusals.note(client, "missing or malformed X-ZEvent-Signature")
                return response.text("invalid signature", status=403, headers={"Connection": "close"})
            body = await read_body(request, MAX_BODY_BYTES)
            if body is None:
                self.refusals.note(client, "body over 1 MB")
                return response.text("payload too large", status=413, headers={"Connection": "close"})
            try:
                payload = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                self.refusals.note(client, "body is not JSON")
                return response.text("malformed JSON", status=400)
            if not isinstance(payload, dict):
                self.refusals.note(client, "body is not a JSON object")
                return response.text("malformed payload", status=400)
            if str(payload.get("app_id") or "") != self.app_id:
                self.refusals.note(client, "event of another app_id")
                return response.text("unknown app_id", status=403)
            if not self.signature_valid(body, str(payload.get("timestamp") or ""), header):
                self.refusals.note(client, "wrong X-ZEvent-Signature")
                return response.text("invalid signature", status=403)
            try:
                return await self._handle(payload)
            except RedisError:
                logger.exception("Redis unavailable for the Zalo webhook; Zalo will redeliver.")
                return response.text("temporarily unavailable", status=503)

        consume_while_serving(
            webhook, self.queue, lambda app, entry, attempt: self._answer(app, guarded, entry, attempt)
        )
        return webhook

    async def _handle(self, payload: Dict[Text, Any]) -> HTTPResponse:
        """One event: follow/unfollow logged, a user's message queued once per `msg_id`."""
        name = str(payload.get("event_name") or "")
        now = time.time()
        if name in PEOPLE_EVENTS:
            follower = payload.get("follower") or payload.get("sender") or {}
            user_id = str(follower.get("id") or "")
            logger.info("Zalo %s by user %s.", name, masked(user_id))
            if name == "follow" and user_id:
                await self.clock.note(user_id, event_time(payload, now))
            return response.json({"status": "ok"})
        message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
        sender_id = str((payload.get("sender") or {}).get("id") or "")
        msg_id = str(message.get("msg_id") or "")
        if not name.startswith(SEND_PREFIX) or not sender_id or not msg_id:
            logger.info("Zalo event %r ignored.", name[:40])
            return response.json({"status": "ignored"})
        await self.clock.note(sender_id, event_time(payload, now))
        if not await self.queue.enqueue(sender_id, msg_id, payload):
            logger.info("Zalo message %s was received already (redelivery); skipped.", msg_id)
            return response.json({"status": "duplicate"})
        return response.json({"status": "ok"})

    async def _answer(
        self, app: Sanic, guarded: Callable[[UserMessage], Awaitable[None]], entry: QueueEntry, attempt: int
    ) -> None:
        """A queued event's turn, run once, and its replies sent (webhook_turns.answer_once)."""
        agent = app.ctx.agent
        name = str(entry.event.get("event_name") or "")
        message = entry.event.get("message") if isinstance(entry.event.get("message"), dict) else {}

        async def run_turn(collector: TurnCollector) -> None:
            await self._process(agent, guarded, name, entry.sender_id, entry.dedupe_id, message, collector)

        output = ZaloOutput(self.client, self.marks, self.clock, in_turn=True)
        await answer_once(self.turns, entry, attempt, run_turn, agent.tracker_store, output, self.name())

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
