"""The whole conversation, for actions that need more than the window Rasa sends them.

Rasa hands the actions a tracker that starts at a checkpoint when the conversation is long
(bot/tracker_store.py, `history_turns`); its first event then carries `metadata.senmart_history_from` = how
many stored events come before the window. The handoff transcript must hold every message, so the earlier
events are read from Rasa's tracker API, which returns every stored event (`retrieve_full_tracker`) and takes
no conversation lock (the action runs while Rasa holds it).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import aiohttp
from rasa_sdk import Tracker

from actions import settings

logger = logging.getLogger(__name__)
# the same key as bot.tracker_store.HISTORY_FROM_METADATA (the action server does not import Rasa Core)
HISTORY_FROM_METADATA = "senmart_history_from"
TIMEOUT = aiohttp.ClientTimeout(total=5)


def window_start(events: List[Dict[str, Any]]) -> Optional[int]:
    """How many stored events precede the tracker's window, or None when the tracker is whole."""
    for event in events[:1]:
        start = (event.get("metadata") or {}).get(HISTORY_FROM_METADATA)
        if isinstance(start, int) and start > 0:
            return start
    return None


async def earlier_events(sender_id: str, count: int) -> List[Dict[str, Any]]:
    """The first `count` stored events of the conversation, from Rasa's tracker API."""
    url = f"{settings.rasa_url()}/conversations/{quote(sender_id, safe='')}/tracker"
    params = {"include_events": "ALL"}
    if settings.rasa_token():
        params["token"] = settings.rasa_token()
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        async with session.get(url, params=params) as resp:
            # not raise_for_status(): its error carries the URL, and the URL carries Rasa's token
            if resp.status != 200:
                raise ValueError(f"Rasa's tracker API answered HTTP {resp.status}")
            body = await resp.json()
    return list(body.get("events") or [])[:count]


async def whole_conversation(tracker: Tracker) -> List[Dict[str, Any]]:
    """Every event of the conversation: the earlier stored ones, then the tracker's own (which include
    the current turn, not stored yet). If Rasa cannot be reached, the window alone (logged)."""
    events = list(tracker.events)
    start = window_start(events)
    if start is None:
        return events
    try:
        return await earlier_events(tracker.sender_id, start) + events
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as problem:
        # the kind of error and, for our own ValueError, its text: never an aiohttp error's URL (token=…)
        detail = str(problem) if type(problem) is ValueError else type(problem).__name__
        logger.error(
            "Earlier messages of %s unavailable (%s): transcript starts at the window",
            tracker.sender_id,
            detail,
        )
        return events
