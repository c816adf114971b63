"""The HTTP API of the real service (`python -m staff` subprocess, real Redis, Rasa stand-in)."""

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import requests

from handoff.settings import PACKAGE_DIR
from testkit.polling import wait_for

from .conftest import ADMIN_TOKEN, LAN_TOKEN, MINH_TOKEN, RASA_TOKEN, SERVICE_TOKEN, Api
from .test_metrics import check_exposition

TICKET_ID = re.compile(r"^KN-(\d{8})-(\d{4})$")


def create(api, sender="s1", **body):
    response = api.handoff(sender, **body)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_health_and_metrics(api):
    health = api.call("GET", "/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok", "redis": True})
    create(api, reason="anger")
    api.agent("GET", "/api/tickets")
    metrics = api.call("GET", "/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    check_exposition(metrics.text)
    assert 'handoff_handoffs_total{reason="anger"} 1' in metrics.text
    assert "handoff_queue_length 1" in metrics.text
    assert 'handoff_http_requests_total{route="/api/tickets",method="GET",status="200"} 1' in metrics.text
    assert 'route="/internal/handoffs",method="POST",status="201"} 1' in metrics.text


def test_tokens_are_required(api):
    for method, path in [("GET", "/api/tickets"), ("GET", "/api/dashboard"), ("POST", "/internal/handoffs")]:
        for token in (None, "wrong"):
            response = api.call(method, path, token, json={})
            assert response.status_code == 401, (path, token)
            assert response.json()["error"] == "unauthorized"
            assert "mã truy cập" in response.json()["message"]
    # a known token of the wrong role: refused for its role (403, staff/access.py)
    assert api.call("POST", "/internal/handoffs", LAN_TOKEN, json={"sender_id": "x"}).status_code == 403
    assert api.call("POST", "/internal/handoffs", ADMIN_TOKEN, json={"sender_id": "x"}).status_code == 403
    assert api.call("GET", "/api/tickets", SERVICE_TOKEN).status_code == 403
    assert api.call("GET", "/api/events?token=wrong").status_code == 401
    assert api.call("GET", "/api/tickets?token=" + LAN_TOKEN).status_code == 401  # query token: SSE only
    assert api.agent("GET", "/api/me").json() == {"name": "Lan", "role": "agent"}
    assert api.agent("GET", "/api/me", ADMIN_TOKEN).json() == {"name": "admin", "role": "admin"}


def test_create_is_idempotent_per_conversation(api):
    transcript = [{"role": "customer", "text": "tôi bị trừ tiền hai lần", "timestamp": 1795400000.5}]
    first = api.handoff("s1", channel="socketio", reason="money_complaint", transcript=transcript)
    assert first.status_code == 201
    body = first.json()
    assert TICKET_ID.match(body["ticket_id"])
    assert set(body) == {
        "ticket_id",
        "queue_position",
        "estimated_wait_minutes",
        "within_hours",
        "agents_return_at",
        "reused",
        "status",
        "status_label",
    }
    assert (body["queue_position"], body["reused"], body["status"], body["status_label"]) == (
        1,
        False,
        "waiting",
        "Đã tiếp nhận",
    )
    again = api.handoff("s1", transcript=[*transcript, {"text": "alo", "timestamp": 1795400009.0}])
    assert again.status_code == 200
    assert (again.json()["ticket_id"], again.json()["reused"]) == (body["ticket_id"], True)
    ticket = api.agent("GET", f"/api/tickets/{body['ticket_id']}").json()
    assert [m["text"] for m in ticket["transcript"] if m["role"] == "customer"] == [
        "tôi bị trừ tiền hai lần",
        "alo",
    ]
    status = api.call("GET", f"/internal/tickets/{body['ticket_id']}", SERVICE_TOKEN)
    assert status.json() == {
        "ticket_id": body["ticket_id"],
        "status": "waiting",
        "status_label": "Đã tiếp nhận",
        "created_at": ticket["created_at"],
        "reason": "money_complaint",
    }
    missing = api.call("GET", "/internal/tickets/KN-20261124-9999", SERVICE_TOKEN)
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")


def test_a_new_ticket_is_announced_once_on_the_event_stream(api, service_redis):
    transcript = [{"role": "customer", "text": "cho gặp nhân viên", "timestamp": 1795400000.5}]
    ticket_id = api.handoff("s9", channel="facebook", reason="request_human", transcript=transcript).json()[
        "ticket_id"
    ]
    api.handoff("s9", transcript=[*transcript, {"text": "alo", "timestamp": 1795400009.0}])  # reused
    events = [json.loads(fields["data"]) for _, fields in service_redis.xrange("senmart:events")]
    opened = [event for event in events if event["event"] == "senmart_ticket_opened"]
    assert len(opened) == 1
    assert {k: v for k, v in opened[0].items() if k != "timestamp"} == {
        "event": "senmart_ticket_opened",
        "sender_id": "s9",
        "ticket_id": ticket_id,
        "reason": "request_human",
        "channel": "facebook",
        "opening": [{**transcript[0], "role": "customer", "agent": None, "intent": None, "confidence": None}],
    }


def test_two_hundred_concurrent_creations_on_two_processes(api, start_service):
    second = Api(start_service(), api.rasa)
    clients = [api, second]

    def one(i):
        return clients[i % 2].handoff(f"concurrent-{i}", reason="request_human")

    with ThreadPoolExecutor(max_workers=40) as pool:
        responses = list(pool.map(one, range(200)))
    assert [r.status_code for r in responses] == [201] * 200
    ids = [r.json()["ticket_id"] for r in responses]
    assert len(set(ids)) == 200
    assert len({TICKET_ID.match(i).group(1) for i in ids}) == 1
    assert sorted(int(TICKET_ID.match(i).group(2)) for i in ids) == list(range(1, 201))
    listed = api.agent("GET", "/api/tickets?status=waiting").json()
    assert listed["count"] == 200
    assert [t["queue_position"] for t in listed["tickets"]] == list(range(1, 201))


def test_queue_order_over_http(api):
    create(api, "plain")
    create(api, "gold", customer={"member_tier": "Vàng"})
    create(api, "money", reason="money_complaint")
    create(api, "angry", anger=0.7)
    tickets = api.agent("GET", "/api/tickets?status=waiting").json()["tickets"]
    assert [(t["sender_id"], t["priority"], t["queue_position"]) for t in tickets] == [
        ("money", 4, 1),
        ("gold", 3, 2),
        ("angry", 3, 3),
        ("plain", 1, 4),
    ]
    assert "transcript" not in tickets[0]


def test_agents_cannot_act_on_each_others_tickets(api):
    ticket_id = create(api)["ticket_id"]
    path = f"/api/tickets/{ticket_id}"
    assert api.agent("POST", f"{path}/claim", LAN_TOKEN).json()["claimed_by"] == "Lan"
    taken = api.agent("POST", f"{path}/claim", MINH_TOKEN)
    assert (taken.status_code, taken.json()["error"], taken.json()["claimed_by"]) == (409, "conflict", "Lan")
    for action, body in [
        ("messages", {"text": "chào"}),
        ("resolve", None),
        ("return-to-bot", None),
        ("heartbeat", None),
    ]:
        refused = api.agent("POST", f"{path}/{action}", MINH_TOKEN, json=body)
        assert refused.status_code == 403, action
        assert refused.json()["message"] == "Phiếu đang do nhân viên Lan xử lý."
    assert api.rasa.requests == []  # nothing reached the customer
    assert api.agent("POST", f"{path}/heartbeat", LAN_TOKEN).status_code == 200
    assert api.agent("DELETE", "/api/customers/s1", LAN_TOKEN).status_code == 403
    assert api.agent("GET", path).status_code == 200
    deleted = api.agent("DELETE", "/api/customers/s1", ADMIN_TOKEN)
    assert deleted.status_code == 200
    assert deleted.json()["deleted_tickets"] == [ticket_id]
    assert api.agent("GET", path).status_code == 404


def test_reply_resolve_and_csat(api):
    ticket_id = create(api, "s1")["ticket_id"]
    path = f"/api/tickets/{ticket_id}"
    early = api.call("POST", f"/internal/tickets/{ticket_id}/csat", SERVICE_TOKEN, json={"rating": 5})
    assert early.status_code == 409
    replied = api.agent("POST", f"{path}/messages", json={"text": "Chào bạn, mình là Lan"})
    assert replied.status_code == 200
    ticket = replied.json()
    assert (ticket["status"], ticket["claimed_by"]) == ("claimed", "Lan")  # a reply claims a waiting ticket
    assert ticket["first_response_at"] is not None
    assert api.rasa.requests[0]["body"]["text"] == "Chào bạn, mình là Lan"
    assert api.rasa.requests[0]["query"]["token"] == RASA_TOKEN
    resolved = api.agent("POST", f"{path}/resolve")
    assert (resolved.status_code, resolved.json()["status"], resolved.json()["status_label"]) == (
        200,
        "resolved",
        "Đã giải quyết",
    )
    assert [r["path"] for r in api.rasa.requests[1:]] == [
        "/conversations/s1/tracker/events",
        "/conversations/s1/trigger_intent",
    ]
    assert api.rasa.requests[2]["body"] == {
        "name": "EXTERNAL_csat_request",
        "entities": {"ticket_id": ticket_id},
    }
    assert api.agent("POST", f"{path}/messages", json={"text": "còn đó không?"}).status_code == 409
    bad = api.call("POST", f"/internal/tickets/{ticket_id}/csat", SERVICE_TOKEN, json={"rating": 9})
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_rating")
    rated = api.call(
        "POST", f"/internal/tickets/{ticket_id}/csat", SERVICE_TOKEN, json={"rating": 5, "comment": "Rất tốt"}
    )
    assert rated.status_code == 200
    assert rated.json() == {
        "ticket_id": ticket_id,
        "status": "closed",
        "csat": {"rating": 5, "comment": "Rất tốt"},
    }
    dashboard = api.agent("GET", "/api/dashboard").json()
    assert (dashboard["csat_average"], dashboard["csat_count"]) == (5.0, 1)
    assert dashboard["avg_resolution_seconds"] is not None
    assert api.agent("GET", "/api/tickets?status=closed").json()["tickets"][0]["id"] == ticket_id
    # a new handoff of the same conversation opens a new ticket
    assert create(api, "s1")["ticket_id"] != ticket_id


def test_return_to_bot(api):
    ticket_id = create(api, "s1")["ticket_id"]
    api.agent("POST", f"/api/tickets/{ticket_id}/claim")
    closed = api.agent("POST", f"/api/tickets/{ticket_id}/return-to-bot").json()
    assert (closed["status"], closed["status_label"]) == ("closed", "Đã đóng")
    assert [r["body"] for r in api.rasa.requests] == [
        [{"event": "resume"}, {"event": "action", "name": "action_listen"}],
        {"event": "bot", "text": "Trợ lý ảo SenMart tiếp tục hỗ trợ bạn. Bạn cần mình giúp gì thêm không ạ?"},
    ]


def test_relay_failure_is_reported_and_nothing_recorded(api):
    ticket_id = create(api, "s1")["ticket_id"]
    api.rasa.always_fail = 500
    failed = api.agent("POST", f"/api/tickets/{ticket_id}/messages", json={"text": "xin chào"})
    assert (failed.status_code, failed.json()["error"]) == (502, "relay_failed")
    assert len(api.rasa.requests) == 3
    ticket = api.agent("GET", f"/api/tickets/{ticket_id}").json()
    assert ticket["first_response_at"] is None
    assert all(m["role"] != "agent" for m in ticket["transcript"])
    assert api.agent("POST", f"/api/tickets/{ticket_id}/resolve").status_code == 502
    assert api.agent("GET", f"/api/tickets/{ticket_id}").json()["status"] == "claimed"
    api.rasa.always_fail = None
    assert api.agent("POST", f"/api/tickets/{ticket_id}/resolve").status_code == 200


def test_bad_input_gets_clear_errors(api):
    ticket_id = create(api)["ticket_id"]
    broken = api.call(
        "POST",
        "/internal/handoffs",
        SERVICE_TOKEN,
        data=b'{"sender_id": ',
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert broken.json() == {"error": "invalid_json", "message": "Dữ liệu gửi lên không phải JSON hợp lệ."}
    nested = api.call("POST", "/internal/handoffs", SERVICE_TOKEN, data=b"[" * 30_000 + b"]" * 30_000)
    assert (nested.status_code, nested.json()["error"]) == (400, "invalid_json")
    huge = api.agent("POST", f"/api/tickets/{ticket_id}/messages", json={"text": "a" * 70_000})
    assert (huge.status_code, huge.json()["error"]) == (413, "payload_too_large")
    assert "64 KB" in huge.json()["message"]
    bomb = api.call("POST", "/internal/handoffs", SERVICE_TOKEN, data=b"a" * (17 * 1024 * 1024))
    assert bomb.status_code == 413
    assert api.handoff("", reason="other").status_code == 400
    no_text = api.agent("POST", f"/api/tickets/{ticket_id}/messages", json={"message": "hi"})
    assert (no_text.status_code, no_text.json()["error"]) == (400, "missing_text")
    assert no_text.json()["message"] == "Thiếu nội dung tin nhắn (text)."
    empty = api.agent("POST", f"/api/tickets/{ticket_id}/messages")
    assert (empty.status_code, empty.json()["error"]) == (400, "invalid_json")
    for path in (
        "/api/tickets/KN-20990101-0001",
        "/api/tickets/not-an-id",
        "/api/tickets/KN-20990101-0001/export",
    ):
        missing = api.agent("GET", path)
        assert (missing.status_code, missing.json()["error"]) == (404, "not_found"), path
    assert api.agent("POST", "/api/tickets/KN-20990101-0001/claim").status_code == 404
    assert api.agent("GET", "/api/tickets?status=lost").status_code == 400
    assert api.agent("GET", f"/api/tickets/{ticket_id}/export?format=pdf").status_code == 400
    assert api.agent("GET", "/api/nothing-here").status_code == 404
    assert api.agent("PUT", f"/api/tickets/{ticket_id}/claim").status_code == 405


def test_any_text_is_stored_exactly(api):
    texts = ["<script>alert('x')</script> &amp; <b>in đậm</b>", "😀🙏🇻🇳 cảm ơn nhé", "ệ" * 5000]
    transcript = [{"role": "customer", "text": t, "timestamp": 1795400000.0 + i} for i, t in enumerate(texts)]
    ticket_id = create(api, "s1", transcript=transcript)["ticket_id"]
    for text in texts:
        assert api.agent("POST", f"/api/tickets/{ticket_id}/messages", json={"text": text}).status_code == 200
    ticket = api.agent("GET", f"/api/tickets/{ticket_id}").json()
    assert [m["text"] for m in ticket["transcript"] if m["role"] == "customer"] == texts
    assert [m["text"] for m in ticket["transcript"] if m["role"] == "agent"] == texts
    assert [r["body"]["text"] for r in api.rasa.requests] == texts


def test_export_contains_every_message_in_order(api):
    transcript = [
        {"role": "customer", "text": "Tôi muốn gặp nhân viên", "timestamp": 1795400000.0},
        {"role": "bot", "text": "Mình chuyển bạn nhé", "timestamp": 1795400001.0},
    ]
    ticket_id = create(api, "s1", transcript=transcript)["ticket_id"]
    api.agent("POST", f"/api/tickets/{ticket_id}/messages", json={"text": "Chào bạn"})
    full = api.agent("GET", f"/api/tickets/{ticket_id}").json()["transcript"]
    as_json = api.agent("GET", f"/api/tickets/{ticket_id}/export?format=json")
    assert as_json.headers["Content-Disposition"] == f'attachment; filename="{ticket_id}.json"'
    assert json.loads(as_json.text)["transcript"] == full
    as_text = api.agent("GET", f"/api/tickets/{ticket_id}/export?format=txt")
    assert as_text.headers["Content-Type"] == "text/plain; charset=utf-8"
    lines = [line for line in as_text.text.splitlines() if line.startswith("[")]
    assert len(lines) == len(full) == 5
    assert [line.split("] ", 1)[1] for line in lines] == [
        "Khách: Tôi muốn gặp nhân viên",
        "Trợ lý ảo: Mình chuyển bạn nhé",
        "Hệ thống: Khách được chuyển cho nhân viên (lý do: Khác).",
        "Hệ thống: Nhân viên Lan đã nhận xử lý.",
        "Nhân viên Lan: Chào bạn",
    ]


def test_canned_replies_and_dashboard(api):
    replies = api.agent("GET", "/api/canned-replies").json()["canned_replies"]
    assert len(replies) == 8
    assert {"chao_hoi", "hoi_ma_don", "xin_bien_lai", "thoi_gian_hoan_tien", "ket_thuc"} <= {
        r["id"] for r in replies
    }
    assert any("hotro@senmart.vn" in r["text"] for r in replies)
    assert any("SM12345678" in r["text"] for r in replies)
    create(api, "a", reason="anger")
    create(api, "b", reason="money_complaint")
    dashboard = api.agent("GET", "/api/dashboard").json()
    assert dashboard["queue_length"] == 2
    assert dashboard["handoffs_by_reason"]["anger"] == 1
    assert dashboard["handoffs_by_reason"]["money_complaint"] == 1
    assert dashboard["breached"] == {"first_response": 0, "resolution": 0}


def test_customer_messages_from_the_event_stream(api, service_redis):
    ticket_id = create(api, "s1")["ticket_id"]
    created_at = api.agent("GET", f"/api/tickets/{ticket_id}").json()["created_at"]
    event = {
        "event": "user",
        "sender_id": "s1",
        "timestamp": created_at + 1,
        "text": "<i>Còn ai ở đó không?</i>",
        "parse_data": {"intent": {"name": "request_human", "confidence": 0.9}},
        "input_channel": "socketio",
    }
    for _ in range(2):
        service_redis.xadd("senmart:events", {"data": json.dumps(event)})

    def customer_messages():
        transcript = api.agent("GET", f"/api/tickets/{ticket_id}").json()["transcript"]
        return [m for m in transcript if m["role"] == "customer"]

    messages = wait_for(customer_messages)
    time.sleep(0.3)
    assert customer_messages() == messages
    assert [(m["text"], m["intent"]) for m in messages] == [("<i>Còn ai ở đó không?</i>", "request_human")]


def test_server_sent_events(api):
    with requests.get(f"{api.url}/api/events?token={LAN_TOKEN}", stream=True, timeout=10) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        lines = stream.iter_lines(decode_unicode=True)
        assert next(lines) == "retry: 3000"
        assert next(lines) == ": connected"
        ticket_id = create(api)["ticket_id"]
        api.agent("POST", f"/api/tickets/{ticket_id}/claim")
        received = []
        for line in lines:
            if line.startswith("data: "):
                received.append(json.loads(line[6:]))
            else:
                assert line in ("", "event: ticket")
            if len(received) == 2:
                break
    assert received == [
        {"id": ticket_id, "status": "waiting", "change": "created"},
        {"id": ticket_id, "status": "claimed", "change": "claimed"},
    ]


def test_console_files(api):
    signed_out = api.call("GET", "/console", allow_redirects=False)
    assert (signed_out.status_code, signed_out.headers["Location"]) == (302, "/signin?next=/console")
    page = api.call("GET", "/console", ADMIN_TOKEN)
    if (PACKAGE_DIR / "static" / "console.html").exists():
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert page.headers["X-Content-Type-Options"] == "nosniff"
    else:
        assert (page.status_code, page.json()["error"]) == (404, "not_found")
    missing = api.call("GET", "/console/missing-file.js")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    for sneaky in ("/console/..%2Fapp.py", "/console/../app.py", "/static/%2e%2e/settings.py"):
        assert api.call("GET", sneaky).status_code == 404, sneaky
    for name in ("console.js", "console.css"):
        if (PACKAGE_DIR / "static" / name).exists():
            assert api.call("GET", f"/console/{name}").status_code == 200
            assert api.call("GET", f"/static/{name}").status_code == 200


def test_logs_never_show_phone_numbers_emails_or_tokens(api):
    phone, email = "0938765412", "thu.tran@example.com"
    create(
        api,
        "privacy-1",
        customer={"phone": phone, "email": email},
        transcript=[{"text": f"sđt của tôi {phone}, email {email}", "timestamp": 1.0}],
    )
    api.agent("GET", f"/api/tickets?q={phone}")
    api.agent("GET", "/api/tickets", params={"q": email})
    api.call("POST", "/internal/handoffs", SERVICE_TOKEN, data=f'{{"sender_id": "{email}", '.encode())
    with requests.get(f"{api.url}/api/events?token={LAN_TOKEN}", stream=True, timeout=5) as stream:
        next(stream.iter_lines())
    listed = api.agent("GET", "/api/tickets", params={"q": phone}).json()["tickets"]
    assert listed[0]["customer"] == {"phone": "09******12", "email": "t***@example.com"}
    log = wait_for(lambda: (lambda text: text if "api/events" in text else None)(api.service.log()))
    assert "09******12" in log and "t***%40example.com" in log
    for secret in (phone, email, email.replace("@", "%40"), LAN_TOKEN, SERVICE_TOKEN):
        assert secret not in log


def local_offset_for(hour: float) -> float:
    """A UTC offset (hours) under which the local time is now about `hour`."""
    now = datetime.now(timezone.utc)
    offset = (hour - (now.hour + now.minute / 60)) % 24
    return offset - 24 if offset > 12 else offset


def test_outside_agent_hours(api, start_service):
    offset = local_offset_for(3.0)
    night = Api(start_service(HANDOFF_TIMEZONE_OFFSET=f"{offset:.4f}"), api.rasa)
    body = create(night, "night-owl")
    local_date = datetime.now(timezone(timedelta(hours=round(offset, 4)))).strftime("%Y%m%d")
    assert TICKET_ID.match(body["ticket_id"]).group(1) == local_date
    assert (body["within_hours"], body["agents_return_at"]) == (False, "08:00")
    assert 4 * 60 <= body["estimated_wait_minutes"] <= 6 * 60  # until about 08:00, plus 5 minutes
    ticket = night.agent("GET", f"/api/tickets/{body['ticket_id']}").json()
    assert ticket["sla"]["first_response_due"] > ticket["created_at"] + 4 * 3600
    day = Api(start_service(HANDOFF_TIMEZONE_OFFSET=f"{local_offset_for(12.0):.4f}"), api.rasa)
    body = create(day, "early-bird")
    assert (body["within_hours"], body["agents_return_at"], body["estimated_wait_minutes"]) == (
        True,
        None,
        10,
    )


def test_a_long_conversation_hands_off_whole(api):
    """A transcript well over 64 KB, in Vietnamese, with one 62,000-character message: nothing cut."""
    long_message = ("Tôi đã chờ đơn hàng này rất lâu rồi mà vẫn chưa thấy giao, " * 1100)[:62_000]
    transcript = [{"role": "customer", "text": long_message, "timestamp": 1795400000.0}]
    transcript += [
        {
            "role": "customer" if i % 2 else "bot",
            "text": f"Tin nhắn số {i}: phí giao hàng thế nào ạ",
            "timestamp": 1795400001.0 + i,
        }
        for i in range(400)
    ]
    response = api.handoff("long-talk", reason="request_human", transcript=transcript)
    assert response.status_code == 201, response.text[:300]
    ticket = api.agent("GET", f"/api/tickets/{response.json()['ticket_id']}").json()
    assert [m["text"] for m in ticket["transcript"]][: len(transcript)] == [m["text"] for m in transcript]
