"""Parse Vietnamese money expressions ("450k", "1tr5", "1 triệu rưỡi", "600.000đ") into VND."""

from __future__ import annotations

import re
from typing import List, Optional, Text, Tuple

from bot.nlu.normalizer import fold

MULTIPLIERS = {
    "trieu": 1_000_000,
    "tr": 1_000_000,
    "cu": 1_000_000,  # "1 củ" is slang for one million
    "tram": 100_000,  # "3 trăm" in a price means 300.000đ
    "nghin": 1_000,
    "ngan": 1_000,
    "k": 1_000,
    "d": 1,
    "dong": 1,
    "vnd": 1,
}
MIN_VND = 1_000
MAX_VND = 10_000_000_000

_PIECES = re.compile(r"(\d+(?:[.,]\d+)*)|(ruoi|ruou|trieu|tram|tr|cu|nghin|ngan|dong|vnd|k|d)")
_THOUSANDS = re.compile(r"^\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*$")


def _number(raw: Text, grouped: bool) -> float:
    """A digit string: "600.000" is 600000 when grouped, "1,5"/"1.5" is 1.5 otherwise."""
    if grouped and _THOUSANDS.match(raw):
        return float(re.sub(r"[.,]", "", raw))
    if raw.count(".") + raw.count(",") > 1:
        return float(re.sub(r"[.,]", "", raw))
    return float(raw.replace(",", "."))


def _pieces(text: Text) -> List[Tuple[Text, Text]]:
    """("num", "1") / ("unit", "tr") pieces of a folded money expression."""
    folded = fold(text).replace(" ", "")
    pieces = []
    position = 0
    for match in _PIECES.finditer(folded):
        if folded[position : match.start()].strip("-_"):
            return []  # something that is not part of a money expression
        position = match.end()
        pieces.append(("num", match.group(1)) if match.group(1) else ("unit", match.group(2)))
    if folded[position:].strip(".,!?-_"):
        return []
    return pieces


def parse_money(text: Text) -> Optional[int]:
    """Integer VND for a money expression, or None when it is not one."""
    pieces = _pieces(text)
    if not pieces or pieces[0][0] != "num":
        return None
    total = 0.0
    index = 0
    last_multiplier = None
    while index < len(pieces):
        kind, value = pieces[index]
        if kind == "unit":
            if value in ("ruoi", "ruou") and last_multiplier and last_multiplier > 1:
                total += last_multiplier / 2  # "1 triệu rưỡi" = 1.500.000
                index += 1
                continue
            return None if last_multiplier is None else _bounded(total)
        unit = pieces[index + 1][1] if index + 1 < len(pieces) and pieces[index + 1][0] == "unit" else None
        multiplier = MULTIPLIERS.get(unit) if unit not in ("ruoi", "ruou") else None
        if multiplier is None:
            if last_multiplier is not None and last_multiplier > 1:
                # trailing digits after a unit: "1tr5" = 1.5 triệu, "1 triệu 200" = 1.2 triệu
                total += float(value) * last_multiplier / (10 ** len(value))
                index += 1
                continue
            if last_multiplier is not None or value.startswith("0"):
                return None
            total += _number(value, grouped=True)
            last_multiplier = 1
            index += 1
            continue
        if multiplier == 1:
            if value.startswith("0"):
                return None  # a phone number or an id, not a price
            total += _number(value, grouped=True)
        else:
            total += _number(value, grouped=False) * multiplier
        last_multiplier = multiplier
        index += 2
        # "3 trăm nghìn": the thousand after trăm belongs to the same amount
        if unit == "tram" and index < len(pieces) and pieces[index][1] in ("nghin", "ngan", "k"):
            index += 1
        # "500 nghìn đồng", "2 triệu đồng": a currency word after a multiplier
        if index < len(pieces) and pieces[index][0] == "unit" and pieces[index][1] in ("d", "dong", "vnd"):
            index += 1
    return _bounded(total)


def _bounded(total: float) -> Optional[int]:
    value = int(round(total))
    return value if MIN_VND <= value <= MAX_VND else None
