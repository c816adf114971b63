"""Vietnamese text normalisation: Unicode NFC, HTML stripping, teencode and diacritic folding."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.configured import ConfiguredOnly
from bot.nlu.inbound import INBOUND, bounded

# re-exported: the NLU components import them from here
from common.text import (  # noqa: F401
    DEFAULT_TEENCODE_FILE,
    NORMALIZED_TEXT,
    PROJECT_ROOT,
    Normalizer,
    clean_text,
    fold,
    load_teencode,
)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class VietnameseNormalizer(ConfiguredOnly, GraphComponent):
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
            if not message.get(INTENT):  # a customer message, not a training example
                cleaned, facts = bounded(cleaned, message.get(METADATA))
                message.set(INBOUND, facts, add_to_output=True)
            message.set(TEXT, cleaned)
            message.set(NORMALIZED_TEXT, self.normalizer.normalize(cleaned))
        return messages
