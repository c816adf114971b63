"""Normaliser: NFC, HTML, teencode, diacritic folding."""

import unicodedata

import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.normalizer import (
    NORMALIZED_TEXT,
    Normalizer,
    VietnameseNormalizer,
    clean_text,
    fold,
    load_teencode,
)


@pytest.fixture(scope="module")
def normalizer():
    return Normalizer.from_file()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Đổi trả", "doi tra"),
        ("PHÍ SHIP", "phi ship"),
        ("Hoà hòa", "hoa hoa"),
        ("được", "duoc"),
        ("kim cương", "kim cuong"),
    ],
)
def test_fold(text, expected):
    assert fold(text) == expected


def test_clean_text_nfc_html_spaces():
    nfd = unicodedata.normalize("NFD", "phí ship")
    assert clean_text(f"  <b>{nfd}</b>\u200b   bao nhiêu &amp; <i>x</i> ") == "phí ship bao nhiêu & x"


def test_clean_text_drops_pasted_code():
    # the content of <script>/<style> is code, not the question; a tag alone just goes
    assert clean_text("<script>alert('x')</script> phí ship bao nhiêu?") == "phí ship bao nhiêu?"
    assert clean_text("<STYLE type='x'>p{color:red}</Style>đổi trả") == "đổi trả"
    assert clean_text("<script>không đóng thẻ") == "không đóng thẻ"


def test_clean_text_on_many_unclosed_scripts():
    # bounded patterns: each "<script" start scans at most 5,000 characters (no timing asserted here)
    text = "<script>" + "a" * 4000 + " <script>" * 2000
    assert clean_text(text) == "a" * 4000


def test_clean_text_empty():
    assert clean_text(None) == "" and clean_text("   ") == ""


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ko dc à", "không được à"),
        ("k đc", "không được"),
        ("hk bt", "không bt"),
        ("Phí ship bn", "phí giao hàng bao nhiêu"),
        ("cho mik sdt vs", "cho mình số điện thoại với"),
        ("sao z", "sao vậy"),
        ("mua j", "mua gì"),
        ("tks ad", "cảm ơn ad"),
        ("450k", "450k"),
        ("ạ", "ạ"),
    ],
)
def test_teencode(normalizer, text, expected):
    assert normalizer.normalize(text) == expected


@pytest.mark.parametrize(
    "token, lemma",
    [("ko", "khong"), ("Đổi trả", "doi tra"), ("sdt", "so dien thoai"), ("ship", "giao hang"), ("ạ", "a")],
)
def test_lemma(normalizer, token, lemma):
    assert normalizer.lemma(token) == lemma


def test_teencode_file_is_data(tmp_path):
    path = tmp_path / "teencode.yml"
    path.write_text("version: 1\nteencode:\n  ntn: như thế nào\n  QQ: quá quá\n", encoding="utf-8")
    table = load_teencode(path)
    assert table == {"ntn": "như thế nào", "qq": "quá quá"}
    assert Normalizer(table).normalize("sao ntn QQ") == "sao như thế nào quá quá"


def test_component_sets_clean_text_and_normalized_copy():
    component = VietnameseNormalizer(VietnameseNormalizer.get_default_config())
    message = Message({TEXT: "<i>Ship</i>  ko dc  "})
    component.process([message])
    assert message.get(TEXT) == "Ship ko dc"
    assert message.get(NORMALIZED_TEXT) == "giao hàng không được"
