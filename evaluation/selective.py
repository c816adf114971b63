"""Selective answering measured on the evaluation sets: wrong answers, deflections, requests for a person.

    python -m evaluation.selective MODEL --out parses.json   # parse every set once (Rasa, TensorFlow)
    python -m evaluation.selective --tune parses.json         # thresholds chosen on the dev split

A parse is reduced to the signals of bot/nlu/selective.py, so any thresholds can be applied afterwards
without parsing again, to our model or to a model of Rasa's default pipeline alike ("the same
thresholding"). What happens to a message:

- `clarify`: the thresholds say unsure (or the intent is `deny`): the bot asks, never states a fact;
- `handoff`: a handoff intent, a request for a person (HumanRequestDetector) or an angry message
  (AngerDetector's `complain`): a person takes over;
- `refuse`: `out_of_scope`, a polite refusal with the way to a person;
- `answer`: anything else, with the label it answers (`faq/<topic>` or an intent).

On the unanswerable set every `answer` is a wrong answer. On answerable sets an outcome is correct when its
label is the gold one (a handoff for `complain`, a refusal for `out_of_scope`), wrong when it answers with
another label, and deflected otherwise (clarified, or handed off or refused instead of answered).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from bot.nlu.selective import (
    CLARIFY,
    FALLBACK_INTENT,
    LabelVocabulary,
    Signals,
    Thresholds,
    decide,
    signals_of,
)
from common.text import Normalizer
from evaluation.heldout import is_right
from evaluation.sets import DEV, HUMAN_REQUEST, TEST, UNANSWERABLE, Item, all_items

HANDOFF_INTENTS = frozenset(
    {"request_human", "complain", "complain_money", "account_security", "partnership"}
)


@dataclass(frozen=True)
class Record:
    """One evaluation message and what the model made of it."""

    item: Item
    signals: Signals
    # a handoff intent a component after AnswerGuard set (HumanRequestDetector's `request_human`,
    # AngerDetector's `complain`): a person takes over whatever the thresholds say
    override: Optional[str] = None


def training_vocabulary(data_dir: Path, normalizer: Normalizer) -> LabelVocabulary:
    """The label vocabulary of a project's NLU data (what AnswerGuard learns when it trains)."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(data_dir))
    examples = [
        (m.get("text") or "", m.get("intent_response_key") or m.get("intent"))
        for m in data.intent_examples
        if m.get("intent")
    ]
    return LabelVocabulary.from_examples(examples, normalizer)


def to_record(
    item: Item, parse: Mapping[str, Any], vocabulary: LabelVocabulary, normalizer: Normalizer
) -> Record:
    """Signals of one parse: the ones AnswerGuard computed when the model has it, else computed here."""
    guard = parse.get("answer_guard")
    final = ((parse.get("intent") or {}).get("name")) or ""
    if guard:
        signals = Signals(**{k: guard[k] for k in Signals.__dataclass_fields__})
        after_guard = FALLBACK_INTENT if guard.get("decision") == CLARIFY else signals.intent
    else:
        signals = signals_of({**parse, "text": item.text}, vocabulary, normalizer)
        after_guard = final
    # a component after the guard changed the intent to a handoff intent: that holds at any threshold
    override = final if final in HANDOFF_INTENTS and final != after_guard else None
    return Record(item, signals, override)


def outcome(record: Record, thresholds: Thresholds) -> Tuple[str, str]:
    """(`answer` | `clarify` | `handoff` | `refuse`, the label it stands for; "" for `clarify`)."""
    signals = record.signals
    if record.override:
        return "handoff", record.override
    if decide(signals, thresholds) == CLARIFY or signals.intent == "deny":
        return "clarify", ""
    if signals.intent in HANDOFF_INTENTS:
        return "handoff", signals.intent
    if signals.intent == "out_of_scope":
        return "refuse", "out_of_scope"
    return "answer", signals.label


@dataclass
class Counts:
    """Outcomes of one group of messages."""

    n: int = 0
    correct: int = 0
    wrong: int = 0
    deflected: int = 0
    handoff: int = 0

    def rate(self, field: str) -> float:
        """Share of the group, 0..1."""
        return getattr(self, field) / self.n if self.n else 0.0

    def as_dict(self) -> Dict[str, Any]:
        """Counts and rates."""
        rates = {f"{k}_rate": self.rate(k) for k in ("correct", "wrong", "deflected", "handoff")}
        return {**asdict(self), **rates}


