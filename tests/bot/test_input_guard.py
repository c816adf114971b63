"""InputGuard: unreadable and out-of-vocabulary messages go to nlu_fallback; vocabulary persists."""

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.input_guard import InputGuard
from bot.nlu.tokenizer import VietnameseTokenizer

TOKENIZER = VietnameseTokenizer(VietnameseTokenizer.get_default_config())


def message(text, intent=None):
    data = {TEXT: text}
    if intent:
        data[INTENT] = intent
    msg = Message(data)
    TOKENIZER.process([msg])
    return msg


@pytest.fixture()
def trained(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("guard")
    context = ExecutionContext(graph_schema=None, model_id="1")
    guard = InputGuard.create(InputGuard.get_default_config(), storage, resource, context)
    examples = [
        message("phí ship bao nhiêu", "faq"),
        message("chào shop", "greet"),
        message("ko dc à", "inform"),
    ]
    guard.train(TrainingData(examples))
    return InputGuard.load(InputGuard.get_default_config(), storage, resource, context)


def predicted(guard, text):
    msg = message(text)
    msg.set(INTENT, {"name": "greet", "confidence": 0.97}, add_to_output=True)
    guard.process([msg])
    return msg.get(INTENT)["name"]


@pytest.mark.parametrize(
    "text, intent",
    [
        ("xqzw plorb vmmk", "nlu_fallback"),
        ("", "nlu_fallback"),
        ("😀😀", "nlu_fallback"),
        ("???", "nlu_fallback"),
        ("phi ship bn", "greet"),  # folded + teencode: all words known
        ("chào shop nhé", "greet"),  # 2 of 3 known
        ("SM12345678", "greet"),  # no letters-only word: not judged
        ("shop ơi xqzw plorb vmmk", "nlu_fallback"),  # 1 of 5 known
    ],
)
def test_guard(trained, text, intent):
    assert predicted(trained, text) == intent


def test_vocabulary_is_folded_lemmas(trained):
    assert {"phi", "giao", "hang", "bao", "nhieu", "chao", "khong", "duoc"} <= trained.vocabulary
