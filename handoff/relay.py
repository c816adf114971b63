"""Talks to the customer through Rasa's HTTP API: agent replies, resume, CSAT request, history."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, Dict, List, Optional, Text, Union
from urllib.parse import quote

import aiohttp

from common.delivery import not_delivered_reason
from handoff.conversation import ConversationNotFound, messages_from_events

logger = logging.getLogger(__name__)

RESUME_TEXT = "Trợ lý ảo SenMart tiếp tục hỗ trợ bạn. Bạn cần mình giúp gì thêm không ạ?"
CSAT_INTENT = "EXTERNAL_csat_request"
# Rasa stops predicting right after the action that paused the conversation, so no action_listen
# follows it; without one, rules ("intent X -> action Y") never match again after a resume.
RESUME_EVENTS = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]


class RelayError(RuntimeError):
    """Rasa did not accept the request (after retries for connection errors and 5xx)."""


class CustomerUnreachable(RelayError):
    """The customer's channel refused the message for a rule of its platform (common/delivery.py), e.g.
    Zalo's 48-hour window: not retried, the agent is told `reason`."""

    def __init__(self, reason: Text, detail: Text) -> None:
        super().__init__(detail)
        self.reason = reason


class RasaRelay:
    """Async client of Rasa's conversation API, at most 3 attempts: reads are retried on connection
    errors, timeouts and 5xx; writes on connection errors and 5xx, never after a timeout."""

    def __init__(
        self,
        rasa_url: Text,
        auth_token: Text = "",
        timeout_seconds: float = 5.0,
        attempts: int = 3,
        backoff_seconds: float = 0.2,
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.auth_token = auth_token
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self._session: Optional[aiohttp.ClientSession] = None

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _params(self, **extra: Text) -> Dict[Text, Text]:
        params = dict(extra)
        if self.auth_token:
            params["token"] = self.auth_token
        return params

    async def _request(
        self,
        method: Text,
        path: Text,
        params: Dict[Text, Text],
        body: Optional[Union[Dict[Text, Any], List[Any]]] = None,
    ) -> Any:
        """The JSON answer (None for a POST); retries connection errors and 5xx."""
        session = await self._client()
        url = f"{self.rasa_url}{path}"
        # a GET is retried on any failure; a POST only when Rasa did not keep it: no connection, or a 5xx
        # (Rasa saves the tracker only after the side effects succeeded, and the Messenger channel sends
        # an agent message_id once). After a timeout or a lost answer Rasa may have done it all: a retry
        # would append the events and show the message twice, so the agent sees the failure instead.
        idempotent = method == "GET"
        for attempt in range(1, self.attempts + 1):
            try:
                async with session.request(method, url, json=body, params=params) as response:
                    if response.status < 400:
                        return await response.json(content_type=None) if method == "GET" else None
                    answer = await response.text()
                    reason = not_delivered_reason(answer)
                    if reason:  # the channel's rule, not a failure: the same request would fail again
                        raise CustomerUnreachable(reason, f"Rasa answered {response.status}: {answer[:200]}")
                    detail = answer[:200]
                    if response.status < 500:
                        raise RelayError(f"Rasa answered {response.status} to {path}: {detail}")
                    problem = f"Rasa answered {response.status}: {detail}"
            except aiohttp.ClientConnectorError as error:  # not connected: nothing was sent
                problem = f"{type(error).__name__}: {error}"
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                problem = f"{type(error).__name__}: {error}"
                if not idempotent:
                    raise RelayError(f"Rasa did not answer {path} ({problem}); not resent") from error
            if attempt < self.attempts:
                logger.warning("Relay to Rasa failed (attempt %d/%d): %s", attempt, self.attempts, problem)
                await asyncio.sleep(self.backoff_seconds * attempt)
        raise RelayError(f"Rasa unreachable after {self.attempts} attempts: {problem}")

    async def _post(
        self, path: Text, body: Union[Dict[Text, Any], List[Any]], params: Dict[Text, Text]
    ) -> None:
        await self._request("POST", path, params, body)

    async def _tracker_events(self, sender_id: Text, events: Union[Dict[Text, Any], List[Any]]) -> None:
        path = f"/conversations/{quote(sender_id, safe='')}/tracker/events"
        params = self._params(execute_side_effects="true", output_channel="latest")
        await self._post(path, events, params)

    async def send_agent_message(self, sender_id: Text, text: Text, agent_name: Text) -> None:
        """Deliver an agent's message on the customer's channel and record it in the tracker."""
        # one id per agent message, the same in every retry below: channels skip a message already sent
        message_id = uuid.uuid4().hex
        event = {
            "event": "bot",
            "text": text,
            "data": {"custom": {"agent": {"name": agent_name, "message_id": message_id}}},
            "metadata": {"agent": agent_name},
        }
        await self._tracker_events(sender_id, event)

    async def return_to_bot(self, sender_id: Text, text: Text = RESUME_TEXT) -> None:
        """Resume the paused conversation and tell the customer the bot is back."""
        await self._tracker_events(sender_id, RESUME_EVENTS)
        await self._tracker_events(sender_id, {"event": "bot", "text": text})

    async def resume_and_request_csat(self, sender_id: Text, ticket_id: Text) -> None:
        """Resume the conversation and let the bot ask for the satisfaction rating."""
        await self._tracker_events(sender_id, RESUME_EVENTS)
        path = f"/conversations/{quote(sender_id, safe='')}/trigger_intent"
        body = {"name": CSAT_INTENT, "entities": {"ticket_id": ticket_id}}
        await self._post(path, body, self._params(output_channel="latest"))

    async def conversation_messages(self, sender_id: Text, channel: Optional[Text] = None) -> List[Dict]:
        """The conversation as chat messages; ConversationNotFound if its latest channel is not `channel`."""
        path = f"/conversations/{quote(sender_id, safe='')}/tracker"
        tracker = await self._request("GET", path, self._params())
        if not isinstance(tracker, dict):
            raise RelayError(f"Rasa sent no tracker for {path}")
        if channel is not None and tracker.get("latest_input_channel") != channel:
            raise ConversationNotFound(sender_id)
        return messages_from_events(tracker.get("events") or [])
