"""bot/inference.py: the direct graph call gives exactly what Rasa's tf.function gives."""

import asyncio

import numpy as np
import pytest
from rasa.core.agent import Agent

from bot.inference import _DirectCall
from bot.nlu.classifiers import DirectDIETClassifier, DirectResponseSelector
from bot.settings import PROJECT_ROOT
from evaluation.sets import all_items

MODEL = PROJECT_ROOT / "models" / "senmart.tar.gz"


@pytest.fixture(scope="module")
def agent():
    return Agent.load(str(MODEL))


def _components(agent):
    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    return [
        n._component
        for n in nodes
        if isinstance(n._component, (DirectDIETClassifier, DirectResponseSelector))
    ]


def _same(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        if isinstance(a[key], dict):
            _same(a[key], b[key])
        else:
            assert np.array_equal(np.asarray(a[key]), np.asarray(b[key])), key


def test_both_classifiers_switch_to_the_direct_call_after_their_first_message(agent):
    asyncio.run(agent.parse_message("phí ship bao nhiêu vậy"))
    components = _components(agent)
    assert {type(c) for c in components} == {DirectDIETClassifier, DirectResponseSelector}
    for component in components:
        assert isinstance(component.model._tf_predict_step, _DirectCall)


def test_direct_call_outputs_equal_tf_function_outputs(agent):
    """Every styled evaluation message (short, long, teencode, English mixed, emoji…) through both
    models: the direct call and Rasa's tf.function give the same arrays."""
    asyncio.run(agent.parse_message("chào shop"))
    texts = [item.text for item in all_items()][::4] + ["", "😡😡😡", "<b>hi</b>", "a" * 1200]
    batches = {id(c): [] for c in _components(agent)}
    for component in _components(agent):
        model = component.model
        original = model._rasa_predict

        def record(batch_in, model=model, original=original, key=id(component)):
            batches[key].append(batch_in)
            return original(batch_in)

        model._rasa_predict = record

    async def parse_all():
        for text in texts:
            await agent.parse_message(text)

    asyncio.run(parse_all())
    for component in _components(agent):
        direct = component.model._tf_predict_step
        assert isinstance(direct, _DirectCall)
        assert len(batches[id(component)]) >= len(texts) - 2  # empty messages may skip the model
        for batch_in in batches[id(component)]:
            _same(direct(batch_in), direct.function(batch_in))
        assert not direct.failed
        del component.model._rasa_predict


def test_a_batch_that_does_not_fit_the_graph_goes_back_to_tf_function(agent):
    asyncio.run(agent.parse_message("đổi trả trong bao lâu"))
    component = _components(agent)[0]
    direct = component.model._tf_predict_step
    calls = []

    def function(batch_in):
        calls.append(batch_in)
        return {"answered": True}

    broken = _DirectCall.__new__(_DirectCall)
    broken.function, broken.concrete, broken.failed = function, direct.concrete, False
    assert broken(("not", "the", "inputs")) == {"answered": True}
    assert broken.failed and len(calls) == 1
    assert broken(("again",)) == {"answered": True}  # stays on tf.function
    assert len(calls) == 2
