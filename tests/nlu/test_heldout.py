"""Held-out NLU accuracy of the trained model (written apart from the training data).

These figures are the classifiers' (before AnswerGuard asks again on an unsure message); what the bot
then does with the same messages — answered right, asked again, answered wrong — has its own floors in
test_selective_answering.py."""

import pytest

from bot.settings import PROJECT_ROOT
from evaluation.heldout import classifier_parse, evaluate, is_informal, load_heldout, parse_all

MODEL = PROJECT_ROOT / "models" / "senmart.tar.gz"


@pytest.fixture(scope="module")
def scores():
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}; run `make train` (make test does it)")
    pairs = load_heldout()
    parses = parse_all(str(MODEL), [text for text, _ in pairs])
    return evaluate([classifier_parse(p) for p in parses], pairs)


def _report(score) -> str:
    return "\n".join(f"  {text!r}: expected {gold}, got {got}" for text, gold, got in score.errors)


def test_heldout_set_is_big_and_informal_enough():
    pairs = load_heldout()
    informal = [text for text, _ in pairs if is_informal(text)]
    assert len(pairs) >= 200
    assert len(informal) / len(pairs) >= 0.30


def test_intent_accuracy_overall(scores):
    score = scores["intent_all"]
    assert score.accuracy >= 0.95, f"{score.accuracy:.3f} on {score.total}\n{_report(score)}"


def test_intent_accuracy_without_diacritics_or_teencode(scores):
    score = scores["intent_informal"]
    assert score.accuracy >= 0.92, f"{score.accuracy:.3f} on {score.total}\n{_report(score)}"


def test_faq_response_selection_accuracy(scores):
    score = scores["faq_selection"]
    assert score.accuracy >= 0.92, f"{score.accuracy:.3f} on {score.total}\n{_report(score)}"
