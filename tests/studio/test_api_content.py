"""The studio's content API on the handoff app (real Redis, a temporary copy of data/)."""

import csv
import io
import shutil
from pathlib import Path

import aiohttp
import pytest

from studio.settings import PROJECT_ROOT
from tests.studio.inbox_service import StudioService

HOA = {"Authorization": "Bearer hoa-token"}
NAM = {"Authorization": "Bearer nam-token"}
AGENT = {"Authorization": "Bearer lan-token"}
SERVICE = {"Authorization": "Bearer svc-token"}
ADMIN = {"Authorization": "Bearer adm-token"}
EXAMPLES = [f"mình muốn hỏi về quà tặng số {n} của SenMart" for n in range(12)]


@pytest.fixture()
async def served(redis_server, redis_client, tmp_path):
    """`python -m staff` with the studio on a copy of data/ (Sanic 21.12 starts one app per process);
    yields (session, content dir)."""
    shutil.copytree(PROJECT_ROOT / "data", tmp_path / "data")
    service = StudioService(
        redis_server.url,
        tmp_path,
        tmp_path,
        HANDOFF_ADMIN_TOKEN="adm-token",
        HANDOFF_SERVICE_TOKEN="svc-token",
        HANDOFF_AGENT_TOKENS="Lan:lan-token",
        STUDIO_TOKENS="Hoa:hoa-token,Nam:nam-token",
    ).start()
    try:
        async with aiohttp.ClientSession(service.url) as session:
            yield session, tmp_path
    finally:
        service.stop()


async def call(session, method, path, headers=HOA, **kwargs):
    async with session.request(method, path, headers=headers, **kwargs) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.read()


async def test_roles(served):
    session, _ = served
    status, body = await call(session, "GET", "/studio/api/topics", headers={})
    assert (status, body["error"]) == (401, "unauthorized")
    assert "mã truy cập" in body["message"]
    for headers in (AGENT, SERVICE):
        status, body = await call(session, "GET", "/studio/api/topics", headers=headers)
        assert (status, body["error"]) == (403, "forbidden")
    status, body = await call(session, "GET", "/api/tickets", headers=HOA)
    assert (status, body["error"]) == (403, "forbidden")
    for headers in (HOA, ADMIN):
        status, body = await call(session, "GET", "/studio/api/topics", headers=headers)
        assert status == 200 and len(body["topics"]) == len(
            list((PROJECT_ROOT / "data/nlu/faq").glob("*.yml"))
        )


async def test_topic_life_cycle_history_and_undo(served):
    session, root = served
    status, created = await call(
        session,
        "POST",
        "/studio/api/topics",
        json={"name": "qua_tang", "responses": [{"text": "Có quà nhé."}], "examples": EXAMPLES},
    )
    assert status == 201 and created["name"] == "qua_tang"
    assert created["responses"] == [{"text": "Có quà nhé.", "buttons": []}]
    status, got = await call(session, "GET", "/studio/api/topics/qua_tang")
    assert (status, got) == (200, created)
    status, added = await call(
        session,
        "POST",
        "/studio/api/topics/qua_tang/examples",
        json={"version": created["version"], "text": "quà ở đâu"},
    )
    assert status == 200 and added["examples"] == [*EXAMPLES, "quà ở đâu"]
    status, renamed = await call(
        session,
        "POST",
        "/studio/api/topics/qua_tang/rename",
        json={"version": added["version"], "new_name": "qua_tang_moi"},
    )
    assert status == 200 and renamed["name"] == "qua_tang_moi"
    assert not (root / "data/nlu/faq/qua_tang.yml").exists()
    status, body = await call(
        session, "DELETE", f"/studio/api/topics/qua_tang_moi?version={renamed['version']}", headers=NAM
    )
    assert (status, body) == (200, {"deleted": "qua_tang_moi"})
    status, body = await call(session, "GET", "/studio/api/topics/qua_tang_moi")
    assert (status, body) == (404, {"error": "not_found", "message": "Không tìm thấy chủ đề “qua_tang_moi”."})

    status, history = await call(session, "GET", "/studio/api/history?limit=10")
    entries = history["entries"]
    assert [(e["editor"], e["kind"], e["target"], e["action"]) for e in entries] == [
        ("Nam", "topic", "qua_tang_moi", "delete"),
        ("Hoa", "topic", "qua_tang_moi", "rename"),
        ("Hoa", "topic", "qua_tang", "add_example"),
        ("Hoa", "topic", "qua_tang", "create"),
    ]
    assert entries[0]["before"] == renamed and entries[0]["after"] is None
    status, body = await call(session, "GET", "/studio/api/history?target=qua_tang&limit=2")
    assert [e["action"] for e in body["entries"]] == ["rename", "add_example"]

    status, undone = await call(session, "POST", f"/studio/api/history/{entries[0]['id']}/undo")
    assert status == 200 and undone["action"] == "undo" and undone["editor"] == "Hoa"
    status, back = await call(session, "GET", "/studio/api/topics/qua_tang_moi")
    assert (status, back) == (200, renamed)
    status, body = await call(session, "POST", f"/studio/api/history/{entries[0]['id']}/undo")
    assert status == 409 and body["error"] == "conflict" and body["current"] == renamed
    status, body = await call(session, "POST", "/studio/api/history/1-0/undo")
    assert status == 404


