"""The append-only Redis tracker store against a real redis-server: what is written per turn, sessions,
replacement, streaming to the broker."""

import json

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import AppendOnlyRedisTrackerStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet]
slots:
  member_tier:
    type: text
    mappings: [{type: custom}]
responses:
  utter_greet: [{text: "Chào bạn"}]
"""
)


class RecordingBroker(EventBroker):
    """Keeps what the store publishes."""

    def __init__(self) -> None:
        self.published = []

    def publish(self, event) -> None:
        self.published.append(event)


def turn(n):
    """The events of one customer turn."""
    return [
        UserUttered(f"câu hỏi {n}", {"name": "greet", "confidence": 0.9}, timestamp=1000.0 + n),
        ActionExecuted("utter_greet", timestamp=1000.1 + n),
        BotUttered("Chào bạn", timestamp=1000.2 + n),
        ActionExecuted("action_listen", timestamp=1000.3 + n),
    ]


@pytest.fixture()
def broker():
    return RecordingBroker()


@pytest.fixture()
async def store(redis_server, redis_client, broker):
    store = AppendOnlyRedisTrackerStore(
        DOMAIN,
        host=redis_server.host,
        port=redis_server.port,
        db=0,
        key_prefix="senmart",
        event_broker=broker,
    )
    yield store
    await store.red.close()


async def test_a_turn_appends_only_its_own_events(store, redis_client, broker):
    tracker = DialogueStateTracker.from_events("c1", turn(0), DOMAIN.slots)
    await store.save(tracker)
    assert redis_client.llen("senmart:tracker:c1") == 4
    for n in range(1, 30):
        tracker = await store.retrieve("c1")
        before = redis_client.lrange("senmart:tracker:c1", 0, -1)
        broker.published.clear()
        for event in turn(n):
            tracker.update(event)
        await store.save(tracker)
        after = redis_client.lrange("senmart:tracker:c1", 0, -1)
        assert after[: len(before)] == before and len(after) == len(before) + 4
        assert [json.loads(item)["timestamp"] for item in after[len(before) :]] == [
            e.timestamp for e in turn(n)
        ]
        # the broker gets exactly this turn's events, with the sender id
        assert [(e["sender_id"], e["event"], e["timestamp"]) for e in broker.published] == [
            ("c1", e.type_name, e.timestamp) for e in turn(n)
        ]
    whole = await store.retrieve_full_tracker("c1")
    assert [e.text for e in whole.events if isinstance(e, UserUttered)] == [f"câu hỏi {n}" for n in range(30)]
    # what Rasa works on: the window from the checkpoint (6 to 12 customer turns, history_turns 6)
    window = await store.retrieve("c1")
    assert [e.text for e in window.events if isinstance(e, UserUttered)] == [
        f"câu hỏi {n}" for n in range(24, 30)
    ]


async def test_saving_twice_without_changes_writes_nothing(store, redis_client, broker):
    tracker = DialogueStateTracker.from_events("c1", turn(0), DOMAIN.slots)
    await store.save(tracker)
    broker.published.clear()
    await store.save(tracker)
    assert redis_client.llen("senmart:tracker:c1") == 4 and broker.published == []


async def test_retrieved_tracker_has_the_stored_state(store):
    events = [*turn(0), SlotSet("member_tier", "Vàng", timestamp=1001.0)]
    await store.save(DialogueStateTracker.from_events("c1", events, DOMAIN.slots))
    tracker = await store.retrieve("c1")
    assert [e.as_dict() for e in tracker.events] == [e.as_dict() for e in events]
    assert tracker.get_slot("member_tier") == "Vàng"
    assert tracker.latest_message.text == "câu hỏi 0"


async def test_a_tracker_not_read_from_the_store_replaces_the_conversation(store, redis_client):
    await store.save(DialogueStateTracker.from_events("c1", turn(0) + turn(1), DOMAIN.slots))
    await store.save(DialogueStateTracker.from_events("c1", turn(7), DOMAIN.slots))  # Rasa's PUT .../events
    tracker = await store.retrieve("c1")
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["câu hỏi 7"]
    assert redis_client.llen("senmart:tracker:c1") == 4


async def test_a_tracker_changed_behind_its_back_appends_and_loses_nothing(store, redis_client):
    await store.save(DialogueStateTracker.from_events("c1", turn(0), DOMAIN.slots))
    stale = await store.retrieve("c1")
    fresh = await store.retrieve("c1")
    for event in turn(1):
        fresh.update(event)
    await store.save(fresh)
    for event in turn(2):
        stale.update(event)
    await store.save(stale)  # a late turn (its lock lease was lost): appended after the other one
    tracker = await store.retrieve_full_tracker("c1")
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == [
        "câu hỏi 0",
        "câu hỏi 1",
        "câu hỏi 2",
    ]
    assert redis_client.llen("senmart:tracker:c1") == 12


async def test_a_late_windowed_turn_keeps_the_whole_history(store, redis_client):
    """Before: the stale window was written over the list, dropping every turn before the window."""
    for n in range(20):
        tracker = await store.retrieve("c1") or DialogueStateTracker.from_events("c1", [], DOMAIN.slots)
        for event in turn(n):
            tracker.update(event)
        await store.save(tracker)
    stale = await store.retrieve("c1")  # a window: the last 6 to 12 turns
    assert len([e for e in stale.events if isinstance(e, UserUttered)]) < 20
    fresh = await store.retrieve("c1")
    for event in turn(20):
        fresh.update(event)
    await store.save(fresh)
    for event in turn(21):
        stale.update(event)
    await store.save(stale)
    whole = await store.retrieve_full_tracker("c1")
    assert [e.text for e in whole.events if isinstance(e, UserUttered)] == [f"câu hỏi {n}" for n in range(22)]


def session(n):
    return [
        ActionExecuted("action_session_start", timestamp=2000.0 + n),
        SessionStarted(timestamp=2000.1 + n),
    ]


async def test_retrieve_gives_the_latest_session_and_full_gives_all(store, redis_client):
    await store.save(DialogueStateTracker.from_events("c1", session(0) + turn(0), DOMAIN.slots))
    tracker = await store.retrieve("c1")
    for event in session(1) + turn(1):
        tracker.update(event)
    await store.save(tracker)
    assert redis_client.get("senmart:tracker_session:c1") == "6"
    latest = await store.retrieve("c1")
    assert [e.text for e in latest.events if isinstance(e, UserUttered)] == ["câu hỏi 1"]
    for event in turn(2):
        latest.update(event)
    await store.save(latest)  # appended after the whole conversation, not over the earlier session
    full = await store.retrieve_full_tracker("c1")
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == [
        "câu hỏi 0",
        "câu hỏi 1",
        "câu hỏi 2",
    ]
    assert redis_client.llen("senmart:tracker:c1") == 16


async def test_unknown_conversation_keys_and_delete(store):
    assert await store.retrieve("nobody") is None
    assert await store.retrieve_full_tracker("nobody") is None
    for sender in ("a", "b:c"):
        await store.save(DialogueStateTracker.from_events(sender, turn(0), DOMAIN.slots))
    assert sorted(await store.keys()) == ["a", "b:c"]
    assert await store.delete(["a"]) == 1
    assert sorted(await store.keys()) == ["b:c"]


async def test_record_exp_sets_a_ttl(redis_server, redis_client):
    store = AppendOnlyRedisTrackerStore(
        DOMAIN, host=redis_server.host, port=str(redis_server.port), db="0", record_exp="3600"
    )
    try:
        await store.save(DialogueStateTracker.from_events("c1", turn(0), DOMAIN.slots))
        assert 3590 <= redis_client.ttl("tracker:c1") <= 3600
    finally:
        await store.red.close()


async def test_a_turn_saved_while_redis_is_down_is_spooled_and_stored_when_it_is_back(
    restartable_redis, tmp_path, monkeypatch, broker
):
    url, restart = restartable_redis
    monkeypatch.setenv("TRACKER_SPOOL_DIR", str(tmp_path / "spool"))
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    store = AppendOnlyRedisTrackerStore(DOMAIN, host="127.0.0.1", port=port, db=0, event_broker=broker)
    try:
        await store.save(DialogueStateTracker.from_events("c1", turn(0), DOMAIN.slots))
        tracker = await store.retrieve("c1")
        restart.kill()  # Redis is down for this turn
        for event in turn(1):
            tracker.update(event)
        await store.save(tracker)  # no error: kept on disk
        assert store.spool.pending and store.spool.path.exists()
        assert [e["text"] for _, events in store.spool.turns() for e in events if e["event"] == "user"] == [
            "câu hỏi 1"
        ]
        restart.start()
        whole = await store.retrieve_full_tracker("c1")  # flushed before the read
        assert [e.text for e in whole.events if isinstance(e, UserUttered)] == ["câu hỏi 0", "câu hỏi 1"]
        assert not store.spool.path.exists()
    finally:
        await store.red.close()


def test_events_read_back_as_rasa_reads_them():
    """The table lookup gives the same events as Rasa's `Event.from_parameters` for every event type."""
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    from bot.tracker_store import event_from_dict

    samples = [
        {"event": "user", "text": "phí ship", "parse_data": {"intent": {"name": "faq"}}, "timestamp": 1.0},
        {"event": "bot", "text": "25.000đ", "data": {"buttons": None}, "timestamp": 2.0},
        {"event": "action", "name": "utter_faq", "policy": "RulePolicy", "confidence": 1.0},
        {"event": "slot", "name": "promo_code", "value": "GIAM50K"},
        {"event": "pause"},
        {"event": "resume"},
        {"event": "active_loop", "name": "csat_form"},
        {"event": "session_started"},
        {"event": "followup", "name": "utter_greet"},
        {"event": "restart"},
    ]
    for sample in samples:
        assert event_from_dict(sample) == Event.from_parameters(sample), sample
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}
    assert {"user", "bot", "action", "slot"} <= names
    assert event_from_dict({"text": "no event name"}) is None
    with pytest.raises(ValueError):
        event_from_dict({"event": "no_such_event"})
