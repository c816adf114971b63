"""The evaluation sets, written apart from the training data and never trained on.

- `heldout.yml`: answerable messages in Rasa's NLU format (label = intent or `faq/<topic>`).
- `customer_questions.yml`: answerable questions in every customer style, written by someone who never
  saw the training data.
Both are split into dev and test by alternating within each label (dev first).
- `unanswerable.yml`: messages the knowledge base does not answer (label `unanswerable`).
- `human_requests.yml`: ways of asking for a person (label `human_request`).

Every file but heldout.yml is a list of `{text, label?, kind?, style, split?}` records. `rasa train` reads
all of `data/`, the studio trains on `data/` only: these files live here, outside both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from evaluation.heldout import HELDOUT_FILE, is_informal, load_heldout

EVAL_DIR = Path(__file__).resolve().parent
CUSTOMER_QUESTIONS_FILE = EVAL_DIR / "customer_questions.yml"
UNANSWERABLE_FILE = EVAL_DIR / "unanswerable.yml"
HUMAN_REQUESTS_FILE = EVAL_DIR / "human_requests.yml"
UNANSWERABLE = "unanswerable"
HUMAN_REQUEST = "human_request"
DEV, TEST = "dev", "test"


@dataclass(frozen=True)
class Item:
    """One evaluation message."""

    text: str
    label: str
    split: str
    style: str
    source: str

    @property
    def answerable(self) -> bool:
        """Whether the knowledge base answers it (a label of the bot)."""
        return self.label not in (UNANSWERABLE, HUMAN_REQUEST)


class _Alternate:
    """dev, test, dev, … within each label."""

    def __init__(self) -> None:
        self.seen: Dict[str, int] = {}

    def split(self, label: str) -> str:
        index = self.seen.get(label, 0)
        self.seen[label] = index + 1
        return DEV if index % 2 == 0 else TEST


def heldout_items(path: Path = HELDOUT_FILE) -> List[Item]:
    """The held-out set, alternately dev and test within each label."""
    alternate = _Alternate()
    return [
        Item(
            text, label, alternate.split(label), "informal" if is_informal(text) else "diacritics", path.stem
        )
        for text, label in load_heldout(path)
    ]


def record_items(path: Path, default_label: Optional[str] = None) -> List[Item]:
    """A `messages:` file; records without a `split` alternate dev/test within their label."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    alternate = _Alternate()
    items = []
    for record in data.get("messages") or []:
        label = record.get("label") or default_label
        if not label or not record.get("text"):
            raise ValueError(f"{path}: a record without text or label: {record!r}")
        split = str(record.get("split") or alternate.split(str(label)))
        items.append(Item(str(record["text"]), str(label), split, str(record.get("style") or ""), path.stem))
    return items


def all_items(directory: Path = EVAL_DIR) -> List[Item]:
    """Every evaluation message of a directory holding these files (the project's or a studio copy)."""
    items = heldout_items(directory / HELDOUT_FILE.name)
    optional = (
        (CUSTOMER_QUESTIONS_FILE.name, None),
        (UNANSWERABLE_FILE.name, UNANSWERABLE),
        (HUMAN_REQUESTS_FILE.name, HUMAN_REQUEST),
    )
    for name, label in optional:
        if (directory / name).is_file():
            items += record_items(directory / name, label)
    return items