def group(item: Item) -> str:
    """answerable / unanswerable / human_request."""
    return item.label if item.label in (UNANSWERABLE, HUMAN_REQUEST) else "answerable"


def score(records: Iterable[Record], thresholds: Thresholds) -> Dict[str, Counts]:
    """Counts per `<group>_<split>`, and per source for answerable ones (`heldout_test`,
    `customer_questions_test`, …)."""
    out: Dict[str, Counts] = {}
    for record in records:
        kind, label = outcome(record, thresholds)
        item = record.item
        keys = [f"{group(item)}_{item.split}"]
        if group(item) == "answerable":
            keys.append(f"{item.source}_{item.split}")
        for key in keys:
            counts = out.setdefault(key, Counts())
            counts.n += 1
            counts.handoff += kind == "handoff"
            if group(item) == "answerable":
                # a handoff or a refusal with another label than the gold one states no fact: deflected
                right = bool(label) and is_right(label, item.label)
                counts.correct += right
                counts.wrong += kind == "answer" and not right
                counts.deflected += kind != "answer" and not right
            elif group(item) == UNANSWERABLE:
                counts.wrong += kind == "answer"
                counts.deflected += kind != "answer"
            else:
                counts.correct += kind == "handoff"
                counts.deflected += kind != "handoff"
    return out


def summary(records: Sequence[Record], thresholds: Thresholds) -> Dict[str, Any]:
    """The figures the benchmark and the studio report show, per split."""
    counts = score(records, thresholds)
    return {
        "thresholds": asdict(thresholds),
        "groups": {k: v.as_dict() for k, v in sorted(counts.items())},
    }


