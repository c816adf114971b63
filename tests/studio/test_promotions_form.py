"""studio.promotions: the promotion table as records, validated edits, and the "thử" box."""

import asyncio
import shutil
from datetime import date

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.promotions import ActionCheckPromotion
from studio.content import Conflict, Problem, ValidationFailed
from studio.promotions import PromotionTable
from studio.settings import PROJECT_ROOT, StudioSettings

TODAY = date(2026, 11, 23)


@pytest.fixture()
def table(tmp_path) -> PromotionTable:
    shutil.copytree(PROJECT_ROOT / "data", tmp_path / "data")
    return PromotionTable(StudioSettings(content_dir=tmp_path))


def problems_of(call, *args):
    with pytest.raises(ValidationFailed) as caught:
        call(*args)
    return caught.value.problems


def test_records_have_every_field(table):
    records = table.records()
    assert [r["code"] for r in records] == [
        "GIAM50K",
        "GIAM10",
        "FREESHIP",
        "HOAN10",
        "MOIBAN",
        "SINHNHAT",
        "FLASHSALE1212",
    ]
    first = dict(records[0])
    assert len(first.pop("version")) == 16
    assert first == {
        "code": "GIAM50K",
        "name": "Giảm 50.000đ",
        "kind": "discount",
        "percent": None,
        "amount": 50000,
        "cap": None,
        "min_order": 500000,
        "tiers": None,
        "payment_methods": None,
        "start": "2026-11-01",
        "end": "2026-12-31",
        "stack_group": "discount",
        "excludes_groups": None,
        "limits": "mỗi khách dùng 1 lần",
        "notes": None,
        "aliases": None,
    }
    assert records[4]["aliases"] == ["giới thiệu bạn", "mã giới thiệu", "moi ban"]
    assert records[4]["notes"].startswith("mã giảm dùng cho đơn đầu tiên; người giới thiệu nhận 50.000đ")
    assert table.shipping() == {"shipping_fee_standard": 25000, "free_shipping_min_order": 300000}


def test_update_changes_only_the_edited_lines(table):
    original = table.path.read_text(encoding="utf-8")
    current = table.get("GIAM50K")
    edited = {**current, "limits": None, "cap": 60000, "tiers": ["Vàng", "Bạc"], "min_order": 400000}
    record = table.update("giam50k", current["version"], edited)
    assert record["tiers"] == ["Bạc", "Vàng"] and record["cap"] == 60000
    expected = original.replace(
        "    amount: 50000\n    min_order: 500000\n    start: 2026-11-01\n    end: 2026-12-31\n"
        "    stack_group: discount\n    limits: mỗi khách dùng 1 lần\n",
        "    amount: 50000\n    cap: 60000\n    min_order: 400000\n    tiers: [Bạc, Vàng]\n"
        "    start: 2026-11-01\n    end: 2026-12-31\n    stack_group: discount\n",
    )
    assert expected != original
    assert table.path.read_text(encoding="utf-8") == expected
    assert table.book().get("GIAM50K").min_order == 400000
    with pytest.raises(Conflict) as caught:
        table.update("GIAM50K", current["version"], current)
    assert caught.value.current == record


def test_create_appends_an_item_and_keeps_the_header(table):
    original = table.path.read_text(encoding="utf-8")
    record = table.create(
        {
            "code": "tet2027",
            "name": "Tết 2027",
            "kind": "discount",
            "percent": "5",
            "start": "2027-01-20",
            "end": "2027-02-10",
        }
    )
    assert record["code"] == "TET2027" and record["percent"] == 5
    assert table.path.read_text(encoding="utf-8") == original + (
        "\n  - code: TET2027\n    name: Tết 2027\n    kind: discount\n    percent: 5\n"
        "    start: 2027-01-20\n    end: 2027-02-10\n"
    )
    assert problems_of(table.create, {**record, "name": "Khác"}) == [
        Problem("code", "Mã “TET2027” đã có. Vui lòng chọn mã khác.")
    ]


