"""HumanRequestDetector: asking for a person becomes request_human; questions about staff do not."""

import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.human_request import HumanRequestDetector, HumanRequestLexicon, asks_for_a_person, lexicon_words
from common.text import Normalizer

DETECTOR = HumanRequestDetector(HumanRequestDetector.get_default_config())
NORMALIZER = Normalizer.from_file()
LEXICON = HumanRequestLexicon.from_file()


def intent_after(text, intent="faq"):
    message = Message({TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": 0.99}, add_to_output=True)
    DETECTOR.process([message])
    return message.get(INTENT)["name"]


@pytest.mark.parametrize(
    "text",
    [
        "admin ơi",
        "ADMIN ƠIIIII",
        "nv đâu rồi",
        "cho mình gặp CSKH",
        "kết nối giúp mình với tư vấn viên",
        "tổng đài viên nào đang trực vào giúp mình",
        "mình cần nói chuyện với quản lý",
        "gap nguoi that di",
        "có ai trực không",
        "có ai đó đọc tin nhắn này không",
        "I want to talk to a real person",
        "connect me with an agent please",
        "không muốn chat với bot nữa",
        "mình muốn khiếu nại trực tiếp với người phụ trách",
    ],
)
def test_requests_for_a_person(text):
    assert intent_after(text) == "request_human"


@pytest.mark.parametrize(
    "text",
    [
        "nhân viên làm việc mấy giờ",  # faq/agent_hours
        "chủ nhật có nhân viên trực không",
        "cho xin số tổng đài chăm sóc khách hàng",  # faq/hotline
        "email của bộ phận CSKH là gì",
        "có người gọi tự xưng nhân viên SenMart xin mã OTP",  # faq/scam_warning
        "hẹn gặp lại ad nhé",
        "ad ơi phí ship bao nhiêu",  # addressing the page, not asking for a person
        "shipper giao hàng thái độ quá tệ",
        "cho mình hỏi shop có bán áo khoác không",
    ],
)
def test_questions_about_staff_or_addressing_the_page_are_not_requests(text):
    assert intent_after(text) == "faq"


def test_more_precise_handoff_intents_are_kept():
    assert intent_after("nhờ nhân viên đổi số điện thoại đăng nhập", "account_security") == "account_security"


def test_words_are_folded_expanded_and_unrepeated():
    assert lexicon_words("NV ơiiii, gặp ng thật", NORMALIZER) == [
        "nhan",
        "vien",
        "oi",
        "gap",
        "nguoi",
        "that",
    ]


def test_rule_names():
    assert asks_for_a_person(["admin", "oi"], LEXICON) == "call"
    assert asks_for_a_person(["cho", "minh", "gap", "nhan", "vien"], LEXICON) == "ask"
    assert asks_for_a_person(["nhan", "vien", "nao", "truc", "chat"], LEXICON) == "presence"
    assert asks_for_a_person(["co", "ai", "truc", "khong"], LEXICON) == "phrase"
    assert asks_for_a_person([], LEXICON) is None


@pytest.mark.parametrize(
    "text, intent",
    [
        ("shop có nhận chuyển khoản ngân hàng ko ad", "faq"),  # "ad" at the end addresses the page
        ("gọi admin giúp mình với", "request_human"),  # "gọi admin": the admin is asked for
        ("ban đêm nhân viên chat đã nghỉ thì mình gọi số nào", "faq"),
    ],
)
def test_addressing_the_page_at_the_end_is_not_a_request(text, intent):
    assert intent_after(text) == intent
