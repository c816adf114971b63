"""Vietnamese word-segmenting tokenizer built on underthesea."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.configured import ConfiguredOnly
from bot.nlu.normalizer import Normalizer

_HAS_WORD_CHAR = re.compile(r"\w", re.UNICODE)
_FALLBACK_TOKENS = re.compile(r"\w+|[^\w\s]", re.UNICODE)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class VietnameseTokenizer(ConfiguredOnly, Tokenizer):
    """Segments Vietnamese into words ("đổi trả" is one token) with diacritic-folded lemmas.

    `token.text` is the customer's own spelling (offsets point into the message);
    `token.lemma` is the teencode-expanded, lower-cased, diacritic-free form with
    syllables joined by spaces, so CountVectorsFeaturizer (`use_lemma: true`) sees
    "đổi trả", "doi tra" and "đổi  trả" alike.

    Config:
        teencode_file: teencode table for lemmas (default `data/teencode.yml`).
        keep_punctuation: keep tokens without letters or digits (default False).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Default configuration (the first four keys are read by the base class)."""
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            "teencode_file": None,
            "keep_punctuation": False,
        }

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        """Only Vietnamese."""
        return ["vi"]

    @staticmethod
    def required_packages() -> List[Text]:
        """Word segmentation comes from underthesea."""
        return ["underthesea"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self.normalizer = Normalizer.from_file(config.get("teencode_file"))
        self.keep_punctuation = bool(config.get("keep_punctuation"))
        # load underthesea and its CRF model with the component, not during a customer's first message
        # (measured: 0.4 s the first message of each Rasa worker would otherwise wait)
        self.word_spans("khởi động")

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        """Splits the attribute's text into word tokens with offsets and folded lemmas."""
        text = message.get(attribute) or ""
        spans = self.word_spans(text)
        if not self.keep_punctuation:
            words_only = [s for s in spans if _HAS_WORD_CHAR.search(text[s[0] : s[1]])]
            # a message of only emoji/punctuation keeps its symbols so it is not empty
            spans = words_only or spans
        tokens = [
            Token(text[start:end], start, end, lemma=self.normalizer.lemma(text[start:end]))
            for start, end in spans
        ]
        return self._apply_token_pattern(tokens)

    @staticmethod
    def word_spans(text: Text) -> List[tuple]:
        """Character spans of underthesea's words in `text` (robust to spacing changes)."""
        from underthesea import word_tokenize  # 0.4 s import; only where it is used

        try:
            words = word_tokenize(text, use_token_normalize=False)
        except Exception:  # underthesea fails on rare inputs; plain split still works
            words = []
        spans = []
        position = 0
        for word in words:
            syllables = word.split()
            starts_ends = []
            cursor = position
            for syllable in syllables:
                found = text.find(syllable, cursor)
                if found < 0:
                    break
                starts_ends.append((found, found + len(syllable)))
                cursor = found + len(syllable)
            if not syllables or len(starts_ends) != len(syllables):
                # underthesea rewrote the text: fall back to a plain split of the whole text
                return [m.span() for m in _FALLBACK_TOKENS.finditer(text)]
            spans.append((starts_ends[0][0], starts_ends[-1][1]))
            position = cursor
        return spans
