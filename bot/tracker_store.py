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

Bounded history (`history_turns`, default 6): the dialogue policies look at the last few turns only
(max_history 4–5), yet Rasa featurises, replays and sends to the action server the whole tracker every turn.
So `retrieve` hands Rasa a *window*: the state the conversation had at a checkpoint (slots that differ from
their initial value, the active loop, a pause) as a few prefix events, then every stored event from the
checkpoint on. The checkpoint (`<prefix>:tracker_window:<sender>`) always sits on a customer message and at
least `history_turns` customer messages back, so the states the policies see are the ones the whole
conversation gives; it moves forward once the window holds twice that many, computed from the window in
memory. The prefix's first event carries `metadata.senmart_history_from` = the checkpoint's index, so an
action that needs the whole conversation (the handoff transcript) knows to fetch the rest from Rasa's
API (`retrieve_full_tracker`, which reads every stored event). Nothing is dropped from Redis.

endpoints.yml:
    tracker_store:
      type: bot.tracker_store.AppendOnlyRedisTrackerStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      db: ${REDIS_DB}
      password: ${REDIS_PASSWORD}
      key_prefix: senmart
      record_exp:               # optional: seconds a conversation is kept after its last turn
      history_turns: 6          # optional: customer turns Rasa always sees (0 = the whole conversation)
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, Iterable, List, Optional, Text

import rasa.shared.utils.common
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME, SESSION_START_METADATA_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    ConversationPaused,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from redis.exceptions import RedisError

from bot.tracker_spool import TurnSpool
from common import tracker_keys
from common.redis_client import async_client

logger = logging.getLogger(__name__)

# set on trackers this store read or wrote: (stored index of their first stored event, list length then,
# number of prefix events in front of the stored ones)
STORED_ATTRIBUTE = "_senmart_stored"
# metadata key on the first prefix event of a windowed tracker: the stored index the window starts at
HISTORY_FROM_METADATA = "senmart_history_from"
DEFAULT_HISTORY_TURNS = 6


def _is_session_start(event: Event) -> bool:
    return isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME


_EVENT_CLASSES: Dict[Text, type] = {}


