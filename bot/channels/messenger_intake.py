"""The Messenger webhook's intake: Meta's verification handshake, the signature check, the batched events,
each message or postback queued once per message id (webhook_queue.py). Rasa-free: the Messenger channel
(facebook.py, in every Rasa process) and the webhook ingress (bot/webhook_ingress.py) serve the same routes.

Off until configured: without the app secret every delivery is refused (403), without the verify token
every handshake.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import Any, Dict, Iterable, List, Optional, Text

from redis.exceptions import RedisError
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.webhook_intake import Refusals, read_delivery
from bot.channels.webhook_queue import WebhookQueue

logger = logging.getLogger(__name__)

CHANNEL = "facebook"  # Rasa's name for the channel, hence its URL /webhooks/facebook/webhook
DEDUPE_PREFIX = "senmart:fb"  # received message ids: senmart:fb:mid:<mid>
# linear: fixed prefix, bounded class repetition, anchored
SIGNATURE_FORMAT = re.compile(r"\Asha256=[0-9a-fA-F]{64}\Z")


def event_kind(event: Dict[Text, Any]) -> Text:
    """message, postback, echo, delivery, read or unknown."""
    message = event.get("message")
    if isinstance(message, dict):
        return "echo" if message.get("is_echo") else "message"
    for kind in ("postback", "delivery", "read"):
        if isinstance(event.get(kind), dict):
            return kind
    return "unknown"


def dedupe_id(event: Dict[Text, Any], kind: Text, sender_id: Text) -> Text:
    """Meta's message id (`mid`), or sender and timestamp for a postback without one."""
    mid = (event.get(kind) or {}).get("mid")
    if mid:
        return str(mid)
    return f"{sender_id}:{event.get('timestamp')}"


def messaging_events(entries: List[Any]) -> Iterable[Dict[Text, Any]]:
    """Every event of every entry, in order (entries without `messaging` are logged and skipped)."""
    for entry in entries:
        events = entry.get("messaging") if isinstance(entry, dict) else None
        if not isinstance(events, list):
            fields = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
            logger.info("Messenger entry without messaging events ignored (%s).", fields)
            continue
        for event in events:
            if isinstance(event, dict):
                yield event
            else:
                logger.info("Messenger event that is not an object ignored.")


class MessengerIntake:
    """GET /: health; GET /webhook: the handshake; POST /webhook: signed deliveries into `queue`."""

    def __init__(self, verify_token: Text, app_secret: Text, queue: WebhookQueue) -> None:
        self.verify_token = verify_token
        self.app_secret = app_secret
        self.queue = queue
        self.refusals = Refusals(channel="Messenger")
        self.accepted = 0  # events queued by this process (the ingress's /health)
        self._warned_unconfigured = False

    @property
    def configured(self) -> bool:
        """Whether deliveries can be checked (the app secret is set)."""
        return bool(self.app_secret)

    def signature_valid(self, body: bytes, header: Optional[Text]) -> bool:
        """`X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app secret>`."""
        if not self.app_secret:
            if not self._warned_unconfigured:
                logger.error("Messenger webhook refused: FB_APP_SECRET is not configured.")
                self._warned_unconfigured = True
            return False
        method, _, signature = (header or "").partition("=")
        if method != "sha256" or not signature:
            return False
        expected = hmac.new(self.app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), signature.strip().lower().encode("utf-8", "replace"))

    def _well_formed(self, signature: Text) -> bool:
        """Whether the header can be checked: `sha256=<64 hex digits>` and the app secret set."""
        if not self.app_secret:
            self.signature_valid(b"", signature)  # says once that FB_APP_SECRET is not configured
            return False
        return bool(SIGNATURE_FORMAT.match(signature))

    def blueprint(self, name: Text) -> Blueprint:
        """The routes on a new blueprint, mounted at /webhooks/facebook (the channel adds its consumer)."""
        webhook = Blueprint(name, __name__)

        # Sanic marks its handlers with attributes: functions, not bound methods
        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return self.handshake(request)

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request)

        return webhook

    def handshake(self, request: Request) -> HTTPResponse:
        """Meta's verification: `hub.challenge` back for the right mode and verify token, else 403."""
        token = request.args.get("hub.verify_token") or ""
        if (
            request.args.get("hub.mode") == "subscribe"
            and self.verify_token
            and hmac.compare_digest(token.encode("utf-8"), self.verify_token.encode("utf-8"))
        ):
            return response.text(request.args.get("hub.challenge") or "")
        logger.warning("Messenger webhook verification refused (wrong mode or verify token).")
        return response.text("forbidden", status=403)

    async def receive(self, request: Request) -> HTTPResponse:
        """A signed delivery: every message and postback of it queued once; 200 `EVENT_RECEIVED`."""
        delivery = await read_delivery(request, self.refusals, "X-Hub-Signature-256", self._well_formed)
        if isinstance(delivery, HTTPResponse):
            return delivery
        if not self.signature_valid(delivery.body, delivery.signature):
            self.refusals.note(delivery.client, "wrong X-Hub-Signature-256")
            return response.text("invalid signature", status=403)
        try:
            payload = json.loads(delivery.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            logger.warning("Messenger webhook body is not valid JSON.")
            return response.text("malformed JSON", status=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("entry", []), list):
            logger.warning("Messenger webhook body is not an object with an entry list.")
            return response.text("malformed payload", status=400)
        if payload.get("object") != "page":
            logger.info("Messenger webhook for object %r ignored.", payload.get("object"))
            return response.text("EVENT_RECEIVED")
        try:
            for event in messaging_events(payload["entry"]):
                await self._enqueue(event)
        except RedisError:
            # what was queued before stays queued; Meta's redelivery finds it a duplicate
            logger.exception("Redis unavailable for the Messenger webhook; Meta will redeliver.")
            return response.text("temporarily unavailable", status=503)
        return response.text("EVENT_RECEIVED")

    async def _enqueue(self, event: Dict[Text, Any]) -> None:
        """Queue a message or postback once per message id; other events are logged and dropped."""
        kind = event_kind(event)
        sender_id = str((event.get("sender") or {}).get("id") or "")
        if kind not in ("message", "postback"):
            fields = ", ".join(sorted(k for k in event if k not in ("sender", "recipient", "timestamp")))
            logger.info("Messenger %s event ignored (%s).", kind, fields)
            return
        if not sender_id:
            logger.info("Messenger %s event without a sender ignored.", kind)
            return
        mid = dedupe_id(event, kind, sender_id)
        if await self.queue.enqueue(sender_id, mid, event):
            self.accepted += 1
        else:
            logger.info("Messenger message %s was received already (redelivery); skipped.", mid)
