"""Evaluation of one trained model on the evaluation sets, run by the training job in a subprocess.

    python -m studio.evaluate MODEL HELDOUT [EXTRA.yml] --out result.json [--config config.yml] [--data data]

MODEL is a Rasa model (tar.gz), HELDOUT the held-out NLU set (evaluation/heldout.yml format), EXTRA the
examples added since the live model (same format; the model was trained on them, so this says whether
it learned them). The labels are full retrieval intents (`faq/<topic>`, or `greet`…) and a prediction
is the intent plus, for `faq`, the response selector's topic (evaluation/heldout.py, which this
reuses).

Selective answering (evaluation/selective.py) is measured on every evaluation set of the held-out
file's directory (evaluation/sets.py: the held-out set and the other answerable questions, the
unanswerable messages, the requests for a person) at the AnswerGuard thresholds of `--config` (default: the
config.yml next to that directory). Every text is parsed once, by one model load. Writes:

    {"model", "model_sha256", "heldout", "heldout_sha256", "sets_sha256" (every evaluation/*.yml),
     "accuracy" (0..1), "n", "correct",
     "per_topic": [{"topic", "accuracy", "n"}] (by label),
     "confusions": [{"expected", "predicted", "count"}] (most frequent first),
     "errors": [{"text", "expected", "predicted"}],
     "new_examples": {"n", "accuracy", "errors"} (EXTRA; n = 0 without it),
     "selective": {"thresholds", "n",   (the figures: every split together)
                   "answerable": {"n", "accuracy", "correct", "wrong", "deflected", "deflected_rate"},
                   "unanswerable": {"n", "wrong", "wrong_answer_rate", "deflected"},
                   "human_request": {"n", "handoff", "handoff_rate"},
                   "risk_coverage": [{"bar", "coverage", "risk", "answered", "wrong"}],
                   "groups": {"<group>_<split>": {...}}} (evaluation.selective.summary, per split),
     "seconds"}
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from bot.nlu.selective import LabelVocabulary, Thresholds
from common.file_digest import file_sha256
from common.text import Normalizer
from evaluation.heldout import load_heldout, parse_all, predicted_labels
from evaluation.selective import (
    Record,
    model_thresholds,
    risk_coverage,
    summary,
    to_record,
    training_vocabulary,
)
from evaluation.sets import HUMAN_REQUEST, UNANSWERABLE, Item, all_items

Pair = Tuple[str, str]
# every split scored together (the gate and the report); the per-split groups are kept beside
ALL_SPLITS = "all"


def sets_sha256(directory: Path) -> str:
    """Hex sha256 over every evaluation set file of a directory (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(Path(directory).glob("*.yml")):
        digest.update(path.name.encode("utf-8") + b"\0" + file_sha256(path).encode("ascii") + b"\n")
    return digest.hexdigest()


def score(pairs: Sequence[Pair], predicted: Sequence[str]) -> Dict[str, Any]:
    """Accuracy, per-label accuracy and confusion pairs of full labels."""
    per_label: Dict[str, List[int]] = defaultdict(lambda: [0, 0])  # label -> [correct, n]
    confusions: Counter = Counter()
    errors = []
    for (text, gold), got in zip(pairs, predicted):
        counts = per_label[gold]
        counts[1] += 1
        if got == gold:
            counts[0] += 1
        else:
            confusions[(gold, got)] += 1
            errors.append({"text": text, "expected": gold, "predicted": got})
    correct = sum(c for c, _ in per_label.values())
    total = len(pairs)
    return {
        "accuracy": correct / total if total else 0.0,
        "n": total,
        "correct": correct,
        "per_topic": [
            {"topic": label, "accuracy": c / n, "n": n} for label, (c, n) in sorted(per_label.items())
        ],
        "confusions": [
            {"expected": e, "predicted": p, "count": n}
            for (e, p), n in sorted(confusions.items(), key=lambda item: (-item[1], item[0]))
        ],
        "errors": errors,
    }


def records_of(items: Sequence[Item], parses: Sequence[Mapping[str, Any]], data_dir: Path) -> List[Record]:
    """The selective-answering records of parsed items (evaluation.selective.to_record).

    A parse of our pipeline carries AnswerGuard's own signals (computed with the label vocabulary the
    model was trained on); only a parse without them (a model trained before AnswerGuard) needs the
    vocabulary of the training data in `data_dir`, so that is loaded only then.
    """
    normalizer = Normalizer.from_file()
    if any(not parse.get("answer_guard") for parse in parses):
        vocabulary = training_vocabulary(data_dir, normalizer)
    else:
        vocabulary = LabelVocabulary({})
    return [to_record(item, parse, vocabulary, normalizer) for item, parse in zip(items, parses)]


def selective_figures(records: Sequence[Record], thresholds: Thresholds) -> Dict[str, Any]:
    """The "selective" block: every split together (the gate, the report), and per split."""
    together = [replace(r, item=replace(r.item, split=ALL_SPLITS)) for r in records]
    groups = summary(together, thresholds)["groups"]
    empty = {"n": 0, "correct": 0, "wrong": 0, "deflected": 0, "handoff": 0}
    answerable = {**empty, **groups.get(f"answerable_{ALL_SPLITS}", {})}
    unanswerable = {**empty, **groups.get(f"{UNANSWERABLE}_{ALL_SPLITS}", {})}
    human = {**empty, **groups.get(f"{HUMAN_REQUEST}_{ALL_SPLITS}", {})}

    def rate(counts: Mapping[str, Any], key: str) -> float:
        return counts[key] / counts["n"] if counts["n"] else 0.0

    return {
        "thresholds": asdict(thresholds),
        "n": len(records),
        "answerable": {
            "n": answerable["n"],
            "accuracy": rate(answerable, "correct"),
            "correct": answerable["correct"],
            "wrong": answerable["wrong"],
            "deflected": answerable["deflected"],
            "deflected_rate": rate(answerable, "deflected"),
        },
        # every fact stated to a message the knowledge base does not answer is a wrong answer
        "unanswerable": {
            "n": unanswerable["n"],
            "wrong": unanswerable["wrong"],
            "wrong_answer_rate": rate(unanswerable, "wrong"),
            "deflected": unanswerable["deflected"],
        },
        "human_request": {
            "n": human["n"],
            "handoff": human["handoff"],
            "handoff_rate": rate(human, "handoff"),
        },
        "risk_coverage": risk_coverage(together, thresholds, ALL_SPLITS),
        "groups": summary(records, thresholds)["groups"],
    }


def evaluate_model(
    model: Path,
    heldout: Path,
    extra: Optional[Path] = None,
    config: Optional[Path] = None,
    data: Optional[Path] = None,
) -> Dict[str, Any]:
    """Parse the evaluation sets (and the extra examples) with the model, in this process, each text once.

    `config` (AnswerGuard's thresholds) and `data` (the training data, for a model without AnswerGuard)
    default to those of the content directory holding the held-out file's directory.
    """
    started = time.monotonic()
    sets_dir = heldout.parent
    content_dir = sets_dir.parent
    pairs = load_heldout(heldout)
    extra_pairs = load_heldout(extra) if extra else []
    items = all_items(sets_dir)
    texts = list(dict.fromkeys([text for text, _ in pairs + extra_pairs] + [item.text for item in items]))
    parsed = dict(zip(texts, parse_all(str(model), texts)))
    labels = [predicted_labels(parsed[text])[1] for text, _ in pairs + extra_pairs]
    result = score(pairs, labels[: len(pairs)])
    added = score(extra_pairs, labels[len(pairs) :])
    result["new_examples"] = {"n": added["n"], "accuracy": added["accuracy"], "errors": added["errors"]}
    records = records_of(items, [parsed[item.text] for item in items], data or content_dir / "data")
    thresholds = model_thresholds(config or content_dir / "config.yml")
    result["selective"] = selective_figures(records, thresholds)
    result.update(
        model=str(model),
        model_sha256=file_sha256(model),
        heldout=str(heldout),
        heldout_sha256=file_sha256(heldout),
        sets_sha256=sets_sha256(sets_dir),
        seconds=round(time.monotonic() - started, 2),
    )
    return result


def write_examples_file(path: Path, pairs: Sequence[Pair]) -> None:
    """Write (text, label) pairs in the held-out format (`nlu: - intent: …, examples: |`)."""
    by_label: Dict[str, List[str]] = defaultdict(list)
    for text, label in pairs:
        by_label[label].append(text)
    lines = ['version: "3.1"', "nlu:"]
    for label in sorted(by_label):
        lines.append(f"- intent: {label}")
        lines.append("  examples: |")
        lines.extend(f"    - {' '.join(text.split())}" for text in by_label[label])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studio.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("heldout", type=Path)
    parser.add_argument("extra", type=Path, nargs="?")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--config", type=Path, help="config.yml with the AnswerGuard thresholds")
    parser.add_argument("--data", type=Path, help="the training data (for a model without AnswerGuard)")
    args = parser.parse_args(argv)
    from rasa.utils.log_utils import configure_structlog

    # unconfigured, Rasa's structlog prints every parse (one line each, about 950 a run) at debug level
    configure_structlog(logging.WARNING)
    for path in (args.model, args.heldout, args.extra, args.config):
        if path is not None and not path.is_file():
            print(f"studio.evaluate: no such file {path}", file=sys.stderr)
            return 2
    result = evaluate_model(args.model, args.heldout, args.extra, args.config, args.data)
    tmp = args.out.with_name(args.out.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, args.out)
    wrong = result["selective"]["unanswerable"]
    print(
        f"accuracy {result['accuracy']:.4f} on {result['n']}, unanswerable answered "
        f"{wrong['wrong_answer_rate']:.4f} on {wrong['n']} in {result['seconds']}s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
