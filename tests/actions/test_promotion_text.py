"""Tests for actions.promotion_text: the exact Vietnamese sentences the bot says."""

from __future__ import annotations

from datetime import date

import pytest

from actions.promotion_engine import (
    DEFAULT_PROMOTIONS_FILE,
    Order,
    Promotion,
    PromotionBook,
    active_promotions,
    check_combination,
    compatible_promotions,
    evaluate,
    load_promotions,
)
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

DAY = date(2026, 12, 1)
HOAN10_NOTE = " Lưu ý: tiền hoàn vào ví trong 24 giờ sau khi giao thành công."


@pytest.fixture(scope="module")
def book() -> PromotionBook:
    """The real promotions file shipped in data/."""
    return load_promotions(DEFAULT_PROMOTIONS_FILE)


def promo_of(book: PromotionBook, code: str) -> Promotion:
    """A promotion that must exist."""
    promo = book.get(code)
    assert promo is not None, code
    return promo


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "0đ"),
        (999, "999đ"),
        (1_000, "1.000đ"),
        (50_000, "50.000đ"),
        (550_000, "550.000đ"),
        (1_500_000, "1.500.000đ"),
        (10_000_000, "10.000.000đ"),
    ],
)
def test_format_vnd(amount: int, text: str) -> None:
    assert format_vnd(amount) == text


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (
            "GIAM50K",
            "Mã giảm giá GIAM50K: giảm 50.000đ cho đơn từ 500.000đ; mỗi khách dùng 1 lần. "
            "Áp dụng từ 01/11/2026 đến 31/12/2026.",
        ),
        (
            "GIAM10",
            "Mã giảm giá GIAM10: giảm 10%, tối đa 80.000đ, cho đơn từ 250.000đ, "
            "dành cho thành viên hạng Bạc trở lên. Áp dụng từ 15/11/2026 đến 15/12/2026.",
        ),
        (
            "FREESHIP",
            "Mã miễn phí vận chuyển FREESHIP: giảm phí giao hàng tối đa 30.000đ cho đơn từ 150.000đ, "
            "dành cho thành viên hạng Bạc trở lên; tối đa 2 lần/tháng. "
            "Áp dụng từ 01/01/2026 đến 31/12/2026.",
        ),
        (
            "HOAN10",
            "Ưu đãi thanh toán HOAN10: hoàn 10% vào ví SenPay, tối đa 100.000đ, cho đơn từ 200.000đ, "
            "khi thanh toán bằng ví SenPay; tiền hoàn vào ví trong 24 giờ sau khi giao thành công. "
            "Áp dụng từ 01/10/2026 đến 31/12/2026.",
        ),
        (
            "MOIBAN",
            "Chương trình giới thiệu bạn MOIBAN: người được mời nhận mã giảm 30.000đ cho đơn từ 200.000đ; "
            "mã giảm dùng cho đơn đầu tiên; người giới thiệu nhận 50.000đ vào ví khi bạn được mời "
            "hoàn thành đơn đầu tiên trong 30 ngày kể từ khi đăng ký; tối đa 10 lượt thưởng/tháng. "
            "Áp dụng thường xuyên.",
        ),
        (
            "SINHNHAT",
            "Mã giảm giá SINHNHAT: giảm 15%, tối đa 200.000đ, dành cho thành viên hạng Vàng hoặc Kim Cương; "
            "dùng trong tháng sinh nhật; 1 lần/năm. Áp dụng thường xuyên.",
        ),
        (
            "FLASHSALE1212",
            "Chương trình Flash Sale 12.12: giảm đến 50% sản phẩm chọn lọc, chỉ từ 0:00 đến 2:00 ngày "
            "12/12/2026; tối đa 2 sản phẩm Flash Sale mỗi khách; không dùng kèm mã giảm giá. "
            "Áp dụng trong ngày 12/12/2026.",
        ),
    ],
)
def test_describe_every_kb_promotion(book: PromotionBook, code: str, text: str) -> None:
    assert describe(promo_of(book, code)) == text


