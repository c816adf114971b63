"""action_answer_points with rasa-sdk trackers: numbers read from the message, worked out as KB §8 says."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.points import (
    EARN,
    EARN_TARGET,
    REDEEM,
    RULES,
    VALUE,
    ActionAnswerPoints,
    Amount,
    PointsQuestion,
    answer_points,
    format_points,
    read_points,
    read_question,
)
from common.text import fold

EXPIRY = " Điểm hết hạn sau 12 tháng kể từ ngày tích."


def money(text: str, fragment: str, value: int) -> Dict[str, Any]:
    """A money entity as RuleEntityExtractor gives it (value and character span)."""
    start = text.index(fragment)
    return {"entity": "money", "value": value, "start": start, "end": start + len(fragment)}


def tracker(text: str, entities: Optional[List[Dict[str, Any]]] = None, order_amount: Optional[float] = None):
    return Tracker(
        sender_id="test",
        slots={"order_amount": order_amount},
        latest_message={
            "text": text,
            "intent": {"name": "ask_points", "confidence": 0.99},
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
    events = await ActionAnswerPoints().run(dispatcher, t, {})
    return [m["text"] for m in dispatcher.messages], events


def test_action_name() -> None:
    assert ActionAnswerPoints().name() == "action_answer_points"


async def test_two_million_earns_200_points():
    text = "mua 2 triệu thì được cộng bao nhiêu điểm"
    texts, events = await run(tracker(text, [money(text, "2 triệu", 2_000_000)]))
    assert texts == [
        "Đơn 2.000.000đ được cộng 200 điểm (1 điểm cho mỗi 10.000đ chi tiêu, không tính phí giao hàng)."
        + EXPIRY
    ]
    assert events == [SlotSet("order_amount", 2_000_000.0)]


async def test_shipping_fee_earns_no_points():
    text = "đơn 350k phí ship 25k được bao nhiêu điểm"
    entities = [money(text, "350k", 350_000), money(text, "25k", 25_000)]
    # the slot mapping may have kept the fee: the action puts the goods total back
    texts, events = await run(tracker(text, entities, order_amount=25_000.0))
    assert texts == [
        "Đơn 350.000đ được cộng 35 điểm (1 điểm cho mỗi 10.000đ chi tiêu; "
        "phí giao hàng 25.000đ không được tính điểm)." + EXPIRY
    ]
    assert events == [SlotSet("order_amount", 350_000.0)]


async def test_total_that_includes_shipping():
    text = "tổng 375k đã gồm 25k tiền ship thì được mấy điểm"
    entities = [money(text, "375k", 375_000), money(text, "25k", 25_000)]
    texts, _ = await run(tracker(text, entities))
    assert texts[0].startswith("Đơn 375.000đ gồm 25.000đ phí giao hàng: 350.000đ tiền hàng được cộng 35 điểm")


async def test_500_points_are_worth_50000():
    texts, events = await run(tracker("500 điểm đổi được bao nhiêu tiền"))
    assert texts == [
        "500 điểm đổi được 50.000đ (1 điểm = 100đ). "
        "Vì điểm trả tối đa 50% giá trị đơn, để dùng hết 500 điểm đơn cần từ 100.000đ."
    ]
    assert events == []


async def test_300k_order_takes_at_most_1500_points():
    text = "đơn 300k dùng tối đa bao nhiêu điểm"
    texts, _ = await run(tracker(text, [money(text, "300k", 300_000)]))
    assert texts == [
        "Đơn 300.000đ dùng được tối đa 1.500 điểm, tương đương 150.000đ "
        "(điểm trả tối đa 50% giá trị đơn; 1 điểm = 100đ)."
    ]


async def test_3000_points_on_400k_are_capped_at_half():
    text = "có 3000 điểm, đơn 400k trừ được bao nhiêu"
    texts, _ = await run(tracker(text, [money(text, "400k", 400_000)]))
    assert texts == [
        "Với 3.000 điểm, đơn 400.000đ trừ được tối đa 200.000đ (dùng 2.000 điểm) vì điểm trả tối đa "
        "50% giá trị đơn; tiền hàng còn 200.000đ, bạn còn lại 1.000 điểm."
    ]


async def test_small_balance_is_used_whole():
    text = "có 500 điểm đơn 400k trừ được bao nhiêu"
    texts, _ = await run(tracker(text, [money(text, "400k", 400_000)]))
    assert texts == [
        "Với 500 điểm, đơn 400.000đ trừ được 50.000đ (dùng hết 500 điểm; 1 điểm = 100đ); "
        "tiền hàng còn 350.000đ."
    ]


async def test_points_written_like_money_are_points():
    # RuleEntityExtractor reads "2k" and "1.500" as money
    text = "mk có 2k điểm, đơn 300k trừ hết dc k"
    texts, _ = await run(tracker(text, [money(text, "2k", 2_000), money(text, "300k", 300_000)]))
    assert texts[0].startswith("Với 2.000 điểm, đơn 300.000đ trừ được tối đa 150.000đ (dùng 1.500 điểm)")
    text = "1.500 điểm đổi được bao nhiêu"
    texts, _ = await run(tracker(text, [money(text, "1.500", 1_500)]))
    assert texts[0].startswith("1.500 điểm đổi được 150.000đ")


async def test_follow_up_about_the_remembered_order():
    texts, _ = await run(tracker("thế đơn đó được cộng bao nhiêu điểm", order_amount=600_000.0))
    assert texts[0].startswith("Đơn 600.000đ được cộng 60 điểm")


async def test_no_numbers_states_the_rules():
    texts, _ = await run(tracker("tính điểm sao vậy"))
    assert texts == [
        "Tích điểm: 1 điểm cho mỗi 10.000đ chi tiêu (không tính phí giao hàng). Đổi điểm: 1 điểm = 100đ, "
        "điểm trả tối đa 50% giá trị đơn. Điểm hết hạn sau 12 tháng kể từ ngày tích. "
        "Bạn cho mình biết giá trị đơn hoặc số điểm, mình tính giúp nhé."
    ]


@pytest.mark.parametrize(
    ("text", "amounts", "expected"),
    [
        (
            "mua 2 triệu thì được cộng bao nhiêu điểm",
            [("2 triệu", 2_000_000)],
            PointsQuestion(EARN, 2_000_000),
        ),
        ("đơn 300k thì được bao nhiêu điểm", [("300k", 300_000)], PointsQuestion(EARN, 300_000)),
        ("đơn 300k dùng được bao nhiêu điểm", [("300k", 300_000)], PointsQuestion(REDEEM, 300_000)),
        (
            "đơn 350k, 25k tiền ship thì được mấy điểm",
            [("350k", 350_000), ("25k", 25_000)],
            PointsQuestion(EARN, 350_000, 25_000),
        ),
        (
            "có 3000 điểm, mua đơn 400k được tích thêm bao nhiêu điểm",
            [("400k", 400_000)],
            PointsQuestion(EARN, 400_000, None, 3_000),
        ),
        ("tich duoc 500 diem roi, doi ra duoc may nghin", [], PointsQuestion(VALUE, balance=500)),
        ("muốn tích 200 điểm thì phải mua bao nhiêu", [], PointsQuestion(EARN_TARGET, balance=200)),
        ("điểm dùng thế nào", [], PointsQuestion(RULES)),
    ],
)
def test_read_question(text: str, amounts: list, expected: PointsQuestion) -> None:
    entities = [money(text, fragment, value) for fragment, value in amounts]
    found = [Amount(e["value"], e["start"], e["end"]) for e in entities]
    assert read_question(text, found) == expected


def test_one_point_is_the_rule_itself() -> None:
    assert answer_points(PointsQuestion(VALUE, balance=1)) == (
        "1 điểm = 100đ; khi thanh toán, điểm trả tối đa 50% giá trị đơn."
    )


def test_earn_target_answer() -> None:
    assert answer_points(PointsQuestion(EARN_TARGET, balance=200)) == (
        "Để được cộng 200 điểm, bạn cần chi tiêu 2.000.000đ (1 điểm cho mỗi 10.000đ chi tiêu, "
        "không tính phí giao hàng)."
    )


@pytest.mark.parametrize(
    ("text", "points"),
    [
        ("có 3000 điểm", 3_000),
        ("1.500 điểm", 1_500),
        ("mk có 2k điểm", 2_000),
        ("tích 200điểm", 200),
        ("mua 2 triệu được bao nhiêu điểm", None),
        ("đơn 350k phí ship 25k được bao nhiêu điểm", None),
    ],
)
def test_read_points(text: str, points: Optional[int]) -> None:
    assert read_points(fold(text)) == points


def test_format_points() -> None:
    assert [format_points(n) for n in (35, 200, 1_500, 12_000)] == [
        "35 điểm",
        "200 điểm",
        "1.500 điểm",
        "12.000 điểm",
    ]


def test_reading_stays_linear_on_long_digit_runs() -> None:
    # bounded patterns; no timing asserted here (make bench measures): the answer is still read right
    text = "1" * 20_000 + " " + "2," * 10_000 + " diem"
    question = read_question(text, [])
    assert (question.kind, question.order_value, question.balance) == ("rules", None, None)
