"""action_check_promotion with rasa-sdk trackers: reads slots, speaks, remembers what is missing."""

from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.promotions import ActionCheckPromotion


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
