"""Tests for actions.points_engine against KB §8: 1 điểm per 10.000đ, 1 điểm = 100đ, at most 50%."""

from __future__ import annotations

import pytest

from actions.points_engine import (
    KB_RULES,
    PointsRules,
    Redemption,
    order_value_to_redeem_all,
    points_earned,
    points_value,
    redeemable,
    redemption_limit,
)


def test_kb_rules() -> None:
    assert KB_RULES == PointsRules(
        vnd_per_point=10_000, point_value=100, max_redeem_percent=50, expiry_months=12
    )


@pytest.mark.parametrize(
    ("order_value", "points"),
    [
        (2_000_000, 200),
        (350_000, 35),  # "đơn 350k phí ship 25k": the fee is not part of the order value
        (355_000, 35),  # only full 10.000đ count
        (9_999, 0),
        (10_000, 1),
        (0, 0),
    ],
)
def test_points_earned(order_value: int, points: int) -> None:
    assert points_earned(order_value) == points


@pytest.mark.parametrize(("points", "value"), [(500, 50_000), (1, 100), (1_500, 150_000), (0, 0)])
def test_points_value(points: int, value: int) -> None:
    assert points_value(points) == value


@pytest.mark.parametrize(
    ("order_value", "balance", "expected"),
    [
        # "đơn 300k dùng tối đa bao nhiêu điểm": 150.000đ = 1.500 điểm
        (300_000, None, Redemption(1_500, 150_000, 150_000, True)),
        # "có 3000 điểm, đơn 400k trừ được bao nhiêu": 200.000đ (2.000 điểm), the 50% cap decides
        (400_000, 3_000, Redemption(2_000, 200_000, 200_000, True)),
        # the balance decides
        (400_000, 500, Redemption(500, 50_000, 200_000, False)),
        (400_000, 2_000, Redemption(2_000, 200_000, 200_000, False)),
        # half of 355.555đ is 177.777đ: 1.777 whole points
        (355_555, None, Redemption(1_777, 177_700, 177_700, True)),
        (0, 100, Redemption(0, 0, 0, True)),
    ],
)
def test_redeemable(order_value: int, balance: int | None, expected: Redemption) -> None:
    assert redeemable(order_value, balance) == expected


def test_redemption_limit_and_order_to_use_all_points() -> None:
    assert redemption_limit(300_000) == 150_000
    assert order_value_to_redeem_all(500) == 100_000
    assert order_value_to_redeem_all(1_500) == 300_000
    assert redeemable(order_value_to_redeem_all(777), 777).points == 777


def test_other_rules() -> None:
    rules = PointsRules(vnd_per_point=20_000, point_value=50, max_redeem_percent=30)
    assert points_earned(1_000_000, rules) == 50
    assert points_value(100, rules) == 5_000
    assert redeemable(100_000, None, rules) == Redemption(600, 30_000, 30_000, True)


@pytest.mark.parametrize(
    "call",
    [
        lambda: points_earned(-1),
        lambda: points_value(-1),
        lambda: redeemable(-1),
        lambda: redeemable(100_000, -5),
    ],
)
def test_negative_numbers_are_refused(call) -> None:
    with pytest.raises(ValueError):
        call()