async def test_validation_is_422_with_exact_messages(served):
    session, _ = served
    status, body = await call(
        session,
        "POST",
        "/studio/api/topics",
        json={
            "name": "qua_tang",
            "responses": [{"text": "Xem <a href='x'>đây</a>"}],
            "examples": EXAMPLES[:3],
        },
    )
    assert status == 422
    assert body == {
        "error": "invalid",
        "message": "Nội dung chưa hợp lệ, vui lòng sửa các mục được đánh dấu.",
        "problems": [
            {
                "field": "responses[0].text",
                "message": "Câu trả lời không được chứa mã HTML (thẻ <…> hay ký tự dạng &…;). "
                "Vui lòng viết nội dung bằng chữ thường.",
            },
            {
                "field": "examples",
                "message": "Cần ít nhất 12 câu ví dụ để bot học được chủ đề này (hiện có 3 câu).",
            },
        ],
    }
    status, body = await call(
        session,
        "POST",
        "/studio/api/topics",
        data=b"{not json",
        headers={**HOA, "Content-Type": "application/json"},
    )
    assert (status, body) == (
        400,
        {"error": "invalid_json", "message": "Dữ liệu gửi lên không phải JSON hợp lệ."},
    )
    topic = (await call(session, "GET", "/studio/api/topics/hotline"))[1]
    status, body = await call(
        session,
        "PUT",
        "/studio/api/topics/hotline",
        json={"responses": topic["responses"], "examples": topic["examples"]},
    )
    assert status == 422 and body["problems"] == [
        {
            "field": "version",
            "message": "Thiếu phiên bản (version) của nội dung đang sửa. Vui lòng tải lại trang.",
        }
    ]
    status, body = await call(
        session, "POST", "/studio/api/preview", json={"responses": [{"text": "Chào &nbsp; bạn"}]}
    )
    assert status == 422 and body["problems"][0]["field"] == "responses[0].text"
    buttons = [{"title": "Gặp nhân viên", "payload": "/request_human"}]
    status, body = await call(
        session, "POST", "/studio/api/preview", json={"responses": [{"text": "Chào bạn", "buttons": buttons}]}
    )
    assert (status, body) == (200, {"messages": [{"text": "Chào bạn", "buttons": buttons}]})


async def test_two_editors_same_version_second_gets_409(served):
    session, _ = served
    topic = (await call(session, "GET", "/studio/api/topics/hotline"))[1]
    first = {
        "version": topic["version"],
        "responses": [{"text": "Hotline: 1900 6868."}],
        "examples": topic["examples"],
    }
    second = {
        "version": topic["version"],
        "responses": [{"text": "Gọi 1900 6868."}],
        "examples": topic["examples"],
    }
    status, saved = await call(session, "PUT", "/studio/api/topics/hotline", json=first)
    assert status == 200 and saved["responses"][0]["text"] == "Hotline: 1900 6868."
    status, body = await call(session, "PUT", "/studio/api/topics/hotline", json=second, headers=NAM)
    assert status == 409
    assert body == {
        "error": "conflict",
        "message": "Chủ đề này vừa được người khác thay đổi. Vui lòng xem nội dung mới nhất rồi sửa lại.",
        "current": saved,
    }


async def test_edit_through_the_api_keeps_comments_and_order(served):
    session, root = served
    path = root / "data/nlu/faq/zalo.yml"
    edited = path.read_text(encoding="utf-8").replace(
        "responses:\n", "# câu trả lời do chị Hoa duyệt\nresponses:\n", 1
    )
    path.write_text(edited, encoding="utf-8")
    topic = (await call(session, "GET", "/studio/api/topics/zalo"))[1]
    old_text = topic["responses"][0]["text"]
    body = {
        "version": topic["version"],
        "responses": [{"text": "Zalo OA: SenMart Official."}],
        "examples": topic["examples"],
    }
    status, _ = await call(session, "PUT", "/studio/api/topics/zalo", json=body)
    assert status == 200
    assert path.read_text(encoding="utf-8") == edited.replace(f'"{old_text}"', '"Zalo OA: SenMart Official."')


