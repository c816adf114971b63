"""The inbox API on the real handoff service: filled by a handoff, assign / out-of-scope write the masked
example into a temporary copy of data/ (never the project's), tokens and errors."""

import hashlib
import json

import pytest
import redis

from handoff.settings import PROJECT_ROOT

from .inbox_service import (
    ADMIN_TOKEN,
    AGENT_TOKEN,
    EDITOR,
    INBOX_DB,
    SERVICE_TOKEN,
    StudioService,
    fresh_data,
)

T0 = 1795489200.0  # 2026-11-24 10:00 in Vietnam
SHIP = "ship về Cà Mau tốn bao nhiêu vậy sđt 09******78"
TRANSCRIPT = [
    {"role": "customer", "text": "ship về Cà Mau tốn bao nhiêu vậy sđt 0912345678", "timestamp": T0 - 30},
    {"role": "bot", "text": "Ý bạn là…?", "timestamp": T0 - 29},
    {"role": "customer", "text": "mình hỏi giá vàng hôm nay", "timestamp": T0 - 20},
    {"role": "customer", "text": "thôi khỏi", "timestamp": T0 - 10},
    {"role": "customer", "text": "cho gặp người", "timestamp": T0 - 5},
]


def data_digest(root):
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def service(redis_server, tmp_path_factory):
    content_dir = tmp_path_factory.mktemp("inbox-content")
    fresh_data(content_dir)
    url = f"redis://{redis_server.host}:{redis_server.port}/{INBOX_DB}"
    started = StudioService(url, content_dir, tmp_path_factory.mktemp("inbox-log")).start()
    yield started
    started.stop()


@pytest.fixture()
def studio(service, redis_server):
    client = redis.Redis(host=redis_server.host, port=redis_server.port, db=INBOX_DB)
    client.flushdb()
    client.close()
    fresh_data(service.content_dir)
    return service


def items(studio, status="open"):
    response = studio.call("GET", f"/studio/api/inbox?status={status}")
    assert response.status_code == 200, response.text
    return {item["text"]: item for item in response.json()["items"]}


def test_tokens(studio):
    for token, status in [(None, 401), ("nope", 401), (AGENT_TOKEN, 403), (SERVICE_TOKEN, 403)]:
        for method, path in [
            ("GET", "/studio/api/inbox"),
            ("POST", "/studio/api/inbox/0123456789abcdef/ignore"),
        ]:
            response = studio.call(method, path, token)
            assert response.status_code == status
            assert response.json()["error"] == ("unauthorized" if status == 401 else "forbidden")
    for token in (None, ADMIN_TOKEN):
        response = studio.call("GET", "/studio/api/inbox", **({} if token is None else {"token": token}))
        assert response.status_code == 200
        assert response.json() == {
            "items": [],
            "counts": {"open": 0, "assigned": 0, "out_of_scope": 0, "ignored": 0},
        }


