"""Rule-based entity extraction on spaCy's Matcher: money, promo codes, ids, phones, tiers, payment."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set, Text, Tuple

import spacy
import yaml
from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from spacy.matcher import Matcher
from spacy.tokens import Doc
from spacy.util import filter_spans

from bot.nlu.configured import ConfiguredOnly
from bot.nlu.money import parse_money
from bot.nlu.normalizer import PROJECT_ROOT, fold

logger = logging.getLogger(__name__)

DEFAULT_PROMOTIONS_FILE = PROJECT_ROOT / "data" / "promotions.yml"

RATING = "rating"
MONEY, PROMO_CODE, ORDER_ID, TICKET_ID, PHONE, EMAIL, MEMBER_TIER, PAYMENT_METHOD = (
    "money",
    "promo_code",
    "order_id",
    "ticket_id",
    "phone",
    "email",
    "member_tier",
    "payment_method",
)

TIERS = {
    "dong": "Đồng",
    "bac": "Bạc",
    "vang": "Vàng",
    "kim cuong": "Kim Cương",
    "silver": "Bạc",
    "gold": "Vàng",
    "diamond": "Kim Cương",
    "bronze": "Đồng",
}
TIER_PREFIXES = [["hang"], ["thanh", "vien"], ["tv"], ["member"], ["muc"], ["the"]]
# Phrases (folded words) that name a payment method, by canonical id.
PAYMENT_PHRASES = {
    "senpay": ["senpay", "vi senpay", "sen pay", "vi sen"],
    "momo": ["momo", "vi momo"],
    "zalopay": ["zalopay", "zalo pay", "vi zalo"],
    "cod": [
        "cod",
        "thanh toan khi nhan hang",
        "tra tien khi nhan hang",
        "nhan hang tra tien",
        "ship cod",
    ],
    "card": [
        "visa",
        "mastercard",
        "master card",
        "jcb",
        "the tin dung",
        "the quoc te",
        "credit card",
        "the visa",
    ],
    "atm": ["atm", "the atm", "napas", "the noi dia", "the ngan hang noi dia"],
    "vietqr": ["vietqr", "viet qr", "chuyen khoan", "ck", "ma qr", "qr"],
}
# Phrases whose folded form is ambiguous ("tiền mặt" = cash, "tiền mất" = money lost): matched
# only as written, with their exact diacritics or with none at all.
PAYMENT_PHRASES_AS_WRITTEN = {"cod": ["tiền mặt"]}
CODE_PREFIXES = ["ma", "code", "voucher", "coupon", "ma giam gia", "ma khuyen mai", "ma km"]

_NUMBER = r"\d+(?:[.,]\d+)*"
_UNIT_WORDS = ["k", "nghin", "ngan", "trieu", "tr", "cu", "tram", "d", "dong", "vnd"]
_MONEY_TOKEN = re.compile(
    rf"^{_NUMBER}(?:k|tr|cu|củ|đ|d|vnd|vnđ)\d{{0,3}}$|^\d{{1,3}}(?:([.,])\d{{3}})(?:\1\d{{3}})*(?:đ|d|vnd|vnđ)?$|^[1-9]\d{{4,8}}(?:đ|d|vnd|vnđ)?$|^[1-9]\d{{2,3}}(?:đ|vnd|vnđ)$",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\S+")
_LEADING = "([{\"'“‘«<"
_TRAILING = ".,!?;:)]}\"'”’»…>"
_SPLIT_INSIDE = re.compile(r"([+/&])")
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")
_PHONE_DIGITS = re.compile(r"^(?:0|84)(?:[35789]\d{8}|2\d{9})$")


def split_words(text: Text) -> List[Tuple[int, int]]:
    """Character spans of words: whitespace split, edge punctuation peeled, ids kept whole."""
    spans: List[Tuple[int, int]] = []
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        pre, post = [], []
        while start < end and text[start] in _LEADING:
            pre.append((start, start + 1))
            start += 1
        while end > start and text[end - 1] in _TRAILING:
            post.insert(0, (end - 1, end))
            end -= 1
        spans.extend(pre)
        if start < end:
            position = start
            for part in _SPLIT_INSIDE.finditer(text, start, end):
                if part.start() > position:
                    spans.append((position, part.start()))
                spans.append(part.span())
                position = part.end()
            if position < end:
                spans.append((position, end))
        spans.extend(post)
    return spans


def load_promotion_names(path: Path) -> Dict[Text, Text]:
    """Folded code or alias -> canonical upper-case code, from the promotions data file."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except FileNotFoundError:
        logger.warning("Promotions file %s not found; only 'mã XYZ' codes are recognised.", path)
        return {}
    names: Dict[Text, Text] = {}
    for promotion in data.get("promotions") or []:
        code = str(promotion["code"]).upper()
        for name in [code, *(promotion.get("aliases") or [])]:
            names[fold(str(name))] = code
    return names


