"""The promotion table (`data/promotions.yml`) as records for the studio's form, and the "thử" box.

Edits go through ruamel.yaml round-trip (the file's header comments and per-field comments stay) and
are accepted only when the action server's own loader (`actions.promotion_engine.load_promotions`)
accepts the resulting file.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Text, Tuple

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from actions.promotion_engine import (
    KINDS,
    PAYMENT_METHODS,
    PROMOTION_FIELDS,
    STACK_GROUPS,
    TIERS,
    PromotionBook,
    PromotionDataError,
    canonical_payment_method,
    canonical_tier,
    load_promotions,
    normalize_code,
    parse_date,
)
from actions.promotions import order_for, promotion_reply
from studio.content import (
    WRITE_LOCK,
    Conflict,
    NotFound,
    Problem,
    ValidationFailed,
    dump_yaml,
    round_trip_yaml,
    version_of,
)
from studio.settings import StudioSettings

FIELDS = PROMOTION_FIELDS
MONEY_FIELDS = ("amount", "cap", "min_order")
LIST_FIELDS = ("tiers", "payment_methods", "excludes_groups", "aliases")
TEXT_FIELDS = ("name", "limits", "notes")
DATE_FIELDS = ("start", "end")
CODE = re.compile(r"\A[A-Z0-9_]{3,30}\Z")
_PRICED_KINDS = ("discount", "payment")
MONEY_LABELS = {"amount": "Số tiền giảm", "cap": "Mức ưu đãi tối đa", "min_order": "Giá trị đơn tối thiểu"}
KIND_LABELS = {
    "discount": "discount (mã giảm giá)",
    "freeship": "freeship (miễn phí vận chuyển)",
    "payment": "payment (ưu đãi thanh toán)",
    "referral": "referral (giới thiệu bạn)",
    "campaign": "campaign (chương trình)",
}
CONFLICT_MESSAGE = "Khuyến mãi này vừa được người khác thay đổi. Vui lòng xem nội dung mới nhất rồi sửa lại."
_ITEM_START = "  - code:"
_VOCABULARIES = {"tiers": TIERS, "payment_methods": PAYMENT_METHODS, "excludes_groups": STACK_GROUPS}


def _plain(value: Any) -> Any:
    """A YAML value as JSON: dates as 2026-12-31, lists as lists, ruamel strings as str."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


def record_of(node: Mapping[Text, Any]) -> Dict[Text, Any]:
    """One promotion as the API shows it (every field, None when absent), with its version."""
    record: Dict[Text, Any] = {field: _plain(node.get(field)) for field in FIELDS}
    if record["code"] is not None:
        record["code"] = str(record["code"])
    record["version"] = version_of(record)
    return record


# -- input cleaning and validation ------------------------------------------------------------------
def _nfc(text: Any) -> Text:
    return unicodedata.normalize("NFC", str(text)).strip()


def clean_record(raw: Any) -> Tuple[Dict[Text, Any], List[Problem]]:
    """A record from JSON or a spreadsheet row, normalised, and the problems of each field."""
    problems: List[Problem] = []
    if not isinstance(raw, Mapping):
        return {}, [Problem("", "Dữ liệu khuyến mãi không hợp lệ.")]
    record: Dict[Text, Any] = {}
    for field in FIELDS:
        value = raw.get(field)
        if isinstance(value, str):
            value = _nfc(value)
        if value in ("", [], None):
            record[field] = None
            continue
        if field == "code":
            record[field] = "".join(str(value).split()).upper()
        elif field == "percent" or field in MONEY_FIELDS:
            number = _whole_number(value)
            if number is None:
                record[field] = value
                problems.append(Problem(field, _number_message(field)))
            else:
                record[field] = number
        elif field in LIST_FIELDS:
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(i, (str, int)) for i in items):
                problems.append(Problem(field, "Vui lòng nhập danh sách, mỗi giá trị cách nhau dấu phẩy."))
                record[field] = None
                continue
            cleaned = list(dict.fromkeys(_nfc(item) for item in items if _nfc(item)))
            vocabulary = _VOCABULARIES.get(field)
            if vocabulary:  # the loader keeps the vocabulary's order: write it that way
                cleaned = [v for v in vocabulary if v in cleaned] + [
                    v for v in cleaned if v not in vocabulary
                ]
            record[field] = cleaned or None
        elif field in DATE_FIELDS:
            day = parse_date(value)
            if day is None:
                problems.append(Problem(field, "Ngày phải viết theo dạng năm-tháng-ngày, ví dụ 2026-12-31."))
                record[field] = None
            else:
                record[field] = day.isoformat()
        else:
            record[field] = _nfc(value) if isinstance(value, (str, int, float)) else value
            if not isinstance(record[field], str):
                problems.append(Problem(field, "Vui lòng nhập chữ."))
    return record, problems