def test_handoff_fills_the_inbox_and_assign_writes_the_masked_example(studio):
    project_before = data_digest(PROJECT_ROOT / "data")
    topic_file = studio.content_dir / "data" / "nlu" / "faq" / "shipping_fee.yml"
    topic_file.write_text(
        "# phí giao hàng (sửa tay)\n" + topic_file.read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert studio.handoff("s1", TRANSCRIPT)["reused"] is False
    assert studio.handoff("s1", TRANSCRIPT)["reused"] is True  # same conversation: nothing recorded twice
    found = items(studio)
    assert set(found) == {SHIP, "mình hỏi giá vàng hôm nay", "thôi khỏi"}
    item = found[SHIP]
    assert (item["count"], item["sources"], item["status"], item["guesses"]) == (1, ["handoff"], "open", [])
    assert item["first_seen"] == item["last_seen"] == "2026-11-24T02:59:30+00:00"

    url = f"/studio/api/inbox/{item['id']}/assign"
    response = studio.call("POST", url, json={"topic": "shipping_fee"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["item"]["status"], body["item"]["topic"], body["item"]["updated_by"]) == (
        "assigned",
        "shipping_fee",
        EDITOR,
    )
    assert body["example"] == SHIP
    written = topic_file.read_text(encoding="utf-8")
    assert written.startswith("# phí giao hàng (sửa tay)\n")
    assert f"    - {SHIP}\n" in written
    assert "0912345678" not in written
    assert data_digest(PROJECT_ROOT / "data") == project_before
    entries = [json.loads(fields["entry"]) for _, fields in studio.redis().xrange("senmart:studio:history")]
    assert [(e["kind"], e["target"], e["action"], e["editor"]) for e in entries] == [
        ("inbox", item["id"], "assign", EDITOR),
        ("topic", "shipping_fee", "update", EDITOR),
    ]
    assert (entries[0]["before"]["status"], entries[0]["after"]["status"]) == ("open", "assigned")
    assert (entries[0]["intent"], entries[0]["example"]) == ("faq/shipping_fee", SHIP)
    assert entries[1]["after"]["examples"] == [*entries[1]["before"]["examples"], SHIP]

    response = studio.call("POST", url, json={"topic": "shipping_fee"})
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert response.json()["current"]["status"] == "assigned"
    assert written.count(SHIP) == topic_file.read_text(encoding="utf-8").count(SHIP) == 1
    assert set(items(studio)) == {"mình hỏi giá vàng hôm nay", "thôi khỏi"}
    assert set(items(studio, "assigned")) == {SHIP}


def test_out_of_scope_and_ignore(studio):
    studio.handoff("s2", TRANSCRIPT)
    found = items(studio)
    gold, never_mind = found["mình hỏi giá vàng hôm nay"], found["thôi khỏi"]
    response = studio.call("POST", f"/studio/api/inbox/{gold['id']}/out-of-scope")
    assert response.status_code == 200, response.text
    assert response.json()["item"]["status"] == "out_of_scope"
    oos = (studio.content_dir / "data" / "nlu" / "out_of_scope.yml").read_text(encoding="utf-8")
    assert "    - mình hỏi giá vàng hôm nay\n" in oos
    response = studio.call("POST", f"/studio/api/inbox/{never_mind['id']}/ignore")
    assert response.status_code == 200
    assert response.json()["item"]["status"] == "ignored"
    assert studio.call("POST", f"/studio/api/inbox/{never_mind['id']}/ignore").status_code == 409
    assert set(items(studio, "ignored")) == {"thôi khỏi"}
    assert set(items(studio, "out_of_scope")) == {"mình hỏi giá vàng hôm nay"}
    assert set(items(studio, "all")) == {SHIP, "mình hỏi giá vàng hôm nay", "thôi khỏi"}


def test_refused_examples_and_bad_requests(studio):
    existing = "tài khoản của mình bị khóa"  # already an example of faq/account_locked
    studio.handoff("s3", [{"role": "customer", "text": existing, "timestamp": T0 - 3}])
    [item] = items(studio).values()
    topic_file = studio.content_dir / "data" / "nlu" / "faq" / "shipping_fee.yml"
    before = topic_file.read_text(encoding="utf-8")
    url = f"/studio/api/inbox/{item['id']}/assign"
    response = studio.call("POST", url, json={"topic": "shipping_fee"})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid"
    assert response.json()["problems"][0]["field"] == "text"
    assert topic_file.read_text(encoding="utf-8") == before
    assert items(studio)[existing]["status"] == "open"  # put back

    assert studio.call("POST", url, json={"topic": "khong_co_chu_de"}).status_code == 404
    assert items(studio)[existing]["status"] == "open"
    response = studio.call("POST", url, json={"topic": "Phí Ship"})
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"field": "topic", "message": "Tên chủ đề chỉ gồm chữ thường không dấu, số và dấu gạch dưới."}
    ]
    assert studio.call("POST", url, json={}).status_code == 422
    response = studio.call("POST", url, data=b"{not json")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_json")
    response = studio.call("POST", "/studio/api/inbox/0123456789abcdef/ignore")
    assert (response.status_code, response.json()["error"]) == (404, "not_found")
    assert studio.call("GET", "/studio/api/inbox?status=done").status_code == 422
    assert studio.call("GET", "/studio/api/inbox?limit=0").status_code == 422
