"""Zalo OA channel end to end: signed events as Zalo sends them, replies at the Zalo stand-in, and a
handoff round trip with agent replies, the 48-hour window refusal shown to the agent, and the CSAT."""

import hashlib
import json
import random
import re
import time
import uuid

import redis
import requests

from bot.channels.webhooks import ATTACHMENT_REPLY
from bot.channels.zalo_window import LAST_KEY, WINDOW_SECONDS
from testkit.polling import wait_for

from .conftest import ZALO_OA_SECRET_KEY, api, ingress_accepted, settled, tracker

WEBHOOK = "/webhooks/zalo/webhook"
OA_ID = "579745863508352884"
IMAGE_URL = "https://photo-stal-1.zdn.vn/2f3c/0d9e8c7b6a5f4e3d.jpg"
WINDOW_REFUSAL = "Không gửi được: khách chưa nhắn lại trong 48 giờ qua (quy định của Zalo)"


def new_user():
    return str(random.randint(10**18, 10**19 - 1))


def event(zalo, user, name, message):
    return {
        "app_id": zalo.app_id,
        "user_id_by_app": str(random.randint(10**18, 10**19 - 1)),
        "event_name": name,
        "sender": {"id": user},
        "recipient": {"id": OA_ID},
        "message": {"msg_id": uuid.uuid4().hex, **message},
        "timestamp": str(int(time.time() * 1000)),
    }


def post(system, zalo, body, settle=True):
    """POST a signed event; with `settle`, return once the webhook queue has answered what it took."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    material = zalo.app_id.encode() + raw + body["timestamp"].encode() + ZALO_OA_SECRET_KEY.encode()
    headers = {
        "Content-Type": "application/json",
        "X-ZEvent-Signature": "mac=" + hashlib.sha256(material).hexdigest(),
    }
    response = requests.post(system.rasa_url + WEBHOOK, data=raw, headers=headers, timeout=30)
    if settle:
        settled(system, "zalo")
    return response


def say(system, zalo, user, text):
    response = post(system, zalo, event(zalo, user, "user_send_text", {"text": text}))
    assert response.status_code == 200, response.text


def replies(zalo, user):
    return [s.text for s in zalo.sent if s.recipient == user and s.ok]


def reply_count(zalo, user, n, timeout=30.0):
    return wait_for(lambda: len(replies(zalo, user)) >= n and replies(zalo, user), timeout=timeout)


def test_faq_question_is_answered_on_zalo(system, zalo):
    user = new_user()
    say(system, zalo, user, "phí ship bao nhiêu")
    [answer] = reply_count(zalo, user, 1)
    assert "25.000đ" in answer
    [sent] = [s for s in zalo.sent if s.recipient == user]
    assert sent.body == {"recipient": {"user_id": user}, "message": {"text": answer}}
    assert sent.access_token in zalo.valid_access
    [user_event] = [e for e in tracker(system, user)["events"] if e["event"] == "user"]
    assert (user_event["text"], user_event["input_channel"]) == ("phí ship bao nhiêu", "zalo")
    assert user_event["metadata"]["verified_ids"] == {"zalo": user}


def test_the_webhook_ingress_acknowledges_and_a_rasa_process_answers(system, zalo):
    user = new_user()
    before = ingress_accepted(system, "zalo")
    response = post(system, zalo, event(zalo, user, "user_send_text", {"text": "phí ship bao nhiêu"}))
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert ingress_accepted(system, "zalo") == before + 1
    [answer] = reply_count(zalo, user, 1)
    assert "25.000đ" in answer


def test_image_lands_in_the_transcript(system, zalo):
    user = new_user()
    image = {"type": "image", "payload": {"thumbnail": IMAGE_URL + "?thumb", "url": IMAGE_URL}}
    response = post(system, zalo, event(zalo, user, "user_send_image", {"attachments": [image]}))
    assert response.status_code == 200
    assert reply_count(zalo, user, 1) == [ATTACHMENT_REPLY.format(what="hình ảnh")]
    events = [
        (e["event"], e["text"]) for e in tracker(system, user)["events"] if e["event"] in ("user", "bot")
    ]
    assert events == [("user", f"[Hình ảnh] {IMAGE_URL}"), ("bot", ATTACHMENT_REPLY.format(what="hình ảnh"))]


def test_redelivered_event_is_answered_once(system, zalo):
    user = new_user()
    body = event(zalo, user, "user_send_text", {"text": "phí ship bao nhiêu"})
    assert post(system, zalo, body).status_code == 200
    reply_count(zalo, user, 1)
    assert post(system, zalo, body).json() == {"status": "duplicate"}
    time.sleep(0.5)
    assert len(replies(zalo, user)) == 1


def test_handoff_round_trip_with_the_48_hour_window(system, zalo):
    user = new_user()
    say(system, zalo, user, "cho mình gặp nhân viên")
    [handoff_text] = reply_count(zalo, user, 1)
    ticket_id = re.search(r"KN-\d{8}-\d{4}", handoff_text).group(0)
    assert "{" not in handoff_text  # the handoff payload is not sent as JSON
    ticket = api(system, "GET", f"/api/tickets/{ticket_id}").json()
    assert (ticket["channel"], ticket["sender_id"]) == ("zalo", user)
    assert api(system, "POST", f"/api/tickets/{ticket_id}/claim").status_code == 200

    first = "Chào bạn, mình là Lan bên CSKH SenMart. Mình kiểm tra ngay nhé."
    assert api(system, "POST", f"/api/tickets/{ticket_id}/messages", json={"text": first}).status_code == 200
    assert reply_count(zalo, user, 2)[-1] == first

    # the customer last wrote 48 h and a minute ago: the reply is refused and the agent reads why
    store = redis.Redis(host=system.redis.host, port=system.redis.port)
    store.set(LAST_KEY.format(user), f"{time.time() - WINDOW_SECONDS - 60:.3f}")
    late = "Bạn còn cần hỗ trợ đơn hàng không ạ?"
    response = api(system, "POST", f"/api/tickets/{ticket_id}/messages", json={"text": late})
    assert response.status_code == 502
    assert response.json() == {"error": "not_delivered", "message": WINDOW_REFUSAL, "reason": "zalo_window"}
    time.sleep(0.5)
    assert late not in [s.text for s in zalo.sent]
    assert late not in [e.get("text") for e in tracker(system, user)["events"] if e["event"] == "bot"]
    assert late not in [
        m["text"] for m in api(system, "GET", f"/api/tickets/{ticket_id}").json()["transcript"]
    ]

    # the customer writes again: the window opens, the agent's reply goes out
    say(system, zalo, user, "mình vẫn cần hỗ trợ")
    assert api(system, "POST", f"/api/tickets/{ticket_id}/messages", json={"text": late}).status_code == 200
    assert reply_count(zalo, user, 3)[-1] == late

    # resolve: the CSAT question comes as numbered lines, the customer answers with a number
    assert api(system, "POST", f"/api/tickets/{ticket_id}/resolve").status_code == 200
    question = wait_for(lambda: [t for t in replies(zalo, user) if "1 đến 5 sao" in t], timeout=30)[0]
    assert question.endswith("\n1. ⭐ 1\n2. ⭐ 2\n3. ⭐ 3\n4. ⭐ 4\n5. ⭐ 5")
    count = len(replies(zalo, user))
    say(system, zalo, user, "5")
    assert "góp ý" in reply_count(zalo, user, count + 1)[-1]
    ratings = [e for e in tracker(system, user)["events"] if e["event"] == "user"][-1]
    assert ratings["parse_data"]["intent"]["name"] == "give_rating"
    store.close()
