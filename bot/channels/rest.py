"""REST channel that never leaves the customer without an answer."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint

from bot.channels.guard import never_silent
from bot.channels.payloads import vouched


class RestChannel(RestInput):
    """Rasa's REST channel (same name and URL) with the never-silent guard and the payload check."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's blueprint around a guarded message handler."""
        return super().blueprint(never_silent(vouched(on_new_message)))
