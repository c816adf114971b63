"""underthesea tokenizer: multi-syllable words, offsets into the original text, folded lemmas."""

import unicodedata

import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.tokenizer import VietnameseTokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return VietnameseTokenizer(VietnameseTokenizer.get_default_config())


def tokens(tokenizer, text):
    return tokenizer.tokenize(Message({TEXT: text}), TEXT)


def test_multi_syllable_words_are_one_token(tokenizer):
    texts = [t.text for t in tokens(tokenizer, "Tôi muốn hỏi về chính sách thanh toán")]
    assert "chính sách" in texts and "thanh toán" in texts


def test_offsets_point_into_original_text(tokenizer):
    text = "Phí  ship   bn vậy ạ?"
    result = tokens(tokenizer, text)
    assert [t.text for t in result] == ["Phí", "ship", "bn", "vậy", "ạ"]
    assert all(text[t.start : t.end] == t.text for t in result)


def test_lemmas_are_folded_and_expanded(tokenizer):
    assert [t.lemma for t in tokens(tokenizer, "ko dc đổi SĐT")] == ["khong", "duoc", "doi", "so dien thoai"]


def test_same_lemmas_with_and_without_diacritics(tokenizer):
    with_marks = " ".join(t.lemma for t in tokens(tokenizer, "thanh toán khi nhận hàng"))
    without = " ".join(t.lemma for t in tokens(tokenizer, "thanh toan khi nhan hang"))
    assert with_marks == without == "thanh toan khi nhan hang"


def test_nfd_input_keeps_valid_offsets(tokenizer):
    text = unicodedata.normalize("NFD", "đổi trả hàng")
    result = tokens(tokenizer, text)
    assert result and all(text[t.start : t.end] == t.text for t in result)


def test_punctuation_dropped_but_emoji_only_kept(tokenizer):
    assert [t.text for t in tokens(tokenizer, "chào!!! 😀")] == ["chào"]
    assert [t.text for t in tokens(tokenizer, "😀😀")] == ["😀", "😀"]


def test_empty_text_has_no_tokens(tokenizer):
    assert tokens(tokenizer, "") == []


def test_long_message(tokenizer):
    text = "phí ship bao nhiêu " * 300
    result = tokens(tokenizer, text)
    assert len(result) >= 900 and all(text[t.start : t.end] == t.text for t in result)
