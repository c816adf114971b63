"""Recognises a request for a person and makes it `request_human` (KB §10: always honoured).

DIET learns `request_human` from examples, but customers name the person in many ways ("admin ơi",
"cho gặp CSKH", "tổng đài viên nào rảnh vào hỗ trợ", "I need a supervisor") and several of them look
like FAQ questions about the hotline or the staff's hours. A missed request costs a customer who asked
for a person a bot answer, so this component matches a lexicon that content staff edit
(`data/human_request.yml`) on the folded, teencode-expanded words and overrides the intent, unless the
message asks about the staff (hours, hotline, e-mail) or already goes to a person for a more precise
reason. Matching is a scan over the words (linear in the message length).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Text, Tuple

import yaml
from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.configured import ConfiguredOnly
from bot.nlu.selective import message_words
from common.text import PROJECT_ROOT, Normalizer

logger = logging.getLogger(__name__)

DEFAULT_LEXICON_FILE = PROJECT_ROOT / "data" / "human_request.yml"
REQUEST_HUMAN = "request_human"
HUMAN_REQUEST = "human_request"
# intents that already reach a person with a more precise reason
DEFAULT_KEEP_INTENTS = ["complain", "complain_money", "account_security", "partnership"]

Phrase = Tuple[Text, ...]
# "oiiii" -> "oi": letters repeated for emphasis (3 or more) collapse to one
_REPEATED = re.compile(r"(\w)\1{2,}")


def lexicon_words(text: Optional[Text], normalizer: Normalizer) -> List[Text]:
    """The message's words as the lexicon is matched: folded, teencode expanded, repeats collapsed."""
    return [_REPEATED.sub(r"\1", w) for w in message_words(text, normalizer)]


@dataclass(frozen=True)
class HumanRequestLexicon:
    """The word lists of data/human_request.yml as tuples of folded words."""

    people: FrozenSet[Phrase]
    asks: FrozenSet[Phrase]
    presence: FrozenSet[Phrase]
    fillers: FrozenSet[Text]
    phrases: FrozenSet[Phrase]
    not_when: FrozenSet[Phrase]
    vocatives: FrozenSet[Phrase] = frozenset()
    window: int = 4

    @classmethod
    def from_data(cls, data: Mapping[Text, Any]) -> "HumanRequestLexicon":
        """Build from the parsed YAML file."""

        def phrases(key: Text) -> FrozenSet[Phrase]:
            return frozenset(tuple(str(p).lower().split()) for p in data.get(key) or [] if str(p).strip())

        return cls(
            people=phrases("people"),
            asks=phrases("asks"),
            presence=phrases("presence"),
            fillers=frozenset(str(w).lower() for w in data.get("fillers") or []),
            phrases=phrases("phrases"),
            not_when=phrases("not_when"),
            vocatives=phrases("vocatives"),
            window=int(data.get("window") or 4),
        )

    @classmethod
    def from_file(cls, path: Optional[Path] = None) -> "HumanRequestLexicon":
        """Read the lexicon file."""
        with open(path or DEFAULT_LEXICON_FILE, encoding="utf-8") as handle:
            return cls.from_data(yaml.safe_load(handle) or {})


def _spans(words: Sequence[Text], phrases: FrozenSet[Phrase]) -> List[Tuple[int, int]]:
    """(start, end) of every occurrence of any phrase (phrases are at most a few words long)."""
    lengths = sorted({len(p) for p in phrases})
    spans = []
    for start in range(len(words)):
        for length in lengths:
            if tuple(words[start : start + length]) in phrases:
                spans.append((start, start + length))
    return spans


def asks_for_a_person(words: Sequence[Text], lexicon: HumanRequestLexicon) -> Optional[Text]:
    """Which rule says these (folded, expanded) words ask for a person; None when none does."""
    if not words or _spans(words, lexicon.not_when):
        return None
    if _spans(words, lexicon.phrases):
        return "phrase"
    people = _spans(words, lexicon.people)
    if not people:
        return None
    covered = set()
    for start, end in people:
        covered.update(range(start, end))
    if all(i in covered or w in lexicon.fillers for i, w in enumerate(words)):
        return "call"
    asks = _spans(words, lexicon.asks)
    presence = _spans(words, lexicon.presence)
    for person_start, person_end in people:
        vocative = tuple(words[person_start:person_end]) in lexicon.vocatives
        asked_right_before = any(end == person_start for _, end in asks)
        if vocative and not asked_right_before and all(w in lexicon.fillers for w in words[person_end:]):
            continue  # "… được không ad": the page is addressed, not asked for ("gọi admin" is asked)
        if any(end <= person_start and person_start - end <= lexicon.window for _, end in asks):
            return "ask"
        if any(start >= person_end and start - person_end <= 1 for start, _ in presence):
            return "presence"
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class HumanRequestDetector(ConfiguredOnly, GraphComponent):
    """Turns a request for a person into `request_human` (see the module docstring).

    Config:
        lexicon_file: the lexicon (default `data/human_request.yml`).
        teencode_file: teencode table (default `data/teencode.yml`).
        keep_intents: intents left as they are (they reach a person already).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Default configuration."""
        return {"lexicon_file": None, "teencode_file": None, "keep_intents": list(DEFAULT_KEEP_INTENTS)}

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        """Only Vietnamese."""
        return ["vi"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.lexicon = HumanRequestLexicon.from_file(config.get("lexicon_file"))
        self.normalizer = Normalizer.from_file(config.get("teencode_file"))
        self.keep_intents = frozenset(config.get("keep_intents") or []) | {REQUEST_HUMAN}

    def process(self, messages: List[Message]) -> List[Message]:
        """Overrides the intent of messages that ask for a person."""
        for message in messages:
            rule = asks_for_a_person(lexicon_words(message.get(TEXT), self.normalizer), self.lexicon)
            if rule is None:
                continue
            message.set(HUMAN_REQUEST, {"rule": rule}, add_to_output=True)
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if intent in self.keep_intents:
                continue
            logger.debug("Request for a person (%s): intent %s -> request_human", rule, intent)
            message.set(
                INTENT, {INTENT_NAME_KEY: REQUEST_HUMAN, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True
            )
        return messages
