"""Rasa tracker store on Redis that appends each turn's new events instead of rewriting the conversation.

Why not Rasa's own: Rasa 3.6's `RedisTrackerStore.save` reads and deserialises the whole stored tracker twice
(once to find the events to stream to the broker, once to merge), replays it to compare, serialises the whole
tracker again and writes it back with SET — with the blocking `redis` client, on the server's event loop.
Every one of those steps grows with the conversation, so a long conversation costs more per turn.

Here a conversation is a Redis list of JSON events (`<prefix>:tracker:<sender>`) plus the index where its
latest session starts (`<prefix>:tracker_session:<sender>`). `save` RPUSHes only the events added since the
tracker was read (the tracker remembers how many of its events are stored) and streams exactly those to the
event broker; `retrieve` reads the latest session with one LRANGE. A tracker that did not come from this
store (Rasa's "replace events" API, a fresh conversation) is written whole, which is always correct.

endpoints.yml:
    tracker_store:
      type: bot.tracker_store.AppendOnlyRedisTrackerStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      db: ${REDIS_DB}
      password: ${REDIS_PASSWORD}
      key_prefix: senmart
      record_exp:               # optional: seconds a conversation is kept after its last turn
"""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any, Iterable, List, Optional, Text

import redis.asyncio as aioredis
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

# set on trackers this store read or wrote: (index of the first event they hold, list length then)
STORED_ATTRIBUTE = "_senmart_stored"


def _is_session_start(event: Event) -> bool:
    return isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME


class AppendOnlyRedisTrackerStore(TrackerStore):
    """Conversations as Redis lists of events: per-turn cost independent of the conversation's length."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Text = "localhost",
        port: Any = 6379,
        db: Any = 0,
        username: Optional[Text] = None,
        password: Optional[Text] = None,
        event_broker: Any = None,
        record_exp: Any = None,
        key_prefix: Optional[Text] = None,
        use_ssl: Any = False,
        **kwargs: Any,
    ) -> None:
        """Options as Rasa's RedisTrackerStore (endpoints.yml `url` is the host)."""
        host = kwargs.pop("url", None) or host
        self.red = aioredis.Redis(
            host=str(host or "localhost"),
            port=int(port),
            db=int(db or 0),
            username=username or None,
            password=password or None,
            ssl=str(use_ssl).lower() in ("1", "true", "yes"),
            decode_responses=True,
        )
        self.record_exp = int(float(record_exp)) if record_exp not in (None, "") else None
        self.prefix = f"{key_prefix}:" if key_prefix else ""
        super().__init__(domain, event_broker, **kwargs)

    def _events_key(self, sender_id: Text) -> Text:
        return f"{self.prefix}tracker:{sender_id}"

    def _session_key(self, sender_id: Text) -> Text:
        return f"{self.prefix}tracker_session:{sender_id}"

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events (or write it whole if it did not come from here); stream them."""
        sender_id = tracker.sender_id
        events_key, session_key = self._events_key(sender_id), self._session_key(sender_id)
        stored_length = await self.red.llen(events_key)
        mark = getattr(tracker, STORED_ATTRIBUTE, None)
        if mark is not None and mark[1] == stored_length and len(tracker.events) >= mark[1] - mark[0]:
            first_index = mark[0]
            new_events = list(itertools.islice(tracker.events, mark[1] - mark[0], None))
            replace = False
        else:
            # not read from this store (or changed behind its back): these events are the conversation
            first_index, new_events, replace = 0, list(tracker.events), True
        # only the new events can start a session (all of them when the conversation is written whole)
        new_from = first_index + len(tracker.events) - len(new_events)
        session_start = next(
            (
                new_from + offset
                for offset in range(len(new_events) - 1, -1, -1)
                if _is_session_start(new_events[offset])
            ),
            None,
        )
        async with self.red.pipeline(transaction=True) as pipe:
            if replace:
                pipe.delete(events_key, session_key)
            if new_events:
                pipe.rpush(
                    events_key, *[json.dumps(event.as_dict(), ensure_ascii=False) for event in new_events]
                )
            if session_start is not None:
                pipe.set(session_key, session_start)
            if self.record_exp:
                pipe.expire(events_key, self.record_exp)
                pipe.expire(session_key, self.record_exp)
            pipe.llen(events_key)
            *_, length = await pipe.execute()
        setattr(tracker, STORED_ATTRIBUTE, (first_index, length))
        if self.event_broker is not None and new_events:
            await self._stream_new_events(self.event_broker, new_events, sender_id)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The conversation's latest session (Rasa's default view of a conversation)."""
        start = int(await self.red.get(self._session_key(sender_id)) or 0)
        return await self._read(sender_id, start)

    async def retrieve_full_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """Every session of the conversation."""
        return await self._read(sender_id, 0)

    async def _read(self, sender_id: Text, start: int) -> Optional[DialogueStateTracker]:
        async with self.red.pipeline(transaction=True) as pipe:
            pipe.lrange(self._events_key(sender_id), start, -1)
            pipe.llen(self._events_key(sender_id))
            raw, length = await pipe.execute()
        if not raw:
            return None
        tracker = self.init_tracker(sender_id)
        for item in raw:
            tracker.update(Event.from_parameters(json.loads(item)))
        setattr(tracker, STORED_ATTRIBUTE, (start, length))
        return tracker

    async def keys(self) -> Iterable[Text]:
        """Every conversation id in the store."""
        prefix = self._events_key("")
        return [key[len(prefix) :] async for key in self.red.scan_iter(match=prefix + "*", count=500)]

    async def delete(self, sender_ids: List[Text]) -> int:
        """Forget conversations (personal data deletion); how many existed."""
        keys = [k for s in sender_ids for k in (self._events_key(s), self._session_key(s))]
        return int(await self.red.delete(*keys)) if keys else 0
