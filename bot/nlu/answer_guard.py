"""Sends a message to `nlu_fallback` unless the model is sure which label it has (selective answering).

It takes the place of Rasa's FallbackClassifier (an intent threshold and an ambiguity margin) and
adds what that one cannot see: the FAQ topic's own confidence, whether the chosen label's examples
cover the message's words, and whether the message is readable at all (empty, "😀", "???") or made of
words never seen in training. The signals and the decision are added to the parse result as
`answer_guard`, so the clarification, the studio inbox and the evaluation read the same numbers.
Thresholds are chosen on a development split (`python -m evaluation.tune`), never on the test split.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.inbound import INBOUND
from bot.nlu.selective import (
    CLARIFY,
    FALLBACK_INTENT,
    LabelVocabulary,
    Thresholds,
    inbound_reasons,
    reasons_to_clarify,
    signals_of,
)
from common.text import Normalizer

ANSWER_GUARD = "answer_guard"
VOCABULARY_FILE = "label_vocabulary.json"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class AnswerGuard(GraphComponent, IntentClassifier):
    """Answers only when sure; otherwise `nlu_fallback` (one clarification, then a person).

    Config (see bot/nlu/selective.py for the signals):
        intent_confidence: least confidence of the best intent.
        margin: least lead of the best intent over the second.
        confidence: least confidence of the label (the FAQ topic's for `faq`).
        coverage: least weighted share of the message's words found in the label's examples.
        min_known_ratio: least share of the message's words seen anywhere in training.
        teencode_file: teencode table used to read words (default `data/teencode.yml`).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Default configuration."""
        return {**asdict(Thresholds()), "teencode_file": None}

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        """Only Vietnamese (the word reading folds Vietnamese diacritics and teencode)."""
        return ["vi"]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Optional[LabelVocabulary] = None,
    ) -> None:
        self.thresholds = Thresholds.from_config(config)
        self.normalizer = Normalizer.from_file(config.get("teencode_file"))
        self.vocabulary = vocabulary or LabelVocabulary({})
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "AnswerGuard":
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
    ) -> "AnswerGuard":
        """Loads the label vocabulary saved by `train`."""
        with model_storage.read_from(resource) as directory:
            words = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, LabelVocabulary(words))

    def train(self, training_data: TrainingData) -> Resource:
        """Remembers the words of each label's examples (`faq/<topic>` or the intent)."""
        examples = [
            (m.get(TEXT) or "", m.get(INTENT_RESPONSE_KEY) or m.get(INTENT))
            for m in training_data.intent_examples
            if m.get(INTENT)
        ]
        self.vocabulary = LabelVocabulary.from_examples(examples, self.normalizer)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(self.vocabulary.to_json(), ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the signals to each message; unsure ones get the intent `nlu_fallback`."""
        for message in messages:
            parse = {
                TEXT: message.get(TEXT),
                INTENT: message.get(INTENT),
                INTENT_RANKING_KEY: message.get(INTENT_RANKING_KEY),
                "response_selector": message.get("response_selector"),
            }
            signals = signals_of(parse, self.vocabulary, self.normalizer)
            reasons = reasons_to_clarify(signals, self.thresholds) + inbound_reasons(
                message.get(INBOUND), signals.intent
            )
            message.set(
                ANSWER_GUARD,
                {**signals.as_dict(), "decision": CLARIFY if reasons else "answer", "reasons": reasons},
                add_to_output=True,
            )
            if reasons:
                self._fall_back(message, signals.intent_confidence)
        return messages

    @staticmethod
    def _fall_back(message: Message, confidence: float) -> None:
        """Rasa's FallbackClassifier shape: `nlu_fallback` first, the real ranking kept after it."""
        fallback = {INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0 - confidence}
        message.data[INTENT] = fallback
        ranking = [
            r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != FALLBACK_INTENT
        ]
        message.data[INTENT_RANKING_KEY] = [fallback, *ranking]
