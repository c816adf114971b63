"""The Rasa side of a queued webhook channel (Messenger: facebook.py, Zalo: zalo.py): the intake's routes
served with the queue's consumer, which runs each queued event's turn once in this Rasa process and sends
its replies (webhook_turns.answer_once). A channel says how an event becomes a turn and which output sends
a turn's replies."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import Any, Awaitable, Callable, Optional, Text, cast

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic

from bot.channels.guard import never_silent
from bot.channels.webhook_queue import QueueEntry, WebhookQueue
from bot.channels.webhook_turns import TurnBook, TurnCollector, answer_once
from bot.channels.webhooks import AgentReplyOutput, DeliveryMarks

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
Handler = Callable[[UserMessage], Awaitable[None]]  # Rasa's message handler behind the never-silent guard


def redis_url_of(configured: Optional[Text]) -> Text:
    """The channel's Redis: its credentials' `redis-url`, else REDIS_URL, else the local default."""
    return configured or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


def consume_while_serving(
    blueprint: Blueprint,
    queue: WebhookQueue,
    answer: Callable[[Sanic, QueueEntry, int], Awaitable[None]],
) -> None:
    """Run the channel's queue consumer while the server runs (one per Rasa process): `answer(app, entry,
    attempt)` handles one queued event."""

    @blueprint.listener("after_server_start")
    async def start_consumer(app: Sanic, _loop: Any) -> None:
        queue.start(lambda entry, attempt: answer(app, entry, attempt))

    @blueprint.listener("before_server_stop")
    async def stop_consumer(app: Sanic, _loop: Any) -> None:
        await queue.stop()


class QueuedWebhookChannel(InputChannel, ABC):
    """A channel whose webhook intake (`self.intake`, with `blueprint(name)`) queues each event; subclasses
    call `open_queue` in their constructor and implement `run_turn` (and `turn_output` where a turn's replies
    go out otherwise than pushed messages)."""

    intake: Any
    queue: WebhookQueue
    turns: TurnBook

    def open_queue(self, redis_url: Text, marks: DeliveryMarks) -> None:
        """The channel's webhook queue (sharing the marks' Redis client) and the book of its turns."""
        self.queue = WebhookQueue(redis_url, self.name(), marks.prefix, calls=marks.client)
        self.turns = TurnBook(lambda: self.queue.redis, self.queue.turn_key)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The intake's routes (blueprint `senmart_{name}_webhook`); the queue's consumer runs their turns
        in this process, each through the never-silent guard."""
        guarded = never_silent(on_new_message)
        webhook = self.intake.blueprint(f"senmart_{self.name()}_webhook")
        consume_while_serving(
            webhook, self.queue, lambda app, entry, attempt: self._answer(app, guarded, entry, attempt)
        )
        return webhook

    async def _answer(self, app: Sanic, guarded: Handler, entry: QueueEntry, attempt: int) -> None:
        """A queued event's turn, run once, and its replies sent (webhook_turns.answer_once)."""
        agent = app.ctx.agent

        async def run_turn(collector: TurnCollector) -> None:
            await self.run_turn(agent, guarded, entry, collector)

        output = self.turn_output()
        await answer_once(self.turns, entry, attempt, run_turn, agent.tracker_store, output, self.name())

    @abstractmethod
    async def run_turn(self, agent: Any, guarded: Handler, entry: QueueEntry, output: OutputChannel) -> None:
        """Hand the queued event to `guarded` as a UserMessage answered through `output` (or record it)."""

    def turn_output(self) -> AgentReplyOutput:
        """The output that sends a turn's replies to the customer: by default that of pushed messages."""
        return cast(AgentReplyOutput, self.get_output_channel())
