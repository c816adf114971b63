"""SenMart promotion rules: load promotions from YAML and check them against an order.

Plain Python, no Rasa: actions read slots, call these functions and speak the result
(see `actions.promotion_text`). Money is `int` VND everywhere.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

from common.contracts import VIETNAM
from common.text import fold

PROMOTIONS_FILE_ENV = "PROMOTIONS_FILE"
DEFAULT_PROMOTIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "promotions.yml"

KINDS = ("discount", "freeship", "payment", "referral", "campaign")
STACK_GROUPS = KINDS
TIERS = ("Đồng", "Bạc", "Vàng", "Kim Cương")
PAYMENT_METHODS = ("senpay", "cod", "atm", "card", "vietqr", "momo", "zalopay")
ORDER_FIELDS = ("amount", "tier", "payment_method")

# Kinds whose benefit is computed from `percent` or `amount`, so one of them is required.
_PRICED_KINDS = ("discount", "payment")

# Customers and NLU write tiers and payment methods loosely ("hang bac", "ví MoMo"): the
# lookup key is lower-case, without diacritics and without spaces.
_PAYMENT_ALIASES = {
    "senpay": "senpay",
    "visenpay": "senpay",
    "cod": "cod",
    "thanhtoankhinhanhang": "cod",
    "tienmat": "cod",
    "atm": "atm",
    "theatm": "atm",
    "napas": "atm",
    "card": "card",
    "the": "card",
    "visa": "card",
    "mastercard": "card",
    "jcb": "card",
    "thetindung": "card",
    "thequocte": "card",
    "vietqr": "vietqr",
    "qr": "vietqr",
    "chuyenkhoan": "vietqr",
    "momo": "momo",
    "vimomo": "momo",
    "zalopay": "zalopay",
    "vizalopay": "zalopay",
}

_VN_TZ = VIETNAM

# the fields of a promotion in data/promotions.yml, in the order the file documents them
PROMOTION_FIELDS = (
    "code",
    "name",
    "kind",
    "percent",
    "amount",
    "cap",
    "min_order",
    "tiers",
    "payment_methods",
    "start",
    "end",
    "stack_group",
    "excludes_groups",
    "limits",
    "notes",
    "aliases",
)
_PROMOTION_KEYS = frozenset(PROMOTION_FIELDS)
_SHIPPING_KEYS = frozenset({"shipping_fee_standard", "free_shipping_min_order"})


class PromotionDataError(ValueError):
    """The promotions file is missing, unreadable or breaks a data rule."""


@dataclass(frozen=True)
class Promotion:
    """One promotion row of the business KB §9."""

    code: str
    name: str
    kind: str
    percent: int | None = None
    amount: int | None = None
    cap: int | None = None
    min_order: int | None = None
    tiers: tuple[str, ...] | None = None
    payment_methods: tuple[str, ...] | None = None
    start: date | None = None
    end: date | None = None
    stack_group: str = ""
    excludes_groups: tuple[str, ...] = ()
    limits: str = ""
    notes: str = ""
    aliases: tuple[str, ...] = ()  # other names customers use ("flash sale"), for entity matching

    def __post_init__(self) -> None:
        """Default the stack group to the kind."""
        if not self.stack_group:
            object.__setattr__(self, "stack_group", self.kind)

    def is_active(self, day: date) -> bool:
        """Whether `day` falls inside the promotion's date window (both ends inclusive)."""
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class ShippingRules:
    """Standard shipping fee and the free-shipping threshold (KB §3)."""

    shipping_fee_standard: int = 25_000
    free_shipping_min_order: int = 300_000

    def fee_for(self, amount: int) -> int:
        """Standard shipping fee for an order of `amount` VND."""
        return 0 if amount >= self.free_shipping_min_order else self.shipping_fee_standard