# the grid thresholds are chosen from, and the rule (a wrong answer is worse than no answer): on the
# dev split, at most MAX_WRONG of the unanswerable messages answered with a fact and no request for a
# person missed; among those, the most answerable messages answered correctly, then the fewest wrong
# labels, then the least strict thresholds. When nothing keeps within MAX_WRONG, the fewest wrong answers.
# (the known-word and intent floors start above 0: gibberish such as "xqzw plorb" must not reach an
# intent that needs no topic check, and no evaluation set holds such messages)
GRID = {
    "intent_confidence": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
    "margin": [0.0, 0.05, 0.1, 0.2, 0.3],
    "confidence": [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    "coverage": [0.0, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8],
    "min_known_ratio": [0.3, 0.4, 0.5, 0.6],
}
MAX_WRONG = 0.02
# what the model answers with nothing held back (the risk-coverage curve applies its own bar)
NO_THRESHOLDS = Thresholds(
    intent_confidence=0.0, margin=0.0, confidence=0.0, coverage=0.0, min_known_ratio=0.0
)


def tune(records: Sequence[Record], grid: Mapping[str, Sequence[float]] = GRID) -> Tuple[Thresholds, Dict]:
    """Thresholds chosen on the dev split only (the rule is written above GRID)."""
    dev = [r for r in records if r.item.split == DEV]
    best: Optional[Tuple[Tuple, Thresholds, Dict]] = None
    names = list(grid)
    for values in itertools.product(*(grid[n] for n in names)):
        thresholds = Thresholds(**dict(zip(names, values)))
        counts = score(dev, thresholds)
        answerable = counts.get("answerable_dev", Counts())
        unanswerable = counts.get("unanswerable_dev", Counts())
        human = counts.get("human_request_dev", Counts())
        over = max(0.0, unanswerable.rate("wrong") - MAX_WRONG) + human.rate("deflected")
        key = (round(over, 9), -answerable.correct, answerable.wrong, sum(values))
        if best is None or key < best[0]:
            best = (key, thresholds, {k: v.as_dict() for k, v in counts.items()})
    if best is None:
        raise ValueError("an empty grid")
    return best[1], best[2]


def sureness(record: Record, thresholds: Thresholds) -> float:
    """How far above its thresholds a message is (1.0 = just at them; below 1 the bot clarifies)."""
    s = record.signals
    if not s.readable or not s.intent:
        return 0.0
    pairs = [
        (s.known_ratio, thresholds.min_known_ratio),
        (s.intent_confidence, thresholds.intent_confidence),
        (s.margin, thresholds.margin),
    ]
    if s.intent not in HANDOFF_INTENTS | {"out_of_scope", "deny", "nlu_fallback"}:
        pairs += [(s.confidence, thresholds.confidence), (s.coverage, thresholds.coverage)]
    ratios = [value / limit for value, limit in pairs if value is not None and limit > 0]
    return min(ratios) if ratios else 10.0


def risk_coverage(
    records: Sequence[Record], thresholds: Thresholds, split: str = TEST
) -> List[Dict[str, float]]:
    """Risk (wrong answers / answers) against coverage (answers / messages) as the bar moves.

    Over the answerable and unanswerable messages of a split; the bar scales every threshold at once
    (1.0 = the chosen ones).
    """
    chosen = [r for r in records if r.item.split == split and group(r.item) != HUMAN_REQUEST]
    points = []
    for bar in (0.0, 0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0):
        answered = wrong = 0
        for record in chosen:
            kind, label = outcome(record, NO_THRESHOLDS)
            if kind != "answer" or sureness(record, thresholds) < bar:
                continue
            answered += 1
            wrong += group(record.item) == UNANSWERABLE or not is_right(label, record.item.label)
        points.append(
            {
                "bar": bar,
                "coverage": answered / len(chosen) if chosen else 0.0,
                "risk": wrong / answered if answered else 0.0,
                "answered": answered,
                "wrong": wrong,
            }
        )
    return points


def parse_records(model: Path, items: Sequence[Item], data_dir: Path) -> List[Record]:
    """Parse every item with a trained model (in this process) and keep its signals."""
    from evaluation.heldout import parse_all

    normalizer = Normalizer.from_file()
    vocabulary = training_vocabulary(data_dir, normalizer)
    parses = parse_all(str(model), [item.text for item in items])
    return [to_record(item, parse, vocabulary, normalizer) for item, parse in zip(items, parses)]


def dump(records: Sequence[Record], path: Path) -> None:
    """Write records as JSON."""
    rows = [{"item": asdict(r.item), "signals": r.signals.as_dict(), "override": r.override} for r in records]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=0), encoding="utf-8")


def load(path: Path) -> List[Record]:
    """Read records written by `dump`."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [Record(Item(**row["item"]), Signals(**row["signals"]), row.get("override")) for row in rows]


def model_thresholds(config_file: Path) -> Thresholds:
    """The AnswerGuard thresholds a config.yml sets (defaults when it has none)."""
    import yaml

    config = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    for component in config.get("pipeline") or []:
        if str(component.get("name", "")).endswith("AnswerGuard"):
            return Thresholds.from_config(component)
    return Thresholds()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.selective", description=__doc__.split("\n")[0]
    )
    parser.add_argument("model", type=Path, nargs="?", help="a trained Rasa model to parse the sets with")
    parser.add_argument("--out", type=Path, help="where the parse records go (JSON)")
    parser.add_argument("--tune", type=Path, help="records to choose thresholds on (dev split only)")
    parser.add_argument("--data", type=Path, default=Path("data/nlu"), help="the NLU data the model saw")
    parser.add_argument("--sets", type=Path, default=None, help="directory of the evaluation sets")
    args = parser.parse_args(argv)
    if args.tune:
        records = load(args.tune)
        thresholds, dev = tune(records)
        print(json.dumps({"thresholds": asdict(thresholds), "dev": dev}, indent=1))
        test = summary(records, thresholds)["groups"]
        print(json.dumps({k: v for k, v in test.items() if k.endswith(("test", "fresh"))}, indent=1))
        return 0
    if not args.model or not args.out:
        parser.error("MODEL and --out are needed to parse (or --tune RECORDS)")
    from evaluation.sets import EVAL_DIR

    records = parse_records(args.model, all_items(args.sets or EVAL_DIR), args.data)
    dump(records, args.out)
    print(f"{len(records)} messages -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
