"""Model updates from the model server without freezing the worker (credentials.yml entry).

Rasa pulls the model of `endpoints.yml` `models:` (the studio's model server, ETag / If-None-Match) at
start-up, and with `wait_time_between_pulls` it would pull again on a schedule — but it then loads the new
model *inside the worker's event loop* (`rasa.core.agent._update_model_from_server` → `Agent.load_model`):
measured here, a 2-worker server answered nothing for about 50 s after each publish. Customers waited.

So `endpoints.yml` sets `wait_time_between_pulls: 0` (Rasa pulls once, at start-up) and this "channel" —
it has no webhook; a channel is the part of Rasa's server that a project registers by module path — starts
a background task in every worker: every `interval` seconds (with jitter so workers do not load at the same
moment) it asks the same model server with Rasa's own request (`_pull_model_and_fingerprint`, the agent's
endpoint config and fingerprint), builds the new `MessageProcessor` in a thread, and swaps it in on the
event loop between two messages, as `Agent.load_model` does. Messages keep flowing on the old model while
the new one loads; a message already being handled finishes on the processor it started with.

credentials.yml:
    bot.channels.model_updates.ModelUpdates:
      interval: 5
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import tempfile
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.agent import Agent, _pull_model_and_fingerprint
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 5.0


def _new_processor(agent: Agent, model_directory: Text) -> MessageProcessor:
    """What `Agent.load_model` builds (run in a thread: unpacking and loading take seconds)."""
    return MessageProcessor(
        model_path=model_directory,
        tracker_store=agent.tracker_store,
        lock_store=agent.lock_store,
        action_endpoint=agent.action_endpoint,
        generator=agent.nlg,
        http_interpreter=agent.http_interpreter,
    )


def swap_processor(agent: Agent, processor: MessageProcessor, fingerprint: Text) -> None:
    """Put a loaded processor in place, as `Agent.load_model` does (on the event loop, between messages)."""
    agent.processor = processor
    agent.domain = processor.domain
    agent._set_fingerprint(fingerprint)
    agent.tracker_store.domain = agent.domain
    if isinstance(agent.nlg, TemplatedNaturalLanguageGenerator):
        agent.nlg.responses = agent.domain.responses if agent.domain else {}


async def update_once(agent: Agent) -> Optional[Text]:
    """Ask the model server for a model newer than the agent's; load it in a thread and swap it in.

    Returns the new fingerprint, or None when there is nothing new (or the server could not be asked)."""
    if agent.model_server is None:
        return None
    directory = tempfile.mkdtemp(prefix="senmart-model-")
    try:
        fingerprint = await _pull_model_and_fingerprint(agent.model_server, agent.fingerprint, directory)
        if not fingerprint or fingerprint == agent.fingerprint:
            return None
        logger.info("New model %s on the model server: loading it next to the running one.", fingerprint)
        loop = asyncio.get_running_loop()
        processor = await loop.run_in_executor(None, _new_processor, agent, directory)
        swap_processor(agent, processor, fingerprint)
        logger.info("Now answering with model %s.", fingerprint)
        return fingerprint
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def keep_updated(app: Sanic, interval: float) -> None:
    """Poll the model server every `interval` seconds (±20 %) for as long as the worker runs."""
    await asyncio.sleep(random.uniform(0, interval))
    while True:
        agent = getattr(app.ctx, "agent", None)
        if agent is not None and agent.is_ready():
            try:
                await update_once(agent)
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken model or server: keep serving with the loaded model
                logger.exception("Model update failed; the loaded model stays.")
        await asyncio.sleep(interval * random.uniform(0.8, 1.2))


class ModelUpdates(InputChannel):
    """Background model updates for every worker, plus `GET /webhooks/model_updates/status`."""

    @classmethod
    def name(cls) -> Text:
        """URL prefix /webhooks/model_updates/."""
        return "model_updates"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "ModelUpdates":
        """`interval` (seconds, default 5)."""
        credentials = credentials or {}
        return cls(float(credentials.get("interval") or DEFAULT_INTERVAL_SECONDS))

    def __init__(self, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
        self.interval = max(0.5, interval)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """No webhook; a status route and the listeners that run the update task in each worker."""
        blueprint = Blueprint("model_updates", __name__)
        interval = self.interval

        @blueprint.listener("after_server_start")
        async def start(app: Sanic, _loop) -> None:
            app.ctx.model_updates = asyncio.create_task(keep_updated(app, interval))

        @blueprint.listener("before_server_stop")
        async def stop(app: Sanic, _loop) -> None:
            task = getattr(app.ctx, "model_updates", None)
            if task is not None:
                task.cancel()

        @blueprint.route("/status", methods=["GET"])
        async def status(request: Request) -> HTTPResponse:
            agent = request.app.ctx.agent
            return response.json({"fingerprint": agent.fingerprint, "interval": interval})

        return blueprint
