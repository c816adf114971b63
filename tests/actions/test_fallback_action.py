"""action_handle_fallback: reason for the rules, own reply on core fallback."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionHandleFallback, fallback_reason


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("😀😀😀", "empty"),
        ("???!!!", "empty"),
        ("<b></b>", "empty"),
        ("xyz qwrt", "not_understood"),
        ("a" * 5000, "too_long"),
        ("<script>alert(1)</script>", "not_understood"),
    ],
)
def test_reason(text, reason):
    assert fallback_reason(text) == reason


def tracker(text, intent):
    return Tracker(
        "u1",
        {},
        {"text": text, "intent": {"name": intent, "confidence": 0.2}, "entities": []},
        [],
        False,
        None,
        {},
        "action_listen",
    )


async def test_nlu_fallback_only_sets_reason():
    dispatcher = CollectingDispatcher()
    events = await ActionHandleFallback().run(dispatcher, tracker("xyz", "nlu_fallback"), {})
    assert events == [SlotSet("fallback_reason", "not_understood")]
    assert dispatcher.messages == []


async def test_core_fallback_replies_and_reverts():
    dispatcher = CollectingDispatcher()
    events = await ActionHandleFallback().run(dispatcher, tracker("hmm", "greet"), {})
    assert events == [SlotSet("fallback_reason", "not_understood"), UserUtteranceReverted()]
    assert [m["response"] for m in dispatcher.messages] == ["utter_fallback"]
