"""Tests for actions.promotion_engine against the rules and examples of KB §9."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from actions.promotion_engine import (
    DEFAULT_PROMOTIONS_FILE,
    Order,
    Promotion,
    PromotionBook,
    PromotionDataError,
    ShippingRules,
    Verdict,
    active_promotions,
    applicable,
    canonical_payment_method,
    canonical_tier,
    check_combination,
    compatible_promotions,
    evaluate,
    load_promotions,
    near_misses,
)

DAY = date(2026, 12, 1)  # every dated KB §9 promotion except Flash Sale is running


@pytest.fixture(scope="module")
def book() -> PromotionBook:
    """The real promotions file shipped in data/."""
    return load_promotions(DEFAULT_PROMOTIONS_FILE)


def make_order(
    amount: int | None = None,
    tier: str | None = None,
    payment: str | None = None,
    day: date = DAY,
    shipping_fee: int | None = None,
) -> Order:
    """Order with keyword defaults for table rows."""
    return Order(amount, tier, payment, day, shipping_fee)


def run(book: PromotionBook, code: str, **order_fields: Any) -> Verdict:
    """Evaluate one promotion of the book."""
    promo = book.get(code)
    assert promo is not None, code
    return evaluate(promo, make_order(**order_fields), book.shipping)


# code, order, eligible, benefit, final_amount, capped, reasons
KB_EXAMPLES = [
    ("GIAM50K", {"amount": 450_000}, False, 0, 450_000, False, ("below_min_order",)),
    ("GIAM50K", {"amount": 600_000}, True, 50_000, 550_000, False, ()),
    ("HOAN10", {"amount": 1_000_000, "payment": "senpay"}, True, 100_000, 1_000_000, False, ()),
    ("HOAN10", {"amount": 300_000, "payment": "senpay"}, True, 30_000, 300_000, False, ()),
    ("HOAN10", {"amount": 2_000_000, "payment": "senpay"}, True, 100_000, 2_000_000, True, ()),
    ("GIAM10", {"amount": 500_000, "tier": "Bạc"}, True, 50_000, 450_000, False, ()),
    ("GIAM10", {"amount": 1_500_000, "tier": "Bạc"}, True, 80_000, 1_420_000, True, ()),
    ("GIAM10", {"amount": 500_000, "tier": "Đồng"}, False, 0, 500_000, False, ("tier_not_allowed",)),
    ("FREESHIP", {"amount": 200_000, "tier": "Đồng"}, False, 0, 200_000, False, ("tier_not_allowed",)),
]

EDGES = [
    # exactly at / just below the minimum order
    ("GIAM50K", {"amount": 500_000}, True, 50_000, 450_000, False, ()),
    ("GIAM50K", {"amount": 499_999}, False, 0, 499_999, False, ("below_min_order",)),
    ("HOAN10", {"amount": 200_000, "payment": "senpay"}, True, 20_000, 200_000, False, ()),
    ("HOAN10", {"amount": 199_999, "payment": "senpay"}, False, 0, 199_999, False, ("below_min_order",)),
    # cap: exactly reached is not "capped", one đồng of raw benefit above is
    ("GIAM10", {"amount": 800_000, "tier": "Vàng"}, True, 80_000, 720_000, False, ()),
    ("GIAM10", {"amount": 800_010, "tier": "Vàng"}, True, 80_000, 720_010, True, ()),
    ("SINHNHAT", {"amount": 3_000_000, "tier": "Kim Cương"}, True, 200_000, 2_800_000, True, ()),
    ("SINHNHAT", {"amount": 1_000_000, "tier": "Vàng"}, True, 150_000, 850_000, False, ()),
    # percent benefits round down to whole đồng
    ("HOAN10", {"amount": 999_999, "payment": "senpay"}, True, 99_999, 999_999, False, ()),
    ("GIAM10", {"amount": 250_005, "tier": "Bạc"}, True, 25_000, 225_005, False, ()),
    ("SINHNHAT", {"amount": 333_333, "tier": "Vàng"}, True, 49_999, 283_334, False, ()),
    # wrong tier / wrong payment method, loose spellings
    ("SINHNHAT", {"amount": 1_000_000, "tier": "Bạc"}, False, 0, 1_000_000, False, ("tier_not_allowed",)),
    ("GIAM10", {"amount": 500_000, "tier": "hạng bạc"}, True, 50_000, 450_000, False, ()),
    ("SINHNHAT", {"amount": 100_000, "tier": "KIM CUONG"}, True, 15_000, 85_000, False, ()),
    ("HOAN10", {"amount": 500_000, "payment": "momo"}, False, 0, 500_000, False, ("payment_not_allowed",)),
    ("HOAN10", {"amount": 500_000, "payment": "cod"}, False, 0, 500_000, False, ("payment_not_allowed",)),
    ("HOAN10", {"amount": 500_000, "payment": "Ví SenPay"}, True, 50_000, 500_000, False, ()),
    # every failed condition is reported
    (
        "GIAM10",
        {"amount": 200_000, "tier": "Đồng"},
        False,
        0,
        200_000,
        False,
        ("tier_not_allowed", "below_min_order"),
    ),
    (
        "HOAN10",
        {"amount": 100_000, "payment": "zalopay", "day": date(2027, 1, 1)},
        False,
        0,
        100_000,
        False,
        ("expired", "payment_not_allowed", "below_min_order"),
    ),
    # referral: invitee gets 30.000đ on an order from 200.000đ; goods total unchanged
    ("MOIBAN", {"amount": 200_000}, True, 30_000, 200_000, False, ()),
    ("MOIBAN", {"amount": 199_999}, False, 0, 199_999, False, ("below_min_order",)),
    # campaign: eligibility only
    ("FLASHSALE1212", {"day": date(2026, 12, 12)}, True, 0, None, False, ()),
]


@pytest.mark.parametrize(
    ("code", "order", "eligible", "benefit", "final_amount", "capped", "reasons"),
    KB_EXAMPLES + EDGES,
)
def test_evaluate(
    book: PromotionBook,
    code: str,
    order: dict,
    eligible: bool,
    benefit: int,
    final_amount: int | None,
    capped: bool,
    reasons: tuple[str, ...],
) -> None:
    verdict = run(book, code, **order)
    assert verdict.eligible is eligible
    assert verdict.benefit == benefit
    assert verdict.final_amount == final_amount
    assert verdict.capped is capped
    assert verdict.reasons == reasons
    assert verdict.missing == ()


@pytest.mark.parametrize(
    ("code", "day", "eligible", "reasons"),
    [
        ("GIAM10", date(2026, 11, 14), False, ("not_started",)),
        ("GIAM10", date(2026, 11, 15), True, ()),
        ("GIAM10", date(2026, 12, 15), True, ()),
        ("GIAM10", date(2026, 12, 16), False, ("expired",)),
        ("GIAM50K", date(2026, 10, 31), False, ("not_started",)),
        ("GIAM50K", date(2026, 12, 31), True, ()),
        ("GIAM50K", date(2027, 1, 1), False, ("expired",)),
        ("FREESHIP", date(2025, 12, 31), False, ("not_started",)),
        ("FREESHIP", date(2027, 1, 1), False, ("expired",)),
        ("HOAN10", date(2026, 9, 30), False, ("not_started",)),
        ("HOAN10", date(2026, 10, 1), True, ()),
        ("FLASHSALE1212", date(2026, 12, 11), False, ("not_started",)),
        ("FLASHSALE1212", date(2026, 12, 12), True, ()),
        ("FLASHSALE1212", date(2026, 12, 13), False, ("expired",)),
        ("SINHNHAT", date(2030, 6, 1), True, ()),
        ("MOIBAN", date(2020, 1, 1), True, ()),
    ],
)
def test_date_window(
    book: PromotionBook, code: str, day: date, eligible: bool, reasons: tuple[str, ...]
) -> None:
    verdict = run(book, code, amount=1_000_000, tier="Vàng", payment="senpay", day=day)
    assert verdict.eligible is eligible
    assert verdict.reasons == reasons


@pytest.mark.parametrize(
    ("code", "order", "eligible", "missing", "reasons"),
    [
        ("GIAM10", {"amount": 500_000}, None, ("tier",), ()),
        ("GIAM10", {}, None, ("amount", "tier"), ()),
        ("GIAM10", {"tier": "Bạc"}, None, ("amount",), ()),
        ("GIAM50K", {"tier": "Đồng", "payment": "cod"}, None, ("amount",), ()),
        ("HOAN10", {"amount": 500_000}, None, ("payment_method",), ()),
        ("HOAN10", {}, None, ("amount", "payment_method"), ()),
        ("FREESHIP", {}, None, ("amount", "tier"), ()),
        ("SINHNHAT", {"tier": "Vàng"}, None, ("amount",), ()),
        ("MOIBAN", {}, None, ("amount",), ()),
        # unrecognised values count as unknown: the bot asks again
        ("GIAM10", {"amount": 500_000, "tier": "VIP"}, None, ("tier",), ()),
        ("HOAN10", {"amount": 500_000, "payment": "bitcoin"}, None, ("payment_method",), ()),
        ("GIAM10", {"amount": 500_000, "tier": ""}, None, ("tier",), ()),
        # a failed condition already decides; missing still says what is unknown
        ("GIAM10", {"tier": "Đồng"}, False, ("amount",), ("tier_not_allowed",)),
        ("HOAN10", {"payment": "momo"}, False, ("amount",), ("payment_not_allowed",)),
        ("GIAM10", {"day": date(2027, 1, 1)}, False, ("amount", "tier"), ("expired",)),
        # Flash Sale needs nothing but the day
        ("FLASHSALE1212", {"day": date(2026, 12, 12)}, True, (), ()),
    ],
)
def test_missing_fields(
    book: PromotionBook,
    code: str,
    order: dict,
    eligible: bool | None,
    missing: tuple[str, ...],
    reasons: tuple[str, ...],
) -> None:
    verdict = run(book, code, **order)
    assert verdict.eligible is eligible
    assert verdict.missing == missing
    assert verdict.reasons == reasons
    assert verdict.benefit == 0 or eligible


@pytest.mark.parametrize(
    ("amount", "shipping_fee", "eligible", "benefit", "capped", "reasons"),
    [
        (200_000, None, True, 25_000, False, ()),
        (150_000, None, True, 25_000, False, ()),
        (299_999, None, True, 25_000, False, ()),
        (300_000, None, True, 0, False, ("already_free_shipping",)),
        (1_000_000, None, True, 0, False, ("already_free_shipping",)),
        (149_999, None, False, 0, False, ("below_min_order",)),
        (200_000, 45_000, True, 30_000, True, ()),  # express delivery: capped at 30.000đ
        (500_000, 45_000, True, 30_000, True, ()),  # express is not free above 300.000đ
        (200_000, 20_000, True, 20_000, False, ()),
        (200_000, 0, True, 0, False, ("already_free_shipping",)),
    ],
)
def test_freeship(
    book: PromotionBook,
    amount: int,
    shipping_fee: int | None,
    eligible: bool,
    benefit: int,
    capped: bool,
    reasons: tuple[str, ...],
) -> None:
    verdict = run(book, "FREESHIP", amount=amount, tier="Bạc", shipping_fee=shipping_fee)
    assert verdict.eligible is eligible
    assert verdict.benefit == benefit
    assert verdict.capped is capped
    assert verdict.reasons == reasons
    assert verdict.final_amount == amount  # the goods total never changes


def test_freeship_uses_shipping_rules_from_the_book(book: PromotionBook) -> None:
    promo = book.get("FREESHIP")
    assert promo is not None
    order = make_order(amount=350_000, tier="Bạc")
    rules = ShippingRules(shipping_fee_standard=28_000, free_shipping_min_order=400_000)
    assert evaluate(promo, order, rules).benefit == 28_000
    assert evaluate(promo, order).reasons == ("already_free_shipping",)  # KB §3 defaults


@pytest.mark.parametrize(
    ("codes", "allowed", "conflicts", "reasons"),
    [
        (["GIAM50K", "GIAM10"], False, [("GIAM50K", "GIAM10")], ["same_stack_group"]),
        (["GIAM50K", "FREESHIP"], True, [], []),
        (["GIAM50K", "HOAN10"], True, [], []),
        (["FREESHIP", "HOAN10"], True, [], []),
        (["GIAM50K", "FREESHIP", "HOAN10"], True, [], []),
        (["GIAM10", "FREESHIP", "HOAN10"], True, [], []),
        (["GIAM50K", "SINHNHAT"], False, [("GIAM50K", "SINHNHAT")], ["same_stack_group"]),
        (["MOIBAN", "GIAM50K"], False, [("MOIBAN", "GIAM50K")], ["same_stack_group"]),
        (["FREESHIP", "FREESHIP"], False, [("FREESHIP", "FREESHIP")], ["same_stack_group"]),
        (
            ["FLASHSALE1212", "GIAM50K"],
            False,
            [("FLASHSALE1212", "GIAM50K")],
            ["excluded_group"],
        ),
        (
            ["GIAM50K", "FLASHSALE1212"],
            False,
            [("FLASHSALE1212", "GIAM50K")],
            ["excluded_group"],
        ),
        (["FLASHSALE1212", "FREESHIP", "HOAN10"], True, [], []),
        (
            ["FLASHSALE1212", "GIAM10", "FREESHIP"],
            False,
            [("FLASHSALE1212", "GIAM10")],
            ["excluded_group"],
        ),
        (
            ["GIAM50K", "GIAM10", "SINHNHAT"],
            False,
            [("GIAM50K", "GIAM10"), ("GIAM50K", "SINHNHAT"), ("GIAM10", "SINHNHAT")],
            ["same_stack_group"] * 3,
        ),
        (["GIAM10"], True, [], []),
        ([], True, [], []),
    ],
)
def test_check_combination(
    book: PromotionBook,
    codes: list[str],
    allowed: bool,
    conflicts: list[tuple[str, str]],
    reasons: list[str],
) -> None:
    combination = check_combination([book.promotions[code] for code in codes])
    assert combination.allowed is allowed
    assert combination.conflicts == tuple(conflicts)
    assert combination.reasons == tuple(reasons)


@pytest.mark.parametrize(
    ("day", "codes"),
    [
        (
            date(2026, 12, 12),
            ["GIAM50K", "GIAM10", "FREESHIP", "HOAN10", "MOIBAN", "SINHNHAT", "FLASHSALE1212"],
        ),
        (DAY, ["GIAM50K", "GIAM10", "FREESHIP", "HOAN10", "MOIBAN", "SINHNHAT"]),
        (date(2026, 10, 15), ["FREESHIP", "HOAN10", "MOIBAN", "SINHNHAT"]),
        (date(2026, 12, 20), ["GIAM50K", "FREESHIP", "HOAN10", "MOIBAN", "SINHNHAT"]),
        (date(2027, 1, 1), ["MOIBAN", "SINHNHAT"]),
    ],
)
def test_active_promotions(book: PromotionBook, day: date, codes: list[str]) -> None:
    assert [promo.code for promo in active_promotions(book, day)] == codes


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (
            {"amount": 1_000_000, "tier": "Vàng", "payment": "senpay"},
            [
                ("SINHNHAT", 150_000),
                ("HOAN10", 100_000),
                ("GIAM10", 80_000),
                ("GIAM50K", 50_000),
                ("FREESHIP", 0),
            ],
        ),
        ({"amount": 600_000, "tier": "Đồng", "payment": "cod"}, [("GIAM50K", 50_000)]),
        ({"amount": 450_000, "tier": "Đồng", "payment": "cod"}, []),
        ({"amount": 200_000, "tier": "Bạc", "payment": "momo"}, [("FREESHIP", 25_000)]),
        # undecided promotions (missing info) are not offered
        ({"amount": 600_000}, [("GIAM50K", 50_000)]),
        (
            {"amount": 600_000, "tier": "Bạc", "payment": "senpay", "day": date(2026, 12, 12)},
            # ties keep file order
            [
                ("GIAM10", 60_000),
                ("HOAN10", 60_000),
                ("GIAM50K", 50_000),
                ("FREESHIP", 0),
                ("FLASHSALE1212", 0),
            ],
        ),
    ],
)
def test_applicable_best_benefit_first(
    book: PromotionBook, order: dict, expected: list[tuple[str, int]]
) -> None:
    result = applicable(book, make_order(**order))
    assert [(promo.code, verdict.benefit) for promo, verdict in result] == expected
    assert all(verdict.eligible for _, verdict in result)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # Flash Sale excludes discount codes: FREESHIP and HOAN10 remain (KB §9)
        ("FLASHSALE1212", ["FREESHIP", "HOAN10"]),
        ("GIAM50K", ["FREESHIP", "HOAN10"]),
        ("FREESHIP", ["GIAM50K", "GIAM10", "HOAN10", "SINHNHAT", "FLASHSALE1212"]),
        ("HOAN10", ["GIAM50K", "GIAM10", "FREESHIP", "SINHNHAT", "FLASHSALE1212"]),
    ],
)
def test_compatible_promotions(book: PromotionBook, code: str, expected: list[str]) -> None:
    promo = book.get(code)
    assert promo is not None
    assert [p.code for p in compatible_promotions(book, promo)] == expected


def test_compatible_promotions_need_overlapping_dates() -> None:
    early = Promotion(code="EARLY", name="Early", kind="freeship", end=date(2026, 6, 30))
    sale = Promotion(
        code="SALE", name="Sale", kind="campaign", start=date(2026, 12, 12), end=date(2026, 12, 12)
    )
    late = Promotion(code="LATE", name="Late", kind="payment", percent=5, start=date(2026, 12, 1))
    book = PromotionBook({p.code: p for p in (early, sale, late)})
    assert [p.code for p in compatible_promotions(book, sale)] == ["LATE"]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        # closest first: fewest failing conditions, a tier last, then the smallest amount missing
        (
            {"amount": 180_000, "payment": "senpay"},
            [
                ("HOAN10", ("below_min_order",)),
                ("GIAM10", ("below_min_order",)),
                ("GIAM50K", ("below_min_order",)),
            ],
        ),
        (
            {"amount": 450_000, "tier": "Đồng"},
            [
                ("GIAM50K", ("below_min_order",)),
                ("GIAM10", ("tier_not_allowed",)),
                ("FREESHIP", ("tier_not_allowed",)),
                ("SINHNHAT", ("tier_not_allowed",)),
            ],
        ),
        # Flash Sale (not started: a date cannot be met) is never a near miss
        (
            {"amount": 100_000, "tier": "Đồng", "payment": "momo"},
            [
                ("GIAM50K", ("below_min_order",)),
                ("SINHNHAT", ("tier_not_allowed",)),
                ("HOAN10", ("payment_not_allowed", "below_min_order")),
                ("FREESHIP", ("tier_not_allowed", "below_min_order")),
                ("GIAM10", ("tier_not_allowed", "below_min_order")),
            ],
        ),
        ({"amount": 1_000_000, "tier": "Vàng", "payment": "senpay"}, []),
    ],
)
def test_near_misses(book: PromotionBook, order: dict, expected: list) -> None:
    result = near_misses(book, make_order(**order))
    assert [(promo.code, verdict.reasons) for promo, verdict in result] == expected


def test_loads_every_kb_promotion(book: PromotionBook) -> None:
    assert list(book.promotions) == [
        "GIAM50K",
        "GIAM10",
        "FREESHIP",
        "HOAN10",
        "MOIBAN",
        "SINHNHAT",
        "FLASHSALE1212",
    ]
    assert book.shipping == ShippingRules(25_000, 300_000)
    assert book.get(" giam10 ") == Promotion(
        code="GIAM10",
        name="Giảm 10% cho thành viên",
        kind="discount",
        percent=10,
        cap=80_000,
        min_order=250_000,
        tiers=("Bạc", "Vàng", "Kim Cương"),
        start=date(2026, 11, 15),
        end=date(2026, 12, 15),
        stack_group="discount",
    )
    flash = book.get("FLASHSALE1212")
    assert flash is not None
    assert flash.excludes_groups == ("discount",)
    assert book.get("NOPE") is None


def test_rasa_does_not_read_promotions_as_training_data() -> None:
    # Rasa treats any YAML under data/ with a line starting "rules:", "stories:", "nlu:"
    # or "responses:" as training data and `rasa train` would fail on this file.
    pytest.importorskip("rasa")
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import (
        YAMLStoryReader,
    )
    from rasa.shared.data import is_nlu_file

    assert not is_nlu_file(str(DEFAULT_PROMOTIONS_FILE))
    assert not YAMLStoryReader.is_stories_file(DEFAULT_PROMOTIONS_FILE)


VALID_ENTRY = """\
  - code: NEW20
    name: Mã mới
    kind: discount
    amount: 20000
    min_order: 100000
