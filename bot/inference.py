"""Calls a trained Rasa TensorFlow model's prediction graph directly: `DirectInference`.

Rasa wraps each model's `predict_step` in a `tf.function` with a dynamic input signature and calls it with
the batch for every message. For our small models most of that call is TensorFlow's Python dispatch
(canonicalising the ~8 input arrays into a signature and looking the graph up), not the graph itself:
measured here, DIET 1.7 ms per call of which 1.1 ms is the graph, the ResponseSelector 1.0 ms of which
0.5 ms. After the first prediction has built the graph, `DirectInference` calls that same concrete graph
with the flattened inputs, so the outputs are those of the same graph (tests/bot/test_inference.py
compares them); if a call does not fit the graph it goes back to Rasa's path for good.

Mixed into the classifiers and the TED policy in bot/nlu/classifiers.py and bot/policies/ted.py;
TensorFlow is pinned (constraints.txt), and `_call_flat` is the entry point `tf.function` itself uses.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context
from tensorflow.python.framework import ops

logger = logging.getLogger(__name__)


def _tensor(value: Any) -> tf.Tensor:
    """`tf.convert_to_tensor(value)` without its dispatch layers for a NumPy array (the eager tensor it
    builds in the end, same dtype inferred): 7 instead of 18 µs, for each of the ~10 inputs of a call."""
    if isinstance(value, np.ndarray):
        return ops.EagerTensor(value, context.context().device_name, None)
    return tf.convert_to_tensor(value)


class _DirectCall:
    """Stands in for a model's `_tf_predict_step`: the concrete graph called with flat tensors."""

    def __init__(self, function: Callable) -> None:
        self.function = function
        self.concrete = function.get_concrete_function(*function.input_signature)
        self.failed = False

    def __call__(self, batch_in: Tuple[np.ndarray, ...]) -> Dict[str, Any]:
        if not self.failed:
            try:
                flat = [_tensor(value) for value in tf.nest.flatten(batch_in)]
                return self.concrete._call_flat(flat, self.concrete.captured_inputs)
            except (TypeError, ValueError, tf.errors.InvalidArgumentError) as problem:
                self.failed = True
                logger.warning("Direct model call failed (%s); using tf.function from now on.", problem)
        return self.function(batch_in)


class DirectInference:
    """Mixin for a Rasa component with a `model` (a RasaModel): after the model's first prediction, its
    `tf.function` is replaced by a direct call of the same concrete graph."""

    model: Optional[Any]

    def _use_direct_call(self) -> None:
        model = getattr(self, "model", None)
        step = getattr(model, "_tf_predict_step", None)
        if step is None or isinstance(step, _DirectCall) or getattr(model, "_run_eagerly", False):
            return
        if getattr(step, "input_signature", None) is None:
            return
        model._tf_predict_step = _DirectCall(step)
