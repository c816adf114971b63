"""action_handle_fallback / action_clarify: one clarification, then a human; never a loop."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionClarify, ActionHandleFallback, fallback_reason, faq_question, suggestions


@pytest.mark.parametrize(
    "text, clipped, reason",
    [
        ("", False, "empty"),
        ("   ", False, "empty"),
        ("😀😀😀", False, "empty"),
        ("???!!!", False, "empty"),
        ("<b></b>", False, "empty"),
        ("xyz qwrt", False, "not_understood"),
        # the NLU read only part of it (bot/nlu/inbound.py): the action follows its verdict
        ("a" * 5000, True, "too_long"),
        ("a" * 5000, False, "not_understood"),
        ("<script>alert(1)</script>", False, "not_understood"),
    ],
)
def test_reason(text, clipped, reason):
    latest = {"text": text, "inbound": {"chars": len(text), "clipped": clipped, "typed_payload": False}}
    assert fallback_reason(latest) == reason


def user(text, intent):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": 0.3}}}


def tracker(text, intent, history=()):
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.2}, "entities": []}
    events = [*history, user(text, intent)]
    return Tracker("u1", {}, latest, events, False, None, {}, "action_listen")


async def run(action, t):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return events, dispatcher.messages


async def test_first_unclear_message_clarifies():
    events, messages = await run(
        ActionHandleFallback(), tracker("xyz", "nlu_fallback", [user("chào", "greet")])
    )
    assert events == [SlotSet("fallback_reason", "clarify")] and messages == []


async def test_second_unclear_message_in_a_row_hands_off():
    t = tracker("xyz", "nlu_fallback", [user("chào", "greet"), user("abc", "nlu_fallback")])
    events, _ = await run(ActionHandleFallback(), t)
    assert events == [SlotSet("fallback_reason", "handoff")]


async def test_unclear_after_an_understood_message_clarifies_again():
    t = tracker("xyz", "nlu_fallback", [user("abc", "nlu_fallback"), user("phí ship", "faq")])
    events, _ = await run(ActionHandleFallback(), t)
    assert events == [SlotSet("fallback_reason", "clarify")]


async def test_empty_message_is_not_a_clarification():
    events, _ = await run(ActionHandleFallback(), tracker("", "nlu_fallback", [user("abc", "nlu_fallback")]))
    assert events == [SlotSet("fallback_reason", "empty")]


def test_faq_question_is_first_example():
    assert faq_question("shipping_fee") and faq_question("no_such_topic") is None


def test_suggestions_from_ranking():
    latest = {
        "intent_ranking": [{"name": "faq"}, {"name": "ask_promotion"}, {"name": "greet"}],
        "response_selector": {"faq": {"ranking": [{"intent_response_key": "faq/shipping_fee"}]}},
    }
    buttons = suggestions(latest)
    assert buttons == [
        {"title": faq_question("shipping_fee"), "payload": faq_question("shipping_fee")},
        {"title": "Hỏi về mã khuyến mãi", "payload": "/ask_promotion"},
    ]


async def test_clarify_always_offers_a_human():
    _, messages = await run(ActionClarify(), tracker("xyz", "nlu_fallback"))
    assert messages[0]["buttons"][-1] == {"title": "Gặp nhân viên", "payload": "/request_human"}
    assert messages[0]["text"].startswith("Xin lỗi, mình chưa hiểu rõ ý bạn.")


@pytest.mark.parametrize(
    "intent, history, reason",
    [
        # a denial after an answer: apologise, offer to rephrase or a person
        ("deny", [user("phí ship bao nhiêu", "faq")], "repair"),
        # a denial after a clarification, or after the apology: the second miss goes to a person
        ("deny", [user("ship qua singapore", "nlu_fallback")], "handoff"),
        ("deny", [user("phí ship", "faq"), user("không phải", "deny")], "handoff"),
        ("nlu_fallback", [user("phí ship", "faq"), user("không phải", "deny")], "handoff"),
        # outside SenMart's support: a polite refusal first, a person the second time
        ("out_of_scope", [user("chào", "greet")], "out_of_scope"),
        ("out_of_scope", [user("thời tiết", "out_of_scope")], "handoff"),
        ("nlu_fallback", [user("thời tiết", "out_of_scope")], "handoff"),
    ],
)
async def test_misses_in_a_row(intent, history, reason):
    events, messages = await run(ActionHandleFallback(), tracker("không phải ý mình", intent, history))
    assert events == [SlotSet("fallback_reason", reason)] and messages == []
