"""The Zalo OA webhook's intake: the signature check, the user's interaction noted (zalo_window.py), each
message queued once per `msg_id` (webhook_queue.py). Rasa-free: the Zalo channel (zalo.py, in every Rasa
process) and the webhook ingress (bot/webhook_ingress.py) serve the same routes.

Zalo signs each event in `X-ZEvent-Signature`: hex SHA-256 (a plain hash, no HMAC) of `app_id + raw body +
timestamp + OA secret key`, the timestamp taken from the body (zaloplatform/zalo-java-sdk,
utils/MacUtils.java); some senders write `mac=<hex>`. Zalo wants a 200 within 2 s and disables a webhook
that keeps failing, so a verified event is queued and acknowledged at once; a redelivery is acknowledged,
never run twice. Off until configured: without the app id and OA secret key every request is refused (503).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any, Dict, Optional, Text

from redis.exceptions import RedisError
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.webhook_intake import Refusals, read_delivery
from bot.channels.webhook_queue import WebhookQueue
from bot.channels.zalo_window import InteractionClock
from common.privacy import mask_digits

logger = logging.getLogger(__name__)

CHANNEL = "zalo"  # the URL prefix: /webhooks/zalo/
DEDUPE_PREFIX = "senmart:zalo"  # received message ids: senmart:zalo:mid:<msg_id>
# linear: optional fixed prefix, bounded class repetition, anchored
SIGNATURE_FORMAT = re.compile(r"\A(?:mac=)?[0-9a-fA-F]{64}\Z")
NOT_CONFIGURED = "Zalo channel not configured: set ZALO_APP_ID and ZALO_OA_SECRET_KEY."
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


class ZaloIntake:
    """GET /: health; POST /webhook: signed Zalo events into `queue`."""

    def __init__(
        self, app_id: Text, oa_secret_key: Text, queue: WebhookQueue, clock: InteractionClock
    ) -> None:
        self.app_id = app_id
        self.oa_secret_key = oa_secret_key
        self.queue = queue
        self.clock = clock
        self.refusals = Refusals(channel="Zalo")
        self.accepted = 0  # events queued by this process (the ingress's /health)

    @property
    def configured(self) -> bool:
        """Whether the webhook can check signatures (app id and OA secret key set)."""
        return bool(self.app_id and self.oa_secret_key)

    def signature_valid(self, body: bytes, timestamp: Text, header: Optional[Text]) -> bool:
        """`X-ZEvent-Signature: [mac=]<sha256(app_id + body + timestamp + OA secret key)>`."""
        if not self.configured:
            return False
        given = (header or "").strip()
        given = given[4:] if given.lower().startswith("mac=") else given
        expected = signature(self.app_id, body, timestamp, self.oa_secret_key)
        return hmac.compare_digest(expected.encode(), given.lower().encode("utf-8", "replace"))

    def blueprint(self, name: Text) -> Blueprint:
        """The routes on a new blueprint, mounted at /webhooks/zalo (the channel adds its consumer)."""
        webhook = Blueprint(name, __name__)

        # Sanic marks its handlers with attributes: functions, not bound methods
        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.configured else "not configured"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request)

        return webhook

    async def receive(self, request: Request) -> HTTPResponse:
        """A signed event: checked, then handled (`_handle`); 503 while not configured or Redis is down."""
        if not self.configured:
            return response.json({"error": "not_configured", "message": NOT_CONFIGURED}, status=503)
        delivery = await read_delivery(
            request, self.refusals, "X-ZEvent-Signature", lambda header: bool(SIGNATURE_FORMAT.match(header))
        )
        if isinstance(delivery, HTTPResponse):
            return delivery
        body, header, client = delivery
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
        # the interaction noted and the event queued in one round trip
        pipe = self.queue.redis.pipeline(transaction=False)
        self.clock.add_note(pipe, sender_id, event_time(payload, now))
        self.queue.add_enqueue(pipe, sender_id, msg_id, payload)
        _, entry_id = await pipe.execute()
        if not entry_id:
            logger.info("Zalo message %s was received already (redelivery); skipped.", msg_id)
            return response.json({"status": "duplicate"})
        self.accepted += 1
        return response.json({"status": "ok"})
