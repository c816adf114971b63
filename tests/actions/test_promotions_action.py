"""action_check_promotion with rasa-sdk trackers: reads slots, speaks, remembers what is missing."""

import asyncio
from datetime import date
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.promotions import ActionCheckPromotion, asks_about_own_order, order_for, rule_topics
from common.text import fold

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setenv("SENMART_TODAY", "2026-11-23")


def tracker(
    text: str,
    slots: Optional[Dict[str, Any]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    intent: str = "ask_promotion",
) -> Tracker:
    return Tracker(
        sender_id="test",
        slots={
            "promo_codes": None,
            "order_amount": None,
            "member_tier": None,
            "payment_method": None,
            "promo_missing": None,
            **(slots or {}),
        },
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.99},
            "entities": entities or [],
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run(t: Tracker):
    dispatcher = CollectingDispatcher()
    events = await ActionCheckPromotion().run(dispatcher, t, {})
    return [m["text"] for m in dispatcher.messages], events


async def test_code_without_amount_describes_rule_and_asks_for_amount():
    texts, events = await run(tracker("Cho tôi hỏi mã GIAM50K", {"promo_codes": ["GIAM50K"]}))
    assert len(texts) == 1
    assert "GIAM50K" in texts[0] and "500.000đ" in texts[0] and "50.000đ" in texts[0]
    assert texts[0].endswith("Đơn hàng của bạn trị giá bao nhiêu ạ? (tổng tiền hàng, chưa gồm phí giao)")
    assert events == [SlotSet("promo_missing", "amount")]


async def test_follow_up_amount_uses_remembered_code():
    t = tracker(
        "đơn 450 nghìn thì sao?",
        {"promo_codes": ["GIAM50K"], "order_amount": 450000.0, "promo_missing": "amount"},
        [{"entity": "money", "value": 450000}],
        intent="inform",
    )
    texts, events = await run(t)
    assert texts == ["Đơn 450.000đ chưa dùng được mã GIAM50K vì mã này áp dụng cho đơn từ 500.000đ."]
    assert events == [SlotSet("promo_missing", None)]


async def test_600k_giam50k_eligible():
    t = tracker("600k thì sao", {"promo_codes": ["GIAM50K"], "order_amount": 600000.0}, intent="inform")
    texts, _ = await run(t)
    assert texts[0].startswith("Đơn 600.000đ dùng được mã GIAM50K: giảm 50.000đ, tiền hàng còn 550.000đ.")


async def test_giam10_needs_tier_then_caps():
    texts, events = await run(
        tracker("1tr5 dùng GIAM10", {"promo_codes": ["GIAM10"], "order_amount": 1500000.0})
    )
    assert texts[0].endswith("Bạn đang là thành viên hạng nào ạ (Đồng, Bạc, Vàng hay Kim Cương)?")
    assert events[0] == SlotSet("promo_missing", "tier")
    texts, _ = await run(
        tracker(
            "mình hạng bạc",
            {"promo_codes": ["GIAM10"], "order_amount": 1500000.0, "member_tier": "Bạc"},
            intent="inform",
        )
    )
    assert "giảm 80.000đ" in texts[0]


async def test_bronze_cannot_use_giam10():
    t = tracker("hạng đồng", {"promo_codes": ["GIAM10"], "order_amount": 500000.0, "member_tier": "Đồng"})
    texts, _ = await run(t)
    assert "chưa dùng được mã GIAM10" in texts[0] and "Bạc" in texts[0]


async def test_two_discount_codes_refused():
    texts, _ = await run(tracker("GIAM50K với GIAM10", {"promo_codes": ["GIAM50K", "GIAM10"]}))
    assert texts[0].startswith(
        "GIAM50K và GIAM10 không dùng chung được cho cùng một đơn vì mỗi đơn chỉ dùng tối đa 1 mã giảm giá."
    )


async def test_discount_plus_freeship_allowed():
    texts, _ = await run(tracker("GIAM50K với FREESHIP", {"promo_codes": ["GIAM50K", "FREESHIP"]}))
    assert texts[0].startswith("Bạn dùng chung được GIAM50K và FREESHIP cho cùng một đơn.")


async def test_hoan10_from_payment_and_amount():
    t = tracker(
        "thanh toán senpay đơn 1 triệu",
        {"promo_codes": ["HOAN10"], "order_amount": 1000000.0, "payment_method": "senpay"},
    )
    texts, _ = await run(t)
    assert "hoàn 100.000đ vào ví SenPay" in texts[0]


async def test_unknown_code_is_named():
    texts, _ = await run(tracker("mã ABC123", {"promo_codes": ["ABC123"]}))
    assert texts[0].startswith("Mình không tìm thấy mã ABC123")


async def test_no_code_lists_active_promotions():
    texts, _ = await run(tracker("đang có khuyến mãi gì"))
    assert texts[0].startswith("SenMart đang có các khuyến mãi sau:")
    assert "GIAM50K" in texts[0] and "GIAM10" in texts[0]


async def test_expired_promotion_not_listed(monkeypatch):
    monkeypatch.setenv("SENMART_TODAY", "2027-01-05")
    texts, _ = await run(tracker("đang có khuyến mãi gì"))
    assert "GIAM50K" not in texts[0] and "SINHNHAT" in texts[0]


async def test_expired_code_explained(monkeypatch):
    monkeypatch.setenv("SENMART_TODAY", "2027-01-05")
    texts, _ = await run(tracker("GIAM50K", {"promo_codes": ["GIAM50K"], "order_amount": 600000.0}))
    assert "GIAM50K" in texts[0] and "chưa dùng được" in texts[0]


async def test_amount_only_lists_what_applies():
    texts, _ = await run(tracker("đơn 600k", {"order_amount": 600000.0}, intent="inform"))
    assert texts[0].startswith("Với đơn 600.000đ, bạn có thể dùng:")
    assert "GIAM50K" in texts[0]


async def test_combining_question_without_codes_states_general_rule():
    texts, _ = await run(tracker("dùng 2 mã cùng lúc được không"))
    assert "Mỗi đơn dùng tối đa 1 mã giảm giá và 1 mã miễn phí vận chuyển" in texts[0]


async def test_largest_amount_in_message_is_the_order_value():
    t = tracker(
        "giảm 50k cho đơn 600k à",
        {"promo_codes": ["GIAM50K"], "order_amount": 50000.0},
        [{"entity": "money", "value": 50000}, {"entity": "money", "value": 600000}],
    )
    texts, events = await run(t)
    assert "Đơn 600.000đ dùng được mã GIAM50K" in texts[0]
    assert SlotSet("order_amount", 600000.0) in events


# --- rule questions are answered from the table, whatever today's date ------------------------

FLASH_SALE_ITEMS = "Flash Sale ngày 12/12 mỗi khách được mua tối đa bao nhiêu món?"
FLASH_SALE_RULES = (
    "Chương trình Flash Sale 12.12: giảm đến 50% sản phẩm chọn lọc, chỉ từ 0:00 đến 2:00 ngày 12/12/2026; "
    "tối đa 2 sản phẩm Flash Sale mỗi khách; không dùng kèm mã giảm giá, vẫn dùng được FREESHIP và HOAN10. "
    "Áp dụng trong ngày 12/12/2026."
)


@pytest.mark.parametrize("today", ["2026-11-23", "2026-12-11", "2026-12-12"])
async def test_flash_sale_item_limit_is_a_rule_question_on_any_date(monkeypatch, today):
    monkeypatch.setenv("SENMART_TODAY", today)
    texts, events = await run(tracker(FLASH_SALE_ITEMS, {"promo_codes": ["FLASHSALE1212"]}))
    assert texts == [FLASH_SALE_RULES]
    assert events == [SlotSet("promo_missing", None)]


async def test_flash_sale_rules_after_it_ended_say_so(monkeypatch):
    monkeypatch.setenv("SENMART_TODAY", "2027-01-05")
    texts, _ = await run(tracker("flash sale 12.12 mấy giờ bắt đầu", {"promo_codes": ["FLASHSALE1212"]}))
    assert texts == [FLASH_SALE_RULES[: -len(".")] + " (đã kết thúc)."]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("flash sale 12.12 diễn ra lúc mấy giờ", "chỉ từ 0:00 đến 2:00 ngày 12/12/2026"),
        (
            "flash sale có dùng kèm mã giảm giá được không",
            "không dùng kèm mã giảm giá, vẫn dùng được FREESHIP và HOAN10",
        ),
        ("mình mua flash sale được tối đa mấy sản phẩm", "tối đa 2 sản phẩm Flash Sale mỗi khách"),
    ],
)
async def test_flash_sale_rule_questions_before_the_day_get_no_verdict(text, fragment):
    texts, _ = await run(tracker(text, {"promo_codes": ["FLASHSALE1212"]}))
    assert fragment in texts[0]
    assert "chưa tham gia được" not in texts[0]


