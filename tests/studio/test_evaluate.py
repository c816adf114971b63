"""studio/evaluate.py without Rasa: the selective block from records, and the whole output of
`python -m studio.evaluate` with a stand-in for the parser (every text parsed once, in one call)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import studio.evaluate as evaluate
from bot.nlu.selective import LabelVocabulary, Signals, Thresholds
from common.file_digest import file_sha256
from evaluation.selective import Record
from evaluation.sets import Item
from studio.evaluate import selective_figures, sets_sha256

THRESHOLDS = Thresholds(intent_confidence=0.5, margin=0.05, confidence=0.0, coverage=0.0, min_known_ratio=0.4)


def sure(label: str) -> Signals:
    """A parse the thresholds let through, answering `label`."""
    intent = label.split("/")[0]
    return Signals(intent, label, 0.9, 0.8, 0.9, 0.9, 1.0, True)


def unsure(label: str) -> Signals:
    """A parse below the intent threshold: the bot asks again."""
    return Signals(label.split("/")[0], label, 0.3, 0.1, 0.3, 0.9, 1.0, True)


def record(text, gold, split, signals, source="heldout"):
    return Record(Item(text, gold, split, "diacritics", source), signals)


RECORDS = [
    # answerable: right, wrong, asked again, right
    record("phí ship bao nhiêu", "faq/shipping_fee", "dev", sure("faq/shipping_fee")),
    record("ship hà nội nhiêu", "faq/shipping_fee", "test", sure("faq/refund_time")),
    record("alo", "greet", "dev", unsure("greet")),
    record("hủy đơn sao", "faq/cancel_order", "test", sure("faq/cancel_order"), "customer_questions"),
    # unanswerable: answered with a fact (wrong), asked again, refused, asked again
    record("ship qua singapore không", "unanswerable", "dev", sure("faq/shipping_fee"), "unanswerable"),
    record("giá vàng hôm nay", "unanswerable", "test", unsure("faq/shipping_fee"), "unanswerable"),
    record("viết giúp bài văn", "unanswerable", "test", sure("out_of_scope"), "unanswerable"),
    record("shop bán ô tô ko", "unanswerable", "dev", unsure("faq/product"), "unanswerable"),
    # requests for a person: handed off, asked again
    record("cho gặp nhân viên", "human_request", "test", sure("request_human"), "human_requests"),
    record("có ai ko", "human_request", "dev", unsure("request_human"), "human_requests"),
]


def test_selective_block_scores_every_split_together_and_keeps_each_split():
    block = selective_figures(RECORDS, THRESHOLDS)
    assert block["thresholds"] == {
        "intent_confidence": 0.5,
        "margin": 0.05,
        "confidence": 0.0,
        "coverage": 0.0,
        "min_known_ratio": 0.4,
    }
    assert block["n"] == 10
    assert block["answerable"] == {
        "n": 4,
        "accuracy": 0.5,
        "correct": 2,
        "wrong": 1,
        "deflected": 1,
        "deflected_rate": 0.25,
    }
    assert block["unanswerable"] == {"n": 4, "wrong": 1, "wrong_answer_rate": 0.25, "deflected": 3}
    assert block["human_request"] == {"n": 2, "handoff": 1, "handoff_rate": 0.5}
    groups = block["groups"]
    per_split = {
        "answerable_dev": 2,
        "answerable_test": 2,
        "unanswerable_dev": 2,
        "unanswerable_test": 2,
        "human_request_dev": 1,
        "human_request_test": 1,
    }
    assert {key: groups[key]["n"] for key in per_split} == per_split
    assert groups["unanswerable_dev"]["wrong"] == 1 and groups["unanswerable_test"]["wrong"] == 0
    # the curve covers answerable + unanswerable messages of every split: 4 of 8 answered, 2 wrongly
    points = {point["bar"]: point for point in block["risk_coverage"]}
    assert len(points) == 11
    assert points[1.0] == {"bar": 1.0, "coverage": 0.5, "risk": 0.5, "answered": 4, "wrong": 2}
    assert points[0.0]["answered"] >= points[3.0]["answered"]


def test_selective_block_without_the_other_sets():
    block = selective_figures(RECORDS[:4], THRESHOLDS)
    assert block["unanswerable"] == {"n": 0, "wrong": 0, "wrong_answer_rate": 0.0, "deflected": 0}
    assert block["human_request"] == {"n": 0, "handoff": 0, "handoff_rate": 0.0}


HELDOUT = """version: "3.1"
nlu:
- intent: faq/shipping_fee
  examples: |
    - phí ship bao nhiêu
    - ship về hà nội hết bao nhiêu
- intent: greet
  examples: |
    - chào shop
"""
UNANSWERABLE = """version: 1
messages:
  - {text: "shop có ship qua singapore không", style: diacritics, split: dev}
  - {text: "giá vàng hôm nay", style: diacritics, split: test}
"""
HUMAN_REQUESTS = """version: 1
messages:
  - {text: "cho mình gặp nhân viên", style: diacritics, split: test}
"""
CONFIG = """recipe: default.v1
language: vi
pipeline:
  - name: bot.nlu.answer_guard.AnswerGuard
    intent_confidence: 0.5
    margin: 0.05
    confidence: 0.0
    coverage: 0.0
    min_known_ratio: 0.4