"""


def write(tmp_path: Path, body: str, header: str = "version: 1\npromotions:\n") -> Path:
    """Promotions file in tmp_path."""
    path = tmp_path / "promotions.yml"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_new_promotion_needs_no_code_change(tmp_path: Path) -> None:
    book = load_promotions(write(tmp_path, VALID_ENTRY))
    assert book.shipping == ShippingRules()
    promo = book.get("NEW20")
    assert promo is not None and promo.stack_group == "discount"
    verdict = evaluate(promo, make_order(amount=100_000, day=date(2040, 1, 1)))
    assert (verdict.eligible, verdict.benefit, verdict.final_amount) == (True, 20_000, 80_000)


def test_env_var_overrides_default_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMOTIONS_FILE", str(write(tmp_path, VALID_ENTRY)))
    assert list(load_promotions().promotions) == ["NEW20"]
    assert "GIAM50K" in load_promotions(DEFAULT_PROMOTIONS_FILE).promotions


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("  - {code: X, name: X, kind: coupon, amount: 1000}\n", "unknown kind 'coupon'"),
        (
            "  - {code: X, name: X, kind: discount, percent: 0}\n",
            "percent must be a whole number from 1 to 100",
        ),
        (
            "  - {code: X, name: X, kind: discount, percent: 101}\n",
            "percent must be a whole number from 1 to 100, got 101",
        ),
        ("  - {code: X, name: X, kind: discount, percent: 10%}\n", "got '10%'"),
        ("  - {code: X, name: X, kind: discount, percent: 10.5}\n", "got 10.5"),
        (
            "  - {code: X, name: X, kind: discount, amount: 1000, start: 2026-12-31, end: 2026-12-01}\n",
            "end 2026-12-01 is before start 2026-12-31",
        ),
        (VALID_ENTRY + VALID_ENTRY, "duplicate code NEW20"),
        (VALID_ENTRY + "  - {code: new20, name: X, kind: freeship}\n", "duplicate code NEW20"),
        (
            "  - {code: X, name: X, kind: discount, min_order: 1000}\n",
            "kind discount needs `percent` or `amount`",
        ),
        ("  - {code: X, name: X, kind: payment, cap: 1000}\n", "kind payment needs `percent` or `amount`"),
        ("  - {code: X, name: X, kind: discount, percent: 10, amount: 1000}\n", "either percent or amount"),
        ("  - {code: X, name: X, kind: discount, amount: 1000, min_oder: 5}\n", "unknown fields: min_oder"),
        ("  - {code: X, name: X, kind: discount, amount: -1000}\n", "amount must be a whole number"),
        ("  - {code: X, name: X, kind: discount, amount: '50.000đ'}\n", "amount must be a whole number"),
        (
            "  - {code: X, name: X, kind: discount, amount: 1000, tiers: [Bac]}\n",
            "tiers: unknown value(s) 'Bac'",
        ),
        (
            "  - {code: X, name: X, kind: payment, percent: 5, payment_methods: [paypal]}\n",
            "unknown value(s) 'paypal'",
        ),
        (
            "  - {code: X, name: X, kind: discount, amount: 1000, stack_group: coupon}\n",
            "unknown stack_group 'coupon'",
        ),
        (
            "  - {code: X, name: X, kind: campaign, excludes_groups: [coupon]}\n",
            "excludes_groups: unknown value(s)",
        ),
        (
            "  - {code: X, name: X, kind: discount, amount: 1000, end: 31/12/2026}\n",
            "end must be a date like 2026-12-31",
        ),
        ("  - {code: X, kind: discount, amount: 1000}\n", "promotion X: missing `name`"),
        ("  - {name: X, kind: discount, amount: 1000}\n", "promotion #1: missing `code`"),
        ("  - {code: X, name: X, kind: discount, amount: 1000, limits: [a, b]}\n", "limits must be text"),
        ("  - code: X\n    name: [unclosed\n", "invalid YAML"),
        ("  []\n", "`promotions` must be a non-empty list"),
    ],
)
def test_bad_data_raises(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(PromotionDataError) as excinfo:
        load_promotions(path)
    assert message in str(excinfo.value)
    assert str(path) in str(excinfo.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 2\npromotions:\n" + VALID_ENTRY, "unsupported version 2"),
        (
            "version: 1\nrules:\n  shipping_fee_standard: 25000\npromotions:\n" + VALID_ENTRY,
            "unknown top-level keys: rules",
        ),
        ("version: 1\nshipping:\n  fee: 25000\npromotions:\n" + VALID_ENTRY, "shipping: unknown keys: fee"),
        (
            "version: 1\nshipping:\n  shipping_fee_standard: -1\npromotions:\n" + VALID_ENTRY,
            "shipping.shipping_fee_standard",
        ),
        ("- just a list\n", "top level must be a mapping"),
        ("", "top level must be a mapping"),
    ],
)
def test_bad_file_structure_raises(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PromotionDataError, match=message):
        load_promotions(write(tmp_path, text, header=""))


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(PromotionDataError, match="cannot read promotions file"):
        load_promotions(tmp_path / "absent.yml")


def test_nfd_tier_names_are_accepted(tmp_path: Path) -> None:
    import unicodedata

    body = VALID_ENTRY + f"    tiers: [{unicodedata.normalize('NFD', 'Kim Cương')}]\n"
    promo = load_promotions(write(tmp_path, body)).get("NEW20")
    assert promo is not None and promo.tiers == ("Kim Cương",)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 12, 11, 16, 59, tzinfo=timezone.utc), date(2026, 12, 11)),
        (datetime(2026, 12, 11, 17, 0, tzinfo=timezone.utc), date(2026, 12, 12)),
        (datetime(2026, 12, 31, 23, 0), date(2027, 1, 1)),  # naive = UTC
    ],
)
def test_today_vn(now: datetime, expected: date) -> None:
    from actions.promotion_engine import today_vn

    assert today_vn(now) == expected
    assert isinstance(today_vn(), date)


@pytest.mark.parametrize(
    ("value", "tier"),
    [
        ("Bạc", "Bạc"),
        ("bac", "Bạc"),
        ("hạng Vàng", "Vàng"),
        ("kim cuong", "Kim Cương"),
        ("ĐỒNG", "Đồng"),
        ("dong", "Đồng"),
        ("VIP", None),
        (None, None),
        ("", None),
    ],
)
def test_canonical_tier(value: str | None, tier: str | None) -> None:
    assert canonical_tier(value) == tier


@pytest.mark.parametrize(
    ("value", "method"),
    [
        ("senpay", "senpay"),
        ("Ví SenPay", "senpay"),
        ("Sen Pay", "senpay"),
        ("COD", "cod"),
        ("thanh toán khi nhận hàng", "cod"),
        ("Visa", "card"),
        ("thẻ ATM", "atm"),
        ("chuyển khoản", "vietqr"),
        ("ví MoMo", "momo"),
        ("ZaloPay", "zalopay"),
        ("paypal", None),
        (None, None),
    ],
)
def test_canonical_payment_method(value: str | None, method: str | None) -> None:
    assert canonical_payment_method(value) == method


@pytest.mark.parametrize("field", ["amount", "shipping_fee"])
def test_order_rejects_negative_money(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Order(**{"amount": None, "tier": None, "payment_method": None, "day": DAY, field: -1})