class EntityMatcher:
    """spaCy Matcher rules and value normalisation; independent of Rasa."""

    def __init__(self, promotion_names: Dict[Text, Text]) -> None:
        self.nlp = spacy.blank("vi", config={"nlp": {"tokenizer": {"use_pyvi": False}}})
        self.promotion_names = promotion_names
        self.matcher = Matcher(self.nlp.vocab)
        self._add_patterns()

    def _phrase(self, phrase: Text) -> List[Dict[Text, Any]]:
        return [{"NORM": word} for word in phrase.split()]

    def _add_patterns(self) -> None:
        add = self.matcher.add
        number = {"TEXT": {"REGEX": rf"^{_NUMBER}$"}}
        unit = {"NORM": {"IN": _UNIT_WORDS}}
        half = {"NORM": {"IN": ["ruoi", "ruou"]}}
        add(
            MONEY,
            [
                [{"TEXT": {"REGEX": _MONEY_TOKEN.pattern}}],
                [{"TEXT": {"REGEX": _MONEY_TOKEN.pattern}}, unit],
                [number, unit],
                [number, unit, half],
                [number, unit, number],
                [number, unit, number, unit],
                [number, unit, unit],
            ],
        )
        add(ORDER_ID, [[{"TEXT": {"REGEX": r"(?i)^SM\d{8}$"}}]])
        add(
            RATING,
            [
                [{"TEXT": {"REGEX": r"^[1-5]$"}}, {"NORM": {"IN": ["sao", "*", "diem"]}}],
                [{"TEXT": {"REGEX": r"(?i)^[1-5](?:\*|sao|/5)$"}}],
                [{"TEXT": {"REGEX": r"^⭐{1,5}$"}}],
                [{"TEXT": {"REGEX": r"^[1-5]$"}}, {"TEXT": "/"}, {"TEXT": "5"}],
            ],
        )
        add(TICKET_ID, [[{"TEXT": {"REGEX": r"(?i)^KN-\d{8}-\d{4}$"}}]])
        add(EMAIL, [[{"TEXT": {"REGEX": _EMAIL.pattern}}]])
        add(
            PHONE,
            [
                [{"TEXT": "+", "OP": "?"}, {"TEXT": {"REGEX": r"^(?:84|0)[\d.\-]{8,13}$"}}],
                [
                    {"TEXT": {"REGEX": r"^(?:\+?84|0)\d{1,3}$"}},
                    {"TEXT": {"REGEX": r"^\d{3,4}$"}},
                    {"TEXT": {"REGEX": r"^\d{3,4}$"}},
                ],
                [
                    {"TEXT": "+"},
                    {"TEXT": {"REGEX": r"^84\d{0,3}$"}},
                    {"TEXT": {"REGEX": r"^\d{3,4}$"}},
                    {"TEXT": {"REGEX": r"^\d{3,4}$"}},
                ],
                [
                    {"TEXT": "+", "OP": "?"},
                    {"TEXT": "84"},
                    {"TEXT": {"REGEX": r"^\d{2,3}$"}},
                    {"TEXT": {"REGEX": r"^\d{3,4}$"}},
                    {"TEXT": {"REGEX": r"^\d{3,4}$"}},
                ],
            ],
        )
        known = sorted(self.promotion_names)
        add(PROMO_CODE, [self._phrase(name) for name in known if name])
        add(
            "PREFIXED_CODE",
            [
                [*self._phrase(prefix), {"TEXT": {"REGEX": r"^[A-Za-z][A-Za-z0-9]{3,14}$"}}]
                for prefix in CODE_PREFIXES
            ],
        )
        tier_words = [["dong"], ["bac"], ["vang"], ["kim", "cuong"], ["silver"], ["gold"], ["diamond"]]
        add(
            MEMBER_TIER,
            [
                [*[{"NORM": w} for w in prefix], *[{"NORM": w} for w in tier]]
                for prefix in TIER_PREFIXES
                for tier in tier_words
            ]
            + [
                # without a prefix only unambiguous spellings: "bạc"/"vàng" with dấu, "kim cương"
                [{"LOWER": {"IN": ["bạc", "vàng"]}}],
                [{"NORM": "kim"}, {"NORM": "cuong"}],
            ],
        )
        add(
            PAYMENT_METHOD,
            [self._phrase(phrase) for phrases in PAYMENT_PHRASES.values() for phrase in phrases]
            + [
                [{"LOWER": {"IN": [word, fold(word)]}} for word in phrase.split()]
                for phrases in PAYMENT_PHRASES_AS_WRITTEN.values()
                for phrase in phrases
            ],
        )

    def doc(self, text: Text) -> Tuple[Doc, List[Tuple[int, int]]]:
        """A spaCy Doc of the text's words (norm = folded form) and their char spans."""
        spans = split_words(text)
        words = [text[s:e] for s, e in spans]
        spaces = [spans[i][1] < spans[i + 1][0] for i in range(len(spans) - 1)] + [False]
        doc = Doc(self.nlp.vocab, words=words or [""], spaces=spaces if words else [False])
        for token in doc:
            token.norm_ = fold(token.text)
        return doc, spans

    def extract(self, text: Text) -> List[Dict[Text, Any]]:
        """Entities found in the text, each with start, end, normalised value."""
        if not text or not text.strip():
            return []
        doc, char_spans = self.doc(text)
        labelled = []
        for match_id, start, end in self.matcher(doc):
            span = doc[start:end]
            span.label_ = self.nlp.vocab.strings[match_id]
            labelled.append(span)
        entities = []
        for span in sorted(filter_spans(labelled), key=lambda s: s.start):
            label, value, (start, end) = self._value(span, char_spans)
            if value is None:
                continue
            entities.append({"entity": label, "start": start, "end": end, "value": value, "confidence": 1.0})
        return entities

    def _value(self, span, char_spans) -> Tuple[Text, Any, Tuple[int, int]]:
        label = span.label_
        start, end = char_spans[span.start][0], char_spans[span.end - 1][1]
        text = span.doc.text and " ".join(t.text for t in span)
        folded = " ".join(t.norm_ for t in span)
        if label == MONEY:
            return MONEY, parse_money(text), (start, end)
        if label == RATING:
            stars = text.count("⭐") or int(re.match(r"\d", text).group(0))
            return RATING, stars, (start, end)
        if label in (ORDER_ID, TICKET_ID):
            return label, text.upper(), (start, end)
        if label == EMAIL:
            return EMAIL, text.lower(), (start, end)
        if label == PHONE:
            digits = re.sub(r"\D", "", text)
            if digits.startswith("84"):
                digits = "0" + digits[2:]
            return PHONE, digits if _PHONE_DIGITS.match(digits) else None, (start, end)
        if label == PROMO_CODE:
            return PROMO_CODE, self.promotion_names.get(folded), (start, end)
        if label == "PREFIXED_CODE":
            code = span[-1]
            code_start, code_end = char_spans[code.i]
            value = code.text.upper()
            if (
                code.text.islower()
                and code.norm_ not in self.promotion_names
                and not any(ch.isdigit() for ch in code.text)
            ):
                return PROMO_CODE, None, (code_start, code_end)  # "mã gì", "mã nào": not a code
            return PROMO_CODE, self.promotion_names.get(code.norm_, value), (code_start, code_end)
        if label == MEMBER_TIER:
            for key, tier in TIERS.items():
                if folded.endswith(key):
                    return MEMBER_TIER, tier, (start, end)
            return MEMBER_TIER, None, (start, end)
        if label == PAYMENT_METHOD:
            for table in (PAYMENT_PHRASES, PAYMENT_PHRASES_AS_WRITTEN):
                for method, phrases in table.items():
                    if folded in (fold(p) for p in phrases):
                        return PAYMENT_METHOD, method, (start, end)
        return label, None, (start, end)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class RuleEntityExtractor(ConfiguredOnly, GraphComponent, EntityExtractorMixin):
    """Extracts SenMart entities by rules (spaCy Matcher) with normalised values.

    Config:
        promotions_file: promotions data file whose codes and aliases are recognised
            (default `data/promotions.yml`).
        dimensions: entity names to return (default: all).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Default configuration."""
        return {"promotions_file": None, "dimensions": None}

    @staticmethod
    def required_packages() -> List[Text]:
        """Matching runs on spaCy."""
        return ["spacy"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        path = Path(config.get("promotions_file") or DEFAULT_PROMOTIONS_FILE)
        self.matcher = EntityMatcher(load_promotion_names(path))
        dimensions: Optional[Iterable[Text]] = config.get("dimensions")
        self.dimensions: Optional[Set[Text]] = set(dimensions) if dimensions else None

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the entities found by the rules to each message."""
        for message in messages:
            entities = [
                entity
                for entity in self.matcher.extract(message.get(TEXT) or "")
                if self.dimensions is None or entity["entity"] in self.dimensions
            ]
            entities = self.add_extractor_name(entities)
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages
