"""Client of Meta's Messenger Send API: retries transient failures, never sends a message twice."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import time
from email.utils import parsedate_to_datetime
from typing import Any, Dict, Optional, Text

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v19.0"
# Graph error codes Meta documents as temporary: 2 service unavailable, 4/17/32/613 rate limits
# (these also come with HTTP 400/403, not only 429).
TRANSIENT_ERROR_CODES = frozenset({2, 4, 17, 32, 613})
_ACCESS_TOKEN = re.compile(r"(access_token=)[^&\s\"']+")


def graph_url_from_env() -> Text:
    """The Graph API base URL: env FB_GRAPH_URL or Meta's production URL."""
    return (os.environ.get("FB_GRAPH_URL") or DEFAULT_GRAPH_URL).rstrip("/")


def mask_token(text: Text) -> Text:
    """The text with any `access_token=...` value replaced by `***`."""
    return _ACCESS_TOKEN.sub(r"\1***", text)


class _AccessTokenFilter(logging.Filter):
    """Masks the page access token in urllib3's request lines (logged at DEBUG with the query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(mask_token(a) if isinstance(a, str) else a for a in record.args)
        record.msg = mask_token(str(record.msg))
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_AccessTokenFilter())


def _request_not_sent(error: requests.ConnectionError) -> bool:
    """Whether the connection failed before the request went out (refused, DNS, connect timeout)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


class MessengerSendError(RuntimeError):
    """The Send API did not accept a message (after the retries that were safe to make)."""

    def __init__(
        self,
        message: Text,
        status: Optional[int] = None,
        code: Optional[int] = None,
        attempts: int = 1,
        retryable: bool = False,
        maybe_delivered: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.attempts = attempts
        # a later try may succeed (rate limit, 5xx, Meta unreachable)
        self.retryable = retryable
        # the request may have reached Meta (read timeout): sending again could duplicate
        self.maybe_delivered = maybe_delivered


class MessengerSendClient:
    """POSTs to `{graph_url}/me/messages` with retry and exponential back-off on 429, 5xx and
    connection errors; no retry once a request may have reached Meta."""

    def __init__(
        self,
        page_access_token: Text,
        graph_url: Optional[Text] = None,
        timeout: float = 10,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 5.0,
        session: Optional[requests.Session] = None,
    ) -> None:
        self.page_access_token = page_access_token or ""
        self.graph_url = (graph_url or graph_url_from_env()).rstrip("/")
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.session = session or requests.Session()

    @property
    def messages_url(self) -> Text:
        """The Send API endpoint."""
        return f"{self.graph_url}/me/messages"

    def _delay(self, attempt: int, response: Optional[requests.Response]) -> float:
        """Seconds to wait before the next attempt: Retry-After when given, else exponential."""
        delay = self.backoff * (2 ** (attempt - 1))
        header = response.headers.get("Retry-After") if response is not None else None
        if header:
            try:
                delay = float(header)
            except ValueError:
                try:
                    delay = parsedate_to_datetime(header).timestamp() - time.time()
                except (TypeError, ValueError):
                    pass
        return min(max(delay, 0.0), self.max_backoff)

    @staticmethod
    def _graph_error(response: requests.Response) -> Dict[Text, Any]:
        try:
            error = response.json().get("error")
        except ValueError:
            return {}
        return error if isinstance(error, dict) else {}

    def send_sync(self, payload: Dict[Text, Any]) -> Dict[Text, Any]:
        """Blocking send of one Send API payload; returns Meta's answer ({recipient_id, message_id})."""
        params = {"access_token": self.page_access_token}
        problem, status, code, retryable = "", None, None, False
        for attempt in range(1, self.attempts + 1):
            response: Optional[requests.Response] = None
            try:
                response = self.session.post(
                    self.messages_url,
                    params=params,
                    json=payload,
                    timeout=(min(5.0, self.timeout), self.timeout),
                )
            except requests.RequestException as error:
                if isinstance(error, ValueError):  # MissingSchema, InvalidURL: a configuration error
                    raise MessengerSendError(
                        f"Send API URL is invalid: {mask_token(str(error))}", attempts=attempt
                    ) from None
                if isinstance(error, requests.ConnectionError) and _request_not_sent(error):
                    # refused / DNS / connect timeout: nothing went out, a retry cannot duplicate
                    problem, status, code, retryable = (
                        f"connection failed: {type(error).__name__}",
                        None,
                        None,
                        True,
                    )
                else:
                    # read timeout, connection dropped after sending: Meta may have the message already
                    raise MessengerSendError(
                        f"Send API request failed after it may have reached Meta: {type(error).__name__}: "
                        f"{mask_token(str(error))}",
                        attempts=attempt,
                        maybe_delivered=True,
                    ) from None
            else:
                if response.status_code < 300:
                    try:
                        return response.json()
                    except ValueError:
                        return {}
                graph_error = self._graph_error(response)
                status, code = response.status_code, graph_error.get("code")
                detail = mask_token(str(graph_error.get("message", "")))[:200]
                problem = f"HTTP {status}, Graph error {code}: {detail}"
                retryable = status == 429 or status >= 500 or code in TRANSIENT_ERROR_CODES
                if not retryable:
                    raise MessengerSendError(
                        f"Send API refused the message: {problem}", status=status, code=code, attempts=attempt
                    )
            if attempt < self.attempts:
                delay = self._delay(attempt, response)
                logger.warning(
                    "Send API attempt %d/%d failed (%s); retrying in %.1fs",
                    attempt,
                    self.attempts,
                    problem,
                    delay,
                )
                time.sleep(delay)  # runs in an executor thread, never on the event loop
        raise MessengerSendError(
            f"Send API failed after {self.attempts} attempts: {problem}",
            status=status,
            code=code,
            attempts=self.attempts,
            retryable=retryable,
        )

    async def send(
        self,
        recipient_id: Text,
        message: Dict[Text, Any],
        messaging_type: Text = "RESPONSE",
        tag: Optional[Text] = None,
    ) -> Dict[Text, Any]:
        """Send one message to a PSID without blocking the event loop."""
        payload: Dict[Text, Any] = {
            "recipient": {"id": recipient_id},
            "messaging_type": messaging_type,
            "message": message,
        }
        if tag:
            payload["tag"] = tag
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(self.send_sync, payload))

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()
