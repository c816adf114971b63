"""Small async client of the handoff service's /internal API (contract: docs/handoff.md)."""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, Optional

import aiohttp

from actions import settings

logger = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=5)


class HandoffUnavailable(RuntimeError):
    """The handoff service could not be reached or failed."""


async def _request(method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Optional[Dict[str, Any]]:
    """JSON request; None on 404; HandoffUnavailable on any other failure."""
    headers = {"Authorization": f"Bearer {settings.handoff_token()}", "Content-Type": "application/json"}
    # UTF-8, not aiohttp's ASCII escapes: a Vietnamese letter is 2-3 bytes instead of 6-12
    data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            async with session.request(
                method, settings.handoff_url() + path, data=data, headers=headers
            ) as resp:
                if resp.status == 404:
                    return None
                if resp.status >= 400:
                    raise HandoffUnavailable(f"{method} {path}: HTTP {resp.status} {await resp.text()}")
                return await resp.json()
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise HandoffUnavailable(f"{method} {path}: {error!r}") from error


async def open_ticket(payload: Dict[str, Any]) -> Dict[str, Any]:
    """Creates (or reuses) the conversation's ticket."""
    result = await _request("POST", "/internal/handoffs", payload)
    if result is None:
        raise HandoffUnavailable("POST /internal/handoffs: 404")
    return result


async def ticket_status(ticket_id: str) -> Optional[Dict[str, Any]]:
    """Status of a ticket, None when unknown."""
    return await _request("GET", f"/internal/tickets/{ticket_id}")


async def submit_csat(ticket_id: str, rating: int, comment: Optional[str]) -> None:
    """Stores the customer's rating on the ticket."""
    await _request("POST", f"/internal/tickets/{ticket_id}/csat", {"rating": rating, "comment": comment})
