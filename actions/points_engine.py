"""SenMart reward points (KB §8): points earned, what points are worth, how many an order can take.

Plain Python, no Rasa: the action reads the question and speaks (see `actions.points`). Money is
`int` VND everywhere; the order value is the goods total without the shipping fee.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PointsRules:
    """The points programme of KB §8."""

    vnd_per_point: int = 10_000  # 1 điểm for every 10.000đ spent (shipping fee not counted)
    point_value: int = 100  # 1 điểm = 100đ when redeemed
    max_redeem_percent: int = 50  # points pay at most 50% of the order value
    expiry_months: int = 12  # points expire 12 months after they were earned


KB_RULES = PointsRules()


@dataclass(frozen=True)
class Redemption:
    """Points an order can take and what they pay."""

    points: int
    value: int
    limit_value: int  # the most points may pay on this order (50% of its value)
    capped: bool  # True when the 50% limit, not the balance, decides


def _check(value: int, name: str) -> None:
    """Reject negative numbers."""
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


def points_earned(order_value: int, rules: PointsRules = KB_RULES) -> int:
    """Points an order earns: one per full 10.000đ of the goods total (without shipping)."""
    _check(order_value, "order_value")
    return order_value // rules.vnd_per_point


def points_value(points: int, rules: PointsRules = KB_RULES) -> int:
    """What `points` pay, in VND."""
    _check(points, "points")
    return points * rules.point_value


def redemption_limit(order_value: int, rules: PointsRules = KB_RULES) -> int:
    """The most points may pay on an order, in VND (a whole number of points)."""
    _check(order_value, "order_value")
    limit = order_value * rules.max_redeem_percent // 100
    return limit - limit % rules.point_value


def redeemable(order_value: int, balance: int | None = None, rules: PointsRules = KB_RULES) -> Redemption:
    """Points an order can take: up to 50% of its value, and no more than the balance when known."""
    limit = redemption_limit(order_value, rules)
    most = limit // rules.point_value
    if balance is None:
        return Redemption(most, limit, limit, True)
    _check(balance, "balance")
    points = min(balance, most)
    return Redemption(points, points_value(points, rules), limit, balance > most)


def order_value_to_redeem_all(points: int, rules: PointsRules = KB_RULES) -> int:
    """The smallest order value on which all these points can be used."""
    value = points_value(points, rules)
    return -(-value * 100 // rules.max_redeem_percent)  # ceiling division
