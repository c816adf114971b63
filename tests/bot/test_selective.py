"""bot.nlu.selective: signals read from any parse result, and the rule that turns them into a decision."""

import pytest

from bot.nlu.selective import (
    LabelVocabulary,
    Signals,
    Thresholds,
    decide,
    message_words,
    reasons_to_clarify,
    signals_of,
)
from common.text import Normalizer

NORMALIZER = Normalizer({"ko": "không", "bn": "bao nhiêu"})
VOCABULARY = LabelVocabulary.from_examples(
    [
        ("phí ship bao nhiêu", "faq/shipping_fee"),
        ("shop có giao hàng không", "faq/shipping_fee"),
        ("shop có đổi trả không", "faq/return_policy"),
        ("chào shop", "greet"),
    ],
    NORMALIZER,
)


def test_words_are_folded_teencode_expanded_letters_only():
    assert message_words("Phí ship bn <b>SM123</b> ko?", NORMALIZER) == [
        "phi",
        "ship",
        "bao",
        "nhieu",
        "khong",
    ]


def test_rare_words_weigh_more_than_words_every_label_has():
    # "shop" is in 3 of 4 labels, "ship" in one, "singapore" in none
    assert VOCABULARY.weight("shop") < VOCABULARY.weight("ship") < VOCABULARY.weight("singapore")


def test_coverage_is_weighted_share_of_distinct_words():
    words = message_words("shop có ship qua singapore không", NORMALIZER)
    coverage = VOCABULARY.coverage("faq/shipping_fee", words)
    weights = {w: VOCABULARY.weight(w) for w in set(words)}
    known = sum(v for w, v in weights.items() if w in {"shop", "co", "ship", "khong"})
    assert coverage == pytest.approx(known / sum(weights.values()))
    assert VOCABULARY.coverage("faq/shipping_fee", []) is None
    assert VOCABULARY.known_ratio(words) == pytest.approx(4 / 6)


def test_vocabulary_round_trips_through_json():
    again = LabelVocabulary(VOCABULARY.to_json())
    assert again.words_by_label == VOCABULARY.words_by_label and again.weights == VOCABULARY.weights


def parse(ranking, topic=None, text="phí ship bao nhiêu"):
    result = {"text": text, "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}
    if topic:
        result["response_selector"] = {
            "default": {"response": {"intent_response_key": topic[0], "confidence": topic[1]}}
        }
    return result


def test_signals_skip_rasas_fallback_and_read_the_default_selector():
    # Rasa's FallbackClassifier puts nlu_fallback first; its default pipeline names the selector "default"
    signals = signals_of(
        parse([("nlu_fallback", 0.5), ("faq", 0.45), ("greet", 0.3)], ("faq/shipping_fee", 0.7)),
        VOCABULARY,
        NORMALIZER,
    )
    assert (signals.intent, signals.label) == ("faq", "faq/shipping_fee")
    assert signals.intent_confidence == 0.45 and signals.margin == pytest.approx(0.15)
    assert signals.confidence == 0.7 and signals.coverage == 1.0 and signals.known_ratio == 1.0


def signals(**changes):
    base = dict(
        intent="faq",
        label="faq/shipping_fee",
        intent_confidence=0.9,
        margin=0.8,
        confidence=0.9,
        coverage=0.9,
        known_ratio=1.0,
        readable=True,
    )
    return Signals(**{**base, **changes})


THRESHOLDS = Thresholds(intent_confidence=0.5, margin=0.1, confidence=0.6, coverage=0.7, min_known_ratio=0.4)


@pytest.mark.parametrize(
    "changes, reasons",
    [
        ({}, []),
        ({"confidence": 0.59}, ["confidence"]),
        ({"coverage": 0.69}, ["coverage"]),
        ({"coverage": None}, []),  # no letters-only word (an order id): not judged on coverage
        ({"margin": 0.05}, ["margin"]),
        ({"intent_confidence": 0.4, "margin": 0.05}, ["intent_confidence", "margin"]),
        ({"known_ratio": 0.3}, ["unknown_words"]),
        ({"readable": False}, ["unreadable"]),
        # a person or a refusal follows these: the topic checks do not apply, the intent checks do
        ({"intent": "request_human", "label": "request_human", "confidence": 0.1, "coverage": 0.1}, []),
        (
            {"intent": "out_of_scope", "label": "out_of_scope", "intent_confidence": 0.3},
            ["intent_confidence"],
        ),
    ],
)
def test_reasons_to_clarify(changes, reasons):
    assert reasons_to_clarify(signals(**changes), THRESHOLDS) == reasons
    assert decide(signals(**changes), THRESHOLDS) == ("clarify" if reasons else "answer")


def test_thresholds_from_config_keep_defaults_for_missing_keys():
    assert Thresholds.from_config({"coverage": "0.65", "other": 1}) == Thresholds(coverage=0.65)