@pytest.mark.parametrize(
    ("promo", "text"),
    [
        (
            Promotion(code="A", name="A", kind="discount", amount=20_000, start=date(2027, 1, 1)),
            "Mã giảm giá A: giảm 20.000đ. Áp dụng từ 01/01/2027.",
        ),
        (
            Promotion(code="B", name="B", kind="freeship", end=date(2027, 1, 31), tiers=("Kim Cương",)),
            "Mã miễn phí vận chuyển B: miễn phí giao hàng dành cho thành viên hạng Kim Cương. "
            "Áp dụng đến hết 31/01/2027.",
        ),
        (
            Promotion(code="C", name="C", kind="payment", percent=5, payment_methods=("momo", "zalopay")),
            "Ưu đãi thanh toán C: hoàn 5% vào ví SenPay khi thanh toán bằng ví MoMo hoặc ví ZaloPay. "
            "Áp dụng thường xuyên.",
        ),
    ],
)
def test_describe_other_shapes(promo: Promotion, text: str) -> None:
    assert describe(promo) == text


# code, order (amount, tier, payment method, day), exact sentence
VERDICTS = [
    # KB §9 worked examples
    (
        "GIAM50K",
        (450_000, None, None, DAY),
        "Đơn 450.000đ chưa dùng được mã GIAM50K vì mã này áp dụng cho đơn từ 500.000đ.",
    ),
    (
        "GIAM50K",
        (600_000, None, None, DAY),
        "Đơn 600.000đ dùng được mã GIAM50K: giảm 50.000đ, tiền hàng còn 550.000đ. "
        "Lưu ý: mỗi khách dùng 1 lần.",
    ),
    (
        "HOAN10",
        (1_000_000, None, "senpay", DAY),
        "Đơn 1.000.000đ dùng được ưu đãi HOAN10: được hoàn 100.000đ vào ví SenPay "
        "(10%, đúng mức tối đa)." + HOAN10_NOTE,
    ),
    (
        "HOAN10",
        (300_000, None, "senpay", DAY),
        "Đơn 300.000đ dùng được ưu đãi HOAN10: được hoàn 30.000đ vào ví SenPay (10%)." + HOAN10_NOTE,
    ),
    (
        "HOAN10",
        (2_000_000, None, "senpay", DAY),
        "Đơn 2.000.000đ dùng được ưu đãi HOAN10: được hoàn 100.000đ vào ví SenPay (mức tối đa)."
        + HOAN10_NOTE,
    ),
    (
        "GIAM10",
        (500_000, "Bạc", None, DAY),
        "Đơn 500.000đ dùng được mã GIAM10: giảm 50.000đ (10%), tiền hàng còn 450.000đ.",
    ),
    (
        "GIAM10",
        (1_500_000, "Bạc", None, DAY),
        "Đơn 1.500.000đ dùng được mã GIAM10: giảm 80.000đ (mức tối đa), tiền hàng còn 1.420.000đ.",
    ),
    (
        "GIAM10",
        (500_000, "Đồng", None, DAY),
        "Đơn 500.000đ chưa dùng được mã GIAM10 vì mã này chỉ dành cho thành viên hạng Bạc trở lên "
        "(bạn đang ở hạng Đồng).",
    ),
    (
        "FREESHIP",
        (None, "Đồng", None, DAY),
        "Bạn chưa dùng được mã FREESHIP vì mã này chỉ dành cho thành viên hạng Bạc trở lên "
        "(bạn đang ở hạng Đồng).",
    ),
    # edges
    (
        "FREESHIP",
        (200_000, "Bạc", None, DAY),
        "Đơn 200.000đ dùng được mã FREESHIP: giảm 25.000đ phí giao hàng. Lưu ý: tối đa 2 lần/tháng.",
    ),
    (
        "FREESHIP",
        (300_000, "Vàng", None, DAY),
        "Đơn 300.000đ đã được miễn phí giao hàng tiêu chuẩn nên chưa cần dùng mã FREESHIP; "
        "bạn có thể để dành mã cho đơn khác ạ.",
    ),
    (
        "HOAN10",
        (500_000, None, "momo", DAY),
        "Đơn 500.000đ chưa dùng được ưu đãi HOAN10 vì ưu đãi này chỉ áp dụng khi thanh toán "
        "bằng ví SenPay.",
    ),
    (
        "GIAM10",
        (200_000, "Đồng", None, date(2026, 12, 16)),
        "Đơn 200.000đ chưa dùng được mã GIAM10 vì mã này chỉ áp dụng đến hết ngày 15/12/2026, "
        "chỉ dành cho thành viên hạng Bạc trở lên (bạn đang ở hạng Đồng) và áp dụng cho đơn từ 250.000đ.",
    ),
    (
        "GIAM10",
        (500_000, "Bạc", None, date(2026, 11, 14)),
        "Đơn 500.000đ chưa dùng được mã GIAM10 vì mã này chỉ áp dụng từ ngày 15/11/2026.",
    ),
    (
        "GIAM10",
        (500_000, None, None, DAY),
        "Để kiểm tra mã GIAM10, mình cần biết thêm hạng thành viên của bạn ạ.",
    ),
    (
        "HOAN10",
        (None, None, None, DAY),
        "Để kiểm tra ưu đãi HOAN10, mình cần biết thêm giá trị đơn hàng và phương thức thanh toán "
        "của bạn ạ.",
    ),
    (
        "SINHNHAT",
        (3_000_000, "Kim Cương", None, DAY),
        "Đơn 3.000.000đ dùng được mã SINHNHAT: giảm 200.000đ (mức tối đa), tiền hàng còn 2.800.000đ. "
        "Lưu ý: dùng trong tháng sinh nhật; 1 lần/năm.",
    ),
    (
        "FLASHSALE1212",
        (None, None, None, date(2026, 12, 12)),
        "Bạn tham gia được chương trình Flash Sale 12.12. Lưu ý: giảm đến 50% sản phẩm chọn lọc, "
        "chỉ từ 0:00 đến 2:00 ngày 12/12/2026; tối đa 2 sản phẩm Flash Sale mỗi khách; "
        "không dùng kèm mã giảm giá.",
    ),
    (
        "FLASHSALE1212",
        (None, None, None, date(2026, 12, 13)),
        "Bạn chưa tham gia được chương trình Flash Sale 12.12 vì chương trình này chỉ áp dụng "
        "đến hết ngày 12/12/2026.",
    ),
]


