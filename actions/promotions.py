"""Action that answers promotion questions with the rule engine and asks for what is missing."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import settings
from actions.folding import fold
from actions.promotion_engine import (
    Order,
    Promotion,
    PromotionBook,
    PromotionDataError,
    active_promotions,
    applicable,
    canonical_payment_method,
    canonical_tier,
    check_combination,
    evaluate,
)
from actions.promotion_store import STORE
from actions.promotion_text import (
    ask_for,
    describe,
    format_vnd,
    render_combination,
    render_list,
    render_verdict,
)

logger = logging.getLogger(__name__)

GENERAL_RULE = (
    "Mỗi đơn dùng tối đa 1 mã giảm giá và 1 mã miễn phí vận chuyển; ưu đãi thanh toán HOAN10 "
    "được cộng dồn với cả hai."
)
_ASKS_ABOUT_COMBINING = re.compile(
    r"cung luc|cung nhau|ket hop|cong don|dung chung|2 ma|hai ma|nhieu ma|\bva\b.*\bma\b", re.IGNORECASE
)
DATA_ERROR_TEXT = (
    "Xin lỗi bạn, mình đang không tra được thông tin khuyến mãi. Bạn thử lại sau ít phút hoặc gọi "
    "hotline 1900 6868 (24/7) nhé."
)


def _latest_amount(tracker: Tracker) -> Optional[int]:
    """The order value: the largest amount in the latest message, else the remembered one."""
    amounts = [
        int(e["value"])
        for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == "money" and isinstance(e.get("value"), (int, float))
    ]
    if amounts:
        return max(amounts)
    remembered = tracker.get_slot("order_amount")
    return int(remembered) if remembered is not None else None


def order_for(amount: Optional[int], tier: Any, payment_method: Any, day: date) -> Order:
    """The order the engine checks, from slot values as customers gave them."""
    return Order(
        amount=amount,
        tier=canonical_tier(tier),
        payment_method=canonical_payment_method(payment_method),
        day=day,
    )


def promotion_reply(
    book: PromotionBook, codes: List[Text], order: Order, text: Text = ""
) -> Tuple[Text, Optional[Text]]:
    """The message the bot sends about these codes and this order, and the first missing field.

    `text` is the customer's message (it tells a question about combining codes); the studio's
    "thử" box calls this with the same book the action would read.
    """
    lines, missing = ActionCheckPromotion.answer(book, codes, order, fold(text))
    return "\n".join(lines), missing


class ActionCheckPromotion(Action):
    """Answers "can I use code X / how much do I get" from data/promotions.yml."""

    def name(self) -> Text:
        """Action name used in the domain."""
        return "action_check_promotion"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Reads slots, asks the engine, speaks the answer; remembers what is still missing."""
        try:
            book = STORE.book()
        except (PromotionDataError, OSError):
            logger.exception("Cannot load promotions")
            dispatcher.utter_message(text=DATA_ERROR_TEXT)
            return []
        amount = _latest_amount(tracker)
        order = order_for(
            amount, tracker.get_slot("member_tier"), tracker.get_slot("payment_method"), settings.today()
        )
        codes = list(dict.fromkeys(tracker.get_slot("promo_codes") or []))
        reply, missing = promotion_reply(book, codes, order, tracker.latest_message.get("text") or "")
        dispatcher.utter_message(text=reply)
        events: List[Dict[Text, Any]] = [SlotSet("promo_missing", missing)]
        if amount is not None and amount != tracker.get_slot("order_amount"):
            events.append(SlotSet("order_amount", float(amount)))
        return events

    @staticmethod
    def answer(book: PromotionBook, codes: List[Text], order: Order, folded_text: Text):
        """Lines to say and the first missing field (or None)."""
        lines: List[Text] = []
        known: List[Promotion] = []
        for code in codes:
            promo = book.get(code)
            if promo is None:
                lines.append(
                    f"Mình không tìm thấy mã {code} trong các chương trình hiện có của SenMart, "
                    "bạn kiểm tra lại giúp mình nhé."
                )
            else:
                known.append(promo)
        if not known:
            if not lines and _ASKS_ABOUT_COMBINING.search(folded_text):
                lines.append(GENERAL_RULE)
            lines.extend(ActionCheckPromotion._without_code(book, order, bool(lines)))
            return lines, None

        if len(known) > 1:
            lines.append(render_combination(check_combination(known), known))
        missing: Optional[Text] = None
        for promo in known:
            if not promo.is_active(order.day):
                lines.append(render_verdict(promo, order, evaluate(promo, order)))
                continue
            verdict = evaluate(promo, order)
            if verdict.eligible is None:
                if len(known) == 1:
                    lines.append(describe(promo))
                missing = missing or verdict.missing[0]
            else:
                lines.append(render_verdict(promo, order, verdict))
        if missing:
            lines.append(ask_for(missing, next(p for p in known if missing in evaluate(p, order).missing)))
        return lines, missing

    @staticmethod
    def _without_code(book: PromotionBook, order: Order, said_something: bool) -> List[Text]:
        """No code named: what this order qualifies for, or the list of current promotions."""
        if order.amount is not None:
            usable = [(p, v) for p, v in applicable(book, order) if v.eligible]
            if not usable:
                return [f"Với đơn {format_vnd(order.amount)}, hiện chưa có mã nào áp dụng được ạ."]
            lines = [f"Với đơn {format_vnd(order.amount)}, bạn có thể dùng:"]
            for promo, verdict in usable:
                benefit = f" (ưu đãi {format_vnd(verdict.benefit)})" if verdict.benefit else ""
                lines.append(f"- {describe(promo)}{benefit}")
            lines.append(GENERAL_RULE)
            return lines
        active = active_promotions(book, order.day)
        if order.payment_method:
            related = [p for p in active if p.payment_methods and order.payment_method in p.payment_methods]
            if related:
                return [describe(p) for p in related] + [ask_for("amount", related[0])]
        if said_something:
            return []
        return [render_list(active), "Bạn cho mình biết mã và giá trị đơn, mình tính giúp mức ưu đãi nhé."]
