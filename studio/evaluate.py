"""Held-out evaluation of one trained model, run by the training job in a subprocess.

    python -m studio.evaluate MODEL HELDOUT [EXTRA.yml] --out result.json

MODEL is a Rasa model (tar.gz), HELDOUT the held-out NLU set (tests/nlu/heldout.yml format), EXTRA the
examples added since the live model (same format; the model was trained on them, so this says whether
it learned them). The labels are full retrieval intents (`faq/<topic>`, or `greet`…) and a prediction
is the intent plus, for `faq`, the response selector's topic (tests/nlu/heldout_eval.py, which this
reuses). Writes:

    {"model", "heldout", "heldout_sha256", "accuracy" (0..1), "n", "correct",
     "per_topic": [{"topic", "accuracy", "n"}] (by label),
     "confusions": [{"expected", "predicted", "count"}] (most frequent first),
     "errors": [{"text", "expected", "predicted"}],
     "new_examples": {"n", "accuracy", "errors"} (EXTRA; n = 0 without it), "seconds"}
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from tests.nlu.heldout_eval import load_heldout, parse_all, predicted_labels

Pair = Tuple[str, str]


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file (the held-out set's identity in a cached evaluation)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
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


def evaluate_model(model: Path, heldout: Path, extra: Optional[Path] = None) -> Dict[str, Any]:
    """Parse the held-out set (and the extra examples) with the model, in this process."""
    started = time.monotonic()
    pairs = load_heldout(heldout)
    extra_pairs = load_heldout(extra) if extra else []
    parses = parse_all(str(model), [text for text, _ in pairs + extra_pairs])
    labels = [predicted_labels(parse)[1] for parse in parses]
    result = score(pairs, labels[: len(pairs)])
    added = score(extra_pairs, labels[len(pairs) :])
    result["new_examples"] = {"n": added["n"], "accuracy": added["accuracy"], "errors": added["errors"]}
    result.update(
        model=str(model),
        heldout=str(heldout),
        heldout_sha256=file_sha256(heldout),
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
    args = parser.parse_args(argv)
    for path in (args.model, args.heldout, args.extra):
        if path is not None and not path.is_file():
            print(f"studio.evaluate: no such file {path}", file=sys.stderr)
            return 2
    result = evaluate_model(args.model, args.heldout, args.extra)
    tmp = args.out.with_name(args.out.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, args.out)
    print(f"accuracy {result['accuracy']:.4f} on {result['n']} in {result['seconds']}s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