@dataclass(frozen=True)
class PromotionBook:
    """All promotions by upper-case code, in file order, plus the shipping rules."""

    promotions: Mapping[str, Promotion]
    shipping: ShippingRules = field(default_factory=ShippingRules)

    def get(self, code: str) -> Promotion | None:
        """Promotion for a code as typed by a customer (case and spaces ignored)."""
        return self.promotions.get(normalize_code(code))

    def __iter__(self) -> Iterator[Promotion]:
        """Iterate over promotions in file order."""
        return iter(self.promotions.values())

    def __len__(self) -> int:
        """Number of promotions."""
        return len(self.promotions)


@dataclass(frozen=True)
class Order:
    """What we know about the customer's order; `None` means not known yet."""

    amount: int | None
    tier: str | None
    payment_method: str | None
    day: date
    shipping_fee: int | None = None  # None = standard shipping

    def __post_init__(self) -> None:
        """Reject negative money."""
        for name in ("amount", "shipping_fee"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")


@dataclass(frozen=True)
class Verdict:
    """Result of checking one promotion against one order."""

    eligible: bool | None  # None = more information needed, see `missing`
    benefit: int = 0
    missing: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    final_amount: int | None = None
    capped: bool = False


@dataclass(frozen=True)
class Combination:
    """Whether promotions can be used together on one order."""

    allowed: bool
    conflicts: tuple[tuple[str, str], ...] = ()
    reasons: tuple[str, ...] = ()  # one per conflict: "same_stack_group" | "excluded_group"


def today_vn(now: datetime | None = None) -> date:
    """Today's date in Vietnam (UTC+7)."""
    current = now if now is not None else datetime.now(timezone.utc)
    if current.tzinfo is None:
        current = current.replace(tzinfo=timezone.utc)
    return current.astimezone(_VN_TZ).date()


def normalize_code(code: str) -> str:
    """Promotion code in its canonical form: upper case, no spaces."""
    return "".join(code.split()).upper()


def _fold(text: str) -> str:
    """Lower-case text without Vietnamese diacritics or spaces."""
    return "".join(fold(text).split())


_TIER_KEYS = {_fold(tier): tier for tier in TIERS}


def canonical_tier(value: str | None) -> str | None:
    """Canonical tier name ("Bạc") for loose input ("hạng bac"), or None if unknown."""
    if not value:
        return None
    key = _fold(value)
    key = key[len("hang") :] if key.startswith("hang") else key
    return _TIER_KEYS.get(key)


def canonical_payment_method(value: str | None) -> str | None:
    """Canonical payment method id ("senpay") for loose input ("Ví SenPay"), or None."""
    if not value:
        return None
    return _PAYMENT_ALIASES.get(_fold(value))


def evaluate(promo: Promotion, order: Order, shipping: ShippingRules | None = None) -> Verdict:
    """Check one promotion against an order: eligibility, benefit and what is missing."""
    shipping = shipping or ShippingRules()
    reasons: list[str] = []
    missing: list[str] = []

    if promo.start is not None and order.day < promo.start:
        reasons.append("not_started")
    if promo.end is not None and order.day > promo.end:
        reasons.append("expired")

    # a condition listing tiers or payment methods: unknown in the order is missing, another value fails
    tier = canonical_tier(order.tier)
    method = canonical_payment_method(order.payment_method)
    for name, allowed, value, refusal in (
        ("tier", promo.tiers, tier, "tier_not_allowed"),
        ("payment_method", promo.payment_methods, method, "payment_not_allowed"),
    ):
        if allowed is None:
            continue
        if value is None:
            missing.append(name)
        elif value not in allowed:
            reasons.append(refusal)

    amount = order.amount
    if _needs_amount(promo) and amount is None:
        missing.append("amount")
    if promo.min_order is not None and amount is not None and amount < promo.min_order:
        reasons.append("below_min_order")

    missing_fields = tuple(f for f in ORDER_FIELDS if f in missing)
    if reasons:
        return Verdict(False, 0, missing_fields, tuple(reasons), amount)
    if missing_fields:
        return Verdict(None, 0, missing_fields, (), amount)

    if promo.kind == "freeship":
        assert amount is not None  # freeship always needs the amount
        fee = order.shipping_fee if order.shipping_fee is not None else shipping.fee_for(amount)
        if fee == 0:
            return Verdict(True, 0, (), ("already_free_shipping",), amount)
        benefit, capped = _apply_cap(fee, promo.cap)
        return Verdict(True, benefit, (), (), amount, capped)

    benefit, capped = _benefit(promo, amount)
    final_amount = amount
    if promo.kind == "discount" and amount is not None:
        final_amount = amount - benefit
    return Verdict(True, benefit, (), (), final_amount, capped)


def _needs_amount(promo: Promotion) -> bool:
    """Whether the order amount is needed to decide or compute this promotion."""
    return promo.min_order is not None or promo.percent is not None or promo.kind == "freeship"


def _apply_cap(value: int, cap: int | None) -> tuple[int, bool]:
    """Value limited to the cap, and whether the cap cut it."""
    if cap is not None and value > cap:
        return cap, True
    return value, False


def _benefit(promo: Promotion, amount: int | None) -> tuple[int, bool]:
    """Discount, cashback or reward in VND, and whether the cap applied."""
    if promo.percent is not None:
        assert amount is not None  # percent promotions always need the amount
        return _apply_cap(amount * promo.percent // 100, promo.cap)
    if promo.amount is not None:
        value = promo.amount if amount is None else min(promo.amount, amount)
        return _apply_cap(value, promo.cap)
    return 0, False


def check_combination(promos: Sequence[Promotion]) -> Combination:
    """Whether these promotions can be used on the same order."""
    conflicts: list[tuple[str, str]] = []
    reasons: list[str] = []
    for first, second in combinations(promos, 2):
        if first.stack_group == second.stack_group:
            conflicts.append((first.code, second.code))
            reasons.append("same_stack_group")
        elif second.stack_group in first.excludes_groups:
            conflicts.append((first.code, second.code))
            reasons.append("excluded_group")
        elif first.stack_group in second.excludes_groups:
            conflicts.append((second.code, first.code))
            reasons.append("excluded_group")
    return Combination(not conflicts, tuple(conflicts), tuple(reasons))


def active_promotions(book: PromotionBook, day: date) -> tuple[Promotion, ...]:
    """Promotions running on `day`, in file order."""
    return tuple(promo for promo in book if promo.is_active(day))


def applicable(book: PromotionBook, order: Order) -> tuple[tuple[Promotion, Verdict], ...]:
    """Active promotions this order qualifies for, with verdicts, best benefit first."""
    # Referral rewards depend on who invited whom, which an order does not say: a referral
    # promotion is explained on request (`evaluate`), never offered to every customer.
    candidates = [promo for promo in book if promo.kind != "referral"]
    results = [(promo, evaluate(promo, order, book.shipping)) for promo in candidates]
    eligible = [(promo, verdict) for promo, verdict in results if verdict.eligible]
    return tuple(sorted(eligible, key=lambda pair: -pair[1].benefit))


def compatible_promotions(book: PromotionBook, promo: Promotion) -> tuple[Promotion, ...]:
    """Other promotions usable on the same order as `promo`: stackable and running at the same time
    (whatever today's date); referral rewards are left out (see `applicable`)."""
    return tuple(
        other
        for other in book
        if other.code != promo.code
        and other.kind != "referral"
        and _windows_overlap(promo, other)
        and check_combination((promo, other)).allowed
    )


def _windows_overlap(first: Promotion, second: Promotion) -> bool:
    """Whether two date windows share a day (a missing end is open)."""
    starts_before_second_ends = first.start is None or second.end is None or first.start <= second.end
    ends_after_second_starts = first.end is None or second.start is None or first.end >= second.start
    return starts_before_second_ends and ends_after_second_starts


# conditions a customer can still meet on this order (dates cannot be changed)
_FIXABLE_REASONS = frozenset({"below_min_order", "tier_not_allowed", "payment_not_allowed"})


def near_misses(book: PromotionBook, order: Order) -> tuple[tuple[Promotion, Verdict], ...]:
    """Running promotions this order fails only on conditions the customer could meet, closest first.

    Closest: fewest failing conditions, then those a customer can meet on this order (a tier cannot
    change today), then the smallest amount still missing to the minimum order.
    """
    misses = []
    for promo in book:
        if promo.kind == "referral" or not promo.is_active(order.day):
            continue
        verdict = evaluate(promo, order, book.shipping)
        if verdict.eligible is False and set(verdict.reasons) <= _FIXABLE_REASONS:
            misses.append((promo, verdict))

    def distance(pair: tuple[Promotion, Verdict]) -> tuple[int, bool, int]:
        promo, verdict = pair
        short = 0
        if "below_min_order" in verdict.reasons and promo.min_order is not None and order.amount is not None:
            short = promo.min_order - order.amount
        return len(verdict.reasons), "tier_not_allowed" in verdict.reasons, short

    return tuple(sorted(misses, key=distance))


def load_promotions(path: str | os.PathLike[str] | None = None) -> PromotionBook:
    """Read and validate the promotions YAML file (default: `PROMOTIONS_FILE` or data/)."""
    source = Path(path or os.environ.get(PROMOTIONS_FILE_ENV) or DEFAULT_PROMOTIONS_FILE)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PromotionDataError(f"{source}: cannot read promotions file: {exc}") from exc
    except yaml.YAMLError as exc:
        raise PromotionDataError(f"{source}: invalid YAML: {exc}") from exc
    try:
        return parse_promotions(raw)
    except PromotionDataError as exc:
        raise PromotionDataError(f"{source}: {exc}") from exc


def parse_promotions(raw: Any) -> PromotionBook:
    """Validate already-parsed YAML content and build the book."""
    if not isinstance(raw, dict):
        raise PromotionDataError("top level must be a mapping with `promotions:`")
    unknown = set(raw) - {"version", "shipping", "promotions"}
    if unknown:
        raise PromotionDataError(f"unknown top-level keys: {', '.join(sorted(map(str, unknown)))}")
    if str(raw.get("version")) != "1":
        raise PromotionDataError(f"unsupported version {raw.get('version')!r}, expected 1")

    shipping = _parse_shipping(raw.get("shipping") or {})
    entries = raw.get("promotions")
    if not isinstance(entries, list) or not entries:
        raise PromotionDataError("`promotions` must be a non-empty list")

    promotions: dict[str, Promotion] = {}
    for index, entry in enumerate(entries, start=1):
        promo = _parse_promotion(entry, index)
        if promo.code in promotions:
            raise PromotionDataError(f"duplicate code {promo.code}")
        promotions[promo.code] = promo
    return PromotionBook(promotions, shipping)


def _parse_shipping(raw: Any) -> ShippingRules:
    """Shipping rules from the `shipping:` block; missing keys keep the KB §3 values."""
    if not isinstance(raw, dict):
        raise PromotionDataError("`shipping` must be a mapping")
    unknown = set(raw) - _SHIPPING_KEYS
    if unknown:
        raise PromotionDataError(f"shipping: unknown keys: {', '.join(sorted(map(str, unknown)))}")
    values = {key: _money(raw[key], f"shipping.{key}") for key in raw}
    return ShippingRules(**values)


def _parse_promotion(entry: Any, index: int) -> Promotion:
    """One validated promotion from one YAML list item."""
    if not isinstance(entry, dict):
        raise PromotionDataError(f"promotion #{index} must be a mapping")
    code = entry.get("code")
    if not isinstance(code, str) or not code.strip():
        raise PromotionDataError(f"promotion #{index}: missing `code`")
    code = normalize_code(code)
    where = f"promotion {code}"

    unknown = set(entry) - _PROMOTION_KEYS
    if unknown:
        raise PromotionDataError(f"{where}: unknown fields: {', '.join(sorted(map(str, unknown)))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PromotionDataError(f"{where}: missing `name`")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise PromotionDataError(f"{where}: unknown kind {kind!r}, expected one of {', '.join(KINDS)}")

    percent = entry.get("percent")
    if percent is not None and (_not_int(percent) or not 1 <= percent <= 100):
        raise PromotionDataError(f"{where}: percent must be a whole number from 1 to 100, got {percent!r}")
    amount = _optional_money(entry, "amount", where)
    if percent is not None and amount is not None:
        raise PromotionDataError(f"{where}: give either percent or amount, not both")
    if kind in _PRICED_KINDS and percent is None and amount is None:
        raise PromotionDataError(f"{where}: kind {kind} needs `percent` or `amount`")

    start = _optional_date(entry, "start", where)
    end = _optional_date(entry, "end", where)
    if start is not None and end is not None and end < start:
        raise PromotionDataError(f"{where}: end {end.isoformat()} is before start {start.isoformat()}")

    stack_group = entry.get("stack_group") or kind
    if stack_group not in STACK_GROUPS:
        raise PromotionDataError(f"{where}: unknown stack_group {stack_group!r}")

    return Promotion(
        code=code,
        name=name.strip(),
        kind=kind,
        percent=percent,
        amount=amount,
        cap=_optional_money(entry, "cap", where),
        min_order=_optional_money(entry, "min_order", where),
        tiers=_optional_choices(entry, "tiers", TIERS, where),
        payment_methods=_optional_choices(entry, "payment_methods", PAYMENT_METHODS, where),
        start=start,
        end=end,
        stack_group=stack_group,
        excludes_groups=_optional_choices(entry, "excludes_groups", STACK_GROUPS, where) or (),
        limits=_optional_text(entry, "limits", where),
        notes=_optional_text(entry, "notes", where),
        aliases=_aliases(entry, where),
    )


def _aliases(entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """Optional list of other names for the promotion."""
    raw = entry.get("aliases") or []
    if not isinstance(raw, list) or not all(isinstance(a, str) and a.strip() for a in raw):
        raise PromotionDataError(f"{where}: aliases must be a list of names")
    return tuple(a.strip() for a in raw)


def _not_int(value: Any) -> bool:
    """True unless value is a real int (YAML `yes` parses to bool, which is an int)."""
    return isinstance(value, bool) or not isinstance(value, int)


def _money(value: Any, where: str) -> int:
    """A non-negative whole VND amount."""
    if _not_int(value) or value < 0:
        raise PromotionDataError(f"{where} must be a whole number of đồng like 50000, got {value!r}")
    return int(value)


def _optional_money(entry: Mapping[str, Any], key: str, where: str) -> int | None:
    """An optional VND field."""
    value = entry.get(key)
    return None if value is None else _money(value, f"{where}: {key}")


def parse_date(value: Any) -> date | None:
    """A date from YAML (which already turns unquoted 2026-12-31 into a date) or ISO text; None if it is
    not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _optional_date(entry: Mapping[str, Any], key: str, where: str) -> date | None:
    """An optional ISO date."""
    value = entry.get(key)
    if value is None:
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise PromotionDataError(f"{where}: {key} must be a date like 2026-12-31, got {value!r}")
    return parsed


def _optional_choices(
    entry: Mapping[str, Any], key: str, allowed: Iterable[str], where: str
) -> tuple[str, ...] | None:
    """An optional list of values from a fixed vocabulary, in the vocabulary's order."""
    value = entry.get(key)
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise PromotionDataError(f"{where}: {key} must be a non-empty list")
    # Text typed on macOS may arrive decomposed (NFD); compare in composed form.
    items = [unicodedata.normalize("NFC", str(item)).strip() for item in items]
    allowed = tuple(allowed)
    unknown = [item for item in items if item not in allowed]
    if unknown:
        raise PromotionDataError(
            f"{where}: {key}: unknown value(s) {', '.join(map(repr, unknown))}, "
            f"expected from {', '.join(allowed)}"
        )
    return tuple(item for item in allowed if item in items)


def _optional_text(entry: Mapping[str, Any], key: str, where: str) -> str:
    """An optional free-text field, whitespace collapsed."""
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PromotionDataError(f"{where}: {key} must be text, got {value!r}")
    return " ".join(value.split())