async def test_rule_question_ignores_the_order_remembered_from_earlier():
    t = tracker(FLASH_SALE_ITEMS, {"promo_codes": ["FLASHSALE1212"], "order_amount": 600000.0})
    texts, _ = await run(t)
    assert texts == [FLASH_SALE_RULES]


@pytest.mark.parametrize(
    ("text", "slots", "entities"),
    [
        ("đơn của mình có tham gia flash sale được không", {}, []),
        (
            "đơn 600k tham gia flash sale được không",
            {"order_amount": 600000.0},
            [{"entity": "money", "value": 600000}],
        ),
        ("flash sale thì sao", {"order_amount": 600000.0}, []),
    ],
)
async def test_own_order_before_the_day_gets_the_verdict(text, slots, entities):
    t = tracker(text, {"promo_codes": ["FLASHSALE1212"], **slots}, entities)
    texts, _ = await run(t)
    assert "chưa tham gia được chương trình Flash Sale 12.12" in texts[0]
    assert "chỉ áp dụng từ ngày 12/12/2026" in texts[0]


@pytest.mark.parametrize(
    ("text", "code", "fragment"),
    [
        ("GIAM10 dành cho ai", "GIAM10", "dành cho thành viên hạng Bạc trở lên"),
        ("GIAM50K áp dụng cho đơn từ bao nhiêu", "GIAM50K", "giảm 50.000đ cho đơn từ 500.000đ"),
        ("GIAM10 giảm tối đa bao nhiêu", "GIAM10", "giảm 10%, tối đa 80.000đ"),
        ("mã GIAM10 hết hạn khi nào", "GIAM10", "Áp dụng từ 15/11/2026 đến 15/12/2026."),
        ("FREESHIP một tháng dùng được mấy lần", "FREESHIP", "tối đa 2 lần/tháng"),
    ],
)
async def test_precise_rule_questions_are_answered_without_asking_back(text, code, fragment):
    texts, events = await run(tracker(text, {"promo_codes": [code]}))
    assert len(texts) == 1 and fragment in texts[0]
    assert "?" not in texts[0]
    assert events == [SlotSet("promo_missing", None)]


