"""bot.policies.ted.StateCachedTEDPolicy answers exactly what the trained TED model answers.

Every prediction point of the stories and rules the bot was trained on (plus the story tests) is
predicted twice by the trained model's graph: once with the cache shared across all of them (so most
answers come from the cache, possibly stored by another conversation in the same states) and once with an
empty cache (the transformer runs). The probabilities must be identical: a cache key that missed
something TED looks at would hand one conversation another's prediction.
"""

import pytest
from rasa.core.agent import Agent
from rasa.core.training import load_data
from rasa.engine.constants import PLACEHOLDER_TRACKER
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies.ted import StateCachedTEDPolicy
from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "senmart.tar.gz"
DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def ted_node():
    agent = Agent.load(str(MODEL))
    runner = agent.processor.graph_runner
    names = [
        name
        for name, node in agent.processor.model_metadata.predict_schema.nodes.items()
        if node.uses is StateCachedTEDPolicy
    ]
    assert len(names) == 1, names
    node = runner._instantiated_nodes[names[0]]
    return runner, names[0], node._component


def _prediction_points():
    """(conversation name, events before a bot action) for every action of every training story."""
    trackers = load_data(str(PROJECT_ROOT / "data" / "stories"), DOMAIN, augmentation_factor=0)
    trackers += load_data(str(PROJECT_ROOT / "tests" / "test_stories.yml"), DOMAIN, augmentation_factor=0)
    points = []
    for tracker in trackers:
        events = list(tracker.events)
        for index, event in enumerate(events):
            if isinstance(event, ActionExecuted) and index > 0:
                points.append((tracker.sender_id, events[:index]))
    return points


def _predict(runner, name, events):
    tracker = DialogueStateTracker.from_events("ted-cache", events, slots=DOMAIN.slots)
    return runner.run(inputs={PLACEHOLDER_TRACKER: tracker}, targets=[name])[name]


def test_cached_predictions_are_the_models_predictions(ted_node):
    runner, name, policy = ted_node
    assert policy._cacheable()
    points = _prediction_points()
    assert len(points) > 200

    policy._cache.clear()
    shared = [_predict(runner, name, events).probabilities for _, events in points]
    assert policy.cache_hits > len(points) // 3  # many points reuse a stored prediction
    distinct_states = len(policy._cache)
    assert distinct_states > 30

    mismatches = []
    for (story, events), cached in zip(points, shared):
        policy._cache.clear()
        fresh = _predict(runner, name, events).probabilities
        if fresh != cached:
            mismatches.append((story, events[-1]))
    assert mismatches == []


def test_cache_is_bounded_and_least_recently_used_goes_first(ted_node):
    runner, name, policy = ted_node
    points = _prediction_points()
    policy._cache.clear()
    size = policy._cache_size
    policy._cache_size = 5
    try:
        for _, events in points[:60]:
            _predict(runner, name, events)
        assert len(policy._cache) == 5
        newest = next(reversed(policy._cache))
        _predict(runner, name, points[59][1])  # the latest states: a hit, stays newest
        assert next(reversed(policy._cache)) == newest
    finally:
        policy._cache_size = size
        policy._cache.clear()