@pytest.mark.parametrize(("code", "order", "text"), VERDICTS)
def test_render_verdict(
    book: PromotionBook, code: str, order: tuple[int | None, str | None, str | None, date], text: str
) -> None:
    promo = promo_of(book, code)
    customer_order = Order(*order)
    verdict = evaluate(promo, customer_order, book.shipping)
    assert render_verdict(promo, customer_order, verdict) == text


@pytest.mark.parametrize(
    ("field", "code", "text"),
    [
        ("amount", "GIAM50K", "Đơn hàng của bạn trị giá bao nhiêu ạ? (tổng tiền hàng, chưa gồm phí giao)"),
        ("tier", "GIAM10", "Bạn đang là thành viên hạng nào ạ (Đồng, Bạc, Vàng hay Kim Cương)?"),
        ("payment_method", "GIAM10", "Bạn định thanh toán bằng phương thức nào ạ?"),
        (
            "payment_method",
            "HOAN10",
            "Bạn định thanh toán bằng phương thức nào ạ? "
            "(ưu đãi HOAN10 áp dụng khi thanh toán bằng ví SenPay)",
        ),
    ],
)
def test_ask_for(book: PromotionBook, field: str, code: str, text: str) -> None:
    assert ask_for(field, promo_of(book, code)) == text


def test_ask_for_every_missing_field_of_a_verdict(book: PromotionBook) -> None:
    promo = promo_of(book, "FREESHIP")
    verdict = evaluate(promo, Order(None, None, None, DAY))
    assert [ask_for(field, promo) for field in verdict.missing] == [
        "Đơn hàng của bạn trị giá bao nhiêu ạ? (tổng tiền hàng, chưa gồm phí giao)",
        "Bạn đang là thành viên hạng nào ạ (Đồng, Bạc, Vàng hay Kim Cương)?",
    ]


def test_ask_for_unknown_field(book: PromotionBook) -> None:
    with pytest.raises(ValueError, match="unknown order field 'birthday'"):
        ask_for("birthday", promo_of(book, "SINHNHAT"))


