"""Money expressions -> integer VND."""

import pytest

from bot.nlu.money import parse_money


@pytest.mark.parametrize(
    "text, expected",
    [
        ("450k", 450_000),
        ("450K", 450_000),
        ("450 k", 450_000),
        ("450 nghìn", 450_000),
        ("450 nghin", 450_000),
        ("450 ngàn", 450_000),
        ("1tr5", 1_500_000),
        ("1tr2", 1_200_000),
        ("1tr25", 1_250_000),
        ("2tr", 2_000_000),
        ("1 triệu rưỡi", 1_500_000),
        ("1 trieu ruoi", 1_500_000),
        ("1 triệu 200 nghìn", 1_200_000),
        ("1 triệu 2", 1_200_000),
        ("2 triệu", 2_000_000),
        ("1,5 triệu", 1_500_000),
        ("1.5tr", 1_500_000),
        ("600.000đ", 600_000),
        ("600.000 đ", 600_000),
        ("600,000 VND", 600_000),
        ("1.500.000 đồng", 1_500_000),
        ("500 nghìn đồng", 500_000),
        ("600000", 600_000),
        ("1 củ", 1_000_000),
        ("3 trăm", 300_000),
        ("3 trăm nghìn", 300_000),
        ("2 trăm rưỡi", 250_000),
        ("1k5", 1_500),
    ],
)
def test_money_values(text, expected):
    assert parse_money(text) == expected


@pytest.mark.parametrize("text", ["abc", "0912345678", "12.12", "100đ", "tr", "", "rưỡi"])
def test_not_money(text):
    assert parse_money(text) is None