async def test_combining_question_about_one_code_states_the_general_rule():
    texts, _ = await run(tracker("HOAN10 có cộng dồn với mã giảm giá không", {"promo_codes": ["HOAN10"]}))
    assert texts[0].endswith(
        "Mỗi đơn dùng tối đa 1 mã giảm giá và 1 mã miễn phí vận chuyển; ưu đãi thanh toán HOAN10 "
        "được cộng dồn với cả hai."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FLASH_SALE_ITEMS, {"limit"}),
        ("flash sale 12.12 mấy giờ", {"time"}),
        ("GIAM50K dùng chung với FREESHIP được không", {"combine"}),
        ("hạng nào được dùng GIAM10", {"who"}),
        ("GIAM50K cho đơn tối thiểu bao nhiêu", {"min_order"}),
        ("HOAN10 là mã gì thế", {"what"}),
        ("đơn 600k dùng GIAM50K được không", set()),
    ],
)
def test_rule_topics(text, expected):
    assert rule_topics(fold(text)) == expected


@pytest.mark.parametrize(
    ("text", "stated", "order_known", "own"),
    [
        (FLASH_SALE_ITEMS, (), False, False),
        (FLASH_SALE_ITEMS, (), True, False),
        ("đơn của mình dùng GIAM50K được không", (), False, True),
        ("mình dùng GIAM10 được không", (), False, True),
        ("GIAM10 thì sao", (), True, True),
        ("GIAM10 thì sao", (), False, False),
        ("flash sale giảm bao nhiêu", (), True, False),
        ("đơn của mình giảm bao nhiêu", (), True, True),
        ("mình mua tối đa mấy món flash sale", (), False, False),
        ("flash sale mấy giờ, đơn 600k", ("amount",), True, True),
    ],
)
def test_asks_about_own_order(text, stated, order_known, own):
    order = order_for(600000 if order_known else None, None, None, date(2026, 11, 23))
    assert asks_about_own_order(fold(text), stated, order) is own


