"""socket.io channel: custom payloads as one event, counted sends, never-silent guard, Origin check."""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot.channels.guard import never_silent
from bot.channels.payloads import vouched
from bot.channels.process_tag import process_tag, tag_session_ids
from bot.channels.socketio_manager import JsonRedisManager
from bot.nlu.inbound import MAX_FRAME_BYTES
from common.chat_sessions import is_valid, issue

logger = logging.getLogger(__name__)

SOCKETIO_CHANNEL = "senmart:socketio"  # Redis pub/sub channel shared by every Rasa worker and instance


def parse_origins(value: Any) -> List[Text]:
    """Origins from a space- or comma-separated string (or a YAML list), without trailing slashes."""
    items = value if isinstance(value, list) else re.split(r"[\s,]+", str(value or ""))
    return [str(item).strip().rstrip("/") for item in items if str(item).strip()]


class SocketIOChannelOutput(SocketIOOutput):
    """Emits custom payloads as `{"custom": {...}}` (Rasa's emit(**payload) breaks on
    payloads like {"handoff": {...}}) and counts what it sends."""

    def __init__(self, sio: Any, bot_message_evt: Text) -> None:
        super().__init__(sio, bot_message_evt)
        self.sent = 0

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        self.sent += 1
        await super()._send_message(socket_id, response)

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """An agent's reply (text + `custom.agent`) as one event, so the page can name the agent."""
        custom = message.get("custom")
        if message.get("text") and isinstance(custom, dict) and custom.get("agent"):
            await self._send_message(recipient_id, {"text": message["text"], "custom": custom})
            return
        await super().send_response(recipient_id, message)

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """One bot_uttered event carrying the payload under `custom`."""
        await self._send_message(recipient_id, {"custom": json_message})


class SocketIOChannel(SocketIOInput):
    """Rasa's socket.io channel (same name and URL) with the output above, the guard and an Origin check.

    Credentials keys: `cors_allowed_origins`: origins (space- or comma-separated) allowed to connect from a
    browser; others get 400. Empty: only the socket.io server's own origin. `redis_url`: emits go through
    Redis pub/sub (python-socketio's AsyncRedisManager), so a reply emitted by any Rasa worker or instance
    (an agent's reply relayed through the HTTP API, a turn handled elsewhere) reaches the customer's socket
    on whichever worker holds it. Empty: emits stay in this process.
    """

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "SocketIOChannel":
        """Rasa's credentials plus `cors_allowed_origins` and `redis_url`."""
        channel = super().from_credentials(credentials)
        channel.cors_allowed_origins = parse_origins((credentials or {}).get("cors_allowed_origins"))
        channel.redis_url = str((credentials or {}).get("redis_url") or "")
        channel.session_secret = str((credentials or {}).get("session_secret") or "")
        if not channel.session_secret:
            raise ValueError("socket.io channel: session_secret (CHAT_SESSION_SECRET) is empty")
        return channel

    def __init__(
        self,
        *args: Any,
        cors_allowed_origins: Optional[List[Text]] = None,
        redis_url: Text = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.cors_allowed_origins = list(cors_allowed_origins or [])
        self.redis_url = redis_url
        self.session_secret = ""

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Output used for messages pushed later (agent replies, CSAT request)."""
        if self.sio is None:
            return super().get_output_channel()
        return SocketIOChannelOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's blueprint; the user-message handler is replaced to use our output channel."""
        guarded = never_silent(vouched(on_new_message))
        blueprint = super().blueprint(guarded)
        sio = self.sio
        # Rasa creates the server with cors_allowed_origins=[] (every Origin accepted, no CORS headers);
        # engineio reads this attribute per request: unlisted Origins get 400, listed ones CORS headers.
        # None = same origin only (engineio's default), never "accept all".
        sio.eio.cors_allowed_origins = self.cors_allowed_origins or None
        # engineio accepts 1 MB frames by default; a customer message is a few KB (bot/nlu/inbound.py)
        sio.eio.max_http_buffer_size = MAX_FRAME_BYTES
        # several Rasa processes behind nginx (`python -m bot run`): session ids name this process, so that
        # long-polling requests and the WebSocket upgrade reach the process holding the session
        tag_session_ids(sio, process_tag())
        origins = " ".join(self.cors_allowed_origins) or "its own origin only"
        logger.info("socket.io accepts browser connections from %s", origins)
        if self.redis_url:
            # Rasa builds the server with the in-process manager; swap it before any client connects
            # (the server initialises its manager on the first connection)
            manager = JsonRedisManager(self.redis_url, channel=SOCKETIO_CHANNEL)
            manager.set_server(sio)
            sio.manager = manager

        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            """Keep a session id the server issued; anyone else gets a new one (common/chat_sessions.py)."""
            proposed = (data or {}).get("session_id") if isinstance(data, dict) else None
            session_id = proposed if is_valid(proposed, self.session_secret) else issue(self.session_secret)
            if proposed and session_id != proposed:
                logger.info("socket.io %s proposed a session id the server did not issue: new session", sid)
            sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        sio.on("session_request", session_request, namespace=self.namespace)

        async def handle_message(sid: Text, data: Dict) -> None:
            if self.session_persistence:
                if not isinstance(data, dict) or not is_valid(data.get("session_id"), self.session_secret):
                    # no session_request done, or an id the server never issued: nothing is processed
                    await sio.emit("session_invalid", {"reason": "unknown_session"}, room=sid)
                    return
                sender_id = data["session_id"]
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key, {})
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            output = SocketIOChannelOutput(sio, self.bot_message_evt)
            await guarded(
                UserMessage(
                    data.get("message", ""), output, sender_id, input_channel=self.name(), metadata=metadata
                )
            )

        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return blueprint
