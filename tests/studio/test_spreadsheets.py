"""studio.spreadsheets: XLSX and CSV export/import of FAQ topics and promotions."""

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from studio import spreadsheets


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def csv_rows(data: bytes) -> list:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def csv_bytes(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_round_trip_changes_nothing(fmt, settings, content, table):
    before = snapshot(settings.data_dir)
    faq = spreadsheets.export_faq(content, fmt)
    promotions = spreadsheets.export_promotions(table, fmt)
    assert spreadsheets.import_faq(content, faq, fmt).as_json() == {"applied": 0, "errors": []}
    assert spreadsheets.import_promotions(table, promotions, fmt).as_json() == {"applied": 0, "errors": []}
    assert snapshot(settings.data_dir) == before
    assert spreadsheets.export_faq(content, fmt) == faq or fmt == "xlsx"  # xlsx embeds a timestamp


def test_faq_sheet_layout(content):
    rows = csv_rows(spreadsheets.export_faq(content, "csv"))
    assert rows[0] == ["topic", "answer", "buttons", "examples", "more_responses"]
    topic = content.get_topic("account_locked")
    assert rows[1] == ["account_locked", topic["responses"][0]["text"], "", "\n".join(topic["examples"]), ""]
    assert len(rows) == 1 + len(content.topic_names())
    sheet = load_workbook(io.BytesIO(spreadsheets.export_faq(content, "xlsx"))).active
    assert sheet.title == "FAQ"
    assert [c.value for c in sheet[2]][:2] == ["account_locked", topic["responses"][0]["text"]]


def test_promotion_sheet_layout(table):
    rows = csv_rows(spreadsheets.export_promotions(table, "csv"))
    assert rows[0][:4] == ["code", "name", "kind", "percent"]
    assert rows[2] == [
        "GIAM10",
        "Giảm 10% cho thành viên",
        "discount",
        "10",
        "",
        "80000",
        "250000",
        "Bạc, Vàng, Kim Cương",
        "",
        "2026-11-15",
        "2026-12-15",
        "discount",
        "",
        "",
        "",
        "",
    ]
    sheet = load_workbook(io.BytesIO(spreadsheets.export_promotions(table, "xlsx"))).active
    assert [c.value for c in sheet[3]][3:7] == [10, None, 80000, 250000]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_edited_sheet_is_applied(fmt, content, table, tmp_path):
    rows = csv_rows(spreadsheets.export_faq(content, "csv"))
    rows[1][1] = "Tài khoản bị khóa 30 phút rồi tự mở bạn nhé."
    rows[1][2] = '[{"title": "Gặp nhân viên", "payload": "/request_human"}]'
    # an example moves from zalo (last row) to hotline in the same import
    zalo = content.get_topic("zalo")
    moved = zalo["examples"][0]
    hotline = next(i for i, r in enumerate(rows) if r[0] == "hotline")
    rows[hotline][3] += "\n" + moved
    rows[-1][3] = "\n".join(zalo["examples"][1:])
    rows.append(["qua_tang", "Có quà nhé.", "", "\n".join(f"quà tặng số {n} ở đâu" for n in range(12)), ""])
    data = csv_bytes(rows) if fmt == "csv" else xlsx_of(rows)
    result = spreadsheets.import_faq(content, data, fmt)
    assert result.as_json() == {"applied": 4, "errors": []}
    assert [after["name"] for _, after in result.changes] == ["account_locked", "hotline", "zalo", "qua_tang"]
    assert result.changes[3][0] is None
    assert content.get_topic("account_locked")["responses"] == [
        {
            "text": "Tài khoản bị khóa 30 phút rồi tự mở bạn nhé.",
            "buttons": [{"title": "Gặp nhân viên", "payload": "/request_human"}],
        }
    ]
    assert content.get_topic("hotline")["examples"][-1] == moved
    assert moved not in content.get_topic("zalo")["examples"]
    assert content.exists("qua_tang")


def xlsx_of(rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_faq_errors_by_row_and_nothing_applied(settings, content):
    before = snapshot(settings.data_dir)
    rows = csv_rows(spreadsheets.export_faq(content, "csv"))
    rows[1][1] = "Xem <b>tại đây</b>"  # row 2
    rows[2][2] = "[{"  # row 3
    rows[3][3] = "\n".join(rows[3][3].split("\n")[:5])  # row 4
    rows[5][0] = "Sai Ten"  # row 6
    rows[6][3] += "\ntk bị khóa r ad ơi"  # row 7, owned by account_locked (row 2)
    rows.append(list(rows[8]))  # the last row repeats the topic of row 9
    result = spreadsheets.import_faq(content, csv_bytes(rows), "csv")
    assert result.applied == 0
    name_rule = (
        "Tên chủ đề chỉ gồm chữ thường không dấu, chữ số và dấu gạch dưới, bắt đầu bằng một chữ cái, "
        "dài 2–50 ký tự (ví dụ: doi_tra_hang)."
    )
    assert result.errors == [
        {
            "row": 2,
            "field": "answer",
            "message": "Câu trả lời không được chứa mã HTML (thẻ <…> hay ký tự dạng &…;). "
            "Vui lòng viết nội dung bằng chữ thường.",
        },
        {
            "row": 3,
            "field": "buttons",
            "message": 'Cột buttons phải là JSON dạng [{"title": "…", "payload": "…"}] hoặc để trống.',
        },
        {
            "row": 4,
            "field": "examples",
            "message": "Cần ít nhất 12 câu ví dụ để bot học được chủ đề này (hiện có 5 câu).",
        },
        {"row": 6, "field": "topic", "message": name_rule},
        {
            "row": 7,
            "field": "examples",
            "message": "Câu ví dụ “tk bị khóa r ad ơi” đã thuộc chủ đề “account_locked”.",
        },
        {"row": len(rows), "field": "topic", "message": f"Chủ đề “{rows[8][0]}” đã có ở dòng 9."},
    ]
    assert snapshot(settings.data_dir) == before


def test_unreadable_files_and_missing_columns(content, table):
    assert spreadsheets.import_faq(content, b"not a zip", "xlsx").errors == [
        {"row": 0, "field": "", "message": "Không đọc được tệp Excel (.xlsx). Vui lòng kiểm tra lại tệp."}
    ]
    assert spreadsheets.import_faq(content, "topic,answer\n".encode("utf-16"), "csv").errors == [
        {"row": 0, "field": "", "message": "Tệp CSV phải dùng bảng mã UTF-8."}
    ]
    assert spreadsheets.import_faq(content, b"topic,answer,buttons,examples\n", "csv").errors == [
        {"row": 1, "field": "more_responses", "message": "Thiếu cột “more_responses” ở dòng tiêu đề."}
    ]


def test_promotion_errors_by_row_and_nothing_applied(settings, table):
    before = snapshot(settings.data_dir)
    rows = csv_rows(spreadsheets.export_promotions(table, "csv"))
    rows[1][3] = "150"  # row 2: GIAM50K gets a percent next to its amount... and 150 is too much
    rows[3][0] = "GIAM10"  # row 4 repeats the code of row 3
    rows[5][9] = "31/12/2026"  # row 6: start
    result = spreadsheets.import_promotions(table, csv_bytes(rows), "csv")
    assert result.as_json() == {
        "applied": 0,
        "errors": [
            {
                "row": 2,
                "field": "percent",
                "message": "Phần trăm phải là số nguyên từ 1 đến 100 (không ghi dấu %).",
            },
            {
                "row": 2,
                "field": "amount",
                "message": "Chỉ nhập phần trăm hoặc số tiền giảm, không nhập cả hai.",
            },
            {"row": 4, "field": "code", "message": "Mã “GIAM10” đã có ở dòng 3."},
            {
                "row": 6,
                "field": "start",
                "message": "Ngày phải viết theo dạng năm-tháng-ngày, ví dụ 2026-12-31.",
            },
        ],
    }
    assert snapshot(settings.data_dir) == before


def test_promotion_sheet_edit_is_applied(table):
    rows = csv_rows(spreadsheets.export_promotions(table, "csv"))
    rows[1][6] = "400000"
    rows.append(
        [
            "TET2027",
            "Tết 2027",
            "discount",
            "5",
            "",
            "",
            "",
            "",
            "",
            "2027-01-20",
            "2027-02-10",
            "",
            "",
            "",
            "",
            "",
        ]
    )
    result = spreadsheets.import_promotions(table, xlsx_of(rows), "xlsx")
    assert result.as_json() == {"applied": 2, "errors": []}
    assert table.get("GIAM50K")["min_order"] == 400000
    assert table.get("TET2027")["percent"] == 5
    assert table.book().get("TET2027").stack_group == "discount"