async def test_promotions_form_and_try(served):
    session, root = served
    status, body = await call(session, "GET", "/studio/api/promotions")
    assert status == 200 and body["shipping"] == {
        "shipping_fee_standard": 25000,
        "free_shipping_min_order": 300000,
    }
    giam50k = body["promotions"][0]
    assert giam50k["code"] == "GIAM50K" and giam50k["min_order"] == 500000
    status, body = await call(
        session,
        "POST",
        "/studio/api/promotions/try",
        json={"code": "GIAM50K", "amount": 450000, "date": "2026-11-23"},
    )
    assert (status, body) == (
        200,
        {
            "messages": [
                {"text": "Đơn 450.000đ chưa dùng được mã GIAM50K vì mã này áp dụng cho đơn từ 500.000đ."}
            ]
        },
    )
    status, saved = await call(
        session, "PUT", "/studio/api/promotions/GIAM50K", json={**giam50k, "min_order": 400000}
    )
    assert status == 200 and saved["min_order"] == 400000
    status, body = await call(
        session, "PUT", "/studio/api/promotions/GIAM50K", json={**giam50k, "min_order": 300000}, headers=NAM
    )
    assert status == 409 and body["current"] == saved
    status, body = await call(
        session,
        "POST",
        "/studio/api/promotions/try",
        json={"code": "GIAM50K", "amount": 450000, "date": "2026-11-23"},
    )
    assert body["messages"][0]["text"].startswith("Đơn 450.000đ dùng được mã GIAM50K: giảm 50.000đ")
    status, body = await call(
        session,
        "POST",
        "/studio/api/promotions",
        json={"code": "GIAM50K", "name": "X", "kind": "discount", "amount": 1},
    )
    assert status == 422 and body["problems"] == [
        {"field": "code", "message": "Mã “GIAM50K” đã có. Vui lòng chọn mã khác."}
    ]
    status, created = await call(
        session,
        "POST",
        "/studio/api/promotions",
        json={"code": "TET2027", "name": "Tết", "kind": "discount", "percent": 5},
    )
    assert status == 201 and created["percent"] == 5
    status, body = await call(
        session, "DELETE", f"/studio/api/promotions/TET2027?version={created['version']}"
    )
    assert (status, body) == (200, {"deleted": "TET2027"})
    history = (await call(session, "GET", "/studio/api/history?target=GIAM50K"))[1]["entries"]
    assert [(e["action"], e["after"]["min_order"]) for e in history] == [("update", 400000)]
    status, _ = await call(session, "POST", f"/studio/api/history/{history[0]['id']}/undo")
    assert status == 200
    promotions = (root / "data/promotions.yml").read_text(encoding="utf-8")
    assert promotions == (PROJECT_ROOT / "data/promotions.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
async def test_export_import_round_trip(served, fmt):
    session, root = served
    before = {p: p.read_bytes() for p in sorted((root / "data").rglob("*.yml"))}
    for what in ("faq", "promotions"):
        status, data = await call(session, "GET", f"/studio/api/export/{what}.{fmt}")
        assert status == 200 and len(data) > 1000
        status, body = await call(session, "POST", f"/studio/api/import/{what}?format={fmt}", data=data)
        assert (status, body) == (200, {"applied": 0, "errors": []})
    assert {p: p.read_bytes() for p in sorted((root / "data").rglob("*.yml"))} == before


async def test_import_error_report(served):
    session, root = served
    status, data = await call(session, "GET", "/studio/api/export/faq.csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    rows[2][1] = ""
    rows[4][3] += "\nxin chào"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    status, body = await call(
        session, "POST", "/studio/api/import/faq?format=csv", data=buffer.getvalue().encode()
    )
    assert status == 422
    assert body == {
        "error": "invalid",
        "message": "Tệp có dòng chưa hợp lệ nên chưa có thay đổi nào được áp dụng. "
        "Vui lòng sửa rồi nhập lại.",
        "applied": 0,
        "errors": [
            {"row": 3, "field": "answer", "message": "Câu trả lời không được để trống."},
            {"row": 5, "field": "examples", "message": "Câu ví dụ “xin chào” đã thuộc ý định “greet”."},
        ],
    }
    status, body = await call(session, "POST", "/studio/api/import/faq?format=ods", data=b"x")
    assert status == 400
    status, body = await call(session, "GET", "/studio/api/export/faq.ods")
    assert status == 404
    rows[2][1] = "Câu trả lời mới."
    rows[4][3] = rows[4][3].rsplit("\n", 1)[0]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    status, body = await call(
        session, "POST", "/studio/api/import/faq?format=csv", data=buffer.getvalue().encode()
    )
    assert (status, body) == (200, {"applied": 1, "errors": []})
    entries = (await call(session, "GET", "/studio/api/history"))[1]["entries"]
    assert [(e["action"], e["target"], e["after"]["responses"][0]["text"]) for e in entries] == [
        ("import", rows[2][0], "Câu trả lời mới.")
    ]
    assert (
        Path(root / "data/nlu/faq" / f"{rows[2][0]}.yml")
        .read_text(encoding="utf-8")
        .count("Câu trả lời mới.")
        == 1
    )