def test_question_patterns_stay_linear_on_long_input():
    # bounded patterns; no timing asserted here: the reading is still right on a long message
    text = fold("và mã " * 2000 + "đơn " * 2000 + "1" * 5000)
    assert rule_topics(text) == frozenset({"combine"})
    assert asks_about_own_order(text, (), order_for(None, None, None, date(2026, 11, 23))) is False


# --- follow-ups keep the code, the amount and the tier --------------------------------------

HOAN10_ENTITY = {"entity": "promo_code", "value": "HOAN10"}


@pytest.mark.parametrize("intent", ["inform", "ask_promotion"])
async def test_hoan10_follow_up_amount_gets_the_conditional_refund(intent):
    texts, events = await run(tracker("HOAN10 là mã gì thế", {"promo_codes": ["HOAN10"]}, [HOAN10_ENTITY]))
    assert texts[0].startswith("Ưu đãi thanh toán HOAN10: hoàn 10% vào ví SenPay, tối đa 100.000đ")
    assert texts[0].endswith("Đơn hàng của bạn trị giá bao nhiêu ạ? (tổng tiền hàng, chưa gồm phí giao)")
    assert events == [SlotSet("promo_missing", "amount")]

    follow_up = tracker(
        "thế đơn 700k được hoàn nhiêu",
        {"promo_codes": ["HOAN10"], "order_amount": 700000.0, "promo_missing": "amount"},
        [{"entity": "money", "value": 700000}],
        intent=intent,
    )
    texts, events = await run(follow_up)
    assert texts == [
        "Nếu thanh toán bằng ví SenPay, đơn 700.000đ được hoàn 70.000đ vào ví SenPay (10%). "
        "Thanh toán bằng phương thức khác thì không được hoàn. "
        "Lưu ý: tiền hoàn vào ví trong 24 giờ sau khi giao thành công."
    ]
    assert events == [SlotSet("promo_missing", None)]


async def test_follow_up_amount_below_the_minimum_names_it():
    t = tracker(
        "thế đơn 150k được hoàn bao nhiêu",
        {"promo_codes": ["HOAN10"], "order_amount": 150000.0},
        [{"entity": "money", "value": 150000}],
        intent="inform",
    )
    texts, _ = await run(t)
    assert texts == ["Đơn 150.000đ chưa dùng được ưu đãi HOAN10 vì ưu đãi này áp dụng cho đơn từ 200.000đ."]


async def test_follow_up_tier_keeps_code_and_amount():
    t = tracker(
        "còn hạng vàng thì sao",
        {"promo_codes": ["GIAM10"], "order_amount": 500000.0, "member_tier": "Vàng"},
        [{"entity": "member_tier", "value": "Vàng"}],
        intent="inform",
    )
    texts, _ = await run(t)
    assert texts[0].startswith(
        "Đơn 500.000đ dùng được mã GIAM10: giảm 50.000đ (10%), tiền hàng còn 450.000đ."
    )


@pytest.mark.parametrize("intent", ["inform", "ask_promotion"])
def test_domain_slots_keep_code_amount_and_tier_across_follow_ups(intent):
    """domain.yml's mappings fill the slots on any intent and keep them when a message has none."""
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    first = UserUttered(
        "HOAN10 là mã gì thế",
        intent={"name": "ask_promotion", "confidence": 1.0},
        entities=[{"entity": "promo_code", "value": "HOAN10"}, {"entity": "member_tier", "value": "Bạc"}],
    )
    second = UserUttered(
        "thế đơn 700k được hoàn nhiêu",
        intent={"name": intent, "confidence": 1.0},
        entities=[{"entity": "money", "value": 700000}],
    )
    tracker_ = DialogueStateTracker.from_events("t", [], slots=domain.slots)
    for message in (first, second):
        tracker_.update(message)
        for event in _extract_slots(tracker_, domain):
            tracker_.update(event)
    assert tracker_.get_slot("promo_codes") == ["HOAN10"]
    assert tracker_.get_slot("order_amount") == 700000.0
    assert tracker_.get_slot("member_tier") == "Bạc"


def _extract_slots(tracker_: DialogueStateTracker, domain: Domain):
    """The SlotSet events Rasa's action_extract_slots adds after a user message."""
    action = ActionExtractSlots(action_endpoint=None)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    return asyncio.run(action.run(CollectingOutputChannel(), nlg, tracker_, domain))


# --- a refusal names the programme and the condition that fails ------------------------------


