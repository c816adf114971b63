"""The bot's NLG (`endpoints.yml` `nlg:`): answers come from the studio's live content, with the loaded
model's own responses as the fallback.

Rasa builds it by module path (`type: bot.nlg.StudioNaturalLanguageGenerator`,
rasa/core/nlg/generator.py `_load_from_module_name_in_endpoint_config`) with the endpoint config and
an empty domain. It subclasses `TemplatedNaturalLanguageGenerator` on purpose: `Agent.load_model`
(start-up and every model swap from the model server) refreshes `.responses` only on an instance of
that class, so the fallback always holds the responses of the model that is loaded right now.

Every response goes through `generate`: domain responses (`utter_greet`), FAQ answers
(`ActionRetrieveResponse` resolves `utter_faq` to `utter_faq/<topic>` and calls `nlg.generate` with the
full name) and the `response=` of custom actions. The studio's responses are kept in the process: fetched
from `GET <url>/responses` (every response of the content files and their version) and re-checked with
If-None-Match at most every `refresh_seconds` (default 1; 304 while unchanged), so an answer edited in the
studio is what the bot says within about a second, and a bot message costs no HTTP call (one per bot
message to `POST <url>` was a sixth of the CPU of a customer message across the services). The message is
made by `bot.responses.render`, the same function the studio's `POST /internal/nlg` answers with.

When the server cannot be reached, answers an error or something that is not a set of valid responses, or
takes longer than `timeout` seconds (default 1.5), the last responses it gave stay in use (the model's own
before the first), with a warning, and the server is asked again after `retry_after` seconds (default 5).
A response the studio does not have (e.g. a topic deleted in the studio that the live model still
predicts) is answered from the model's responses, without a warning.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Dict, Optional, Text

import aiohttp
import jsonschema
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator, nlg_response_format_spec
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.responses import Responses, render

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 1.5
DEFAULT_RETRY_AFTER_SECONDS = 5.0
DEFAULT_REFRESH_SECONDS = 1.0

# Rasa's NLG response schema, checked and compiled once (Rasa's `validate_response` re-checks the schema
# itself and builds a new validator at every call); a variation may also name its `channel`, `condition`
_RESPONSE_SPEC = nlg_response_format_spec()
_VALIDATOR_CLASS = jsonschema.validators.validator_for(_RESPONSE_SPEC)
_VALIDATOR_CLASS.check_schema(_RESPONSE_SPEC)
_RESPONSE_VALIDATOR = _VALIDATOR_CLASS(_RESPONSE_SPEC)


def validate_response(answer: Dict[Text, Any]) -> None:
    """The same check as Rasa's callback NLG: RasaException when `answer` is not a valid response."""
    error = jsonschema.exceptions.best_match(_RESPONSE_VALIDATOR.iter_errors(answer))
    if error is not None:
        raise RasaException(f"{error.message}. Failed to validate NLG response from API.")


def valid_responses(body: Any) -> Responses:
    """The `responses` of a `GET …/responses` answer, every variation checked; ValueError if not valid."""
    responses = body.get("responses") if isinstance(body, dict) else None
    if not isinstance(responses, dict):
        raise ValueError("the answer has no `responses` object")
    for name, variations in responses.items():
        if not isinstance(variations, list) or not variations:
            raise ValueError(f"response {name!r} has no list of variations")
        for variation in variations:
            if not isinstance(variation, dict):
                raise ValueError(f"a variation of {name!r} is not an object")
            validate_response(variation)  # RasaException (a ValueError) if malformed
    return responses


class StudioNaturalLanguageGenerator(TemplatedNaturalLanguageGenerator):
    """The studio's live responses, kept in the process, with the loaded model's responses as fallback."""

    def __init__(self, endpoint_config: EndpointConfig, domain: Optional[Domain] = None) -> None:
        super().__init__(domain.responses if domain else {})
        self.endpoint = endpoint_config
        kwargs = endpoint_config.kwargs
        self.responses_url = (endpoint_config.url or "").rstrip("/") + "/responses"
        self.timeout = float(kwargs.get("timeout", DEFAULT_TIMEOUT_SECONDS))
        self.retry_after = float(kwargs.get("retry_after", DEFAULT_RETRY_AFTER_SECONDS))
        self.refresh_seconds = float(kwargs.get("refresh_seconds", DEFAULT_REFRESH_SECONDS))
        self.studio: Optional[Responses] = None  # the server's responses, once it gave them
        self._etag: Optional[Text] = None
        self._next_check = 0.0  # monotonic time of the next look at the server
        self._lock: Optional[asyncio.Lock] = None
        self._client: Optional[aiohttp.ClientSession] = None
        # counters for tests and logs
        self.studio_answers = 0
        self.fallbacks = 0
        self.fetches = 0  # requests to the server (200 and 304)

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        """The studio's answer for `utter_action`, or the model's own response."""
        domain_responses = kwargs.pop("domain_responses", None)
        studio = await self.studio_responses()
        if studio is not None and utter_action in studio:
            response_id = CallbackNaturalLanguageGenerator.fetch_response_id(
                utter_action, tracker, output_channel, domain_responses
            )
            slots = tracker.current_slot_values()
            answer = render(studio, utter_action, slots, output_channel, kwargs, response_id)
            if answer is not None:
                self.studio_answers += 1
                return answer
        self.fallbacks += 1
        return await super().generate(utter_action, tracker, output_channel, **kwargs)

    async def studio_responses(self) -> Optional[Responses]:
        """The studio's responses, re-checked when `refresh_seconds` have passed (one check at a time)."""
        if not self.endpoint.url or time.monotonic() < self._next_check:
            return self.studio
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if time.monotonic() >= self._next_check:  # nobody checked while this one waited
                await self._refresh()
        return self.studio

    async def _refresh(self) -> None:
        headers = {"If-None-Match": self._etag} if self._etag and self.studio is not None else {}
        try:
            async with self._session().get(
                self.responses_url, headers=headers, params=self.endpoint.combine_parameters()
            ) as resp:
                self.fetches += 1
                if resp.status == 304:
                    pass
                elif resp.status >= 400:
                    raise ClientResponseError(resp.status, resp.reason or "", await resp.text())
                else:
                    self.studio = valid_responses(await resp.json(content_type=None))
                    self._etag = resp.headers.get("ETag")
        except asyncio.TimeoutError:
            self._failed(f"no answer within {self.timeout:g}s")
        except ClientResponseError as problem:
            self._failed(f"HTTP {problem.status}")
        except Exception as problem:  # network, bad JSON, invalid responses, anything unexpected
            self._failed(f"{type(problem).__name__}: {problem}")
        else:
            self._next_check = time.monotonic() + self.refresh_seconds

    def _session(self) -> aiohttp.ClientSession:
        """One keep-alive session per worker (Rasa's `EndpointConfig.request` opens a new session and TCP
        connection for every call)."""
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession(
                headers=self.endpoint.headers, timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
        return self._client

    def _failed(self, why: Text) -> None:
        self._next_check = time.monotonic() + self.retry_after
        kept = "the responses it gave last" if self.studio is not None else "the model's responses"
        logger.warning(
            "NLG server %s failed (%s); answering with %s for the next %gs.",
            self.responses_url,
            why,
            kept,
            self.retry_after,
        )