def _whole_number(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return None


def _number_message(field: Text) -> Text:
    if field == "percent":
        return "Phần trăm phải là số nguyên từ 1 đến 100 (không ghi dấu %)."
    return f"{MONEY_LABELS[field]} phải là số nguyên dương, đơn vị đồng, viết liền (ví dụ 50000)."


def record_problems(record: Mapping[Text, Any]) -> List[Problem]:
    """The rules of the file's header, field by field, in Vietnamese."""
    problems: List[Problem] = []
    code = record.get("code")
    if not code:
        problems.append(Problem("code", "Vui lòng nhập mã khuyến mãi."))
    elif not CODE.match(code):
        problems.append(
            Problem(
                "code",
                "Mã khuyến mãi gồm 3–30 ký tự: chữ in hoa không dấu, chữ số hoặc dấu gạch dưới "
                "(ví dụ GIAM50K).",
            )
        )
    if not record.get("name"):
        problems.append(Problem("name", "Vui lòng nhập tên hiển thị của khuyến mãi."))
    kind = record.get("kind")
    if kind not in KINDS:
        labels = ", ".join(KIND_LABELS[k] for k in KINDS)
        problems.append(Problem("kind", f"Loại khuyến mãi phải là một trong: {labels}."))
    percent = record.get("percent")
    if isinstance(percent, int) and not 1 <= percent <= 100:
        problems.append(Problem("percent", _number_message("percent")))
    for field in MONEY_FIELDS:
        value = record.get(field)
        if isinstance(value, int) and value <= 0:
            problems.append(Problem(field, _number_message(field)))
    if percent is not None and record.get("amount") is not None:
        problems.append(Problem("amount", "Chỉ nhập phần trăm hoặc số tiền giảm, không nhập cả hai."))
    if kind in _PRICED_KINDS and percent is None and record.get("amount") is None:
        problems.append(Problem("percent", f"Loại {kind} cần có phần trăm hoặc số tiền giảm."))
    for field, allowed, label in (
        ("tiers", TIERS, "Hạng thành viên"),
        ("payment_methods", PAYMENT_METHODS, "Phương thức thanh toán"),
        ("excludes_groups", STACK_GROUPS, "Nhóm không dùng kèm"),
    ):
        for item in record.get(field) or []:
            if item not in allowed:
                problems.append(
                    Problem(field, f"{label} “{item}” không có. Chọn trong: {', '.join(allowed)}.")
                )
    group = record.get("stack_group")
    if group is not None and group not in STACK_GROUPS:
        problems.append(
            Problem(
                "stack_group", f"Nhóm cộng dồn “{group}” không có. Chọn trong: {', '.join(STACK_GROUPS)}."
            )
        )
    start, end = record.get("start"), record.get("end")
    if (start is None) != (end is None):
        problems.append(
            Problem(
                "end" if end is None else "start",
                "Vui lòng nhập cả ngày bắt đầu và ngày kết thúc, "
                "hoặc bỏ trống cả hai (áp dụng thường xuyên).",
            )
        )
    elif start is not None and end < start:
        problems.append(Problem("end", "Ngày kết thúc phải trùng hoặc sau ngày bắt đầu."))
    for alias in record.get("aliases") or []:
        if "," in alias:
            problems.append(Problem("aliases", "Mỗi tên khác không được chứa dấu phẩy."))
    return problems


# -- writing the document ---------------------------------------------------------------------------
def _node_value(field: Text, value: Any) -> Any:
    """A record value as written in the file."""
    if field in DATE_FIELDS:
        return date.fromisoformat(value)
    if field in LIST_FIELDS:
        seq = CommentedSeq(value)
        seq.fa.set_flow_style()
        return seq
    return value


def fill_node(node: CommentedMap, record: Mapping[Text, Any]) -> None:
    """Put a record into a promotion's mapping; unchanged fields keep their node and comments."""
    keys = list(node.keys())
    last = keys[-1] if keys else None
    for field in FIELDS:
        value = record.get(field)
        if value is None:
            if field in node:
                del node[field]
                node.ca.items.pop(field, None)
            continue
        if field in node:
            if _plain(node[field]) != value:
                node[field] = _node_value(field, value)
            continue
        order = FIELDS.index(field)
        position = 0
        for index, key in enumerate(node.keys()):
            if key in FIELDS and FIELDS.index(key) < order:
                position = index + 1
        node.insert(position, field, _node_value(field, value))
    # the blank line after an item is a comment of its last key: keep it at the end of the item
    new_keys = list(node.keys())
    if last in node and new_keys and new_keys[-1] != last:
        comment = node.ca.items.get(last)
        if comment and len(comment) > 2 and comment[2] is not None and not comment[2].value.strip():
            node.ca.items.pop(last, None)


def separate_items(text: Text) -> Text:
    """One blank line before each promotion of the list, as in the hand-written file."""
    lines = text.split("\n")
    out: List[Text] = []
    for line in lines:
        if line.startswith(_ITEM_START) and out:
            previous = out[-1].strip()
            if previous and previous != "promotions:" and not previous.startswith("#"):
                out.append("")
        out.append(line)
    return "\n".join(out)


class PromotionTable:
    """The promotions of one content directory."""

    def __init__(self, settings: StudioSettings) -> None:
        self.settings = settings

    @property
    def path(self) -> Path:
        """The promotions file."""
        return self.settings.promotions_file

    def _yaml(self) -> Any:
        return round_trip_yaml(sequence_indent=4, offset=2)

    def _load(self) -> Any:
        return self._yaml().load(self.path.read_text(encoding="utf-8"))

    def records(self) -> List[Dict[Text, Any]]:
        """Every promotion, in file order."""
        return [record_of(node) for node in self._load().get("promotions") or []]

    def shipping(self) -> Dict[Text, Any]:
        """The shipping block (standard fee, free-shipping threshold)."""
        return {key: _plain(value) for key, value in (self._load().get("shipping") or {}).items()}

    def find(self, code: Text) -> Optional[Dict[Text, Any]]:
        """A promotion by code (case and spaces ignored), or None."""
        wanted = normalize_code(code)
        return next((r for r in self.records() if r["code"] == wanted), None)

    def get(self, code: Text) -> Dict[Text, Any]:
        """A promotion; NotFound if there is none."""
        record = self.find(code)
        if record is None:
            raise NotFound(f"Không tìm thấy khuyến mãi “{code}”.")
        return record

    def book(self) -> PromotionBook:
        """The book the action server reads from the file now."""
        return load_promotions(self.path)

    # -- edits --------------------------------------------------------------------------------------
    @staticmethod
    def _index(document: Any, code: Text) -> Optional[int]:
        for index, node in enumerate(document.get("promotions") or []):
            if normalize_code(str(node.get("code") or "")) == code:
                return index
        return None

    def _checked(self, raw: Any, document: Any, replacing: Optional[Text]) -> Dict[Text, Any]:
        """A cleaned record, or ValidationFailed (including a code already used by another row)."""
        record, problems = clean_record(raw)
        problems += [p for p in record_problems(record) if p.field not in {q.field for q in problems}]
        code = record.get("code")
        if code and code != replacing and self._index(document, code) is not None:
            problems.append(Problem("code", f"Mã “{code}” đã có. Vui lòng chọn mã khác."))
        if problems:
            raise ValidationFailed(problems)
        return record

    def _require(self, document: Any, code: Text, version: Any) -> Tuple[int, Dict[Text, Any]]:
        index = self._index(document, normalize_code(code))
        if index is None:
            raise NotFound(f"Không tìm thấy khuyến mãi “{code}”.")
        current = record_of(document["promotions"][index])
        if version is not None and version != current["version"]:
            raise Conflict(current, CONFLICT_MESSAGE)
        return index, current

    def _save(self, document: Any) -> None:
        """Write the file if the action server's loader accepts it; ValidationFailed otherwise."""
        text = separate_items(dump_yaml(self._yaml(), document))
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                load_promotions(tmp)
            except PromotionDataError as problem:
                raise ValidationFailed([Problem("", engine_message(problem, tmp))]) from problem
            os.replace(tmp, self.path)
        finally:
            if tmp.exists():
                tmp.unlink()

    def create(self, raw: Any) -> Dict[Text, Any]:
        """A new promotion at the end of the table."""
        with WRITE_LOCK:
            document = self._load()
            record = self._checked(raw, document, None)
            node = CommentedMap()
            fill_node(node, record)
            document["promotions"].append(node)
            self._save(document)
            return self.get(record["code"])

    def update(self, code: Text, version: Any, raw: Any) -> Dict[Text, Any]:
        """New values for a promotion at `version` (the code may change too)."""
        with WRITE_LOCK:
            document = self._load()
            index, current = self._require(document, code, version)
            record = self._checked(raw, document, current["code"])
            if {k: v for k, v in current.items() if k != "version"} == record:
                return current
            fill_node(document["promotions"][index], record)
            self._save(document)
            return self.get(record["code"])

    def delete(self, code: Text, version: Any) -> Dict[Text, Any]:
        """Remove a promotion; returns it as it was."""
        with WRITE_LOCK:
            document = self._load()
            index, current = self._require(document, code, version)
            if len(document["promotions"]) == 1:
                raise ValidationFailed(
                    [Problem("code", "Bảng khuyến mãi cần giữ ít nhất một khuyến mãi.")],
                )
            del document["promotions"][index]
            self._save(document)
            return current

    def put_many(self, records: Sequence[Mapping[Text, Any]]) -> List[Tuple[Optional[Dict], Dict]]:
        """Create or update cleaned promotions in one write; (before, after) of each change."""
        with WRITE_LOCK:
            document = self._load()
            changes = []
            for record in records:
                index = self._index(document, record["code"])
                if index is None:
                    node = CommentedMap()
                    fill_node(node, record)
                    document["promotions"].append(node)
                    changes.append((None, record))
                    continue
                before = record_of(document["promotions"][index])
                if {k: v for k, v in before.items() if k != "version"} != dict(record):
                    fill_node(document["promotions"][index], record)
                    changes.append((before, record))
            if changes:
                self._save(document)
            return [(before, self.get(after["code"])) for before, after in changes]

    # -- the "thử" box ------------------------------------------------------------------------------
    def try_order(self, raw: Any, today: date) -> List[Dict[Text, Any]]:
        """The bot's messages for an order ({code, amount, tier, payment, date}), as the action sends them."""
        if not isinstance(raw, Mapping):
            raise ValidationFailed([Problem("", "Dữ liệu thử không hợp lệ.")])
        problems: List[Problem] = []
        codes: List[Text] = []
        code = raw.get("code")
        if isinstance(code, str) and code.strip():
            codes = [normalize_code(part) for part in code.replace(";", ",").split(",") if part.strip()]
        elif isinstance(code, list):
            codes = [normalize_code(str(part)) for part in code if str(part).strip()]
        elif code not in (None, ""):
            problems.append(Problem("code", "Mã khuyến mãi phải là chữ."))
        amount = raw.get("amount")
        if amount in ("", None):
            amount = None
        else:
            amount = _whole_number(amount)
            if amount is None or amount < 0:
                problems.append(
                    Problem("amount", "Giá trị đơn phải là số nguyên không âm, đơn vị đồng (ví dụ 450000).")
                )
        tier = raw.get("tier") or None
        if tier is not None and canonical_tier(str(tier)) is None:
            problems.append(
                Problem("tier", f"Hạng thành viên “{tier}” không có. Chọn trong: {', '.join(TIERS)}.")
            )
        payment = raw.get("payment") or None
        if payment is not None and canonical_payment_method(str(payment)) is None:
            problems.append(
                Problem(
                    "payment",
                    f"Phương thức thanh toán “{payment}” không có. Chọn trong: {', '.join(PAYMENT_METHODS)}.",
                )
            )
        day = today
        if raw.get("date"):
            parsed = parse_date(raw["date"])
            if parsed is None:
                problems.append(Problem("date", "Ngày phải viết theo dạng năm-tháng-ngày, ví dụ 2026-12-31."))
            else:
                day = parsed
        if problems:
            raise ValidationFailed(problems)
        order = order_for(amount, tier, payment, day)
        text, _missing = promotion_reply(self.book(), list(dict.fromkeys(codes)), order, "")
        return [{"text": text}]


def engine_message(problem: PromotionDataError, path: Path) -> Text:
    """The loader's refusal, for the editor."""
    detail = str(problem).replace(f"{path}: ", "")
    return f"Bảng khuyến mãi chưa hợp lệ theo kiểm tra của bot: {detail}"
