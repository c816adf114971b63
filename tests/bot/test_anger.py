"""Anger scorer and AngerDetector: lexicon data file, folding collisions, intent override."""

import pytest
import yaml
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.anger import (
    DEFAULT_LEXICON_FILE,
    AngerDetector,
    AngerLexiconError,
    AngerScorer,
    parse_lexicon,
)
from bot.nlu.normalizer import fold

THRESHOLD = AngerDetector.get_default_config()["threshold"]


@pytest.fixture(scope="module")
def scorer():
    return AngerScorer.from_file()


ANGRY = [
    # insults, profanity
    "đm shop làm ăn kiểu gì vậy",
    "dm shop lam an kieu j v",  # no accents + teencode
    "bot ngu vl",
    "ngu thế, hỏi gì cũng không biết",
    "đồ lừa đảo",
    "lừa đảo à",
    "lua dao a",  # "a" read as "à", not teencode "anh"
    "vcl đợi mãi không thấy hàng",
    "nv thái độ láo toét",
    "hàng như rác",
    # threats
    "tôi sẽ báo công an",
    "toi se kien cac nguoi ra toa",
    "mai tôi bóc phốt lên mạng cho mọi người biết",
    "tôi sẽ tẩy chay SenMart",
    "ko giai quyet thi toi bao len hoi bao ve nguoi tieu dung",
    # strong negative, intensified
    "dịch vụ gì mà tệ thế",
    "dich vu gi ma te the",
    "bực mình quá",
    "buc minh qua",
    "tức quá đi mất",
    "tuc qua",
    "đợi z mà cũng đc à, tức thật",
    "mk bực lắm r đấy",
    "làm ăn vô trách nhiệm",
    "rất thất vọng về SenMart",
    "như vậy là quá đáng",
    "ko chấp nhận đc",
    "thái độ nhân viên quá tệ",
    "cực kỳ bức xúc",
    "không ai trả lời, tệ quá",
    # shouting and punctuation on top of a negative word
    "SHOP LÀM ĂN NHƯ VẬY À!!!",
    "THÁI ĐỘ GÌ VẬY HẢ??? TỆ",
    "tệ!!!",
]

CALM = [
    # folding collisions listed as exceptions in the data file
    "tức là mình phải đợi 24 giờ à",
    "tuc la phai doi 24h a",
    "nạp tiền có vào tức thì không",
    "tiep tuc dat hang ntn",
    "thu tuc doi tra the nao",
    "mua chăn ga gối có được freeship không",
    "chan ga goi co doi tra duoc khong",
    "chac chan chua nhan dc tien",
    "thẻ quốc tế bị trừ tiền bao lâu thì hoàn",
    "the quoc te bao lau hoan tien",
    "đội ngũ nhân viên nhiệt tình",
    "doi ngu nv nhiet tinh qua",
    "do ngu co doi size dc ko",
    "gui kem anh bien lai o dau",
    "hom qua dat don ma chua thay giao",
    "điều kiện dùng GIAM50K là gì",
    # accents typed: trusted ("ngủ" is not "ngu", "chăn" is not "chán")
    "đồ ngủ có đổi trả được không",
    # negation, downtoners
    "không tệ lắm",
    "chẳng bực gì đâu, cảm ơn",
    "nhân viên không tệ, giao hơi chậm",
    "hơi bực nhé",
    # "quá" only strengthens a negative word
    "giao nhanh quá, cảm ơn",
    # mild: a bored customer who still asks an FAQ question should get the answer, not an agent
    "chán quá, muốn hỏi cách đổi điểm",
    # a scam question, not an accusation
    "nghi bị lừa đảo thì báo ở đâu",
    # one plain negative word is not enough; as a rating it stays give_rating anyway
    "1 sao, tệ",
    # capitals that are codes, impatience without angry words
    "dùng FREESHIP với COD được không",
    "sao chưa giao hàng vậy???",
    # plain FAQ and money questions
    "phí ship bao nhiêu",
    "hoan tien mat bao lau",
    "nạp tiền bao lâu thì vào ví",
    "tiền của tôi đâu rồi",
    "cho mình gặp nhân viên",
    "ok cảm ơn ad nhé",
]


@pytest.mark.parametrize("text, angry", [(text, True) for text in ANGRY] + [(text, False) for text in CALM])
def test_angry_at_default_threshold(scorer, text, angry):
    result = scorer.score(text)
    assert (result.score >= THRESHOLD) is angry, f"{text!r}: {result}"


def test_table_is_big_enough():
    assert len(ANGRY) >= 25 and len(CALM) >= 25 and len(ANGRY) + len(CALM) >= 60


@pytest.mark.parametrize(
    "text, matches",
    [
        ("đm shop làm ăn kiểu gì vậy", ("đm", "làm ăn kiểu gì")),
        ("tức là vậy", ()),
        ("tức quá", ("tức",)),
        ("không tệ", ()),
        ("tệ!!!", ("tệ", "!!!")),
        ("SAO CHƯA GIAO HÀNG VẬY???", ("???", "CAPS")),
        ("", ()),
    ],
)
def test_matches(scorer, text, matches):
    assert scorer.score(text).matches == matches


def test_intensifiers_and_downtoners_order_scores(scorer):
    assert scorer.score("hơi tệ").score < scorer.score("tệ").score < scorer.score("tệ quá").score
    assert 0.0 <= scorer.score("đm đm đm vcl tệ quá!!!").score <= 1.0


def test_negation_does_not_cross_punctuation(scorer):
    assert scorer.score("không, tệ lắm").score >= THRESHOLD


def test_data_file_uses_its_own_top_level_key():
    data = yaml.safe_load(DEFAULT_LEXICON_FILE.read_text(encoding="utf-8"))
    assert "anger_lexicon" in data
    assert not {"nlu", "rules", "stories", "responses"} & set(data)


def test_every_exception_shadows_a_lexicon_word():
    """An exception that folds onto no lexicon word is a typo: it protects nothing."""
    section = yaml.safe_load(DEFAULT_LEXICON_FILE.read_text(encoding="utf-8"))["anger_lexicon"]
    words = {fold(w) for c in section["categories"].values() for t in c["terms"] for w in str(t).split()}
    words |= {fold(w) for t in section["intensifiers"] for w in str(t).split()}
    for exception in section["exceptions"]:
        assert {fold(w) for w in exception.split()} & words, exception


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"anger_lexicon": {"categories": {"negative": {"terms": {"tệ": 1.5}}}}},
        {"anger_lexicon": {"categories": {"negative": {"terms": {"tệ": "cao"}}}}},
        {"anger_lexicon": {"categories": {"negative": {"terms": {"!!": 0.5}}}}},
        {"anger_lexicon": {"categories": []}},
    ],
)
def test_malformed_lexicon_is_rejected(data):
    with pytest.raises(AngerLexiconError):
        parse_lexicon(data)


# --- the Rasa component ---


@pytest.fixture(scope="module")
def make_detector(tmp_path_factory):
    def make(**config):
        return AngerDetector.create(
            {**AngerDetector.get_default_config(), **config},
            LocalModelStorage(tmp_path_factory.mktemp("anger")),
            Resource("anger"),
            ExecutionContext(graph_schema=None, model_id="1"),
        )

    return make


RANKING = [
    {"name": "faq", "confidence": 0.7},
    {"name": "complain", "confidence": 0.2},
    {"name": "greet", "confidence": 0.1},
]


def parsed(detector, text, intent="faq", confidence=0.7):
    msg = Message({TEXT: text})
    msg.set(INTENT, {"name": intent, "confidence": confidence}, add_to_output=True)
    msg.set(INTENT_RANKING_KEY, RANKING, add_to_output=True)
    detector.process([msg])
    return msg


@pytest.mark.parametrize(
    "text, predicted, expected",
    [
        ("đm shop làm ăn kiểu gì vậy", "faq", "complain"),
        ("dich vu gi ma te the", "ask_promotion", "complain"),
        ("tôi sẽ báo công an", "nlu_fallback", "complain"),
        ("bực mình quá", "greet", "complain"),
        # calm text keeps its intent
        ("phí ship bao nhiêu", "faq", "faq"),
        ("tức là phải đợi 24 giờ à", "faq", "faq"),
        # angry, but the intent already routes to an agent with a precise reason (or is a rating)
        ("bị trừ tiền 2 lần, lừa đảo à", "complain_money", "complain_money"),
        ("bot vô dụng quá, cho gặp người thật", "request_human", "request_human"),
        ("tk bị khóa vô lý, tệ quá", "account_security", "account_security"),
        ("đm mở gian hàng khó vãi", "partnership", "partnership"),
        ("1 sao, tệ quá", "give_rating", "give_rating"),
    ],
)
def test_intent_override(make_detector, text, predicted, expected):
    msg = parsed(make_detector(), text, predicted)
    assert msg.get(INTENT)["name"] == expected
    assert msg.get(INTENT_RANKING_KEY) == RANKING


def test_override_confidence_is_the_score_and_anger_is_in_the_output(make_detector):
    msg = parsed(make_detector(), "đm shop làm ăn kiểu gì vậy")
    anger = msg.get("anger")
    assert msg.get(INTENT) == {"name": "complain", "confidence": anger["score"]}
    assert anger["matches"] == ["đm", "làm ăn kiểu gì"]
    output = msg.as_dict(only_output_properties=True)
    assert output["anger"] == anger and output[INTENT]["name"] == "complain"


def test_calm_message_gets_a_zero_score(make_detector):
    msg = parsed(make_detector(), "chào shop", "greet", 0.99)
    assert msg.get("anger") == {"score": 0.0, "matches": []}
    assert msg.get(INTENT) == {"name": "greet", "confidence": 0.99}


def test_complain_keeps_its_own_confidence(make_detector):
    msg = parsed(make_detector(), "đm shop làm ăn kiểu gì vậy", "complain", 0.93)
    assert msg.get(INTENT) == {"name": "complain", "confidence": 0.93}


def test_threshold_and_keep_intents_come_from_config(make_detector):
    assert parsed(make_detector(threshold=0.9), "bực mình quá").get(INTENT)["name"] == "faq"
    assert parsed(make_detector(threshold=0.3), "chán quá").get(INTENT)["name"] == "complain"
    assert parsed(make_detector(keep_intents=[]), "1 sao, tệ quá", "give_rating").get(INTENT)["name"] == (
        "complain"
    )


def test_message_without_text_or_intent(make_detector):
    msg = Message({TEXT: "đồ lừa đảo"})
    make_detector().process([msg])
    assert msg.get(INTENT)["name"] == "complain"
    empty = Message({})
    make_detector().process([empty])
    assert empty.get("anger") == {"score": 0.0, "matches": []}


def test_bad_threshold_is_a_config_error(make_detector):
    with pytest.raises(InvalidConfigException):
        make_detector(threshold=0)