"""
NEW_EXAMPLES = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - chào shop
"""


def parse(intent, confidence, topic=None, guard=None):
    """A `/model/parse` result; `guard` = the signals AnswerGuard adds (None: a model without it)."""
    result = {"intent": {"name": intent, "confidence": confidence}, "intent_ranking": []}
    if topic:
        result["response_selector"] = {
            "faq": {"response": {"intent_response_key": topic, "confidence": 0.9}, "ranking": []}
        }
    if guard is not None:
        result["answer_guard"] = {**guard.as_dict(), "decision": "answer", "reasons": []}
    return result


PARSES = {
    "phí ship bao nhiêu": parse("faq", 0.95, "faq/shipping_fee", sure("faq/shipping_fee")),
    "ship về hà nội hết bao nhiêu": parse("faq", 0.9, "faq/delivery_time", sure("faq/delivery_time")),
    "chào shop": parse("greet", 0.99, guard=sure("greet")),
    # the bot states the shipping fee: a wrong answer
    "shop có ship qua singapore không": parse("faq", 0.97, "faq/shipping_fee", sure("faq/shipping_fee")),
    # a parse without AnswerGuard's block: signals from the training data's vocabulary
    "giá vàng hôm nay": {
        "intent": {"name": "nlu_fallback", "confidence": 0.7},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.7},
            {"name": "faq", "confidence": 0.3},
            {"name": "greet", "confidence": 0.1},
        ],
    },
    "cho mình gặp nhân viên": parse("request_human", 0.98, guard=sure("request_human")),
}


@pytest.fixture()
def content(tmp_path):
    sets = tmp_path / "content" / "evaluation"
    sets.mkdir(parents=True)
    (sets / "heldout.yml").write_text(HELDOUT, encoding="utf-8")
    (sets / "unanswerable.yml").write_text(UNANSWERABLE, encoding="utf-8")
    (sets / "human_requests.yml").write_text(HUMAN_REQUESTS, encoding="utf-8")
    (tmp_path / "content" / "config.yml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "content" / "data").mkdir()
    return tmp_path / "content"


def test_the_output_has_the_selective_block_and_every_text_is_parsed_once(content, tmp_path, monkeypatch):
    calls, vocabularies = [], []

    def parse_all(model, texts):
        calls.append((model, list(texts)))
        return [PARSES[text] for text in texts]

    def training_vocabulary(data_dir, normalizer):
        vocabularies.append(Path(data_dir))
        return LabelVocabulary({"greet": {"chao", "shop"}, "faq/shipping_fee": {"phi", "ship"}})

    monkeypatch.setattr(evaluate, "parse_all", parse_all)
    monkeypatch.setattr(evaluate, "training_vocabulary", training_vocabulary)
    extra = tmp_path / "new.yml"
    extra.write_text(NEW_EXAMPLES, encoding="utf-8")
    out = tmp_path / "out" / "result.json"
    out.parent.mkdir()
    heldout = content / "evaluation" / "heldout.yml"
    assert evaluate.main(["model.tar.gz", str(heldout), str(extra), "--out", str(out)]) == 2  # no model
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"stand-in")
    assert evaluate.main([str(model), str(heldout), str(extra), "--out", str(out)]) == 0

    # one model load, each distinct text once (the held-out texts are also in the sets' items)
    assert len(calls) == 1
    model_arg, texts = calls[0]
    assert model_arg == str(model)
    assert sorted(texts) == sorted(PARSES) and len(texts) == len(set(texts))
    # only the parse without AnswerGuard's block needed the training data (the content dir's data/)
    assert vocabularies == [content / "data"]

    result = json.loads(out.read_text(encoding="utf-8"))
    assert (result["accuracy"], result["n"], result["correct"]) == (2 / 3, 3, 2)
    assert result["new_examples"] == {"n": 1, "accuracy": 1.0, "errors": []}
    assert result["model_sha256"] == file_sha256(model)
    assert result["heldout_sha256"] == file_sha256(heldout)
    assert result["sets_sha256"] == sets_sha256(content / "evaluation")
    selective = result["selective"]
    assert selective["thresholds"]["intent_confidence"] == 0.5 and selective["thresholds"]["coverage"] == 0.0
    assert selective["n"] == 6
    assert selective["answerable"]["n"] == 3 and selective["answerable"]["accuracy"] == 2 / 3
    assert selective["unanswerable"] == {"n": 2, "wrong": 1, "wrong_answer_rate": 0.5, "deflected": 1}
    assert selective["human_request"] == {"n": 1, "handoff": 1, "handoff_rate": 1.0}
    assert {
        "answerable_dev",
        "answerable_test",
        "unanswerable_dev",
        "unanswerable_test",
        "human_request_test",
    } <= set(selective["groups"])
    assert [point["bar"] for point in selective["risk_coverage"]][5] == 1.0


def test_the_sets_hash_follows_every_set_file(content):
    sets = content / "evaluation"
    before = sets_sha256(sets)
    assert sets_sha256(sets) == before
    (sets / "unanswerable.yml").write_text(UNANSWERABLE + '  - {text: "mua xe máy", style: x}\n', "utf-8")
    changed = sets_sha256(sets)
    assert changed != before
    (sets / "customer_questions.yml").write_text("version: 1\nmessages: []\n", encoding="utf-8")
    assert sets_sha256(sets) != changed