async def test_senpay_180k_refund_names_hoan10_and_its_minimum():
    t = tracker(
        "Trả SenPay đơn 180k có được hoàn không?",
        {"order_amount": 180000.0, "payment_method": "senpay"},
        [{"entity": "payment_method", "value": "senpay"}, {"entity": "money", "value": 180000}],
    )
    texts, events = await run(t)
    assert texts == [
        "Đơn 180.000đ chưa dùng được ưu đãi HOAN10 (hoàn 10% vào ví SenPay, tối đa 100.000đ): "
        "cần đơn từ 200.000đ."
    ]
    assert "chưa có mã nào" not in texts[0]
    assert events == [SlotSet("promo_missing", None)]


async def test_discount_question_at_450k_names_giam50k_minimum_and_asks_the_tier():
    t = tracker(
        "Đơn 450k dùng mã giảm giá được không",
        {"order_amount": 450000.0},
        [{"entity": "money", "value": 450000}],
    )
    texts, events = await run(t)
    assert texts == [
        "Đơn 450.000đ chưa dùng được mã GIAM50K (giảm 50.000đ): cần đơn từ 500.000đ.\n"
        "GIAM10 và SINHNHAT còn tùy hạng thành viên của bạn.\n"
        "Bạn đang là thành viên hạng nào ạ (Đồng, Bạc, Vàng hay Kim Cương)?"
    ]
    assert events == [SlotSet("promo_missing", "tier")]


async def test_free_shipping_for_bronze_names_freeship_and_the_tier():
    t = tracker(
        "mình hạng đồng, đơn 200k có được miễn phí vận chuyển không",
        {"order_amount": 200000.0, "member_tier": "Đồng"},
        [{"entity": "member_tier", "value": "Đồng"}, {"entity": "money", "value": 200000}],
    )
    texts, _ = await run(t)
    assert texts == [
        "Đơn 200.000đ chưa dùng được mã FREESHIP (giảm phí giao hàng tối đa 30.000đ): "
        "cần hạng Bạc trở lên (bạn đang ở hạng Đồng)."
    ]


async def test_amount_only_with_nothing_usable_names_the_closest_programme():
    t = tracker(
        "đơn 180k thì dùng được mã nào", {"order_amount": 180000.0}, [{"entity": "money", "value": 180000}]
    )
    texts, _ = await run(t)
    assert texts[0].startswith(
        "Đơn 180.000đ chưa dùng được ưu đãi HOAN10 (hoàn 10% vào ví SenPay, tối đa 100.000đ): "
        "cần đơn từ 200.000đ."
    )


async def test_momo_refund_question_names_the_payment_condition():
    t = tracker(
        "trả bằng MoMo có được hoàn 10% không",
        {"payment_method": "momo"},
        [{"entity": "payment_method", "value": "momo"}],
    )
    texts, _ = await run(t)
    assert texts == [
        "Bạn chưa dùng được ưu đãi HOAN10 (hoàn 10% vào ví SenPay, tối đa 100.000đ): "
        "cần thanh toán bằng ví SenPay."
    ]


async def test_pointed_programme_also_lists_the_other_usable_codes():
    t = tracker(
        "Trả SenPay đơn 600k được hoàn bao nhiêu",
        {"order_amount": 600000.0, "payment_method": "senpay"},
        [{"entity": "payment_method", "value": "senpay"}, {"entity": "money", "value": 600000}],
    )
    texts, _ = await run(t)
    lines = texts[0].split("\n")
    assert lines[0].startswith("Đơn 600.000đ dùng được ưu đãi HOAN10: được hoàn 60.000đ vào ví SenPay (10%).")
    assert lines[1] == "Với đơn 600.000đ, bạn vẫn dùng được:"
    assert lines[2].startswith("- Mã giảm giá GIAM50K")


async def test_after_the_year_the_closest_programme_is_the_birthday_code(monkeypatch):
    monkeypatch.setenv("SENMART_TODAY", "2027-01-05")
    t = tracker("đơn 100k", {"order_amount": 100000.0, "member_tier": "Bạc"}, intent="inform")
    texts, _ = await run(t)
    assert texts == [
        "Đơn 100.000đ chưa dùng được mã SINHNHAT (giảm 15%, tối đa 200.000đ): "
        "cần hạng Vàng hoặc Kim Cương (bạn đang ở hạng Bạc)."
    ]
