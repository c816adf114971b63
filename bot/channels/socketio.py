"""socket.io channel: custom payloads as one event, counted sends, never-silent guard."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot.channels.guard import never_silent


class SocketIOChannelOutput(SocketIOOutput):
    """Emits custom payloads as `{"custom": {...}}` (Rasa's emit(**payload) breaks on
    payloads like {"handoff": {...}}) and counts what it sends."""

    def __init__(self, sio: Any, bot_message_evt: Text) -> None:
        super().__init__(sio, bot_message_evt)
        self.sent = 0

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        self.sent += 1
        await super()._send_message(socket_id, response)

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """One bot_uttered event carrying the payload under `custom`."""
        await self._send_message(recipient_id, {"custom": json_message})


class SocketIOChannel(SocketIOInput):
    """Rasa's socket.io channel (same name and URL) with the output above and the guard."""

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Output used for messages pushed later (agent replies, CSAT request)."""
        if self.sio is None:
            return super().get_output_channel()
        return SocketIOChannelOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's blueprint; the user-message handler is replaced to use our output channel."""
        guarded = never_silent(on_new_message)
        blueprint = super().blueprint(guarded)
        sio = self.sio

        async def handle_message(sid: Text, data: Dict) -> None:
            if self.session_persistence:
                if not data.get("session_id"):
                    return  # Rasa ignores these too (no session_request done)
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
