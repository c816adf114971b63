"""Selective answering with the trained model: no fact for what the knowledge base does not answer.

The figures the benchmark reports (benchmarks/RESULTS.md) are checked here as floors just under what was
measured on 2026-12-04 (test split, thresholds of config.yml: unanswerable 5.5% wrong, answerable 93.2%
right / 5.3% deflected, requests for a person 100%), so a change of data or pipeline that brings wrong
answers back fails the suite. The issue's targets (≤ 3% wrong, ≥ 96% right, ≤ 3% deflected) are not
all met yet: the benchmark says which.
"""

import pytest

from bot.nlu.selective import LabelVocabulary, signals_of
from bot.settings import PROJECT_ROOT
from common.text import Normalizer
from evaluation.heldout import parse_all
from evaluation.selective import model_thresholds, parse_records, summary, training_vocabulary
from evaluation.sets import all_items

MODEL = PROJECT_ROOT / "models" / "senmart.tar.gz"


@pytest.fixture(scope="module")
def model():
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}; run `make train` (make test does it)")
    return str(MODEL)


@pytest.fixture(scope="module")
def groups(model):
    records = parse_records(MODEL, all_items(), PROJECT_ROOT / "data" / "nlu")
    return summary(records, model_thresholds(PROJECT_ROOT / "config.yml"))["groups"]


def test_unanswerable_questions_rarely_get_a_fact(groups):
    unanswerable = groups["unanswerable_test"]
    assert unanswerable["n"] >= 100 and unanswerable["wrong_rate"] <= 0.06, unanswerable


def test_every_request_for_a_person_is_handed_off(groups):
    for split in ("dev", "test"):
        human = groups[f"human_request_{split}"]
        assert human["n"] >= 30 and human["correct"] == human["n"], human


def test_answerable_questions_are_still_answered(groups):
    answerable = groups["answerable_test"]
    assert answerable["correct_rate"] >= 0.91 and answerable["deflected_rate"] <= 0.07, answerable
    assert answerable["wrong_rate"] <= 0.025, answerable


@pytest.fixture(scope="module")
def parse(model):
    texts = [
        "Shop có ship hàng qua Singapore không?",
        "Mua tivi có người đến lắp miễn phí không shop?",
        "admin ơi cho mình gặp người với",
        "cskh đâu rồi, cần gặp gấp",
        "không phải",
        "sai rồi",
        "ko đúng",
        "không phải ý mình",
        "phí ship bao nhiêu vậy shop",
    ]
    return dict(zip(texts, parse_all(model, texts)))


@pytest.mark.parametrize(
    "text", ["Shop có ship hàng qua Singapore không?", "Mua tivi có người đến lắp miễn phí không shop?"]
)
def test_questions_from_the_issue_get_no_shipping_fee(parse, text):
    # both got the standard shipping fee before (faq/shipping_fee at intent confidence 1.00)
    assert parse[text]["intent"]["name"] in ("nlu_fallback", "out_of_scope")


@pytest.mark.parametrize("text", ["admin ơi cho mình gặp người với", "cskh đâu rồi, cần gặp gấp"])
def test_naming_admin_or_cskh_reaches_a_person(parse, text):
    assert parse[text]["intent"]["name"] == "request_human"


@pytest.mark.parametrize("text", ["không phải", "sai rồi", "ko đúng", "không phải ý mình"])
def test_denials(parse, text):
    assert parse[text]["intent"]["name"] == "deny"


def test_the_guard_signals_are_the_evaluation_signals(parse):
    # the component (from the model) and the evaluation (from data/nlu) read coverage the same way
    result = parse["phí ship bao nhiêu vậy shop"]
    normalizer = Normalizer.from_file()
    vocabulary: LabelVocabulary = training_vocabulary(PROJECT_ROOT / "data" / "nlu", normalizer)
    mine = signals_of(result, vocabulary, normalizer)
    guard = result["answer_guard"]
    assert guard["decision"] == "answer" and guard["label"] == "faq/shipping_fee"
    assert mine.coverage == pytest.approx(guard["coverage"]) and mine.label == guard["label"]
