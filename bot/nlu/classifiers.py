"""Rasa's DIETClassifier and ResponseSelector with direct calls of their graphs (bot/inference.py).

Same training, same models, same outputs; only the per-message call into TensorFlow is cheaper.
Registered by module path in config.yml.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text, Union

import tensorflow as tf
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.training_data.message import Message

from bot.inference import DirectInference


class _DirectPredict(DirectInference):
    """`_predict` of Rasa's DIET family, switching to the direct graph call after the first message."""

    def _predict(self, message: Message) -> Optional[Dict[Text, Union[tf.Tensor, Dict[Text, Any]]]]:
        output = super()._predict(message)  # type: ignore[misc]
        self._use_direct_call()
        return output


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class DirectDIETClassifier(_DirectPredict, DIETClassifier):
    """DIETClassifier whose predictions call the graph directly after the first."""


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class DirectResponseSelector(_DirectPredict, ResponseSelector):
    """ResponseSelector whose predictions call the graph directly after the first."""
