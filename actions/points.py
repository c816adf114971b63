"""Action that works out reward points questions with numbers (points earned, worth, usable on an order).

Questions without numbers ("tích điểm thế nào") stay FAQ topics (faq/earn_points, faq/redeem_points).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.points_engine import (
    KB_RULES,
    PointsRules,
    order_value_to_redeem_all,
    points_earned,
    points_value,
    redeemable,
)
from actions.promotion_text import format_vnd
from common.text import fold

# Patterns on the folded text (common.text.fold): plain alternations, bounded repeats and a
# lookbehind that starts a number only at its first digit, so matching stays linear in the text.
# "500 điểm", "1.500 điểm", "2k điểm" (RuleEntityExtractor reads no points, and "2k" as money)
POINTS_NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,]\d{3}){1,3}|\d{1,9}) ?(k|nghin|ngan)? ?diem\b")
# an amount followed by "điểm" is a number of points, not money
POINTS_AFTER = re.compile(r"^ ?diem\b")
# the words before / after an amount that make it the shipping fee ("phí ship 25k", "25k tiền ship")
SHIPPING_BEFORE = re.compile(r"\b(?:ship|giao hang|van chuyen|phi giao|cuoc) ?(?:la|het|mat|them|tinh)? ?$")
SHIPPING_AFTER = re.compile(r"^ ?(?:tien |phi )?(?:ship|giao hang|van chuyen)\b")
# the order total already contains the shipping fee ("tổng 375k đã gồm 25k ship")
INCLUDES_SHIPPING = re.compile(r"\b(?:gom|bao gom|tinh ca|ca phi|ca tien|da co)\b")
# asks what an order earns ("được cộng", "tích")
EARN_WORDS = re.compile(r"\b(?:cong|tich|nhan)\b")
# asks what points can pay ("dùng", "trừ", "đổi")
REDEEM_WORDS = re.compile(r"\b(?:dung|xai|tru|doi|quy doi|thanh toan|su dung|tieu|giam|ap)\b")
ORDER_WORD = re.compile(r"\bdon\b")
_WINDOW = 24  # characters around an amount read for its role

EARN, REDEEM, VALUE, EARN_TARGET, RULES = "earn", "redeem", "value", "earn_target", "rules"


@dataclass(frozen=True)
class Amount:
    """A money entity: value in VND and, when known, where it is in the message."""

    value: int
    start: Optional[int] = None
    end: Optional[int] = None


@dataclass(frozen=True)
class PointsQuestion:
    """What a points message asks, with its numbers."""

    kind: str  # earn | redeem | value | earn_target | rules
    order_value: Optional[int] = None  # goods total, without the shipping fee
    shipping_fee: Optional[int] = None
    balance: Optional[int] = None  # points the customer has (or wants)
    total_included_shipping: bool = False


def format_points(points: int) -> str:
    """Points the way the KB writes numbers: 1.500 điểm."""
    return f"{points:,} điểm".replace(",", ".")


def read_points(folded_text: str) -> Optional[int]:
    """The number of points written in the message ("3000 điểm", "1.500 điểm", "2k điểm")."""
    match = POINTS_NUMBER.search(folded_text)
    if match is None:
        return None
    number = int(re.sub(r"[.,]", "", match.group(1)))
    return number * 1000 if match.group(2) else number


def read_question(
    text: str, amounts: Sequence[Amount], remembered_order: Optional[int] = None
) -> PointsQuestion:
    """The question in a message, from its text and its money entities."""
    # entity offsets are those of the NFC text Rasa parsed; fold keeps one character per character
    folded = fold(unicodedata.normalize("NFC", text))
    balance = read_points(folded)
    goods: List[Amount] = []
    for amount in amounts:
        if amount.end is not None and POINTS_AFTER.match(folded[amount.end : amount.end + _WINDOW]):
            continue
        goods.append(amount)
    shipping = [a for a in goods if _before(folded, a) and SHIPPING_BEFORE.search(_before(folded, a))]
    if not shipping:
        shipping = [a for a in goods if a.end is not None and SHIPPING_AFTER.match(_after(folded, a))]
    goods = [a for a in goods if a not in shipping]
    order_value = max((a.value for a in goods), default=None)
    fee = max((a.value for a in shipping), default=None)
    included = False
    if order_value is not None and fee is not None and order_value > fee and INCLUDES_SHIPPING.search(folded):
        order_value, included = order_value - fee, True
    if order_value is None and balance is None and not amounts and ORDER_WORD.search(folded):
        order_value = remembered_order  # "thế đơn đó được bao nhiêu điểm"

    earn, redeem = EARN_WORDS.search(folded), REDEEM_WORDS.search(folded)
    if order_value is not None:
        if earn and not (balance is not None and redeem):
            kind = EARN
        elif balance is not None or redeem:
            kind = REDEEM
        else:
            kind = EARN
    elif balance is not None:
        kind = EARN_TARGET if earn and not redeem else VALUE
    else:
        kind = RULES
    return PointsQuestion(kind, order_value, fee, balance, included)


def _before(folded: str, amount: Amount) -> str:
    return "" if amount.start is None else folded[max(0, amount.start - _WINDOW) : amount.start]


def _after(folded: str, amount: Amount) -> str:
    return "" if amount.end is None else folded[amount.end : amount.end + _WINDOW]


def answer_points(question: PointsQuestion, rules: PointsRules = KB_RULES) -> str:
    """The bot's answer, with the numbers worked out as KB §8 says."""
    earn_rule = f"1 điểm cho mỗi {format_vnd(rules.vnd_per_point)} chi tiêu"
    redeem_rule = f"1 điểm = {format_vnd(rules.point_value)}"
    cap_rule = f"điểm trả tối đa {rules.max_redeem_percent}% giá trị đơn"
    expiry = f"Điểm hết hạn sau {rules.expiry_months} tháng kể từ ngày tích."
    value, fee, balance = question.order_value, question.shipping_fee, question.balance

    if question.kind == EARN and value is not None:
        earned = points_earned(value, rules)
        gained = f"được cộng {format_points(earned)}" if earned else "chưa được cộng điểm nào"
        if question.total_included_shipping and fee is not None:
            subject = (
                f"Đơn {format_vnd(value + fee)} gồm {format_vnd(fee)} phí giao hàng: "
                f"{format_vnd(value)} tiền hàng"
            )
            why = f"{earn_rule}; phí giao hàng không được tính điểm"
        elif fee is not None:
            subject = f"Đơn {format_vnd(value)}"
            why = f"{earn_rule}; phí giao hàng {format_vnd(fee)} không được tính điểm"
        else:
            subject = f"Đơn {format_vnd(value)}"
            why = f"{earn_rule}, không tính phí giao hàng"
        return f"{subject} {gained} ({why}). {expiry}"

    if question.kind == REDEEM and value is not None:
        redemption = redeemable(value, balance, rules)
        rest = f"tiền hàng còn {format_vnd(value - redemption.value)}"
        if balance is None:
            return (
                f"Đơn {format_vnd(value)} dùng được tối đa {format_points(redemption.points)}, "
                f"tương đương {format_vnd(redemption.value)} ({cap_rule}; {redeem_rule})."
            )
        if redemption.capped:
            left = format_points(balance - redemption.points)
            return (
                f"Với {format_points(balance)}, đơn {format_vnd(value)} trừ được tối đa "
                f"{format_vnd(redemption.value)} (dùng {format_points(redemption.points)}) vì {cap_rule}; "
                f"{rest}, bạn còn lại {left}."
            )
        return (
            f"Với {format_points(balance)}, đơn {format_vnd(value)} trừ được {format_vnd(redemption.value)} "
            f"(dùng hết {format_points(redemption.points)}; {redeem_rule}); {rest}."
        )

    if question.kind == VALUE and balance is not None:
        if balance <= 1:  # the unit itself: "1 điểm đổi được bao nhiêu"
            return f"{redeem_rule}; khi thanh toán, {cap_rule}."
        return (
            f"{format_points(balance)} đổi được {format_vnd(points_value(balance, rules))} ({redeem_rule}). "
            f"Vì {cap_rule}, để dùng hết {format_points(balance)} đơn cần từ "
            f"{format_vnd(order_value_to_redeem_all(balance, rules))}."
        )

    if question.kind == EARN_TARGET and balance is not None:
        return (
            f"Để được cộng {format_points(balance)}, bạn cần chi tiêu "
            f"{format_vnd(balance * rules.vnd_per_point)} ({earn_rule}, không tính phí giao hàng)."
        )

    return (
        f"Tích điểm: {earn_rule} (không tính phí giao hàng). Đổi điểm: {redeem_rule}, "
        f"{cap_rule}. {expiry} Bạn cho mình biết giá trị đơn hoặc số điểm, mình tính giúp nhé."
    )


class ActionAnswerPoints(Action):
    """Answers "mua 2 triệu được bao nhiêu điểm / 500 điểm đổi được bao nhiêu" with the numbers."""

    def name(self) -> Text:
        """Action name used in the domain."""
        return "action_answer_points"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Reads the message and its money entities, works out the points, speaks."""
        amounts = [
            Amount(int(e["value"]), e.get("start"), e.get("end"))
            for e in tracker.latest_message.get("entities") or []
            if e.get("entity") == "money" and isinstance(e.get("value"), (int, float))
        ]
        remembered = tracker.get_slot("order_amount")
        question = read_question(
            tracker.latest_message.get("text") or "",
            amounts,
            int(remembered) if remembered is not None else None,
        )
        dispatcher.utter_message(text=answer_points(question))
        if question.order_value is not None and question.order_value != remembered:
            # the goods total, not the shipping fee the slot mapping may have taken
            return [SlotSet("order_amount", float(question.order_value))]
        return []
