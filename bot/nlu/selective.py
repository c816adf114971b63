"""Selective answering: whether the bot is sure enough of a message's meaning to state a fact.

A classifier always names some intent and some FAQ topic. "Shop có ship hàng qua Singapore không?"
came out as `faq` at 1.00 with the shipping-fee topic at 0.3, and the customer read the standard fee
as SenMart's answer. The signals here say how sure the model is, from a parse result alone (ours or
any Rasa pipeline's), so one rule can be applied to both in the benchmark:

- `intent_confidence` and `margin`: the best real intent and its lead over the second one;
- `confidence`: the FAQ topic's own confidence (the ResponseSelector's) for `faq`, else the intent's;
- `coverage`: how much of the message the chosen label's training examples cover, each word weighted
  by how rare it is across labels (an unseen word such as "singapore" weighs most, "shop" least);
- `known_ratio`: the share of the message's words seen anywhere in training.

This module imports no Rasa: the NLU component (bot/nlu/answer_guard.py), the evaluation and the
studio use it alike.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Text, Tuple

from common.text import Normalizer, clean_text, fold

FALLBACK_INTENT = "nlu_fallback"
FAQ_INTENT = "faq"
# intents whose answer is a person or a refusal, never a fact: a wrong guess costs no wrong answer
SAFE_INTENTS = frozenset(
    {
        FALLBACK_INTENT,
        "out_of_scope",
        "request_human",
        "complain",
        "complain_money",
        "account_security",
        "partnership",
        "deny",
    }
)
ANSWER = "answer"
CLARIFY = "clarify"

_WORD = re.compile(r"\w+", re.UNICODE)
_LETTERS_ONLY = re.compile(r"^[^\W\d_]+$", re.UNICODE)


def message_words(text: Optional[Text], normalizer: Normalizer) -> List[Text]:
    """Letters-only words of a message: cleaned, teencode expanded, folded, split into syllables."""
    expanded = normalizer.normalize(clean_text(text))
    return [w for w in _WORD.findall(fold(expanded)) if _LETTERS_ONLY.match(w)]


class LabelVocabulary:
    """The words of each label's training examples, with an inverse label frequency per word."""

    def __init__(self, words_by_label: Mapping[Text, Iterable[Text]]) -> None:
        self.words_by_label: Dict[Text, Set[Text]] = {k: set(v) for k, v in words_by_label.items()}
        self.all_words: Set[Text] = (
            set().union(*self.words_by_label.values()) if self.words_by_label else set()
        )
        labels = max(1, len(self.words_by_label))
        frequency: Dict[Text, int] = {}
        for words in self.words_by_label.values():
            for word in words:
                frequency[word] = frequency.get(word, 0) + 1
        self._unseen_weight = math.log(1 + labels) + 1.0
        self.weights = {w: math.log((1 + labels) / (1 + n)) + 1.0 for w, n in frequency.items()}

    @classmethod
    def from_examples(
        cls, examples: Iterable[Tuple[Text, Text]], normalizer: Normalizer
    ) -> "LabelVocabulary":
        """Build from (text, label) pairs; a label is `faq/<topic>` or an intent name."""
        words: Dict[Text, Set[Text]] = {}
        for text, label in examples:
            words.setdefault(label, set()).update(message_words(text, normalizer))
        return cls(words)

    def weight(self, word: Text) -> float:
        """How much a word says about which label a message has (rare across labels weighs more)."""
        return self.weights.get(word, self._unseen_weight)

    def coverage(self, label: Text, words: Sequence[Text]) -> Optional[float]:
        """Weighted share of the (distinct) words that the label's examples contain; None without words."""
        distinct = set(words)
        if not distinct:
            return None
        known = self.words_by_label.get(label, set())
        total = sum(self.weight(w) for w in distinct)
        return sum(self.weight(w) for w in distinct if w in known) / total

    def known_ratio(self, words: Sequence[Text]) -> Optional[float]:
        """Share of the words seen in any training example; None without words."""
        if not words:
            return None
        return sum(w in self.all_words for w in words) / len(words)

    def to_json(self) -> Dict[Text, List[Text]]:
        """Serialisable form (label -> sorted words)."""
        return {label: sorted(words) for label, words in sorted(self.words_by_label.items())}


