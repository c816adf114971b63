"""Routes messages with nothing readable in them (empty, emoji or punctuation only) to the fallback."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

_READABLE = re.compile(r"\w", re.UNICODE)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class InputGuard(GraphComponent):
    """Sets the intent to nlu_fallback when the text has no letter or digit.

    A classifier always picks some intent, even for "😀" or "???"; the fallback
    action then asks the customer to type the question in words. Put it last.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """No configuration."""
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "InputGuard":
        """Creates the component."""
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Overrides the intent of unreadable messages."""
        for message in messages:
            if not _READABLE.search(message.get(TEXT) or ""):
                message.set(
                    INTENT,
                    {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0},
                    add_to_output=True,
                )
        return messages
