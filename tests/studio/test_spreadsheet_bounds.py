"""Spreadsheets in and out are safe: no CSV formula injection, no sheet bomb (issue 15)."""

import io
import zipfile

import pytest
from openpyxl import Workbook

from studio.spreadsheets import MAX_COLUMNS, MAX_ROWS, read_sheet, write_sheet


def test_csv_export_neutralises_formulas_and_import_restores_them():
    rows = [['=HYPERLINK("http://evil","x")', "+1", "-2 sao", "@SUM(A1)", "bình thường", "'giữ nguyên"]]
    data = write_sheet(["a", "b", "c", "d", "e", "f"], rows, "csv", "FAQ")
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+1" in text and "'-2 sao" in text and "'@SUM(A1)" in text
    assert read_sheet(data, "csv")[1] == rows[0]


def xlsx_with_a_far_cell() -> bytes:
    """A tiny workbook whose one cell sits at XFD1048576 (the last cell Excel has)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["topic", "question"])
    sheet.append(["shipping_fee", "phí ship"])
    sheet["XFD1048576"] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_far_cell_does_not_build_a_huge_sheet():
    data = xlsx_with_a_far_cell()
    assert len(data) < 10_000
    assert zipfile.is_zipfile(io.BytesIO(data))
    rows = read_sheet(data, "xlsx")
    assert len(rows) == 2 and all(len(row) == MAX_COLUMNS for row in rows)  # not 1,048,576 × 16,384
    assert [[v for v in row if v is not None] for row in rows] == [
        ["topic", "question"],
        ["shipping_fee", "phí ship"],
    ]


def test_too_many_rows_or_columns_are_refused_with_a_vietnamese_message():
    many_rows = ("a,b\n" * (MAX_ROWS + 5)).encode()
    with pytest.raises(ValueError, match=f"tối đa {MAX_ROWS} dòng"):
        read_sheet(many_rows, "csv")
    wide = (",".join(["x"] * (MAX_COLUMNS + 1)) + "\n").encode()
    with pytest.raises(ValueError, match=f"{MAX_COLUMNS} cột"):
        read_sheet(wide, "csv")


@pytest.mark.parametrize("name", ["shipping_fee\n", "SM2026\n"])
def test_names_ending_in_a_newline_are_refused(name):
    from studio.content import TOPIC_NAME
    from studio.promotions import CODE

    assert TOPIC_NAME.match(name) is None and CODE.match(name.upper()) is None
    assert TOPIC_NAME.match(name.strip()) or CODE.match(name.strip().upper())