@dataclass(frozen=True)
class Signals:
    """What a parse says about how sure the model is (see the module docstring)."""

    intent: Text
    label: Text
    intent_confidence: float
    margin: float
    confidence: float
    coverage: Optional[float]
    known_ratio: Optional[float]
    readable: bool

    def as_dict(self) -> Dict[Text, Any]:
        """For the parse output and the evaluation files."""
        return asdict(self)


@dataclass(frozen=True)
class Thresholds:
    """Below any of these the bot clarifies instead of answering (chosen on the development split)."""

    intent_confidence: float = 0.5
    margin: float = 0.05
    confidence: float = 0.5
    coverage: float = 0.5
    min_known_ratio: float = 0.4

    @classmethod
    def from_config(cls, config: Mapping[Text, Any]) -> "Thresholds":
        """From a component config (keys named like the fields; missing keys keep the defaults)."""
        defaults = asdict(cls())
        return cls(**{k: float(config.get(k, v)) for k, v in defaults.items()})


def _ranking(parse: Mapping[Text, Any]) -> List[Tuple[Text, float]]:
    ranking = parse.get("intent_ranking") or []
    pairs = [(r.get("name") or "", float(r.get("confidence") or 0.0)) for r in ranking]
    if not pairs and parse.get("intent"):
        intent = parse["intent"]
        pairs = [(intent.get("name") or "", float(intent.get("confidence") or 0.0))]
    return [(n, c) for n, c in pairs if n and n != FALLBACK_INTENT]


def faq_choice(parse: Mapping[Text, Any]) -> Tuple[Optional[Text], float]:
    """The FAQ topic key (`faq/<topic>`) the ResponseSelector chose and its confidence."""
    selectors = parse.get("response_selector") or {}
    # our config names the selector "faq"; Rasa's default config calls its only one "default"
    selector = selectors.get(FAQ_INTENT) or selectors.get("default") or {}
    response = selector.get("response") or {}
    return response.get("intent_response_key"), float(response.get("confidence") or 0.0)


def signals_of(parse: Mapping[Text, Any], vocabulary: LabelVocabulary, normalizer: Normalizer) -> Signals:
    """The signals of one parse result (`/model/parse` shape)."""
    text = parse.get("text") or ""
    readable = bool(_WORD.search(clean_text(text)))
    ranking = _ranking(parse)
    intent, intent_confidence = ranking[0] if ranking else ("", 0.0)
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    label, confidence = intent, intent_confidence
    if intent == FAQ_INTENT:
        key, topic_confidence = faq_choice(parse)
        label, confidence = key or FAQ_INTENT, topic_confidence
    words = message_words(text, normalizer)
    return Signals(
        intent=intent,
        label=label,
        intent_confidence=intent_confidence,
        margin=intent_confidence - second,
        confidence=confidence,
        coverage=vocabulary.coverage(label, words),
        known_ratio=vocabulary.known_ratio(words),
        readable=readable,
    )


def reasons_to_clarify(signals: Signals, thresholds: Thresholds) -> List[Text]:
    """Why the bot should not answer this message (empty: it may answer)."""
    if not signals.readable or not signals.intent:
        return ["unreadable"]
    reasons = []
    if signals.known_ratio is not None and signals.known_ratio < thresholds.min_known_ratio:
        reasons.append("unknown_words")
    if signals.intent_confidence < thresholds.intent_confidence:
        reasons.append("intent_confidence")
    if signals.margin < thresholds.margin:
        reasons.append("margin")
    if signals.intent in SAFE_INTENTS:
        # a person or a refusal follows: no fact at risk, so the topic-level checks do not apply
        return reasons
    if signals.confidence < thresholds.confidence:
        reasons.append("confidence")
    if signals.coverage is not None and signals.coverage < thresholds.coverage:
        reasons.append("coverage")
    return reasons


def inbound_reasons(inbound: Any, intent: Optional[Text]) -> List[Text]:
    """Reasons from how the message arrived (bot/nlu/inbound.py): too long to read whole, or a typed
    `/payload` no button offered. A complaint or a request for a person still goes to a person."""
    if not isinstance(inbound, dict) or intent in SAFE_INTENTS:
        return []
    return [
        reason
        for reason, key in (("too_long", "clipped"), ("typed_payload", "typed_payload"))
        if inbound.get(key)
    ]


def decide(signals: Signals, thresholds: Thresholds) -> Text:
    """`answer` or `clarify`."""
    return CLARIFY if reasons_to_clarify(signals, thresholds) else ANSWER
