"""AnswerGuard: the bot answers only when sure of the label; otherwise nlu_fallback with the ranking kept."""

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.answer_guard import ANSWER_GUARD, AnswerGuard

CONFIG = {
    **AnswerGuard.get_default_config(),
    "intent_confidence": 0.5,
    "margin": 0.1,
    "confidence": 0.6,
    "coverage": 0.6,
    "min_known_ratio": 0.4,
}


def example(text, intent, key=None):
    data = {TEXT: text, INTENT: intent}
    if key:
        data[INTENT_RESPONSE_KEY] = key
    return Message(data)


@pytest.fixture()
def guard(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("guard")
    context = ExecutionContext(graph_schema=None, model_id="1")
    untrained = AnswerGuard.create(CONFIG, storage, resource, context)
    untrained.train(
        TrainingData(
            [
                example("phí ship bao nhiêu", "faq", "faq/shipping_fee"),
                example("giao hàng mất phí không shop", "faq", "faq/shipping_fee"),
                example("đổi trả trong mấy ngày", "faq", "faq/return_policy"),
                example("shop có đổi trả không", "faq", "faq/return_policy"),
                example("chào shop", "greet"),
                example("cho gặp nhân viên", "request_human"),
            ]
        )
    )
    # a fresh instance: what Rasa loads from the model
    return AnswerGuard.load(CONFIG, storage, resource, context)


def parsed(guard, text, ranking, topic=None):
    """Run the guard on a message the classifiers gave `ranking` [(intent, confidence)] and `topic`."""
    message = Message({TEXT: text})
    message.set(INTENT, {"name": ranking[0][0], "confidence": ranking[0][1]}, add_to_output=True)
    message.set("intent_ranking", [{"name": n, "confidence": c} for n, c in ranking], add_to_output=True)
    if topic:
        key, confidence = topic
        selector = {"response": {"intent_response_key": key, "confidence": confidence}, "ranking": []}
        message.set("response_selector", {"faq": selector}, add_to_output=True)
    guard.process([message])
    return message


@pytest.mark.parametrize("text", ["", "😀😀", "???", "<b></b>"])
def test_unreadable_message_falls_back(guard, text):
    message = parsed(guard, text, [("greet", 0.97), ("faq", 0.01)])
    assert message.get(INTENT)["name"] == "nlu_fallback"
    assert message.get(ANSWER_GUARD)["reasons"] == ["unreadable"]


def test_sure_faq_answer_is_kept(guard):
    message = parsed(guard, "phi ship bn", [("faq", 0.99), ("greet", 0.01)], ("faq/shipping_fee", 0.9))
    verdict = message.get(ANSWER_GUARD)
    assert message.get(INTENT) == {"name": "faq", "confidence": 0.99}
    assert verdict["decision"] == "answer" and verdict["reasons"] == []
    assert verdict["label"] == "faq/shipping_fee" and verdict["coverage"] == 1.0


def test_low_topic_confidence_falls_back_and_keeps_the_ranking(guard):
    message = parsed(guard, "phí ship bao nhiêu", [("faq", 1.0), ("greet", 0.0)], ("faq/shipping_fee", 0.3))
    assert message.get(INTENT)["name"] == "nlu_fallback"
    assert [r["name"] for r in message.get("intent_ranking")] == ["nlu_fallback", "faq", "greet"]
    assert message.get(ANSWER_GUARD)["reasons"] == ["confidence"]
    assert message.get("response_selector")["faq"]["response"]["intent_response_key"] == "faq/shipping_fee"


def test_words_the_topic_never_saw_fall_back(guard):
    # "Shop có ship hàng qua Singapore không?" got the standard shipping fee at intent confidence 1.00
    message = parsed(
        guard,
        "shop giao hàng qua singapore malaysia được không",
        [("faq", 1.0), ("greet", 0.0)],
        ("faq/shipping_fee", 0.95),
    )
    verdict = message.get(ANSWER_GUARD)
    assert message.get(INTENT)["name"] == "nlu_fallback"
    assert "coverage" in verdict["reasons"] and verdict["coverage"] < 0.6


def test_ambiguous_intents_fall_back(guard):
    message = parsed(guard, "chào shop", [("greet", 0.62), ("faq", 0.56)], ("faq/shipping_fee", 0.9))
    assert message.get(INTENT)["name"] == "nlu_fallback"
    assert message.get(ANSWER_GUARD)["reasons"] == ["margin"]


def test_handoff_intent_is_not_held_to_topic_checks(guard):
    # a person follows, no fact is at risk: coverage does not apply
    message = parsed(guard, "cho gặp nhân viên chăm sóc đi", [("request_human", 0.9), ("greet", 0.05)])
    assert message.get(INTENT)["name"] == "request_human"
    assert message.get(ANSWER_GUARD)["decision"] == "answer"


def test_mostly_unknown_words_fall_back(guard):
    message = parsed(guard, "shop ơi xqzw plorb vmmk", [("greet", 0.97), ("faq", 0.01)])
    assert message.get(INTENT)["name"] == "nlu_fallback"
    assert "unknown_words" in message.get(ANSWER_GUARD)["reasons"]
