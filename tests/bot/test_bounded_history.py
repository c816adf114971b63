"""Bounded history (bot/tracker_store.py): Rasa sees the conversation from a checkpoint, yet answers
exactly as it does with the whole conversation; every event stays stored."""

import json
import os
import sys

import pytest
import redis
from rasa.core.agent import Agent
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    SlotSet,
    UserUttered,
)
from rasa.utils.endpoints import EndpointConfig

from bot.services import Process, free_port, wait_until
from bot.settings import PROJECT_ROOT
from bot.tracker_store import HISTORY_FROM_METADATA, AppendOnlyRedisTrackerStore

MODEL = PROJECT_ROOT / "models" / "senmart.tar.gz"
DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))

# FAQ, promotions with follow-ups, chit-chat, single fallbacks (two in a row would call the handoff service)
MESSAGES = [
    "chào shop",
    "phí ship bao nhiêu vậy",
    "cho mình hỏi mã GIAM50K",
    "đơn 450 nghìn thì sao?",
    "thế 600k thì sao",
    "asdkjh qwpoe zxcmn",
    "đổi trả trong bao lâu",
    "hoan tien ve vi senpay mat bao lau",
    "mã FREESHIP dùng thế nào",
    "don 200k co dc ko",
    "quen mat khau thi lam sao",
    "bạn là người hay máy",
    "cảm ơn nhé",
]


def _store(redis_server, history_turns: int, prefix: str) -> AppendOnlyRedisTrackerStore:
    return AppendOnlyRedisTrackerStore(
        DOMAIN,
        host=redis_server.host,
        port=redis_server.port,
        key_prefix=prefix,
        history_turns=history_turns,
    )


def _user(text: str, intent: str) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9})


def _turn(intent: str, *actions: str, extra=()) -> list:
    """One customer message, its events, the bot's actions and back to listening."""
    events = [_user(f"{intent} text", intent), *extra]
    for action in actions:
        events += [ActionExecuted(action), BotUttered(f"{action} reply")]
    return [*events, ActionExecuted("action_listen")]


def _synthetic_conversation() -> list:
    """A long conversation that sets an influencing slot, runs a form (slots, requested_slot) and pauses."""
    events = [ActionExecuted("action_session_start"), ActionExecuted("action_listen")]
    for round_ in range(6):
        events += _turn("greet", "utter_greet")
        events += _turn("nlu_fallback", "action_handle_fallback", extra=[])
        events += [SlotSet("fallback_reason", "clarify")]
        events += _turn("faq", "utter_faq")
        if round_ == 2:  # the CSAT form starts and stays active across the checkpoint
            events += [
                ActionExecuted("csat_form"),
                ActiveLoop("csat_form"),
                SlotSet("requested_slot", "csat_rating"),
            ]
            events += [ActionExecuted("action_listen")]
        if round_ == 4:
            events += [ConversationPaused()]
    return events


@pytest.mark.asyncio
async def test_window_gives_the_policies_the_states_of_the_whole_conversation(redis_server):
    """At every turn, the last 6 featurised states of the windowed tracker equal the whole conversation's."""
    client = redis.Redis(host=redis_server.host, port=redis_server.port, decode_responses=True)
    client.delete(*client.keys("synthetic:*") or ["synthetic:none"])
    store = _store(redis_server, history_turns=3, prefix="synthetic")
    events = _synthetic_conversation()
    user_positions = [i for i, event in enumerate(events) if isinstance(event, UserUttered)]
    compared = windowed_turns = 0
    for turn, start in enumerate(user_positions):
        end = user_positions[turn + 1] if turn + 1 < len(user_positions) else len(events)
        tracker = await store.retrieve("c1") or store.init_tracker("c1")
        for event in events[start if turn else 0 : end]:
            tracker.update(event)
        await store.save(tracker)
        windowed = await store.retrieve("c1")
        full = await store.retrieve_full_tracker("c1")
        assert [e.as_dict() for e in full.events] == [e.as_dict() for e in events[:end]]
        if len(windowed.events) < len(full.events):
            windowed_turns += 1
        assert windowed.past_states(DOMAIN)[-6:] == full.past_states(DOMAIN)[-6:], f"turn {turn}"
        assert windowed.current_slot_values() == full.current_slot_values()
        assert windowed.active_loop_name == full.active_loop_name
        assert windowed.is_paused() == full.is_paused()
        compared += 1
    assert compared == len(user_positions) == 18
    assert windowed_turns >= 10  # the window really moved
    window = json.loads(client.get("synthetic:tracker_window:c1"))
    assert window["prefix"][0]["metadata"] == {HISTORY_FROM_METADATA: window["index"]}
    assert client.llen("synthetic:tracker:c1") == len(events)


@pytest.fixture(scope="module")
def action_server():
    """The real action server (rasa_sdk) on a free port."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "SENMART_TODAY": "2026-11-23"}
    log = PROJECT_ROOT / "var" / "log" / f"actions-bounded-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
    process = Process("actions", command, log, env)
    import requests

    try:
        url = f"http://127.0.0.1:{port}/health"
        wait_until(lambda: requests.get(url, timeout=2).ok, "action server", process, timeout=90)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        process.stop()


def _replies(responses) -> list:
    return [(r.get("text"), r.get("buttons"), r.get("custom")) for r in responses]


@pytest.mark.asyncio
async def test_windowed_answers_equal_whole_conversation_answers(redis_server, action_server):
    """The real model answers a 65-turn conversation identically with a 3-turn window and with everything."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}; run `make train` (make test does it)")
    endpoint = EndpointConfig(action_server)
    windowed_store = _store(redis_server, history_turns=3, prefix="bounded")
    windowed = Agent.load(str(MODEL), tracker_store=windowed_store, action_endpoint=endpoint)
    whole = Agent.load(str(MODEL), tracker_store=InMemoryTrackerStore(DOMAIN), action_endpoint=endpoint)
    sender = "bounded-long"
    for turn in range(65):
        text = MESSAGES[turn % len(MESSAGES)]
        got = _replies(await windowed.handle_text(text, sender_id=sender))
        expected = _replies(await whole.handle_text(text, sender_id=sender))
        assert got == expected, f"turn {turn}: {text}"
        assert got, f"turn {turn}: no answer to {text!r}"
    stored = await windowed_store.retrieve_full_tracker(sender)
    reference = await whole.tracker_store.retrieve(sender)
    assert _story(stored) == _story(reference)
    in_window = await windowed_store.retrieve(sender)
    assert len(in_window.events) < len(stored.events) / 3
    assert sum(isinstance(e, UserUttered) for e in stored.events) == 65


def _story(tracker) -> list:
    """Customer texts, actions and bot texts in order (timestamps differ between the two runs)."""
    return [
        (type(e).__name__, getattr(e, "text", None) or getattr(e, "action_name", None))
        for e in tracker.events
        if isinstance(e, (UserUttered, ActionExecuted, BotUttered))
    ]
