"""TEDPolicy that predicts each dialogue state once: `bot.policies.ted.StateCachedTEDPolicy`.

Rasa runs every policy at every prediction (two per customer message: the answer, then `action_listen`),
and TED featurises the states and runs its transformer each time although the rules and memoisation
decide almost every turn of this bot. TED's prediction is a pure function of the dialogue states it sees
(the last `max_history` turns: intent, entity names, featurised slots, active loop, previous action) when
it is trained on intents, not on end-to-end text. So the prediction for a sequence of states is kept in a
bounded LRU cache keyed by those states: the second customer in the same situation costs the state
computation (which Memoization and RulePolicy do anyway) instead of the transformer. The answer is
bit-for-bit the one the model would give (tests/bot/test_ted_cache.py compares them).

An end-to-end TED (trained on user text) is not cached: its prediction depends on the words.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.featurizers.precomputation import MessageContainerForCoreFeaturization
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

from bot.inference import DirectInference

CACHE_SIZE_KEY = "prediction_cache_size"
DEFAULT_CACHE_SIZE = 4096


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True)
class StateCachedTEDPolicy(DirectInference, TEDPolicy):
    """TEDPolicy with an LRU cache of its predictions keyed by the dialogue states it is given (and its
    graph called directly on a miss, bot/inference.py)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**TEDPolicy.get_default_config(), CACHE_SIZE_KEY: DEFAULT_CACHE_SIZE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cache_size = int(self.config.get(CACHE_SIZE_KEY, DEFAULT_CACHE_SIZE))
        self._cache: "OrderedDict[Text, Tuple[List[float], bool, Optional[Dict[Text, Any]]]]" = OrderedDict()
        self.cache_hits = 0
        self.cache_misses = 0

    def _cacheable(self) -> bool:
        # trained on text: the last user message's words decide, not only its intent
        return self._cache_size > 0 and self.model is not None and TEXT not in self.fake_features

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        precomputations: Optional[MessageContainerForCoreFeaturization] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        if not self._cacheable():
            prediction = super().predict_action_probabilities(
                tracker, domain, rule_only_data=rule_only_data, precomputations=precomputations, **kwargs
            )
            self._use_direct_call()
            return prediction
        # the same states TEDPolicy featurises (Policy._featurize_for_prediction with intents)
        states = self._prediction_states(tracker, domain, rule_only_data=rule_only_data)
        key = json.dumps(states, sort_keys=True, default=list, ensure_ascii=False)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            self.cache_hits += 1
            probabilities, is_end_to_end, diagnostic_data = cached
            return self._prediction(
                list(probabilities), is_end_to_end_prediction=is_end_to_end, diagnostic_data=diagnostic_data
            )
        self.cache_misses += 1
        prediction = super().predict_action_probabilities(
            tracker, domain, rule_only_data=rule_only_data, precomputations=precomputations, **kwargs
        )
        self._use_direct_call()
        if not prediction.optional_events and not prediction.events:
            self._cache[key] = (
                list(prediction.probabilities),
                prediction.is_end_to_end_prediction,
                prediction.diagnostic_data,
            )
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return prediction