@pytest.mark.parametrize(
    ("codes", "text"),
    [
        (
            ["GIAM50K", "GIAM10"],
            "GIAM50K và GIAM10 không dùng chung được cho cùng một đơn vì mỗi đơn chỉ dùng tối đa "
            "1 mã giảm giá.",
        ),
        (["GIAM50K", "FREESHIP"], "Bạn dùng chung được GIAM50K và FREESHIP cho cùng một đơn."),
        (
            ["GIAM50K", "FREESHIP", "HOAN10"],
            "Bạn dùng chung được GIAM50K, FREESHIP và HOAN10 cho cùng một đơn.",
        ),
        (
            ["FLASHSALE1212", "GIAM50K"],
            "Flash Sale 12.12 không dùng kèm mã giảm giá nên không dùng chung được với GIAM50K.",
        ),
        (
            ["FLASHSALE1212", "FREESHIP", "HOAN10"],
            "Bạn dùng chung được Flash Sale 12.12, FREESHIP và HOAN10 cho cùng một đơn.",
        ),
        (
            ["GIAM50K", "FLASHSALE1212", "GIAM10"],
            "Flash Sale 12.12 không dùng kèm mã giảm giá nên không dùng chung được với GIAM50K. "
            "GIAM50K và GIAM10 không dùng chung được cho cùng một đơn vì mỗi đơn chỉ dùng tối đa "
            "1 mã giảm giá. "
            "Flash Sale 12.12 không dùng kèm mã giảm giá nên không dùng chung được với GIAM10.",
        ),
        (
            ["FREESHIP", "FREESHIP"],
            "Mỗi đơn chỉ dùng mã FREESHIP một lần.",
        ),
        (["HOAN10"], "Bạn dùng được HOAN10 cho đơn này."),
    ],
)
def test_render_combination(book: PromotionBook, codes: list[str], text: str) -> None:
    promos = [promo_of(book, code) for code in codes]
    assert render_combination(check_combination(promos), promos) == text


def test_render_list(book: PromotionBook) -> None:
    promos = active_promotions(book, date(2027, 1, 1))
    assert render_list(promos) == (
        "SenMart đang có các khuyến mãi sau:\n"
        "- MOIBAN: người được mời nhận mã giảm 30.000đ cho đơn từ 200.000đ; mã giảm dùng cho đơn đầu "
        "tiên; người giới thiệu nhận 50.000đ vào ví khi bạn được mời hoàn thành đơn đầu tiên trong "
        "30 ngày kể từ khi đăng ký; tối đa 10 lượt thưởng/tháng (thường xuyên)\n"
        "- SINHNHAT: giảm 15%, tối đa 200.000đ, dành cho thành viên hạng Vàng hoặc Kim Cương; "
        "dùng trong tháng sinh nhật; 1 lần/năm (thường xuyên)"
    )


def test_render_list_one_line_per_promotion(book: PromotionBook) -> None:
    promos = active_promotions(book, date(2026, 12, 12))
    lines = render_list(promos).split("\n")
    assert len(lines) == 1 + len(promos) == 8
    assert (
        lines[1]
        == "- GIAM50K: giảm 50.000đ cho đơn từ 500.000đ; mỗi khách dùng 1 lần (01/11/2026–31/12/2026)"
    )
    assert lines[-1].startswith("- Flash Sale 12.12: ")
    assert lines[-1].endswith(" (ngày 12/12/2026)")


def test_render_list_empty() -> None:
    assert render_list([]) == "Hiện SenMart chưa có chương trình khuyến mãi nào đang áp dụng ạ."


FLASH_SALE_RULES = (
    "Chương trình Flash Sale 12.12: giảm đến 50% sản phẩm chọn lọc, chỉ từ 0:00 đến 2:00 ngày 12/12/2026; "
    "tối đa 2 sản phẩm Flash Sale mỗi khách; không dùng kèm mã giảm giá, vẫn dùng được FREESHIP và HOAN10. "
    "Áp dụng trong ngày 12/12/2026."
)


@pytest.mark.parametrize("day", [date(2026, 11, 23), date(2026, 12, 12), None])
def test_render_rules_of_flash_sale_name_what_still_combines(book: PromotionBook, day: date | None) -> None:
    flash = promo_of(book, "FLASHSALE1212")
    assert render_rules(flash, compatible_promotions(book, flash), day) == FLASH_SALE_RULES


def test_render_rules_after_the_end(book: PromotionBook) -> None:
    giam50k = promo_of(book, "GIAM50K")
    assert render_rules(giam50k, compatible_promotions(book, giam50k), date(2027, 1, 5)) == (
        "Mã giảm giá GIAM50K: giảm 50.000đ cho đơn từ 500.000đ; mỗi khách dùng 1 lần. "
        "Áp dụng từ 01/11/2026 đến 31/12/2026 (đã kết thúc)."
    )


def test_render_rules_without_exclusions_is_the_description(book: PromotionBook) -> None:
    for promo in book:
        if not promo.excludes_groups:
            assert render_rules(promo, compatible_promotions(book, promo), DAY) == describe(promo)


