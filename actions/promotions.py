"""Action that answers promotion questions with the rule engine and asks for what is missing."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import settings
from actions.promotion_engine import (
    ORDER_FIELDS,
    Order,
    Promotion,
    PromotionBook,
    PromotionDataError,
    Verdict,
    active_promotions,
    applicable,
    canonical_payment_method,
    canonical_tier,
    check_combination,
    compatible_promotions,
    evaluate,
    near_misses,
)
from actions.promotion_store import STORE
from actions.promotion_text import (
    ask_for,
    describe,
    format_vnd,
    render_combination,
    render_conditional,
    render_depends,
    render_list,
    render_refusal,
    render_rules,
    render_verdict,
    render_window,
)
from common.text import fold

logger = logging.getLogger(__name__)

GENERAL_RULE = (
    "Mỗi đơn dùng tối đa 1 mã giảm giá và 1 mã miễn phí vận chuyển; ưu đãi thanh toán HOAN10 "
    "được cộng dồn với cả hai."
)
DATA_ERROR_TEXT = (
    "Xin lỗi bạn, mình đang không tra được thông tin khuyến mãi. Bạn thử lại sau ít phút hoặc gọi "
    "hotline 1900 6868 (24/7) nhé."
)

# What a message asks, read from its folded text (common.text.fold: lower case, no diacritics).
# Every pattern is a plain alternation of words with bounded gaps: matching is linear in the text.
_PRONOUN = r"(?:minh|em|toi|tui|to|mk|mik|tao|anh|e|t)"
# The customer speaks of their own order ("đơn của mình", "mình dùng được không"): a verdict for it.
OWN_ORDER_PATTERNS = (
    rf"\bdon (?:hang )?(?:cua )?{_PRONOUN}\b",
    rf"\bcua {_PRONOUN}\b",
    rf"\b{_PRONOUN} (?:co )?(?:dung|xai|ap|nhap|tham gia|mua|duoc|dc|thanh toan|tra)\b",
)
# A question about a programme's rules, by topic: answered from the promotion table whatever the date.
RULE_QUESTION_PATTERNS = {
    "time": r"\bmay gio\b|\bmay h\b|\bkhi nao\b|\bluc nao\b|\bbao gio\b|\bbat dau\b|\bket thuc\b"
    r"|\bhet han\b|\bcon han\b|\bngay nao\b|\bthoi gian\b|\bdien ra\b|\bkeo dai\b|\bbao lau\b",
    "limit": r"\btoi da\b|\b(?:may|bao nhieu|bn) (?:mon|san pham|sp|lan|luot)\b|\bgioi han\b"
    r"|\bmoi (?:khach|nguoi|tai khoan)\b",
    "combine": r"\bdung kem\b|\bdung chung\b|\bxai chung\b|\bket hop\b|\bcong don\b|\bcung luc\b"
    r"|\bcung nhau\b|\bdi kem\b|\bcung (?:1|mot) don\b|\bva\b.{0,40}\bma\b|\b(?:2|hai|nhieu) ma\b",
    "who": r"\bai (?:duoc|dc|co the|dung)\b|\bcho ai\b|\bhang nao\b|\bthanh vien nao\b|\bdieu kien\b"
    r"|\bthe le\b|\bquy dinh\b",
    "min_order": r"\btoi thieu\b|\b(?:tu|tren) (?:bao nhieu|bn|may)\b",
    "what": r"\bla gi\b|\bla ma gi\b|\bnhu the nao\b|\bthe nao\b|\bntn\b|\bra sao\b|\bdung sao\b",
    # weak: with "my order" or a known order it asks for the computed amount instead
    "benefit": r"\b(?:giam|hoan) (?:duoc )?(?:bao nhieu|bn|nhieu)\b|\bduoc (?:gi|nhung gi)\b",
}
WEAK_RULE_TOPICS = frozenset({"benefit"})
# rule questions after which the bot offers to work out the customer's case
_OPEN_TOPICS = frozenset({"what", "benefit"})
# No code named: the words that point to one kind of programme (a refund is HOAN10's kind).
KIND_PATTERNS = {
    "payment": r"\bhoan\b(?! thanh| tat)|\bcashback\b",
    "freeship": r"\bfree ?ship\b|\bmien phi (?:van chuyen|giao hang|ship)\b|\bmien ship\b",
    "discount": r"\bma giam\b|\bgiam gia\b|\bvoucher\b|\bcoupon\b",
}
_OWN_ORDER = re.compile("|".join(OWN_ORDER_PATTERNS))
_RULE_TOPICS = {topic: re.compile(pattern) for topic, pattern in RULE_QUESTION_PATTERNS.items()}
_KINDS = {kind: re.compile(pattern) for kind, pattern in KIND_PATTERNS.items()}
# entities of the latest message that state part of the customer's own order
_ORDER_ENTITIES = {"money": "amount", "member_tier": "tier", "payment_method": "payment_method"}


def rule_topics(folded_text: Text) -> FrozenSet[Text]:
    """Which rules of a programme the message asks about (time, limit, combine, who, min_order, what)."""
    return frozenset(topic for topic, pattern in _RULE_TOPICS.items() if pattern.search(folded_text))


def asks_about_own_order(folded_text: Text, stated: Iterable[Text], order: Order) -> bool:
    """Whether to give a verdict for the customer's order rather than the programme's rules.

    In this order: the message states part of the order (amount, tier, payment) -> yes; it asks a
    rule (hours, limit, combining, who, minimum, what it is) -> no; it says "my order" -> yes; it asks
    what the programme gives -> no; otherwise yes when the conversation already knows the order.
    """
    if any(True for _ in stated):
        return True
    topics = rule_topics(folded_text)
    if topics - WEAK_RULE_TOPICS:
        return False
    if _OWN_ORDER.search(folded_text):
        return True
    if topics:
        return False
    return order.amount is not None or order.tier is not None or order.payment_method is not None


def pointed_promotions(book: PromotionBook, order: Order, folded_text: Text) -> List[Promotion]:
    """Running promotions the message or the order points to without naming a code.

    A refund ("hoàn") points to payment offers, "miễn phí vận chuyển" to free-shipping codes,
    "mã giảm giá" to discount codes, and a known payment method to the offers paid that way.
    """
    kinds = {kind for kind, pattern in _KINDS.items() if pattern.search(folded_text)}
    return [
        promo
        for promo in active_promotions(book, order.day)
        if promo.kind != "referral"
        and (
            promo.kind in kinds
            or (order.payment_method is not None and order.payment_method in (promo.payment_methods or ()))
        )
    ]


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


def stated_fields(entities: Iterable[Dict[Text, Any]]) -> FrozenSet[Text]:
    """Order fields (amount, tier, payment_method) the latest message states itself."""
    return frozenset(
        _ORDER_ENTITIES[e["entity"]]
        for e in entities
        if e.get("entity") in _ORDER_ENTITIES and e.get("value") is not None
    )


def promotion_reply(
    book: PromotionBook,
    codes: List[Text],
    order: Order,
    text: Text = "",
    stated: Iterable[Text] = (),
) -> Tuple[Text, Optional[Text]]:
    """The message the bot sends about these codes and this order, and the first missing field.

    `text` is the customer's message (rule question or own order, combining codes, a refund);
    `stated` the order fields that message gives itself. The studio's "thử" box calls this with the
    same book the action would read.
    """
    lines, missing = ActionCheckPromotion.answer(book, codes, order, fold(text), frozenset(stated))
    return "\n".join(lines), missing


class ActionCheckPromotion(Action):
    """Answers "can I use code X / how much do I get / what are the rules of X" from data/promotions.yml."""

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
        stated = stated_fields(tracker.latest_message.get("entities") or [])
        reply, missing = promotion_reply(book, codes, order, tracker.latest_message.get("text") or "", stated)
        dispatcher.utter_message(text=reply)
        events: List[Dict[Text, Any]] = [SlotSet("promo_missing", missing)]
        if amount is not None and amount != tracker.get_slot("order_amount"):
            events.append(SlotSet("order_amount", float(amount)))
        return events

    @staticmethod
    def answer(
        book: PromotionBook,
        codes: List[Text],
        order: Order,
        folded_text: Text,
        stated: FrozenSet[Text] = frozenset(),
    ) -> Tuple[List[Text], Optional[Text]]:
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
        topics = rule_topics(folded_text)
        if not known:
            if not lines and "combine" in topics:
                lines.append(GENERAL_RULE)
            more, missing = ActionCheckPromotion._without_code(book, order, folded_text, bool(lines))
            return lines + more, missing

        if len(known) > 1:
            lines.append(render_combination(check_combination(known), known))
        own_order = asks_about_own_order(folded_text, stated, order)
        order_known = order.amount is not None or order.tier is not None or order.payment_method is not None
        missing: Optional[Text] = None
        for promo in known:
            verdict = evaluate(promo, order, book.shipping)
            active = promo.is_active(order.day)
            if not own_order:
                # a rule question: the table's answer, whatever today's date
                if len(known) == 1:
                    lines.append(render_rules(promo, compatible_promotions(book, promo), order.day))
                    if "combine" in topics and not promo.excludes_groups:
                        lines.append(GENERAL_RULE)
                elif not active:
                    lines.append(render_window(promo))
                if not active:
                    continue
                if verdict.eligible is None:
                    # asked what it is: offer to work it out; asked a precise rule: the answer is enough
                    if topics <= _OPEN_TOPICS:
                        missing = missing or verdict.missing[0]
                elif order_known and len(known) == 1:
                    lines.append(render_verdict(promo, order, verdict))
                continue
            if not active:
                lines.append(render_verdict(promo, order, verdict))
            elif verdict.eligible is not None:
                lines.append(render_verdict(promo, order, verdict))
            elif (conditional := _if_paid_its_way(book, promo, order, verdict)) is not None:
                lines.append(conditional)
            else:
                if len(known) == 1:
                    lines.append(describe(promo))
                missing = missing or verdict.missing[0]
        if missing:
            asked = next(p for p in known if missing in evaluate(p, order, book.shipping).missing)
            lines.append(ask_for(missing, asked))
        return lines, missing

    @staticmethod
    def _without_code(
        book: PromotionBook, order: Order, folded_text: Text, said_something: bool
    ) -> Tuple[List[Text], Optional[Text]]:
        """No code named: the programmes the message points to, what the order qualifies for,
        or the list of current promotions."""
        pointed = pointed_promotions(book, order, folded_text)
        if order.amount is not None:
            if pointed:
                return ActionCheckPromotion._pointed(book, order, pointed)
            return ActionCheckPromotion._for_amount(book, order)
        if len(pointed) == 1:
            return ActionCheckPromotion._pointed(book, order, pointed)
        if pointed and order.payment_method:
            related = [p for p in pointed if order.payment_method in (p.payment_methods or ())]
            if related:
                return [describe(p) for p in related] + [ask_for("amount", related[0])], "amount"
        if said_something:
            return [], None
        return [
            render_list(active_promotions(book, order.day)),
            "Bạn cho mình biết mã và giá trị đơn, mình tính giúp mức ưu đãi nhé.",
        ], None

    @staticmethod
    def _pointed(
        book: PromotionBook, order: Order, pointed: List[Promotion]
    ) -> Tuple[List[Text], Optional[Text]]:
        """The verdict on each programme the message points to, naming any condition that fails."""
        lines: List[Text] = []
        undecided: List[Tuple[Promotion, Verdict]] = []
        for promo in pointed:
            verdict = evaluate(promo, order, book.shipping)
            if verdict.eligible:
                lines.append(render_verdict(promo, order, verdict))
            elif verdict.eligible is False:
                lines.append(render_refusal(promo, order, verdict))
            elif (conditional := _if_paid_its_way(book, promo, order, verdict)) is not None:
                lines.append(conditional)
            else:
                undecided.append((promo, verdict))
        if len(pointed) == 1 and undecided:
            lines.append(describe(pointed[0]))
        if order.amount is not None:
            others = [(p, v) for p, v in applicable(book, order) if v.eligible and p not in pointed]
            if others:
                lines.append(f"Với đơn {format_vnd(order.amount)}, bạn vẫn dùng được:")
                lines.extend(_usable_line(p, v) for p, v in others)
        asked, missing = _ask_undecided(undecided, explain=len(pointed) > 1)
        return lines + asked, missing

    @staticmethod
    def _for_amount(book: PromotionBook, order: Order) -> Tuple[List[Text], Optional[Text]]:
        """What an order of this amount qualifies for; if nothing, the closest programme and why not."""
        assert order.amount is not None
        usable = [(p, v) for p, v in applicable(book, order) if v.eligible]
        if usable:
            lines = [f"Với đơn {format_vnd(order.amount)}, bạn có thể dùng:"]
            lines.extend(_usable_line(p, v) for p, v in usable)
            lines.append(GENERAL_RULE)
            return lines, None
        lines = []
        misses = near_misses(book, order)
        if misses:
            promo, verdict = misses[0]
            lines.append(render_refusal(promo, order, verdict))
        undecided = [
            (p, v)
            for p in active_promotions(book, order.day)
            if p.kind != "referral"
            for v in [evaluate(p, order, book.shipping)]
            if v.eligible is None
        ]
        asked, missing = _ask_undecided(undecided, explain=True)
        lines.extend(asked)
        if not lines:
            lines.append(f"Với đơn {format_vnd(order.amount)}, hiện chưa có mã nào áp dụng được ạ.")
        return lines, missing


def _ask_undecided(
    undecided: List[Tuple[Promotion, Verdict]], explain: bool
) -> Tuple[List[Text], Optional[Text]]:
    """The question for the first order field these promotions still need (tier before payment)."""
    if not undecided:
        return [], None
    field = next(f for f in ORDER_FIELDS if any(f in v.missing for _, v in undecided))
    waiting = [p for p, v in undecided if field in v.missing]
    lines = [render_depends(waiting, field)] if explain else []
    return [*lines, ask_for(field, waiting[0])], field


def _usable_line(promo: Promotion, verdict: Verdict) -> Text:
    """One line of the list of usable promotions."""
    benefit = f" (ưu đãi {format_vnd(verdict.benefit)})" if verdict.benefit else ""
    return f"- {describe(promo)}{benefit}"


def _if_paid_its_way(book: PromotionBook, promo: Promotion, order: Order, verdict: Verdict) -> Optional[Text]:
    """When only the payment method is unknown: what paying the promotion's (first) way gives; else None."""
    if verdict.missing != ("payment_method",) or not promo.payment_methods:
        return None
    method = promo.payment_methods[0]
    paid = evaluate(promo, replace(order, payment_method=method), book.shipping)
    return render_conditional(promo, order, paid, method)
