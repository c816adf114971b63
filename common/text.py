"""Vietnamese text helpers without Rasa: cleaning, diacritic folding, teencode expansion.

The NLU components (bot/nlu/normalizer.py …) and the content studio / handoff service use the same
functions; this module imports no Rasa (nor TensorFlow), so the staff web server stays light.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional, Text, Tuple

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEENCODE_FILE = PROJECT_ROOT / "data" / "teencode.yml"
NORMALIZED_TEXT = "normalized_text"

_TAG = re.compile(r"<[^<>]{0,200}>")
# a pasted <script>/<style> element: its content is code, not what the customer asks (bounded: linear)
_CODE_ELEMENT = re.compile(r"<(script|style)\b[^<>]{0,200}>[^<]{0,5000}</\1\s*>", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


def clean_text(text: Optional[Text]) -> Text:
    """NFC-normalise, drop HTML tags (and script/style code), entities and invisible characters, collapse
    spaces."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = _CODE_ELEMENT.sub(" ", text)
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


class TeencodeFile:
    """A Normalizer for a teencode file that content staff edit, re-read when the file changes."""

    def __init__(self, path: Optional[Path] = DEFAULT_TEENCODE_FILE) -> None:
        self.path = Path(path) if path else None
        self._cache: Optional[Tuple[float, Normalizer]] = None

    def normalizer(self) -> Normalizer:
        """The current table (an empty one when the file is missing; the previous one when it breaks)."""
        if self.path is None:
            return Normalizer({})
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return self._cache[1] if self._cache else Normalizer({})
        if self._cache is None or self._cache[0] != mtime:
            try:
                self._cache = (mtime, Normalizer.from_file(self.path))
            except (OSError, ValueError, AttributeError, yaml.YAMLError):
                if self._cache is None:
                    return Normalizer({})
        return self._cache[1]

    def folded_words(self, text: Text) -> Text:
        """Teencode expanded, no diacritics, words space-joined ("Phí ship bn?" → "phi ship bao nhieu")."""
        return " ".join(_WORD.findall(fold(self.normalizer().normalize(text))))
