"""The bot's NLG (`endpoints.yml` `nlg:`): answers come live from the studio's NLG server, with the
loaded model's own responses as the fallback.

Rasa builds it by module path (`type: bot.nlg.StudioNaturalLanguageGenerator`,
rasa/core/nlg/generator.py `_load_from_module_name_in_endpoint_config`) with the endpoint config and
an empty domain. It subclasses `TemplatedNaturalLanguageGenerator` on purpose: `Agent.load_model`
(start-up and every model swap from the model server) refreshes `.responses` only on an instance of
that class, so the fallback always holds the responses of the model that is loaded right now.

Every response goes through `generate`: domain responses (`utter_greet`), FAQ answers
(`ActionRetrieveResponse` resolves `utter_faq` to `utter_faq/<topic>` and calls `nlg.generate` with the
full name) and the `response=` of custom actions. The request is Rasa's NLG-server protocol
(rasa/core/nlg/callback.py): `{"response", "id", "arguments", "tracker", "channel": {"name"}}`; the
tracker is sent without its event list (the studio's server needs the slots, a long conversation would
otherwise be posted whole at every bot message).

Fallback to the model's responses, with a warning, when the server cannot be reached, answers an error,
answers something that is not a valid response, or takes longer than `timeout` seconds (default 1.5).
After such a failure the server is left alone for `retry_after` seconds (default 5) so a hung server does
not add the timeout to every message. A 404 means the server has no such response: the model's response
is used without a warning (e.g. a topic deleted in the studio that the live model still predicts).
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
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 1.5
DEFAULT_RETRY_AFTER_SECONDS = 5.0

# Rasa's NLG response schema, checked and compiled once: `CallbackNaturalLanguageGenerator.validate_response`
# re-checks the schema itself and builds a new validator for every bot message (measured: most of the
# cost of an answer from the NLG server)
_RESPONSE_SPEC = nlg_response_format_spec()
_VALIDATOR_CLASS = jsonschema.validators.validator_for(_RESPONSE_SPEC)
_VALIDATOR_CLASS.check_schema(_RESPONSE_SPEC)
_RESPONSE_VALIDATOR = _VALIDATOR_CLASS(_RESPONSE_SPEC)


def validate_response(answer: Dict[Text, Any]) -> None:
    """The same check as Rasa's callback NLG: RasaException when `answer` is not a valid response."""
    error = jsonschema.exceptions.best_match(_RESPONSE_VALIDATOR.iter_errors(answer))
    if error is not None:
        raise RasaException(f"{error.message}. Failed to validate NLG response from API.")


class StudioNaturalLanguageGenerator(TemplatedNaturalLanguageGenerator):
    """Remote NLG (the studio's live content) with the loaded model's responses as the fallback."""

    def __init__(self, endpoint_config: EndpointConfig, domain: Optional[Domain] = None) -> None:
        super().__init__(domain.responses if domain else {})
        self.endpoint = endpoint_config
        self.timeout = float(endpoint_config.kwargs.get("timeout", DEFAULT_TIMEOUT_SECONDS))
        self.retry_after = float(endpoint_config.kwargs.get("retry_after", DEFAULT_RETRY_AFTER_SECONDS))
        self._skip_until = 0.0  # monotonic time before which the server is not asked (after a failure)
        self._client: Optional[aiohttp.ClientSession] = None
        # counters for tests and logs
        self.remote_answers = 0
        self.fallbacks = 0

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        """The server's answer for `utter_action`, or the model's own response."""
        domain_responses = kwargs.pop("domain_responses", None)
        if self.endpoint.url and time.monotonic() >= self._skip_until:
            try:
                answer = await self._remote(utter_action, tracker, output_channel, domain_responses, kwargs)
            except ClientResponseError as problem:
                if problem.status == 404:
                    logger.debug("NLG server has no response %r; using the model's.", utter_action)
                else:
                    self._failed(utter_action, f"HTTP {problem.status}")
            except asyncio.TimeoutError:
                self._failed(utter_action, f"no answer within {self.timeout:g}s")
            except (aiohttp.ClientError, OSError, ValueError) as problem:
                self._failed(utter_action, f"{type(problem).__name__}: {problem}")
            except Exception as problem:  # an invalid answer (RasaException) or anything unexpected
                self._failed(utter_action, f"{type(problem).__name__}: {problem}")
            else:
                if answer is not None:
                    self.remote_answers += 1
                    return answer
        self.fallbacks += 1
        return await super().generate(utter_action, tracker, output_channel, **kwargs)

    async def _remote(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        domain_responses: Optional[Dict[Text, Any]],
        arguments: Dict[Text, Any],
    ) -> Optional[Dict[Text, Any]]:
        response_id = CallbackNaturalLanguageGenerator.fetch_response_id(
            utter_action, tracker, output_channel, domain_responses
        )
        body = {
            "response": utter_action,
            "id": response_id,
            "arguments": arguments,
            "tracker": tracker.current_state(EventVerbosity.NONE),
            "channel": {"name": output_channel},
        }
        session = self._session()
        async with session.post(
            self.endpoint.url, json=body, params=self.endpoint.combine_parameters()
        ) as resp:
            if resp.status >= 400:
                raise ClientResponseError(resp.status, resp.reason or "", await resp.text())
            answer = await resp.json(content_type=None)
        if not isinstance(answer, dict):
            raise ValueError(f"NLG server answered {type(answer).__name__}, not a response object")
        validate_response(answer)  # RasaException if malformed
        return answer

    def _session(self) -> aiohttp.ClientSession:
        """One keep-alive session per worker (Rasa's `EndpointConfig.request` opens a new session and TCP
        connection for every call: measured, that made every bot message cost several ms more)."""
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession(
                headers=self.endpoint.headers, timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
        return self._client

    def _failed(self, utter_action: Text, why: Text) -> None:
        self._skip_until = time.monotonic() + self.retry_after
        logger.warning(
            "NLG server %s failed for %r (%s); answering with the model's responses for the next %gs.",
            self.endpoint.url,
            utter_action,
            why,
            self.retry_after,
        )
