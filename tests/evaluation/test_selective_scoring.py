"""evaluation.selective: outcomes, counts, threshold choice on dev only, risk-coverage."""

import pytest

from bot.nlu.selective import Signals, Thresholds
from evaluation.selective import Record, outcome, risk_coverage, score, tune
from evaluation.sets import DEV, TEST, Item


def record(label, split, intent, predicted, confidence, override=None):
    signals = Signals(
        intent=intent,
        label=predicted,
        intent_confidence=0.99,
        margin=0.9,
        confidence=confidence,
        coverage=0.9,
        known_ratio=1.0,
        readable=True,
    )
    return Record(Item(f"{label}-{split}-{confidence}", label, split, "diacritics", "x"), signals, override)


ANSWER = ("faq", "faq/shipping_fee")


@pytest.mark.parametrize(
    "rec, expected",
    [
        (record("faq/shipping_fee", DEV, *ANSWER, 0.9), ("answer", "faq/shipping_fee")),
        (record("faq/shipping_fee", DEV, *ANSWER, 0.3), ("clarify", "")),
        (record("unanswerable", DEV, "request_human", "request_human", 0.9), ("handoff", "request_human")),
        (record("unanswerable", DEV, "out_of_scope", "out_of_scope", 0.9), ("refuse", "out_of_scope")),
        (record("unanswerable", DEV, "deny", "deny", 0.9), ("clarify", "")),
        # the AngerDetector / HumanRequestDetector turned it into a handoff intent after the guard
        (record("unanswerable", DEV, *ANSWER, 0.1, override="complain"), ("handoff", "complain")),
        (record("human_request", DEV, *ANSWER, 0.9, override="request_human"), ("handoff", "request_human")),
    ],
)
def test_outcome(rec, expected):
    assert outcome(rec, Thresholds(confidence=0.5)) == expected


def test_counts_per_group_and_split():
    records = [
        record("faq/shipping_fee", TEST, *ANSWER, 0.9),  # correct
        record("faq/return_policy", TEST, *ANSWER, 0.9),  # wrong fact
        record("faq/return_policy", TEST, *ANSWER, 0.2),  # deflected (clarified)
        record("faq/return_policy", TEST, "request_human", "request_human", 0.9),  # deflected (handed off)
        record("out_of_scope", TEST, "out_of_scope", "out_of_scope", 0.9),  # correct refusal
        record("unanswerable", TEST, *ANSWER, 0.9),  # wrong answer
        record("unanswerable", TEST, *ANSWER, 0.2),  # clarified
        record("human_request", TEST, "request_human", "request_human", 0.9),
        record("human_request", TEST, *ANSWER, 0.9),  # missed: answered the hotline FAQ
    ]
    counts = score(records, Thresholds(confidence=0.5))
    answerable, unanswerable, human = (
        counts["answerable_test"],
        counts["unanswerable_test"],
        counts["human_request_test"],
    )
    assert (answerable.n, answerable.correct, answerable.wrong, answerable.deflected) == (5, 2, 1, 2)
    assert (unanswerable.n, unanswerable.wrong, unanswerable.deflected) == (2, 1, 1)
    assert (human.n, human.correct, human.deflected) == (2, 1, 1)


def test_tune_reads_the_dev_split_only():
    dev = [record("faq/shipping_fee", DEV, *ANSWER, 0.8) for _ in range(40)]
    dev += [record("unanswerable", DEV, *ANSWER, 0.35)]
    # on test, a threshold of 0.9 would look better: tuning must not see it
    test = [record("unanswerable", TEST, *ANSWER, 0.85) for _ in range(5)]
    grid = {
        "intent_confidence": [0.0],
        "margin": [0.0],
        "confidence": [0.0, 0.4, 0.9],
        "coverage": [0.0],
        "min_known_ratio": [0.0],
    }
    chosen, counts = tune(dev + test, grid)
    assert chosen.confidence == 0.4  # removes the dev wrong answer without deflecting answerable dev messages
    assert counts["unanswerable_dev"]["wrong"] == 0 and "unanswerable_test" not in counts


def test_risk_coverage_moves_with_the_bar():
    records = [record("faq/shipping_fee", TEST, *ANSWER, c) for c in (0.9, 0.8, 0.7)]
    records += [record("unanswerable", TEST, *ANSWER, c) for c in (0.6, 0.3)]
    points = {
        p["bar"]: p
        for p in risk_coverage(
            records, Thresholds(confidence=0.5, intent_confidence=0, margin=0, coverage=0, min_known_ratio=0)
        )
    }
    assert (points[0.0]["answered"], points[0.0]["wrong"]) == (5, 2)
    assert (points[1.0]["answered"], points[1.0]["wrong"]) == (4, 1)  # 0.6 passes, 0.3 does not
    assert (points[1.5]["answered"], points[1.5]["wrong"]) == (2, 0)  # bar 0.75: 0.9 and 0.8
    assert points[1.0]["coverage"] == pytest.approx(4 / 5) and points[1.0]["risk"] == pytest.approx(1 / 4)


def test_a_points_question_answered_by_the_calculation_is_right():
    records = [
        record("faq/earn_points", TEST, "ask_points", "ask_points", 0.9),
        record("faq/shipping_fee", TEST, "ask_points", "ask_points", 0.9),
    ]
    counts = score(records, Thresholds(confidence=0.5))["answerable_test"]
    assert (counts.correct, counts.wrong) == (1, 1)


def test_a_handoff_set_after_the_guard_is_kept_at_any_threshold():
    from bot.nlu.selective import LabelVocabulary
    from common.text import Normalizer
    from evaluation.selective import to_record

    guard = {
        "intent": "request_human",
        "label": "request_human",
        "intent_confidence": 0.25,
        "margin": 0.01,
        "confidence": 0.25,
        "coverage": 0.8,
        "known_ratio": 1.0,
        "readable": True,
        "decision": "clarify",
    }
    # AnswerGuard clarified, HumanRequestDetector then made it request_human
    parse = {"intent": {"name": "request_human"}, "answer_guard": guard}
    item = Item("ad đâu rồi", "human_request", DEV, "teencode", "x")
    rec = to_record(item, parse, LabelVocabulary({}), Normalizer({}))
    assert rec.override == "request_human" and outcome(rec, Thresholds())[0] == "handoff"
    # a model without the guard: the final intent is the model's own, not an override
    plain = to_record(
        item,
        {"text": "x", "intent": {"name": "request_human", "confidence": 0.9}},
        LabelVocabulary({}),
        Normalizer({}),
    )
    assert plain.override is None
