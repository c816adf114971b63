"""The evaluation sets: big enough, in every style, split, and never part of what the bot trains on."""

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.settings import PROJECT_ROOT
from common.text import fold
from evaluation.sets import (
    CUSTOMER_QUESTIONS_FILE,
    DEV,
    HUMAN_REQUEST,
    HUMAN_REQUESTS_FILE,
    TEST,
    UNANSWERABLE,
    UNANSWERABLE_FILE,
    all_items,
    record_items,
)

_EXAMPLE = re.compile(r"^\s*-\s(.*)$")
_WORDS = re.compile(r"\w+")


def key(text: str) -> str:
    return " ".join(_WORDS.findall(fold(text)))


def training_texts() -> set:
    """Every example line of every YAML file under data/ (all of it is what `rasa train` reads)."""
    texts = set()
    for path in (PROJECT_ROOT / "data").rglob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                match = _EXAMPLE.match(line)
                if match:
                    texts.add(key(match.group(1)))
    return texts


def test_no_evaluation_message_is_a_training_example():
    training = training_texts()
    leaked = [item.text for item in all_items() if key(item.text) in training]
    assert leaked == []


def test_sets_live_outside_the_training_data():
    for path in (UNANSWERABLE_FILE, HUMAN_REQUESTS_FILE, CUSTOMER_QUESTIONS_FILE):
        assert PROJECT_ROOT / "data" not in path.parents and PROJECT_ROOT / "tests" not in path.parents


@pytest.mark.parametrize(
    "path, label, minimum",
    [(UNANSWERABLE_FILE, UNANSWERABLE, 200), (HUMAN_REQUESTS_FILE, HUMAN_REQUEST, 60)],
)
def test_set_is_big_split_and_in_every_style(path: Path, label: str, minimum: int):
    items = record_items(path, label)
    assert len(items) >= minimum
    assert len({key(i.text) for i in items}) == len(items), "duplicates"
    splits = Counter(i.split for i in items)
    assert set(splits) == {DEV, TEST} and min(splits.values()) >= len(items) * 0.4
    styles = Counter(i.style for i in items)
    for style in ("diacritics", "no_diacritics", "teencode", "long", "english_mix"):
        assert styles[style] >= 5, f"{style}: {styles[style]}"


def test_customer_questions_cover_every_label_in_both_splits():
    items = record_items(CUSTOMER_QUESTIONS_FILE)
    assert len(items) >= 200
    by_split = {split: {i.label for i in items if i.split == split} for split in (DEV, TEST)}
    assert by_split[DEV] == by_split[TEST] and len(by_split[TEST]) >= 40
