"""FAQ topics and promotions as spreadsheets (XLSX and CSV): export, and import all-or-nothing.

FAQ sheet: one row per topic — `topic`, `answer` (first answer), `buttons` (JSON list of
{"title", "payload"}), `examples` (one per line), `more_responses` (JSON list of further answer
variations, usually empty). Promotion sheet: one row per promotion, one column per field of
data/promotions.yml (lists comma-separated, dates 2026-12-31). Export → import changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Text, Tuple

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException

from studio.content import (
    TOPIC_NAME,
    WRITE_LOCK,
    FaqContent,
    Problem,
    ValidationFailed,
    clean_input,
)
from studio.promotions import FIELDS, LIST_FIELDS, PromotionTable, clean_record, record_problems

FAQ_COLUMNS = ("topic", "answer", "buttons", "examples", "more_responses")
FAQ_REQUIRED = FAQ_COLUMNS
PROMOTION_COLUMNS = FIELDS
FORMATS = ("xlsx", "csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


@dataclass
class ImportResult:
    """What an import did: rows applied, errors by row, and (before, after) of every changed object."""

    applied: int = 0
    errors: List[Dict[Text, Any]] = field(default_factory=list)
    changes: List[Tuple[Optional[Dict[Text, Any]], Dict[Text, Any]]] = field(default_factory=list)

    def as_json(self) -> Dict[Text, Any]:
        """The API's answer."""
        return {"applied": self.applied, "errors": self.errors}


def _error(row: int, column: Text, message: Text) -> Dict[Text, Any]:
    return {"row": row, "field": column, "message": message}


# -- sheets as rows ---------------------------------------------------------------------------------
# an import reads at most this much: a 5 KB XLSX can declare a cell at XFD1048576 (a million rows of
# 16,384 columns) and a CSV can hold any number of rows
MAX_ROWS = 5000
MAX_COLUMNS = 20
# a cell starting with one of these is a formula to Excel and LibreOffice (CSV injection): exported with
# a leading apostrophe, which an import of our own file removes again
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value safe to open in a spreadsheet: text that would start a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def _from_csv_cell(value: Text) -> Text:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def _too_big() -> ValueError:
    return ValueError(f"Tệp quá lớn: tối đa {MAX_ROWS} dòng và {MAX_COLUMNS} cột.")