def event_from_dict(parameters: Dict[Text, Any]) -> Optional[Event]:
    """`Event.from_parameters` with the event classes looked up in a table: Rasa's `resolve_by_type`
    walks every subclass of Event for every event read (measured: 6% of a message's CPU here)."""
    if not _EVENT_CLASSES:
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            _EVENT_CLASSES.setdefault(cls.type_name, cls)
    event_class = _EVENT_CLASSES.get(parameters.get("event"))
    if event_class is None:  # unknown or old names: Rasa's own rules (defaults, errors)
        return Event.from_parameters(parameters)
    return event_class._from_parameters(parameters)


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
        history_turns: Any = DEFAULT_HISTORY_TURNS,
        **kwargs: Any,
    ) -> None:
        """Options as Rasa's RedisTrackerStore (endpoints.yml `url` is the host)."""
        host = kwargs.pop("url", None) or host
        self.red = async_client(
            host=str(host or "localhost"),
            port=int(port),
            db=int(db or 0),
            username=username or None,
            password=password or None,
            ssl=str(use_ssl).lower() in ("1", "true", "yes"),
            decode_responses=True,
        )
        self.record_exp = int(float(record_exp)) if record_exp not in (None, "") else None
        self.key_prefix = key_prefix or ""
        turns = DEFAULT_HISTORY_TURNS if history_turns in (None, "") else int(float(history_turns))
        self.history_turns = max(0, turns)
        self.spool = TurnSpool()
        super().__init__(domain, event_broker, **kwargs)

    def _events_key(self, sender_id: Text) -> Text:
        return tracker_keys.events_key(self.key_prefix, sender_id)

    def _session_key(self, sender_id: Text) -> Text:
        return tracker_keys.session_key(self.key_prefix, sender_id)

    def _window_key(self, sender_id: Text) -> Text:
        return tracker_keys.window_key(self.key_prefix, sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events (or write it whole if it did not come from here); stream them.

        Redis unreachable (after the client's own retries): the turn goes to the local spool
        (bot/tracker_spool.py) and reaches Redis before this store's next operation there."""
        try:
            await self._flush_spool()
            await self._save(tracker)
        except (RedisError, OSError):
            mark = getattr(tracker, STORED_ATTRIBUTE, None)
            events = list(tracker.events)
            new_events = events[mark[2] + mark[1] - mark[0] :] if mark is not None else events
            if not new_events:
                return
            self.spool.keep(tracker.sender_id, [event.as_dict() for event in new_events])
            # a later save of this tracker appends only what came after (never these events twice)
            first, length, prefix = mark if mark is not None else (0, 0, 0)
            setattr(tracker, STORED_ATTRIBUTE, (first, length + len(new_events), prefix))
            if self.event_broker is not None:  # the broker buffers until Redis is back
                await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    async def _flush_spool(self) -> None:
        """Store the turns spooled while Redis was down, in order (raises while it still is)."""
        if not self.spool.pending:
            return
        turns = self.spool.turns()
        if turns:
            async with self.red.pipeline(transaction=True) as pipe:
                for sender_id, events in turns:
                    pipe.rpush(
                        self._events_key(sender_id), *[json.dumps(e, ensure_ascii=False) for e in events]
                    )
                await pipe.execute()
            logger.warning("Stored %d turn(s) spooled while Redis was unavailable.", len(turns))
        self.spool.clear()

    async def _save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        events_key, session_key = self._events_key(sender_id), self._session_key(sender_id)
        window_key = self._window_key(sender_id)
        stored_length = await self.red.llen(events_key)
        mark = getattr(tracker, STORED_ATTRIBUTE, None)
        events = list(tracker.events)
        if mark is not None and len(events) >= mark[2] + mark[1] - mark[0]:
            first_index, prefix_length = mark[0], mark[2]
            new_events = events[prefix_length + mark[1] - mark[0] :]
            replace = False
            moved = stored_length != mark[1]
            if moved:
                # another turn saved since this one read (a lost lock lease, a killed worker's late
                # turn): append this turn's events after theirs; never rewrite the list from this
                # tracker's view, which may be a window and would drop the rest of the conversation
                logger.warning(
                    "Conversation %s changed while this turn ran (%d stored events, %d when read): "
                    "appending this turn's %d events.",
                    sender_id,
                    stored_length,
                    mark[1],
                    len(new_events),
                )
        else:
            # not read from this store (Rasa's PUT …/tracker/events): these events are the conversation
            first_index, prefix_length, new_events, replace, moved = 0, 0, events, True, False
        # only the new events can start a session (all of them when the conversation is written whole)
        new_from = 0 if replace else stored_length
        session_start = next(
            (
                new_from + offset
                for offset in range(len(new_events) - 1, -1, -1)
                if _is_session_start(new_events[offset])
            ),
            None,
        )
        # the window's checkpoint indexes this tracker's view: when others appended, keep the stored one
        window = None if moved else self._next_window(events, prefix_length, first_index)
        async with self.red.pipeline(transaction=True) as pipe:
            if replace:
                pipe.delete(events_key, session_key, window_key)
            if new_events:
                pipe.rpush(
                    events_key, *[json.dumps(event.as_dict(), ensure_ascii=False) for event in new_events]
                )
            if session_start is not None:
                pipe.set(session_key, session_start)
            if window is not None:
                pipe.set(window_key, json.dumps(window, ensure_ascii=False))
            if self.record_exp:
                for key in (events_key, session_key, window_key):
                    pipe.expire(key, self.record_exp)
            pipe.llen(events_key)
            *_, length = await pipe.execute()
        setattr(tracker, STORED_ATTRIBUTE, (first_index, length, prefix_length))
        if self.event_broker is not None and new_events:
            await self._stream_new_events(self.event_broker, new_events, sender_id)

    def _next_window(
        self, events: List[Event], prefix_length: int, first_index: int
    ) -> Optional[Dict[Text, Any]]:
        """A new checkpoint when the window holds 2 × history_turns customer messages, else None.

        The checkpoint goes on the customer message `history_turns` messages before the end; its state is
        the window's prefix plus the events before it, replayed (cost bounded by the window, not by the
        conversation).
        """
        if not self.history_turns:
            return None
        user_positions = [i for i in range(prefix_length, len(events)) if isinstance(events[i], UserUttered)]
        if len(user_positions) < 2 * self.history_turns:
            return None
        cut = user_positions[-self.history_turns]
        state = DialogueStateTracker.from_events(
            "window", events[:cut], slots=list(self.domain.slots) if self.domain else None
        )
        index = first_index + cut - prefix_length
        prefix = _state_events(state, index, events[cut].timestamp)
        return {"index": index, "prefix": [event.as_dict() for event in prefix]}

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The conversation's latest session, from its checkpoint on when it is long (see the module)."""
        await self._flush_spool()
        async with self.red.pipeline(transaction=False) as pipe:
            pipe.get(self._session_key(sender_id))
            pipe.get(self._window_key(sender_id))
            session_raw, window_raw = await pipe.execute()
        start, prefix = int(session_raw or 0), []
        if window_raw and self.history_turns:
            window = json.loads(window_raw)
            if int(window["index"]) > start:
                start, prefix = int(window["index"]), window["prefix"]
        return await self._read(sender_id, start, prefix)

    async def retrieve_full_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """Every session of the conversation, every event."""
        await self._flush_spool()
        return await self._read(sender_id, 0, [])

    async def _read(
        self, sender_id: Text, start: int, prefix: List[Dict[Text, Any]]
    ) -> Optional[DialogueStateTracker]:
        async with self.red.pipeline(transaction=True) as pipe:
            pipe.lrange(self._events_key(sender_id), start, -1)
            pipe.llen(self._events_key(sender_id))
            raw, length = await pipe.execute()
        if not raw:
            return None
        tracker = self.init_tracker(sender_id)
        for item in prefix:
            tracker.update(event_from_dict(item))
        for item in raw:
            tracker.update(event_from_dict(json.loads(item)))
        setattr(tracker, STORED_ATTRIBUTE, (start, length, len(prefix)))
        return tracker

    async def keys(self) -> Iterable[Text]:
        """Every conversation id in the store."""
        prefix = self._events_key("")
        return [key[len(prefix) :] async for key in self.red.scan_iter(match=prefix + "*", count=500)]

    async def delete(self, sender_ids: List[Text]) -> int:
        """Forget conversations (personal data deletion); how many existed."""
        keys = [
            key for sender in sender_ids for key in tracker_keys.conversation_keys(self.key_prefix, sender)
        ]
        return int(await self.red.delete(*keys)) if keys else 0


def _state_events(state: DialogueStateTracker, index: int, timestamp: float) -> List[Event]:
    """Events that give a fresh tracker `state`'s slots, active loop (and its rejection) and pause, stamped
    with the time of the window's first event; the first one is marked with the stored index the window
    starts at. (A loop's trigger message is not carried: no slot mapping here uses `from_trigger_intent`.)"""
    marker = {HISTORY_FROM_METADATA: index}
    slots = state.slots
    metadata_value = (
        slots[SESSION_START_METADATA_SLOT].value if SESSION_START_METADATA_SLOT in slots else None
    )
    events: List[Event] = [SlotSet(SESSION_START_METADATA_SLOT, metadata_value, timestamp, marker)]
    events += [
        SlotSet(name, slot.value, timestamp)
        for name, slot in slots.items()
        if name != SESSION_START_METADATA_SLOT and slot.value != slot.initial_value
    ]
    loop = state.active_loop_name
    if loop:
        events.append(ActiveLoop(loop, timestamp))
        if state.is_active_loop_rejected:
            events.append(ActionExecutionRejected(loop, timestamp=timestamp))
    if state.is_paused():
        events.append(ConversationPaused(timestamp))
    return events