def test_validation_messages(table):
    raw = {
        "code": "x",
        "kind": "zz",
        "percent": 0,
        "amount": "-5",
        "cap": "abc",
        "tiers": ["Bac"],
        "payment_methods": "senpay, paypal",
        "stack_group": "vip",
        "start": "2027-01-02",
        "end": "2026-01-01",
    }
    assert problems_of(table.create, raw) == [
        Problem("cap", "Mức ưu đãi tối đa phải là số nguyên dương, đơn vị đồng, viết liền (ví dụ 50000)."),
        Problem(
            "code",
            "Mã khuyến mãi gồm 3–30 ký tự: chữ in hoa không dấu, chữ số hoặc dấu gạch dưới (ví dụ GIAM50K).",
        ),
        Problem("name", "Vui lòng nhập tên hiển thị của khuyến mãi."),
        Problem(
            "kind",
            "Loại khuyến mãi phải là một trong: discount (mã giảm giá), freeship (miễn phí vận chuyển), "
            "payment (ưu đãi thanh toán), referral (giới thiệu bạn), campaign (chương trình).",
        ),
        Problem("percent", "Phần trăm phải là số nguyên từ 1 đến 100 (không ghi dấu %)."),
        Problem("amount", "Số tiền giảm phải là số nguyên dương, đơn vị đồng, viết liền (ví dụ 50000)."),
        Problem("amount", "Chỉ nhập phần trăm hoặc số tiền giảm, không nhập cả hai."),
        Problem("tiers", "Hạng thành viên “Bac” không có. Chọn trong: Đồng, Bạc, Vàng, Kim Cương."),
        Problem(
            "payment_methods",
            "Phương thức thanh toán “paypal” không có. "
            "Chọn trong: senpay, cod, atm, card, vietqr, momo, zalopay.",
        ),
        Problem(
            "stack_group",
            "Nhóm cộng dồn “vip” không có. Chọn trong: discount, freeship, payment, referral, campaign.",
        ),
        Problem("end", "Ngày kết thúc phải trùng hoặc sau ngày bắt đầu."),
    ]
    assert problems_of(
        table.create, {"code": "ABC", "name": "A", "kind": "payment", "start": "2026-01-01"}
    ) == [
        Problem("percent", "Loại payment cần có phần trăm hoặc số tiền giảm."),
        Problem(
            "end",
            "Vui lòng nhập cả ngày bắt đầu và ngày kết thúc, hoặc bỏ trống cả hai (áp dụng thường xuyên).",
        ),
    ]


def test_the_engine_loader_has_the_last_word(table):
    broken = table.path.read_text(encoding="utf-8").replace("    kind: campaign\n", "    kind: bogus\n")
    table.path.write_text(broken, encoding="utf-8")
    current = table.get("GIAM50K")
    problems = problems_of(table.update, "GIAM50K", current["version"], {**current, "amount": 40000})
    assert problems == [
        Problem(
            "",
            "Bảng khuyến mãi chưa hợp lệ theo kiểm tra của bot: promotion FLASHSALE1212: unknown kind "
            "'bogus', expected one of discount, freeship, payment, referral, campaign",
        )
    ]
    assert table.path.read_text(encoding="utf-8") == broken
    assert sorted(p.name for p in table.path.parent.iterdir() if p.name.startswith(".")) == []


def test_delete(table):
    current = table.get("SINHNHAT")
    assert table.delete("SINHNHAT", current["version"]) == current
    assert [r["code"] for r in table.records()][-2:] == ["MOIBAN", "FLASHSALE1212"]
    assert "SINHNHAT" not in table.path.read_text(encoding="utf-8")


def action_text(slots, text="") -> str:
    tracker = Tracker(
        sender_id="t",
        slots={
            "promo_codes": None,
            "order_amount": None,
            "member_tier": None,
            "payment_method": None,
            **slots,
        },
        latest_message={"text": text, "intent": {"name": "ask_promotion", "confidence": 1.0}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionCheckPromotion().run(dispatcher, tracker, {}))
    return dispatcher.messages[0]["text"]


def test_try_box_says_what_the_action_says(table, monkeypatch):
    monkeypatch.setenv("SENMART_TODAY", "2026-11-23")
    messages = table.try_order({"code": "GIAM50K", "amount": 450000}, TODAY)
    assert messages == [
        {"text": "Đơn 450.000đ chưa dùng được mã GIAM50K vì mã này áp dụng cho đơn từ 500.000đ."}
    ]
    cases = [
        (
            {"code": "GIAM10", "amount": 1500000, "tier": "Bạc"},
            {"promo_codes": ["GIAM10"], "order_amount": 1500000.0, "member_tier": "Bạc"},
        ),
        ({"amount": 600000, "payment": "senpay"}, {"order_amount": 600000.0, "payment_method": "senpay"}),
        (
            {"code": "GIAM50K, FREESHIP", "amount": 600000},
            {"promo_codes": ["GIAM50K", "FREESHIP"], "order_amount": 600000.0},
        ),
        ({}, {}),
    ]
    for box, slots in cases:
        assert table.try_order({**box, "date": "2026-11-23"}, date(2030, 1, 1)) == [
            {"text": action_text(slots)}
        ]


def test_try_box_uses_the_edited_book(table):
    current = table.get("GIAM50K")
    table.update("GIAM50K", current["version"], {**current, "min_order": 400000})
    assert table.try_order({"code": "giam50k", "amount": 450000, "date": "2026-11-23"}, TODAY) == [
        {
            "text": "Đơn 450.000đ dùng được mã GIAM50K: giảm 50.000đ, tiền hàng còn 400.000đ. "
            "Lưu ý: mỗi khách dùng 1 lần."
        }
    ]
    assert problems_of(
        table.try_order, {"amount": "nhiều", "tier": "VIP", "payment": "paypal", "date": "12/12"}, TODAY
    ) == [
        Problem("amount", "Giá trị đơn phải là số nguyên không âm, đơn vị đồng (ví dụ 450000)."),
        Problem("tier", "Hạng thành viên “VIP” không có. Chọn trong: Đồng, Bạc, Vàng, Kim Cương."),
        Problem(
            "payment",
            "Phương thức thanh toán “paypal” không có. "
            "Chọn trong: senpay, cod, atm, card, vietqr, momo, zalopay.",
        ),
        Problem("date", "Ngày phải viết theo dạng năm-tháng-ngày, ví dụ 2026-12-31."),
    ]
