"""Routes messages the model cannot have understood to the fallback.

A classifier always picks some intent, even for "😀", "???" or "xqzw plorb" (DIET gave
the latter `greet` with high confidence here). This component, placed after the classifiers,
sets the intent to nlu_fallback when the text has no letter or digit, or when too few of its
words were ever seen in the training data.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Set, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_READABLE = re.compile(r"\w", re.UNICODE)
_LETTERS_ONLY = re.compile(r"^[^\W\d_]+$", re.UNICODE)
VOCABULARY_FILE = "vocabulary.json"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class InputGuard(GraphComponent):
    """Sends unreadable or out-of-vocabulary messages to nlu_fallback.

    Config:
        min_known_ratio: share of a message's words (letters only, as token lemmas: folded,
            teencode-expanded syllables) that must occur in the training examples (default 0.4).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Default configuration."""
        return {"min_known_ratio": 0.4}

    @staticmethod
    def required_components() -> List[type]:
        """Needs token lemmas."""
        return [Tokenizer]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Optional[Set[Text]] = None,
    ) -> None:
        self.min_known_ratio = float(config["min_known_ratio"])
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary or set()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "InputGuard":
        """Creates an untrained component."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "InputGuard":
        """Loads the vocabulary saved by `train`."""
        with model_storage.read_from(resource) as directory:
            words = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, set(words))

    @staticmethod
    def _words(message: Message) -> List[Text]:
        words: List[Text] = []
        for token in message.get(TOKENS_NAMES[TEXT]) or []:
            words.extend(w for w in (token.lemma or token.text).split() if _LETTERS_ONLY.match(w))
        return words

    def train(self, training_data: TrainingData) -> Resource:
        """Remembers every word of the training examples."""
        for example in training_data.intent_examples:
            self.vocabulary.update(self._words(example))
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(sorted(self.vocabulary), ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    def known_ratio(self, message: Message) -> Optional[float]:
        """Share of the message's words seen in training; None when it has no words."""
        words = self._words(message)
        if not words:
            return None
        return sum(w in self.vocabulary for w in words) / len(words)

    def process(self, messages: List[Message]) -> List[Message]:
        """Overrides the intent of messages nothing can be understood from."""
        for message in messages:
            unreadable = not _READABLE.search(message.get(TEXT) or "")
            ratio = None if unreadable else self.known_ratio(message)
            if unreadable or (ratio is not None and ratio < self.min_known_ratio):
                message.set(
                    INTENT,
                    {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0},
                    add_to_output=True,
                )
        return messages