@pytest.mark.parametrize(
    ("code", "order", "text"),
    [
        (
            "HOAN10",
            Order(180_000, None, "senpay", DAY),
            "Đơn 180.000đ chưa dùng được ưu đãi HOAN10 (hoàn 10% vào ví SenPay, tối đa 100.000đ): "
            "cần đơn từ 200.000đ.",
        ),
        (
            "GIAM50K",
            Order(450_000, None, None, DAY),
            "Đơn 450.000đ chưa dùng được mã GIAM50K (giảm 50.000đ): cần đơn từ 500.000đ.",
        ),
        (
            "FREESHIP",
            Order(200_000, "Đồng", None, DAY),
            "Đơn 200.000đ chưa dùng được mã FREESHIP (giảm phí giao hàng tối đa 30.000đ): "
            "cần hạng Bạc trở lên (bạn đang ở hạng Đồng).",
        ),
        (
            "FREESHIP",
            Order(None, "Đồng", None, DAY),
            "Bạn chưa dùng được mã FREESHIP (giảm phí giao hàng tối đa 30.000đ): "
            "cần hạng Bạc trở lên (bạn đang ở hạng Đồng).",
        ),
        (
            "HOAN10",
            Order(150_000, None, "momo", DAY),
            "Đơn 150.000đ chưa dùng được ưu đãi HOAN10 (hoàn 10% vào ví SenPay, tối đa 100.000đ): "
            "cần thanh toán bằng ví SenPay và đơn từ 200.000đ.",
        ),
        (
            "FLASHSALE1212",
            Order(None, None, None, DAY),
            "Bạn chưa tham gia được chương trình Flash Sale 12.12: cần chờ đến ngày 12/12/2026.",
        ),
    ],
)
def test_render_refusal_names_the_code_and_what_is_needed(
    book: PromotionBook, code: str, order: Order, text: str
) -> None:
    promo = promo_of(book, code)
    verdict = evaluate(promo, order)
    assert verdict.eligible is False
    assert render_refusal(promo, order, verdict) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (
            700_000,
            "Nếu thanh toán bằng ví SenPay, đơn 700.000đ được hoàn 70.000đ vào ví SenPay (10%). "
            "Thanh toán bằng phương thức khác thì không được hoàn." + HOAN10_NOTE,
        ),
        (
            2_000_000,
            "Nếu thanh toán bằng ví SenPay, đơn 2.000.000đ được hoàn 100.000đ vào ví SenPay (mức tối đa). "
            "Thanh toán bằng phương thức khác thì không được hoàn." + HOAN10_NOTE,
        ),
        (
            180_000,
            "Đơn 180.000đ chưa dùng được ưu đãi HOAN10 (hoàn 10% vào ví SenPay, tối đa 100.000đ): "
            "cần đơn từ 200.000đ.",
        ),
    ],
)
def test_render_conditional(book: PromotionBook, amount: int, text: str) -> None:
    hoan10 = promo_of(book, "HOAN10")
    unknown_payment = Order(amount, None, None, DAY)
    paid = evaluate(hoan10, Order(amount, None, "senpay", DAY))
    assert render_conditional(hoan10, unknown_payment, paid, "senpay") == text


def test_render_conditional_of_a_discount() -> None:
    promo = Promotion(code="THE5", name="Thẻ", kind="discount", amount=20_000, payment_methods=("card",))
    order = Order(300_000, None, None, DAY)
    paid = evaluate(promo, Order(300_000, None, "card", DAY))
    assert render_conditional(promo, order, paid, "card") == (
        "Nếu thanh toán bằng thẻ Visa/Mastercard/JCB, đơn 300.000đ dùng được mã THE5: giảm 20.000đ, "
        "tiền hàng còn 280.000đ. Thanh toán bằng phương thức khác thì không dùng được mã THE5."
    )


def test_render_window_and_depends(book: PromotionBook) -> None:
    assert (
        render_window(promo_of(book, "FLASHSALE1212")) == "Flash Sale 12.12: áp dụng trong ngày 12/12/2026."
    )
    assert render_window(promo_of(book, "SINHNHAT")) == "SINHNHAT: áp dụng thường xuyên."
    promos = [promo_of(book, "GIAM10"), promo_of(book, "SINHNHAT")]
    assert render_depends(promos, "tier") == "GIAM10 và SINHNHAT còn tùy hạng thành viên của bạn."
