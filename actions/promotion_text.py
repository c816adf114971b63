"""Vietnamese sentences the bot says about promotions (SenMart speaks as "mình")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from actions.promotion_engine import (
    TIERS,
    Combination,
    Order,
    Promotion,
    Verdict,
    canonical_tier,
)

GROUP_LABELS = {
    "discount": "mã giảm giá",
    "freeship": "mã miễn phí vận chuyển",
    "payment": "ưu đãi thanh toán",
    "referral": "mã giới thiệu",
    "campaign": "chương trình khuyến mãi",
}
PAYMENT_LABELS = {
    "senpay": "ví SenPay",
    "cod": "tiền mặt khi nhận hàng (COD)",
    "atm": "thẻ ATM nội địa",
    "card": "thẻ Visa/Mastercard/JCB",
    "vietqr": "chuyển khoản VietQR",
    "momo": "ví MoMo",
    "zalopay": "ví ZaloPay",
}
FIELD_LABELS = {
    "amount": "giá trị đơn hàng",
    "tier": "hạng thành viên",
    "payment_method": "phương thức thanh toán",
}
_LEADS = {
    "discount": "Mã giảm giá",
    "freeship": "Mã miễn phí vận chuyển",
    "payment": "Ưu đãi thanh toán",
    "referral": "Chương trình giới thiệu bạn",
    "campaign": "Chương trình",
}
_NOUNS = {
    "discount": "mã",
    "freeship": "mã",
    "payment": "ưu đãi",
    "referral": "mã",
    "campaign": "chương trình",
}
# Cashback of payment promotions always lands in SenMart's own wallet (KB §9, HOAN10).
_CASHBACK_WALLET = "ví SenPay"


def format_vnd(amount: int) -> str:
    """Money the way the KB writes it: 1.500.000đ."""
    return f"{amount:,}đ".replace(",", ".")


def format_date(day: date) -> str:
    """Date as dd/mm/yyyy."""
    return day.strftime("%d/%m/%Y")


def describe(promo: Promotion) -> str:
    """The whole rule of one promotion in one or two sentences."""
    return f"{_LEADS[promo.kind]} {_display(promo)}: {_summary(promo)}. {_window(promo)}."


def render_rules(promo: Promotion, compatible: Sequence[Promotion] = (), day: date | None = None) -> str:
    """The rule of a promotion as the table states it, on any date, with what it still combines with.

    `compatible` names what stays usable beside an exclusion ("không dùng kèm mã giảm giá, vẫn dùng
    được FREESHIP và HOAN10"); a `day` after the end adds that the promotion is over.
    """
    window = _window(promo)
    if day is not None and promo.end is not None and day > promo.end:
        window += " (đã kết thúc)"
    return f"{_LEADS[promo.kind]} {_display(promo)}: {_summary(promo, compatible)}. {window}."


def render_window(promo: Promotion) -> str:
    """When a promotion runs, as one sentence ("Flash Sale 12.12: áp dụng trong ngày 12/12/2026.")."""
    window = _window(promo)
    return f"{_display(promo)}: {window[:1].lower()}{window[1:]}."


def render_depends(promos: Sequence[Promotion], missing_field: str) -> str:
    """Which promotions still depend on one unknown order field."""
    return f"{_join([_display(p) for p in promos])} còn tùy {FIELD_LABELS[missing_field]} của bạn."


def render_refusal(promo: Promotion, order: Order, verdict: Verdict) -> str:
    """A refusal that names the promotion, what it gives and each condition the order still needs."""
    subject = "Bạn" if order.amount is None else f"Đơn {format_vnd(order.amount)}"
    verb = "tham gia" if promo.kind == "campaign" else "dùng"
    benefit = _benefit_phrase(promo)
    label = f"{_NOUNS[promo.kind]} {_display(promo)}" + (f" ({benefit})" if benefit else "")
    needs = _condition_phrases(_NEED_PHRASES, "đáp ứng đủ điều kiện của chương trình", promo, order, verdict)
    return f"{subject} chưa {verb} được {label}: cần {needs}."


def render_conditional(promo: Promotion, order: Order, verdict: Verdict, method: str) -> str:
    """The answer when only the payment method is unknown: what the order gets if paid by `method`."""
    if not verdict.eligible:
        return render_refusal(promo, order, verdict)
    condition = f"Nếu thanh toán bằng {PAYMENT_LABELS[method]}"
    subject = "bạn" if order.amount is None else f"đơn {format_vnd(order.amount)}"
    label = f"{_NOUNS[promo.kind]} {_display(promo)}"
    if promo.kind == "payment":
        text = f"{condition}, {subject} {_benefit_result(promo, verdict)}."
        otherwise = "Thanh toán bằng phương thức khác thì không được hoàn."
    else:
        text = f"{condition}, {subject} dùng được {label}: {_benefit_result(promo, verdict)}."
        otherwise = f"Thanh toán bằng phương thức khác thì không dùng được {label}."
    note = "; ".join(_extras(promo))
    return f"{text} {otherwise}" + (f" Lưu ý: {note}." if note else "")


def render_list(promos: Sequence[Promotion]) -> str:
    """Current promotions, one line each."""
    if not promos:
        return "Hiện SenMart chưa có chương trình khuyến mãi nào đang áp dụng ạ."
    lines = [f"- {_display(p)}: {_summary(p)} ({_window_short(p)})" for p in promos]
    return "SenMart đang có các khuyến mãi sau:\n" + "\n".join(lines)


def render_verdict(promo: Promotion, order: Order, verdict: Verdict) -> str:
    """What the bot says after checking a promotion against the customer's order."""
    label = f"{_NOUNS[promo.kind]} {_display(promo)}"
    subject = "Bạn" if order.amount is None else f"Đơn {format_vnd(order.amount)}"
    verb = "tham gia" if promo.kind == "campaign" else "dùng"

    if verdict.eligible is None:
        needed = _join([FIELD_LABELS[f] for f in verdict.missing])
        return f"Để kiểm tra {label}, mình cần biết thêm {needed} của bạn ạ."

    if not verdict.eligible:
        why = _condition_phrases(_REASON_PHRASES, "chưa đáp ứng đủ điều kiện", promo, order, verdict)
        return f"{subject} chưa {verb} được {label} vì {_NOUNS[promo.kind]} này {why}."

    if "already_free_shipping" in verdict.reasons:
        return (
            f"{subject} đã được miễn phí giao hàng tiêu chuẩn nên chưa cần dùng {label}; "
            "bạn có thể để dành mã cho đơn khác ạ."
        )

    text = f"{subject} {verb} được {label}"
    if verdict.benefit:
        text += f": {_benefit_result(promo, verdict)}"
    note = "; ".join(_extras(promo))
    return f"{text}." + (f" Lưu ý: {note}." if note else "")


def ask_for(missing_field: str, promo: Promotion) -> str:
    """The question that fills one missing order field."""
    if missing_field == "amount":
        return "Đơn hàng của bạn trị giá bao nhiêu ạ? (tổng tiền hàng, chưa gồm phí giao)"
    if missing_field == "tier":
        return f"Bạn đang là thành viên hạng nào ạ ({_join(TIERS, 'hay')})?"
    if missing_field == "payment_method":
        question = "Bạn định thanh toán bằng phương thức nào ạ?"
        if promo.payment_methods:
            methods = _join([PAYMENT_LABELS[m] for m in promo.payment_methods], "hoặc")
            question += f" ({_NOUNS[promo.kind]} {_display(promo)} áp dụng khi thanh toán bằng {methods})"
        return question
    raise ValueError(f"unknown order field {missing_field!r} for {promo.code}")


def render_combination(combination: Combination, promos: Sequence[Promotion]) -> str:
    """Whether the customer can use these promotions together, and why not."""
    names = [_display(p) for p in promos]
    if combination.allowed:
        if len(promos) < 2:
            return f"Bạn dùng được {_join(names)} cho đơn này."
        return f"Bạn dùng chung được {_join(names)} cho cùng một đơn."

    by_code = {p.code: p for p in promos}
    sentences: list[str] = []
    for (first_code, second_code), reason in zip(combination.conflicts, combination.reasons):
        first, second = by_code[first_code], by_code[second_code]
        if reason == "excluded_group":
            sentence = (
                f"{_display(first)} không dùng kèm {GROUP_LABELS[second.stack_group]} "
                f"nên không dùng chung được với {_display(second)}."
            )
        elif first_code == second_code:
            sentence = f"Mỗi đơn chỉ dùng {_NOUNS[first.kind]} {_display(first)} một lần."
        else:
            sentence = (
                f"{_display(first)} và {_display(second)} không dùng chung được cho cùng "
                f"một đơn vì mỗi đơn chỉ dùng tối đa 1 {GROUP_LABELS[first.stack_group]}."
            )
        if sentence not in sentences:
            sentences.append(sentence)
    return " ".join(sentences)


def _display(promo: Promotion) -> str:
    """How customers know the promotion: the code, or the name for campaigns."""
    return promo.name if promo.kind == "campaign" else promo.code


def _join(items: Iterable[str], last: str = "và") -> str:
    """Vietnamese list: "A", "A và B", "A, B và C"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _tiers_phrase(tiers: Sequence[str]) -> str:
    """ "hạng Bạc trở lên" for the top tiers from one up, else "hạng Vàng hoặc Kim Cương"."""
    if len(tiers) >= 3 and tuple(tiers) == TIERS[-len(tiers) :]:
        return f"hạng {tiers[0]} trở lên"
    return f"hạng {_join(tiers, 'hoặc')}"


def _payments_phrase(methods: Sequence[str]) -> str:
    """Payment methods as customers call them."""
    return _join([PAYMENT_LABELS[m] for m in methods], "hoặc")


def _benefit_phrase(promo: Promotion) -> str:
    """What the promotion gives, from its numbers ("giảm 10%, tối đa 80.000đ")."""
    cap = f", tối đa {format_vnd(promo.cap)}" if promo.cap is not None else ""
    if promo.kind == "freeship":
        if promo.cap is None:
            return "miễn phí giao hàng"
        return f"giảm phí giao hàng tối đa {format_vnd(promo.cap)}"
    if promo.percent is not None:
        value = f"{promo.percent}%"
    elif promo.amount is not None:
        value, cap = format_vnd(promo.amount), ""
    else:
        return ""
    if promo.kind == "payment":
        return f"hoàn {value} vào {_CASHBACK_WALLET}{cap}"
    if promo.kind == "referral":
        return f"người được mời nhận mã giảm {value}{cap}"
    return f"giảm {value}{cap}"


def _summary(promo: Promotion, compatible: Sequence[Promotion] = ()) -> str:
    """Benefit, conditions, notes and limits as one clause list."""
    clause = _benefit_phrase(promo)
    conditions = []
    if promo.min_order is not None:
        conditions.append(f"cho đơn từ {format_vnd(promo.min_order)}")
    if promo.tiers is not None:
        conditions.append(f"dành cho thành viên {_tiers_phrase(promo.tiers)}")
    if promo.payment_methods is not None:
        conditions.append(f"khi thanh toán bằng {_payments_phrase(promo.payment_methods)}")
    if conditions:
        # "giảm 50.000đ cho đơn từ…" but "giảm 10%, tối đa 80.000đ, cho đơn từ…"
        glue = ", " if "," in clause else " "
        clause = (clause + glue if clause else "") + ", ".join(conditions)
    parts = [clause] if clause else []
    return "; ".join(parts + _extras(promo, compatible))


def _extras(promo: Promotion, compatible: Sequence[Promotion] = ()) -> list[str]:
    """Notes, limits and stacking exclusions, as written by content staff."""
    extras = [text for text in (promo.notes, promo.limits) if text]
    if promo.excludes_groups:
        groups = _join([GROUP_LABELS[g] for g in promo.excludes_groups], "hoặc")
        clause = f"không dùng kèm {groups}"
        if compatible:
            clause += f", vẫn dùng được {_join([_display(p) for p in compatible])}"
        extras.append(clause)
    return extras


# a promotion's time window as a sentence (without its full stop) and in a list line
_WINDOW_SENTENCE = {
    "always": "Áp dụng thường xuyên",
    "day": "Áp dụng trong ngày {start}",
    "range": "Áp dụng từ {start} đến {end}",
    "from": "Áp dụng từ {start}",
    "until": "Áp dụng đến hết {end}",
}
_WINDOW_SHORT = {
    "always": "thường xuyên",
    "day": "ngày {start}",
    "range": "{start}–{end}",
    "from": "từ {start}",
    "until": "đến hết {end}",
}


def _window_in(words: dict[str, str], promo: Promotion) -> str:
    """The promotion's time window (always, one day, a range, from, until) in `words`."""
    start = format_date(promo.start) if promo.start is not None else ""
    end = format_date(promo.end) if promo.end is not None else ""
    if start and end:
        kind = "day" if promo.start == promo.end else "range"
    else:
        kind = "from" if start else "until" if end else "always"
    return words[kind].format(start=start, end=end)


def _window(promo: Promotion) -> str:
    """Time window sentence without the final full stop."""
    return _window_in(_WINDOW_SENTENCE, promo)


def _window_short(promo: Promotion) -> str:
    """Time window for a list line."""
    return _window_in(_WINDOW_SHORT, promo)


# a failed condition as a predicate of "mã này", and as what the order needs; {} is the promotion's value
# for it (_condition_value); a reason without a phrase (or a value) gets the general one
_REASON_PHRASES = {
    "below_min_order": "áp dụng cho đơn từ {}",
    "tier_not_allowed": "chỉ dành cho thành viên {}",
    "payment_not_allowed": "chỉ áp dụng khi thanh toán bằng {}",
    "not_started": "chỉ áp dụng từ ngày {}",
    "expired": "chỉ áp dụng đến hết ngày {}",
}
_NEED_PHRASES = {
    "below_min_order": "đơn từ {}",
    "tier_not_allowed": "{}",
    "payment_not_allowed": "thanh toán bằng {}",
    "not_started": "chờ đến ngày {}",
}


def _condition_value(reason: str, promo: Promotion, order: Order) -> str | None:
    """The promotion's value for the condition `reason` says failed, as text; None when it has none."""
    if reason == "below_min_order" and promo.min_order is not None:
        return format_vnd(promo.min_order)
    if reason == "tier_not_allowed" and promo.tiers is not None:
        tier = canonical_tier(order.tier)
        yours = f" (bạn đang ở hạng {tier})" if tier else ""
        return f"{_tiers_phrase(promo.tiers)}{yours}"
    if reason == "payment_not_allowed" and promo.payment_methods is not None:
        return _payments_phrase(promo.payment_methods)
    if reason == "not_started" and promo.start is not None:
        return format_date(promo.start)
    if reason == "expired" and promo.end is not None:
        return format_date(promo.end)
    return None


def _condition_phrases(
    phrases: dict[str, str], general: str, promo: Promotion, order: Order, verdict: Verdict
) -> str:
    """The conditions the order fails (free shipping already is none), each in `phrases`' words, joined."""
    said = []
    for reason in verdict.reasons:
        if reason == "already_free_shipping":
            continue
        value = _condition_value(reason, promo, order)
        said.append(phrases[reason].format(value) if reason in phrases and value is not None else general)
    return _join(said)


def _benefit_result(promo: Promotion, verdict: Verdict) -> str:
    """The computed benefit of an eligible order ("giảm 50.000đ, tiền hàng còn…")."""
    amount = format_vnd(verdict.benefit)
    note = _cap_note(promo, verdict)
    if promo.kind == "payment":
        return f"được hoàn {amount} vào {_CASHBACK_WALLET}{note}"
    if promo.kind == "freeship":
        return f"giảm {amount} phí giao hàng{note}"
    text = f"giảm {amount}{note}"
    if promo.kind == "discount" and verdict.final_amount is not None:
        text += f", tiền hàng còn {format_vnd(verdict.final_amount)}"
    return text


def _cap_note(promo: Promotion, verdict: Verdict) -> str:
    """ "(mức tối đa)", "(10%, đúng mức tối đa)", "(10%)" or nothing."""
    if verdict.capped:
        return " (mức tối đa)"
    if promo.percent is None:
        return ""
    if promo.cap is not None and verdict.benefit == promo.cap:
        return f" ({promo.percent}%, đúng mức tối đa)"
    return f" ({promo.percent}%)"
