"""Scores how angry a message sounds; angry messages become `complain` (KB §10: hand over to an agent).

DIET learns `complain` from examples, but insults, threats and shouting are open-ended. The score comes
from a weighted lexicon that content staff edit (`data/anger_lexicon.yml`), matched on folded,
teencode-expanded words, plus "!!!", "???" and ALL-CAPS. It is added to the parse result as `anger`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Text, Tuple

import yaml
from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.configured import ConfiguredOnly
from bot.nlu.normalizer import PROJECT_ROOT, Normalizer, clean_text, fold

logger = logging.getLogger(__name__)

DEFAULT_LEXICON_FILE = PROJECT_ROOT / "data" / "anger_lexicon.yml"
ANGER = "anger"
COMPLAIN = "complain"
# intents that already reach an agent with a more precise reason, or answer the satisfaction survey
DEFAULT_KEEP_INTENTS = ["complain_money", "request_human", "account_security", "partnership", "give_rating"]

_WORD = re.compile(r"\w+", re.UNICODE)
# a clause ends at any punctuation: "không, tệ lắm" is not "không tệ"
_CLAUSE_BREAK = re.compile(r"[^\w\s]+", re.UNICODE)
_LETTERS_ONLY = re.compile(r"^[^\W\d_]+$", re.UNICODE)

# A word of the message: its readings as (written, folded) pairs. A teencode word has two, expanded and as
# typed: "a" is "anh" in "a nói rồi" but "à" in "lua dao a".
Word = Tuple[Tuple[Text, Text], ...]


class AngerLexiconError(ValueError):
    """The anger lexicon file is malformed."""


@dataclass(frozen=True)
class Phrase:
    """A lexicon entry: one or more words, a weight, and whether a negation cancels it."""

    text: Text
    words: Tuple[Text, ...]
    folded: Tuple[Text, ...]
    weight: float = 0.0
    negatable: bool = False


@dataclass(frozen=True)
class Signals:
    """Non-lexical signs of anger: "!!!", "???", capitals."""

    exclamation_min_count: int = 3
    exclamation_weight: float = 0.3
    question_min_run: int = 3
    question_weight: float = 0.2
    caps_min_words: int = 2
    caps_min_share: float = 0.6
    caps_weight: float = 0.3
    caps_ignore: frozenset = frozenset()


@dataclass(frozen=True)
class Lexicon:
    """Everything the scorer reads from the data file."""

    terms: Tuple[Phrase, ...]
    intensifiers: Tuple[Phrase, ...]
    negations: Tuple[Phrase, ...]
    exceptions: Tuple[Phrase, ...]
    signals: Signals
    accented_share: float = 0.4
    negation_gap: int = 1
    intensifier_gap: int = 1


@dataclass(frozen=True)
class AngerResult:
    """Anger score in 0..1 and what produced it (lexicon entries as written, "!!!", "???", "CAPS")."""

    score: float
    matches: Tuple[Text, ...]


def _phrase(text: Any, weight: float = 0.0, negatable: bool = False) -> Phrase:
    words = tuple(_WORD.findall(clean_text(str(text)).lower()))
    if not words:
        raise AngerLexiconError(f"empty entry {text!r}")
    return Phrase(" ".join(words), words, tuple(fold(w) for w in words), weight, negatable)


def _number(value: Any, where: Text, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise AngerLexiconError(f"{where}: expected a number from {low} to {high}, got {value!r}")
    return float(value)


def _mapping(value: Any, where: Text) -> Mapping:
    if not isinstance(value, Mapping):
        raise AngerLexiconError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def parse_lexicon(data: Mapping) -> Lexicon:
    """Validate the `anger_lexicon` section of the data file and build a Lexicon."""
    section = _mapping(_mapping(data, "file").get("anger_lexicon"), "anger_lexicon")
    terms = []
    for name, category in _mapping(section.get("categories"), "categories").items():
        category = _mapping(category, f"categories.{name}")
        negatable = bool(category.get("negatable", False))
        for text, weight in _mapping(category.get("terms"), f"categories.{name}.terms").items():
            terms.append(_phrase(text, _number(weight, f"{name}: {text}", 0.0, 1.0), negatable))
    intensifiers = [
        _phrase(text, _number(value, f"intensifiers: {text}", -1.0, 2.0))
        for text, value in _mapping(section.get("intensifiers") or {}, "intensifiers").items()
    ]
    signals = _mapping(section.get("signals") or {}, "signals")
    settings = _mapping(section.get("settings") or {}, "settings")
    default_signals, default_lexicon = Signals(), Lexicon((), (), (), (), Signals())

    def signal(group: Text, key: Text, field: Text, count: bool = False) -> float:
        values = _mapping(signals.get(group) or {}, f"signals.{group}")
        low, high = (1, 100) if count else (0, 1)
        return _number(values.get(key, getattr(default_signals, field)), f"signals.{group}.{key}", low, high)

    def setting(key: Text, high: float) -> float:
        return _number(settings.get(key, getattr(default_lexicon, key)), f"settings.{key}", 0, high)

    caps_ignore = _mapping(signals.get("caps") or {}, "signals.caps").get("ignore") or []
    return Lexicon(
        terms=tuple(terms),
        intensifiers=tuple(intensifiers),
        negations=tuple(_phrase(text) for text in section.get("negations") or []),
        exceptions=tuple(_phrase(text) for text in section.get("exceptions") or []),
        signals=Signals(
            exclamation_min_count=int(
                signal("exclamation", "min_count", "exclamation_min_count", count=True)
            ),
            exclamation_weight=signal("exclamation", "weight", "exclamation_weight"),
            question_min_run=int(signal("question", "min_run", "question_min_run", count=True)),
            question_weight=signal("question", "weight", "question_weight"),
            caps_min_words=int(signal("caps", "min_words", "caps_min_words", count=True)),
            caps_min_share=signal("caps", "min_share", "caps_min_share"),
            caps_weight=signal("caps", "weight", "caps_weight"),
            caps_ignore=frozenset(str(word).upper() for word in caps_ignore),
        ),
        accented_share=setting("accented_share", 1.0),
        negation_gap=int(setting("negation_gap", 5)),
        intensifier_gap=int(setting("intensifier_gap", 5)),
    )


class _PhraseIndex:
    """Phrases by their first folded word; the longest phrase that matches wins."""

    def __init__(self, phrases: Iterable[Phrase]) -> None:
        self._by_first: Dict[Text, List[Phrase]] = {}
        for phrase in phrases:
            self._by_first.setdefault(phrase.folded[0], []).append(phrase)

    def find(
        self, words: Sequence[Word], free: Sequence[bool], accented: bool
    ) -> List[Tuple[int, int, Phrase]]:
        """Non-overlapping (start, end, phrase) occurrences on free positions, left to right."""
        found = []
        i = 0
        while i < len(words):
            candidates = [p for _, folded in words[i] for p in self._by_first.get(folded, [])]
            candidates.sort(key=lambda p: -len(p.words))
            phrase = next((p for p in candidates if _matches(p, words, i, free, accented)), None)
            if phrase is None:
                i += 1
            else:
                found.append((i, i + len(phrase.words), phrase))
                i += len(phrase.words)
        return found


def _matches(phrase: Phrase, words: Sequence[Word], start: int, free: Sequence[bool], accented: bool) -> bool:
    end = start + len(phrase.words)
    if end > len(words) or not all(free[start:end]):
        return False
    # with accents typed, trust them ("chăn" is not "chán"); without, any folded match counts
    return all(
        any(
            folded == phrase.folded[k] and (not accented or written == phrase.words[k])
            for written, folded in word
        )
        for k, word in enumerate(words[start:end])
    )


class AngerScorer:
    """Scores a message's anger from 0 to 1 with the lexicon; pure Python, no Rasa."""

    def __init__(self, lexicon: Lexicon, normalizer: Normalizer) -> None:
        self.lexicon = lexicon
        self.normalizer = normalizer
        self._terms = _PhraseIndex(lexicon.terms)
        self._intensifiers = _PhraseIndex(lexicon.intensifiers)
        self._negations = _PhraseIndex(lexicon.negations)
        self._exceptions = _PhraseIndex(lexicon.exceptions)

    @classmethod
    def from_file(cls, path: Optional[Path] = None, teencode_file: Optional[Path] = None) -> "AngerScorer":
        """Build a scorer from the lexicon data file (default `data/anger_lexicon.yml`)."""
        path = Path(path) if path else DEFAULT_LEXICON_FILE
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        try:
            lexicon = parse_lexicon(data)
        except AngerLexiconError as error:
            raise AngerLexiconError(f"{path}: {error}") from error
        return cls(lexicon, Normalizer.from_file(teencode_file))

    def score(self, text: Optional[Text]) -> AngerResult:
        """Anger score of one message and the entries and signals that produced it."""
        cleaned = clean_text(text)
        accented = self._is_accented(cleaned)
        weights: List[float] = []
        matches: List[Text] = []
        for clause in _CLAUSE_BREAK.split(cleaned.lower()):
            for phrase, weight in self._clause_terms(self._words(clause), accented):
                weights.append(weight)
                matches.append(phrase.text)
        for label, weight in self._signals(cleaned):
            weights.append(weight)
            matches.append(label)
        calm = 1.0
        for weight in weights:
            calm *= 1.0 - weight
        return AngerResult(round(1.0 - calm, 3), tuple(matches))

    def _words(self, clause: Text) -> List[Word]:
        """The clause's words with their readings; a multi-word expansion ("bn") becomes several words."""
        words: List[Word] = []
        for typed in _WORD.findall(clause):
            expanded = self.normalizer.expand_word(typed).split()
            if len(expanded) == 1 and expanded[0] != typed:
                words.append(((expanded[0], fold(expanded[0])), (typed, fold(typed))))
            else:
                words.extend(((part, fold(part)),) for part in expanded)
        return words

    def _is_accented(self, cleaned: Text) -> bool:
        """Whether the customer types with accents (enough syllables carry them)."""
        words = [
            w
            for w in _WORD.findall(cleaned.lower())
            if _LETTERS_ONLY.match(w) and w not in self.normalizer.teencode
        ]
        accented = sum(fold(w) != w for w in words)
        return bool(words) and accented / len(words) >= self.lexicon.accented_share

    def _clause_terms(self, words: Sequence[Word], accented: bool) -> List[Tuple[Phrase, float]]:
        """(term, weight after negation and intensifiers) for the lexicon terms of one clause."""
        free = [True] * len(words)
        for start, end, _ in self._exceptions.find(words, free, accented):
            free[start:end] = [False] * (end - start)
        terms = self._terms.find(words, free, accented)
        for start, end, _ in terms:
            free[start:end] = [False] * (end - start)
        negations = self._negations.find(words, free, accented)
        for start, end, _ in negations:
            free[start:end] = [False] * (end - start)
        intensifiers = self._intensifiers.find(words, free, accented)
        boosting = {i for start, end, _ in intensifiers for i in range(start, end)}
        gap = self.lexicon.intensifier_gap
        result = []
        for start, end, term in terms:
            if term.negatable and any(
                n_end <= start
                and sum(i not in boosting for i in range(n_end, start)) <= self.lexicon.negation_gap
                for _, n_end, _ in negations
            ):
                continue
            boosts = [
                p.weight
                for i_start, i_end, p in intensifiers
                if 0 <= start - i_end <= gap or 0 <= i_start - end <= gap
            ]
            boost = max(boosts, key=abs, default=0.0)
            result.append((term, min(1.0, max(0.0, term.weight * (1.0 + boost)))))
        return result

    def _signals(self, cleaned: Text) -> List[Tuple[Text, float]]:
        """("!!!" | "???" | "CAPS", weight) for the punctuation and capitals of the message."""
        signals = self.lexicon.signals
        found = []
        if cleaned.count("!") >= signals.exclamation_min_count:
            found.append(("!!!", signals.exclamation_weight))
        if "?" * signals.question_min_run in cleaned:
            found.append(("???", signals.question_weight))
        words = [w for w in _WORD.findall(cleaned) if _LETTERS_ONLY.match(w)]
        shouted = [w for w in words if len(w) >= 2 and w.isupper() and w not in signals.caps_ignore]
        if len(shouted) >= signals.caps_min_words and len(shouted) / len(words) >= signals.caps_min_share:
            found.append(("CAPS", signals.caps_weight))
        return found


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class AngerDetector(ConfiguredOnly, GraphComponent):
    """Adds `anger` {score, matches} to every message; angry messages get the intent `complain`.

    Config:
        threshold: score from which a message is angry and its intent becomes `complain`
            (default 0.6); the new intent's confidence is the score, the ranking is kept.
        keep_intents: predicted intents an angry message keeps (default: complain_money,
            request_human, account_security, partnership, give_rating).
        lexicon_file: path of the anger lexicon (default `data/anger_lexicon.yml`).
        teencode_file: path of the teencode table (default `data/teencode.yml`).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Default configuration."""
        return {
            "threshold": 0.6,
            "keep_intents": list(DEFAULT_KEEP_INTENTS),
            "lexicon_file": None,
            "teencode_file": None,
        }

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        """Only Vietnamese."""
        return ["vi"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.threshold = float(config["threshold"])
        if not 0.0 < self.threshold <= 1.0:
            raise InvalidConfigException(f"AngerDetector: threshold must be in (0, 1], got {self.threshold}")
        self.keep_intents = set(config.get("keep_intents") or [])
        self.scorer = AngerScorer.from_file(config.get("lexicon_file"), config.get("teencode_file"))

    def process(self, messages: List[Message]) -> List[Message]:
        """Scores every message and overrides the intent of angry ones."""
        for message in messages:
            result = self.scorer.score(message.get(TEXT))
            message.set(ANGER, {"score": result.score, "matches": list(result.matches)}, add_to_output=True)
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if result.score < self.threshold or intent == COMPLAIN or intent in self.keep_intents:
                continue
            logger.debug(
                "Angry message (%.2f, %s): intent %s -> complain", result.score, result.matches, intent
            )
            message.set(
                INTENT,
                {INTENT_NAME_KEY: COMPLAIN, PREDICTED_CONFIDENCE_KEY: result.score},
                add_to_output=True,
            )
        return messages
