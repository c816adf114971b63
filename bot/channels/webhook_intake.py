"""What the intakes of the signed webhooks share (Messenger: messenger_intake.py, Zalo: zalo_intake.py): the
body read with a limit and the per-address refusal limiter. Rasa-free: the Rasa channels and the webhook
ingress process (bot/webhook_ingress.py) both serve these intakes.

The sender's address is the peer's, or the one a proxy in front reports when Sanic is told to trust it
(`REAL_IP_HEADER`, e.g. `SANIC_REAL_IP_HEADER=x-real-ip` behind nginx, which sets X-Real-IP itself):
otherwise every delivery through the proxy shares the proxy's address, and one sender's refusals would
refuse the platform's deliveries too.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Dict, NamedTuple, Optional, Text, Tuple, Union

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_048_576  # Messenger's and Zalo's deliveries are far smaller
REFUSALS_ALLOWED = 20  # refused deliveries per address per window before it is refused unread
REFUSAL_WINDOW_SECONDS = 60.0


def client_address(request: Request) -> Text:
    """The sender's address: the one a trusted proxy reports (Sanic's `remote_addr`), else the peer's."""
    return request.remote_addr or request.ip or "?"


async def read_body(request: Request, limit: int) -> Optional[bytes]:
    """The streamed body, or None once it passes `limit` bytes."""
    chunks, size = [], 0
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


class Delivery(NamedTuple):
    """A delivery that passed the checks before its signature is computed."""

    body: bytes
    signature: Text  # the signature header, stripped
    client: Text  # the sender's address (client_address)


async def read_delivery(
    request: Request, refusals: "Refusals", header: Text, well_formed: Callable[[Text], bool]
) -> Union[Delivery, HTTPResponse]:
    """The checks of a signed delivery before its signature is computed, the cheap ones first so that a
    sender whose signatures keep failing, or a request without a well-formed signature, costs no upload:
    429 for a blocked sender, 413 for a declared body over MAX_BODY_BYTES, 403 unless the `header` is
    `well_formed`, then the body read (413 once it passes the limit). Each refusal counts."""
    client = client_address(request)
    refused = refusals.before_reading(request, MAX_BODY_BYTES)
    if refused is not None:
        return refused
    signature = (request.headers.get(header) or "").strip()
    if not well_formed(signature):
        refusals.note(client, f"missing or malformed {header}")
        return response.text("invalid signature", status=403, headers={"Connection": "close"})
    body = await read_body(request, MAX_BODY_BYTES)
    if body is None:
        refusals.note(client, "body over 1 MB")
        return response.text("payload too large", status=413, headers={"Connection": "close"})
    return Delivery(body, signature, client)


class Refusals:
    """Refused webhook deliveries per sender address: past REFUSALS_ALLOWED in a window, the address is
    refused before its upload is read (the platform's own deliveries are signed and never refused). Logged
    once per address and window, not per request."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, channel: Text = "Messenger") -> None:
        self.clock = clock
        self.channel = channel
        self.windows: Dict[Text, Tuple[float, int]] = {}

    def _window(self, client: Text) -> Tuple[float, int]:
        started, count = self.windows.get(client, (self.clock(), 0))
        if self.clock() - started > REFUSAL_WINDOW_SECONDS:
            started, count = self.clock(), 0
        return started, count

    def blocked(self, client: Text) -> bool:
        """Whether the address used up its refusals in this window."""
        return self._window(client)[1] >= REFUSALS_ALLOWED

    def before_reading(self, request: Request, limit: int) -> Optional[HTTPResponse]:
        """429 for an address past its refusals, 413 for a declared body over `limit` (nothing uploaded
        is read: headers only); None to go on."""
        client = client_address(request)
        if self.blocked(client):
            return response.text("too many invalid requests", status=429, headers={"Connection": "close"})
        declared = request.headers.get("Content-Length") or "0"
        if not declared.isdigit() or int(declared) > limit:
            self.note(client, f"body of {declared} bytes (over {limit} bytes)")
            return response.text("payload too large", status=413, headers={"Connection": "close"})
        return None

    def note(self, client: Text, why: Text) -> None:
        """Count one refused delivery."""
        started, count = self._window(client)
        if count == 0:
            logger.warning(
                "%s webhook refused from %s: %s (further refusals counted quietly).",
                self.channel,
                client,
                why,
            )
        self.windows[client] = (started, count + 1)
        if len(self.windows) > 10_000:  # bounded: forget the oldest windows
            for stale in sorted(self.windows, key=lambda k: self.windows[k][0])[:5_000]:
                del self.windows[stale]
