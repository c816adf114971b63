"""Vietnamese text normalisation: Unicode NFC, HTML stripping, teencode and diacritic folding."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEENCODE_FILE = PROJECT_ROOT / "data" / "teencode.yml"
NORMALIZED_TEXT = "normalized_text"

_TAG = re.compile(r"<[^<>]{0,200}>")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


def clean_text(text: Optional[Text]) -> Text:
    """NFC-normalise, drop HTML tags, entities and invisible characters, collapse spaces."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=65536)
def fold(text: Text) -> Text:
    """Lower-case and remove Vietnamese diacritics ("Đổi trả" -> "doi tra")."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped.replace("đ", "d"))


def load_teencode(path: Path = DEFAULT_TEENCODE_FILE) -> Dict[Text, Text]:
    """Read the teencode table (abbreviation -> full word) maintained by content staff."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    table = data.get("teencode") or {}
    return {
        unicodedata.normalize("NFC", str(key)).lower(): unicodedata.normalize("NFC", str(value)).lower()
        for key, value in table.items()
    }


class Normalizer:
    """Expands teencode and folds diacritics, word by word."""

    def __init__(self, teencode: Dict[Text, Text]) -> None:
        self.teencode = teencode

    @classmethod
    def from_file(cls, path: Optional[Path] = None) -> "Normalizer":
        """Build a normaliser from the teencode data file."""
        return cls(load_teencode(Path(path) if path else DEFAULT_TEENCODE_FILE))

    def expand_word(self, word: Text) -> Text:
        """Full form of one lower-cased syllable ("ko" -> "không"), or the syllable itself."""
        return self.teencode.get(word, word)

    def normalize(self, text: Text) -> Text:
        """Lower-cased text with every teencode word expanded (diacritics kept)."""
        return _WORD.sub(lambda m: self.expand_word(m.group(0)), clean_text(text).lower())

    def lemma(self, token_text: Text) -> Text:
        """Diacritic-insensitive feature form of a token: expanded, folded, syllables space-joined."""
        return fold(" ".join(self.expand_word(part) for part in token_text.lower().split()))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class VietnameseNormalizer(GraphComponent):
    """Cleans message text (NFC, no HTML) before tokenisation and stores a teencode-expanded copy.

    Config:
        teencode_file: path of the teencode table (default `data/teencode.yml`).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Default configuration."""
        return {"teencode_file": None}

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        """Only Vietnamese."""
        return ["vi"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.normalizer = Normalizer.from_file(config.get("teencode_file"))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "VietnameseNormalizer":
        """Creates the component."""
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalises every training example."""
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Normalises the text of incoming messages."""
        for message in messages:
            text = message.get(TEXT)
            if text is None:
                continue
            cleaned = clean_text(text)
            message.set(TEXT, cleaned)
            message.set(NORMALIZED_TEXT, self.normalizer.normalize(cleaned))
        return messages