def write_sheet(columns: Sequence[Text], rows: Sequence[Sequence[Any]], fmt: Text, title: Text) -> bytes:
    """A header row and data rows as an XLSX workbook or a UTF-8 CSV (with BOM, for Excel)."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(value) for value in row])
        return buffer.getvalue().encode("utf-8-sig")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([None if value == "" else value for value in row])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, not a formula
    for column, width in zip("ABCDEFGHIJKLMNOP", (22, 60, 30, 60, 30) if title == "FAQ" else [16] * 16):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_sheet(data: bytes, fmt: Text) -> List[List[Any]]:
    """All rows (header first) of the first sheet; ValueError with a Vietnamese message if unreadable."""
    if fmt == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("Tệp CSV phải dùng bảng mã UTF-8.") from None
        rows = []
        for row in csv.reader(io.StringIO(text, newline="")):
            if len(rows) >= MAX_ROWS + 1 or len(row) > MAX_COLUMNS:
                raise _too_big()
            rows.append([_from_csv_cell(cell) for cell in row])
        return rows
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ValueError("Không đọc được tệp Excel (.xlsx). Vui lòng kiểm tra lại tệp.") from None
    sheet = workbook.worksheets[0]
    # bounded: the sheet's declared size is the file's word, not a fact
    rows = [
        list(row) for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS + 1)
    ]
    workbook.close()
    while rows and all(value is None or value == "" for value in rows[-1]):
        rows.pop()
    if len(rows) > MAX_ROWS + 1 or any(
        len(row) > MAX_COLUMNS and row[MAX_COLUMNS] not in (None, "") for row in rows
    ):
        raise _too_big()
    return [row[:MAX_COLUMNS] for row in rows]


def _cell_text(value: Any) -> Text:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _records(
    rows: List[List[Any]], required: Sequence[Text], known: Sequence[Text]
) -> Tuple[List[Tuple[int, Dict[Text, Any]]], List[Dict[Text, Any]]]:
    """Data rows as (row number, {column: value}), blank rows skipped; header errors on row 1."""
    if not rows:
        return [], [_error(1, "", "Tệp không có dữ liệu.")]
    header = [_cell_text(cell).strip().lower() for cell in rows[0]]
    missing = [name for name in required if name not in header]
    errors = [_error(1, name, f"Thiếu cột “{name}” ở dòng tiêu đề.") for name in missing]
    unknown = [name for name in header if name and name not in known]
    errors += [_error(1, name, f"Cột “{name}” không được hỗ trợ.") for name in unknown]
    records = []
    for number, row in enumerate(rows[1:], start=2):
        if all(_cell_text(cell).strip() == "" for cell in row):
            continue
        values = {name: row[index] if index < len(row) else None for index, name in enumerate(header) if name}
        records.append((number, values))
    return records, errors


# -- FAQ --------------------------------------------------------------------------------------------
def _buttons_json(buttons: Sequence[Mapping[Text, Text]]) -> Text:
    if not buttons:
        return ""
    return json.dumps([{"title": b["title"], "payload": b["payload"]} for b in buttons], ensure_ascii=False)


def faq_rows(content: FaqContent) -> List[List[Text]]:
    """One row per topic, by name."""
    rows = []
    for topic in content.all_topics():
        first = topic["responses"][0] if topic["responses"] else {"text": "", "buttons": []}
        more = topic["responses"][1:]
        rows.append(
            [
                topic["name"],
                first["text"],
                _buttons_json(first["buttons"]),
                "\n".join(topic["examples"]),
                json.dumps(more, ensure_ascii=False) if more else "",
            ]
        )
    return rows


def export_faq(content: FaqContent, fmt: Text) -> bytes:
    """The FAQ sheet as XLSX or CSV."""
    return write_sheet(FAQ_COLUMNS, faq_rows(content), fmt, "FAQ")


_BUTTONS_HELP = 'Cột buttons phải là JSON dạng [{"title": "…", "payload": "…"}] hoặc để trống.'


def _faq_column(problem_field: Text) -> Text:
    """The sheet column a topic validation problem belongs to."""
    if problem_field == "name":
        return "topic"
    if problem_field.startswith("examples"):
        return "examples"
    match = re.match(r"responses\[(\d+)\](\.buttons)?", problem_field)
    if match:
        if match.group(1) != "0":
            return "more_responses"
        return "buttons" if match.group(2) else "answer"
    return "answer"


def _sheet_records(data: bytes, fmt: Text, required, columns) -> Tuple[ImportResult, List[Any]]:
    """The rows of an uploaded sheet as records, or a result holding the errors (row 0: unreadable)."""
    result = ImportResult()
    try:
        rows = read_sheet(data, fmt)
    except ValueError as problem:
        result.errors.append(_error(0, "", str(problem)))
        return result, []
    records, result.errors = _records(rows, required, columns)
    return result, records


def import_faq(content: FaqContent, data: bytes, fmt: Text) -> ImportResult:
    """Create or update the topics of a sheet; nothing is written if any row is wrong."""
    result, records = _sheet_records(data, fmt, FAQ_REQUIRED, FAQ_COLUMNS)
    if result.errors:
        return result
    parsed: List[Tuple[int, Text, List[Dict[Text, Any]], List[Text]]] = []
    seen: Dict[Text, int] = {}
    for number, values in records:
        name = _cell_text(values.get("topic")).strip()
        row_errors = []
        if not TOPIC_NAME.match(name):
            row_errors.append(
                _error(
                    number,
                    "topic",
                    "Tên chủ đề chỉ gồm chữ thường không dấu, chữ số và dấu gạch dưới, bắt đầu bằng "
                    "một chữ cái, dài 2–50 ký tự (ví dụ: doi_tra_hang).",
                )
            )
        elif name in seen:
            row_errors.append(_error(number, "topic", f"Chủ đề “{name}” đã có ở dòng {seen[name]}."))
        else:
            seen[name] = number
        buttons = _json_list(values.get("buttons"))
        if buttons is None:
            row_errors.append(_error(number, "buttons", _BUTTONS_HELP))
        more = _json_list(values.get("more_responses"))
        if more is None:
            row_errors.append(
                _error(number, "more_responses", 'Cột more_responses phải là JSON dạng [{"text": "…"}].')
            )
        examples = [line.strip() for line in _cell_text(values.get("examples")).splitlines() if line.strip()]
        responses_in = [{"text": _cell_text(values.get("answer")), "buttons": buttons or []}, *(more or [])]
        responses, examples, shape = clean_input(responses_in, examples)
        row_errors += [_error(number, _faq_column(p.field), p.message) for p in shape]
        if row_errors:
            result.errors += row_errors
            continue
        parsed.append((number, name, responses, examples))

    with WRITE_LOCK:
        names = {name for _, name, _, _ in parsed}
        base = content.example_owners(skip_topics=names)
        sheet_keys: Dict[Text, Dict[Text, Tuple[Text, Text]]] = {}
        for _, name, _, examples in parsed:
            sheet_keys[name] = {content.folder.folded_words(text): (f"faq/{name}", text) for text in examples}
        for number, name, responses, examples in parsed:
            owners = dict(base)
            # an example moved between two rows is reported on the row that gains it
            stored = content.find(name)
            kept = {content.folder.folded_words(text) for text in stored["examples"]} if stored else set()
            for other, keys in sheet_keys.items():
                if other != name:
                    for key, owner in keys.items():
                        if key not in kept:
                            owners.setdefault(key, owner)
            problems = content.topic_problems(name, responses, examples, owners)
            result.errors += [_error(number, _faq_column(p.field), p.message) for p in problems]
        if result.errors:
            result.errors.sort(key=lambda e: e["row"])
            return result
        for _, name, responses, examples in parsed:
            before = content.find(name)
            if before is not None and before["responses"] == responses and before["examples"] == examples:
                continue
            after = content.write_topic(name, responses, examples)
            result.changes.append((before, after))
        result.applied = len(result.changes)
    return result


def _json_list(value: Any) -> Optional[List[Any]]:
    """A JSON list from a cell (empty cell = []), or None when it is not one."""
    text = _cell_text(value).strip()
    if not text:
        return []
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parsed, list) or not all(isinstance(item, dict) for item in parsed):
        return None
    return parsed


# -- promotions -------------------------------------------------------------------------------------
def promotion_rows(table: PromotionTable, fmt: Text) -> List[List[Any]]:
    """One row per promotion, in file order."""
    rows = []
    for record in table.records():
        row = []
        for column in PROMOTION_COLUMNS:
            value = record[column]
            if value is None:
                row.append("")
            elif column in LIST_FIELDS:
                row.append(", ".join(value))
            elif isinstance(value, int) and fmt == "csv":
                row.append(str(value))
            else:
                row.append(value)
        rows.append(row)
    return rows


def export_promotions(table: PromotionTable, fmt: Text) -> bytes:
    """The promotion sheet as XLSX or CSV."""
    return write_sheet(PROMOTION_COLUMNS, promotion_rows(table, fmt), fmt, "Khuyen mai")


def import_promotions(table: PromotionTable, data: bytes, fmt: Text) -> ImportResult:
    """Create or update the promotions of a sheet; nothing is written if any row is wrong."""
    result, records = _sheet_records(data, fmt, PROMOTION_COLUMNS, PROMOTION_COLUMNS)
    if result.errors:
        return result
    cleaned: List[Tuple[int, Dict[Text, Any]]] = []
    seen: Dict[Text, int] = {}
    for number, values in records:
        raw = {
            key: (_cell_text(value) if not isinstance(value, (int, float)) else value)
            for key, value in values.items()
        }
        record, problems = clean_record(raw)
        problems += [p for p in record_problems(record) if p.field not in {q.field for q in problems}]
        code = record.get("code")
        if code and code in seen:
            problems.append(Problem("code", f"Mã “{code}” đã có ở dòng {seen[code]}."))
        elif code:
            seen[code] = number
        result.errors += [_error(number, p.field, p.message) for p in problems]
        cleaned.append((number, record))
    if result.errors:
        return result
    try:
        changes = table.put_many([record for _, record in cleaned])
    except ValidationFailed as refused:
        message = refused.problems[0].message if refused.problems else refused.message
        row = next((number for number, record in cleaned if f"promotion {record['code']}" in message), 1)
        result.errors.append(_error(row, "", message))
        return result
    result.changes = changes
    result.applied = len(changes)
    return result
