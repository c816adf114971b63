"""Messenger channel end to end: signed webhooks as Meta sends them, replies at the Graph API stand-in,
and a handoff round trip with agent replies through the Send API."""

import hashlib
import hmac
import json
import random
import re
import threading
import time
import uuid

import pytest
import redis
import requests

from bot.channels.webhooks import ATTACHMENT_REPLY, STICKER_REPLY
from common.webhook_keys import dead_letter_key
from handoff.metrics import parse_samples
from testkit.polling import wait_for

from .conftest import (
    FB_APP_SECRET,
    FB_PAGE_ACCESS_TOKEN,
    FB_VERIFY_TOKEN,
    api,
    ingress_accepted,
    settled,
    tracker,
)

WEBHOOK = "/webhooks/facebook/webhook"
PAGE_ID = "104857612345678"
IMAGE_URL = "https://scontent.xx.fbcdn.net/v/t1.15752-9/316985_n.jpg?_nc_cat=1&oh=00_AfB&oe=65A1B2C3"
STICKER_URL = (
    "https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png?_nc_sid=ac3552"
)
THUMBS_UP = 369239263222822


def now_ms():
    return int(time.time() * 1000)


def new_psid():
    return str(random.randint(10**15, 10**16 - 1))


def new_mid():
    return f"m_{uuid.uuid4().hex}{uuid.uuid4().hex[:10]}"


def messaging(psid, **event):
    """One `messaging` item as Meta documents it: sender, recipient, timestamp and the event field."""
    return {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": now_ms(), **event}


def text_event(psid, text, mid=None):
    return messaging(psid, message={"mid": mid or new_mid(), "text": text})


def delivery(*entries):
    """A webhook body: one entry per list of messaging events."""
    return {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": now_ms(), "messaging": list(events)} for events in entries],
    }


def sign(body, secret=FB_APP_SECRET):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(system, body, signature="valid", settle=True):
    """POST raw bytes (or a dict as compact JSON) to the webhook, signed unless told otherwise; with
    `settle`, return once the webhook queue has answered what it took."""
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        headers["X-Hub-Signature-256"] = sign(raw)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    response = requests.post(system.rasa_url + WEBHOOK, data=raw, headers=headers, timeout=60)
    if settle:
        settled(system, "facebook")
    return response


def sent_to(graph, psid):
    return [s for s in graph.sent if s.recipient == psid]


def replies(graph, psid):
    """Texts the customer received (successful Send API calls only)."""
    return [s.text for s in sent_to(graph, psid) if s.ok]


def user_events(system, psid):
    return [e for e in tracker(system, psid)["events"] if e["event"] == "user"]


# -- verification handshake ------------------------------------------------------------------------------


def test_handshake_answers_the_challenge(system):
    response = requests.get(
        system.rasa_url + WEBHOOK,
        params={"hub.mode": "subscribe", "hub.verify_token": FB_VERIFY_TOKEN, "hub.challenge": "1158201444"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1158201444"},
        {"hub.mode": "unsubscribe", "hub.verify_token": FB_VERIFY_TOKEN, "hub.challenge": "1158201444"},
        {"hub.challenge": "1158201444"},
    ],
)
def test_handshake_refused(system, params):
    response = requests.get(system.rasa_url + WEBHOOK, params=params, timeout=10)
    assert response.status_code == 403
    assert "1158201444" not in response.text


# -- signature -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "sha256=" + "0" * 64,
        "sha256=",
        "garbage",
        "sha1=8c1ff2b9b0e5e2a0b9d2a4a1f3c4d5e6f7a8b9c0",
        sign(b"another body"),
        sign(b"", secret="not-the-app-secret"),
        "sha256=ünïcode",
    ],
)
def test_unsigned_or_wrongly_signed_is_refused_and_not_processed(system, graph, signature):
    psid = new_psid()
    response = post(system, delivery([text_event(psid, "phí ship bao nhiêu")]), signature=signature)
    assert response.status_code == 403
    assert sent_to(graph, psid) == []
    assert user_events(system, psid) == []


def test_signature_of_other_bytes_with_the_same_json_is_refused(system, graph):
    psid = new_psid()
    body = delivery([text_event(psid, "phí ship bao nhiêu")])
    signed_compact = sign(json.dumps(body, ensure_ascii=False).encode())
    response = post(system, json.dumps(body, ensure_ascii=False, indent=2).encode(), signature=signed_compact)
    assert response.status_code == 403
    assert sent_to(graph, psid) == []


# -- messages --------------------------------------------------------------------------------------------


def test_faq_question_is_answered_through_the_send_api(system, graph):
    psid, mid = new_psid(), new_mid()
    response = post(system, delivery([text_event(psid, "phí ship bao nhiêu", mid)]))
    assert response.status_code == 200
    [reply] = sent_to(graph, psid)
    assert reply.ok and reply.path == "/me/messages"
    assert reply.query == {"access_token": FB_PAGE_ACCESS_TOKEN}
    assert reply.body["recipient"] == {"id": psid}
    assert reply.body["messaging_type"] == "RESPONSE"
    assert "tag" not in reply.body
    assert "25.000đ" in reply.body["message"]["text"]
    [user] = user_events(system, psid)
    assert user["text"] == "phí ship bao nhiêu" and user["input_channel"] == "facebook"
    assert user["message_id"] == mid


def test_the_webhook_ingress_acknowledges_and_a_rasa_process_answers(system, graph):
    """nginx sends the webhook to the ingress, which queues the event; a Rasa process's consumer answers."""
    psid = new_psid()
    before = ingress_accepted(system, "facebook")
    response = post(system, delivery([text_event(psid, "phí ship bao nhiêu")]))
    assert (response.status_code, response.text) == (200, "EVENT_RECEIVED")
    assert ingress_accepted(system, "facebook") == before + 1
    [reply] = replies(graph, psid)
    assert "25.000đ" in reply


def test_redelivered_mid_is_processed_once(system, graph):
    psid = new_psid()
    body = delivery([text_event(psid, "phí ship bao nhiêu")])
    assert post(system, body).status_code == 200
    assert post(system, body).status_code == 200
    assert len(replies(graph, psid)) == 1
    assert len(user_events(system, psid)) == 1


def test_concurrent_redeliveries_are_processed_once(system, graph):
    psid = new_psid()
    body = delivery([text_event(psid, "phí ship bao nhiêu")])
    statuses = []
    threads = [
        threading.Thread(target=lambda: statuses.append(post(system, body).status_code)) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 200 in statuses and set(statuses) <= {200, 503}
    assert len(replies(graph, psid)) == 1
    assert len(user_events(system, psid)) == 1
    assert post(system, body).status_code == 200  # Meta's retry of a 503: already done, skipped
    assert len(replies(graph, psid)) == 1


def test_batch_with_two_entries_answers_every_message_in_order(system, graph):
    first, second = new_psid(), new_psid()
    body = delivery(
        [text_event(first, "phí ship bao nhiêu"), text_event(first, "bạn là người hay máy vậy")],
        [text_event(second, "phí ship bao nhiêu")],
    )
    assert post(system, body).status_code == 200
    first_replies = replies(graph, first)
    assert len(first_replies) == 2
    assert "25.000đ" in first_replies[0]
    assert "trợ lý ảo" in first_replies[1]
    assert [e["text"] for e in user_events(system, first)] == [
        "phí ship bao nhiêu",
        "bạn là người hay máy vậy",
    ]
    [second_reply] = replies(graph, second)
    assert "25.000đ" in second_reply


def test_echo_delivery_and_read_are_ignored(system, graph):
    psid = new_psid()
    mid = new_mid()
    echo = {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": psid},
        "timestamp": now_ms(),
        "message": {"is_echo": True, "app_id": 1517776481860111, "mid": mid, "text": "phí ship bao nhiêu"},
    }
    delivered = {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "delivery": {"mids": [mid], "watermark": now_ms()},
    }
    read = messaging(psid, read={"watermark": now_ms()})
    for event in (echo, delivered, read):
        assert post(system, delivery([event])).status_code == 200
    assert post(system, delivery([echo, delivered, read])).status_code == 200
    assert sent_to(graph, psid) == []
    assert user_events(system, psid) == []
    assert user_events(system, PAGE_ID) == []


def test_unknown_event_types_and_objects_are_ignored(system, graph):
    psid = new_psid()
    reaction = messaging(
        psid, reaction={"mid": new_mid(), "action": "react", "reaction": "love", "emoji": "❤"}
    )
    invented = messaging(psid, future_feature={"anything": 1})
    standby = {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": now_ms(), "standby": [text_event(psid, "x")]}],
    }
    assert post(system, delivery([reaction, invented])).status_code == 200
    assert post(system, standby).status_code == 200
    other_object = {"object": "instagram", "entry": [{"id": PAGE_ID, "messaging": [text_event(psid, "x")]}]}
    assert post(system, other_object).status_code == 200
    assert sent_to(graph, psid) == []
    assert user_events(system, psid) == []
    # the server keeps working
    assert post(system, delivery([text_event(psid, "phí ship bao nhiêu")])).status_code == 200
    assert len(replies(graph, psid)) == 1


def test_image_gets_a_polite_reply_and_stays_in_the_tracker(system, graph):
    psid = new_psid()
    image = {"type": "image", "payload": {"url": IMAGE_URL}}
    event = messaging(psid, message={"mid": new_mid(), "attachments": [image]})
    assert post(system, delivery([event])).status_code == 200
    [reply] = sent_to(graph, psid)
    assert reply.ok and reply.body["messaging_type"] == "RESPONSE"
    assert reply.text == ATTACHMENT_REPLY.format(what="hình ảnh")
    assert (
        reply.text.startswith("SenMart đã nhận được hình ảnh bạn gửi.") and "hotro@senmart.vn" in reply.text
    )
    events = [e for e in tracker(system, psid)["events"] if e["event"] in ("user", "bot")]
    assert [(e["event"], e["text"]) for e in events] == [
        ("user", f"[Hình ảnh] {IMAGE_URL}"),
        ("bot", reply.text),
    ]
    assert events[0]["metadata"]["attachments"] == [image]
    assert events[0]["input_channel"] == "facebook"
    # the conversation goes on normally
    assert post(system, delivery([text_event(psid, "phí ship bao nhiêu")])).status_code == 200
    assert "25.000đ" in replies(graph, psid)[-1]


def test_sticker_gets_a_polite_reply_and_stays_in_the_tracker(system, graph):
    psid = new_psid()
    sticker = {"type": "image", "payload": {"url": STICKER_URL, "sticker_id": THUMBS_UP}}
    event = messaging(psid, message={"mid": new_mid(), "sticker_id": THUMBS_UP, "attachments": [sticker]})
    assert post(system, delivery([event])).status_code == 200
    assert replies(graph, psid) == [STICKER_REPLY]
    [user] = user_events(system, psid)
    assert user["text"] == "[Nhãn dán]"
    assert user["metadata"]["attachments"] == [sticker]


def test_file_gets_a_polite_reply(system, graph):
    psid = new_psid()
    url = "https://cdn.fbsbx.com/v/t59.2708-21/hoa_don_SM12345678.pdf?_nc_cat=1"
    event = messaging(
        psid, message={"mid": new_mid(), "attachments": [{"type": "file", "payload": {"url": url}}]}
    )
    assert post(system, delivery([event])).status_code == 200
    assert replies(graph, psid) == [ATTACHMENT_REPLY.format(what="tệp")]
    assert [e["text"] for e in user_events(system, psid)] == [f"[Tệp] {url}"]


def test_quick_reply_payload_is_the_message(system, graph):
    psid = new_psid()
    event = messaging(
        psid,
        message={
            "mid": new_mid(),
            "text": "Phí giao hàng",
            "quick_reply": {"payload": "Phí giao hàng bao nhiêu?"},
        },
    )
    assert post(system, delivery([event])).status_code == 200
    assert "25.000đ" in replies(graph, psid)[0]
    assert [e["text"] for e in user_events(system, psid)] == ["Phí giao hàng bao nhiêu?"]


def test_get_started_postback_greets_with_a_button_template(system, graph):
    psid = new_psid()
    event = messaging(psid, postback={"title": "Bắt đầu", "payload": "GET_STARTED", "mid": new_mid()})
    assert post(system, delivery([event])).status_code == 200
    [greeting] = sent_to(graph, psid)
    template = greeting.body["message"]["attachment"]
    assert template["type"] == "template" and template["payload"]["template_type"] == "button"
    assert template["payload"]["text"].startswith("Xin chào, mình là trợ lý ảo của SenMart.")
    assert template["payload"]["buttons"] == [
        {"type": "postback", "title": "Phí giao hàng", "payload": "Phí giao hàng bao nhiêu?"},
        {"type": "postback", "title": "Đổi trả hàng", "payload": "Chính sách đổi trả thế nào?"},
        {"type": "postback", "title": "Khuyến mãi đang có", "payload": "Đang có mã khuyến mãi nào?"},
    ]
    [user] = user_events(system, psid)
    assert user["text"] == "/get_started" and user["parse_data"]["intent"]["name"] == "get_started"

    # the customer taps a button of the template: a postback without mid, de-duplicated by timestamp
    tap = messaging(psid, postback={"title": "Phí giao hàng", "payload": "Phí giao hàng bao nhiêu?"})
    assert post(system, delivery([tap])).status_code == 200
    assert post(system, delivery([tap])).status_code == 200
    assert len(sent_to(graph, psid)) == 2
    assert "25.000đ" in replies(graph, psid)[1]
    assert [e["text"] for e in user_events(system, psid)] == ["/get_started", "Phí giao hàng bao nhiêu?"]


# -- bad input -------------------------------------------------------------------------------------------


def test_malformed_json_is_400(system, graph):
    assert post(system, b'{"object": "page", "entry": [').status_code == 400
    assert post(system, b"\xff\xfe not utf-8").status_code == 400
    assert post(system, b'["page"]').status_code == 400
    assert post(system, b'{"object": "page", "entry": {"id": 1}}').status_code == 400
    assert post(system, b'{"object": "page", "entry": [', signature=None).status_code == 403


def test_body_over_1_mb_is_413(system, graph):
    psid = new_psid()
    head = json.dumps(delivery([text_event(psid, "phí ship bao nhiêu")]))[:-1].encode() + b', "pad": "'
    exactly = head + b"x" * (1_048_576 - len(head) - 2) + b'"}'
    assert len(exactly) == 1_048_576
    assert post(system, exactly + b" ").status_code == 413
    assert sent_to(graph, psid) == []
    assert post(system, exactly).status_code == 200
    assert len(replies(graph, psid)) == 1


def test_redis_not_answering_is_503_and_nothing_processed(system, graph):
    """Meta redelivers on 503; the message is neither processed nor answered now."""
    psid = new_psid()
    client = redis.Redis(host=system.redis.host, port=system.redis.port)
    client.execute_command("CLIENT", "PAUSE", 5000, "WRITE")  # writes hang: the channel's 3 s timeout fires
    try:
        response = post(system, delivery([text_event(psid, "phí ship bao nhiêu")]))
    finally:
        client.execute_command("CLIENT", "UNPAUSE")
        client.close()
    assert response.status_code == 503
    assert sent_to(graph, psid) == []
    assert user_events(system, psid) == []
    # the server keeps working
    assert post(system, delivery([text_event(psid, "phí ship bao nhiêu")])).status_code == 200
    assert "25.000đ" in replies(graph, psid)[0]


# -- acknowledge, then process ---------------------------------------------------------------------------


def webhook_metrics(system):
    text = requests.get(system.handoff_url + "/metrics", timeout=10).text
    return {
        key: value
        for key, value in parse_samples(text).items()
        if key.startswith(("senmart_webhook_queue_events", "senmart_webhook_dead_letters"))
    }


def test_send_api_down_is_acknowledged_at_once_and_the_reply_goes_out_once_it_is_back(system, graph):
    """Graph answers 500 six times: the webhook's 200 does not wait; the queue's first attempt gives up
    after the client's 4 tries, the second sends the reply once."""
    psid = new_psid()
    graph.fail_next(*[500] * 6)
    started = time.monotonic()
    response = post(system, delivery([text_event(psid, "phí ship bao nhiêu")]), settle=False)
    acknowledged = time.monotonic() - started
    assert response.status_code == 200 and response.text == "EVENT_RECEIVED"
    assert acknowledged < 1.0, f"acknowledged after {acknowledged:.2f}s"
    settled(system, "facebook")
    assert [s.status for s in sent_to(graph, psid)] == [500] * 6 + [200]
    [reply] = replies(graph, psid)
    assert "25.000đ" in reply
    assert [e["text"] for e in user_events(system, psid)] == ["phí ship bao nhiêu"]


def test_a_reply_that_keeps_failing_is_dead_lettered_and_counted_in_metrics(system, graph):
    before = webhook_metrics(system)
    dead = 'senmart_webhook_dead_letters{channel="facebook"}'
    psid = new_psid()
    graph.fail_next(*[500] * 12)  # 3 attempts of the queue x 4 tries of the client
    assert post(system, delivery([text_event(psid, "phí ship bao nhiêu")])).status_code == 200
    after = webhook_metrics(system)
    assert after[dead] == before[dead] + 1
    assert after['senmart_webhook_queue_events{channel="facebook"}'] == 0
    assert [s.status for s in sent_to(graph, psid)] == [500] * 12
    # the customer's message stays in the conversation
    assert [e["text"] for e in user_events(system, psid)] == ["phí ship bao nhiêu"]
    store = redis.Redis(host=system.redis.host, port=system.redis.port, decode_responses=True)
    letter = json.loads(store.lindex(dead_letter_key("facebook"), 0))
    store.close()
    assert letter["sender_id"] == psid and letter["attempts"] == 3
    assert letter["error"].startswith("MessengerSendError")


# -- handoff on Messenger --------------------------------------------------------------------------------


def test_handoff_round_trip_on_messenger(system, graph):
    psid = new_psid()
    assert post(system, delivery([text_event(psid, "cho mình gặp nhân viên")])).status_code == 200
    [handoff_text] = replies(graph, psid)
    ticket_id = re.search(r"KN-\d{8}-\d{4}", handoff_text).group(0)
    ticket = api(system, "GET", f"/api/tickets/{ticket_id}").json()
    assert ticket["channel"] == "facebook" and ticket["sender_id"] == psid
    assert ticket["reason"] == "request_human"

    # paused: the bot stays silent, text and image reach the ticket
    assert post(system, delivery([text_event(psid, "đơn SM12345678 giao thiếu 1 món")])).status_code == 200
    image = {"type": "image", "payload": {"url": IMAGE_URL}}
    photo = messaging(psid, message={"mid": new_mid(), "attachments": [image]})
    assert post(system, delivery([photo])).status_code == 200
    wait_for(
        lambda: {"đơn SM12345678 giao thiếu 1 món", f"[Hình ảnh] {IMAGE_URL}"}
        <= {m["text"] for m in api(system, "GET", f"/api/tickets/{ticket_id}").json()["transcript"]}
    )
    assert len(sent_to(graph, psid)) == 1

    assert api(system, "POST", f"/api/tickets/{ticket_id}/claim").status_code == 200
    first = "Chào bạn, mình là Lan bên CSKH SenMart. Mình kiểm tra đơn SM12345678 ngay nhé."
    assert api(system, "POST", f"/api/tickets/{ticket_id}/messages", json={"text": first}).status_code == 200
    time.sleep(1.0)  # nothing else may follow
    [agent_reply] = [s for s in sent_to(graph, psid) if s.text == first]
    assert agent_reply.ok
    assert agent_reply.body == {
        "recipient": {"id": psid},
        "messaging_type": "MESSAGE_TAG",
        "message": {"text": first},
        "tag": "HUMAN_AGENT",
    }
    assert agent_reply.query == {"access_token": FB_PAGE_ACCESS_TOKEN}

    # Graph answers 500 once: retried, delivered exactly once
    second = "Mình đã tạo yêu cầu giao bù món còn thiếu cho bạn."
    graph.fail_next(500, 200)
    assert api(system, "POST", f"/api/tickets/{ticket_id}/messages", json={"text": second}).status_code == 200
    time.sleep(1.0)
    attempts = [s for s in sent_to(graph, psid) if s.text == second]
    assert [s.status for s in attempts] == [500, 200]
    assert all(s.body["tag"] == "HUMAN_AGENT" for s in attempts)

    bot_texts = [e.get("text") for e in tracker(system, psid)["events"] if e["event"] == "bot"]
    assert bot_texts.count(first) == 1 and bot_texts.count(second) == 1

    # resolve: the CSAT question arrives as quick replies; the customer taps 5 stars
    assert api(system, "POST", f"/api/tickets/{ticket_id}/resolve").status_code == 200
    csat = wait_for(lambda: [s for s in sent_to(graph, psid) if "1 đến 5 sao" in (s.text or "")])
    [question] = csat
    assert question.body["messaging_type"] == "RESPONSE"
    assert question.body["message"]["quick_replies"][4] == {
        "content_type": "text",
        "title": "⭐ 5",
        "payload": '/give_rating{"rating": 5}',
    }
    tap = messaging(
        psid,
        message={"mid": new_mid(), "text": "⭐ 5", "quick_reply": {"payload": '/give_rating{"rating": 5}'}},
    )
    assert post(system, delivery([tap])).status_code == 200
    assert "góp ý" in replies(graph, psid)[-1]


def test_agent_message_given_up_by_the_send_api_is_delivered_once_by_the_relay_retry(system, graph):
    """Send API fails 4 times: Rasa answers 500, the relay retries the POST and the message goes out once."""
    psid = new_psid()
    assert post(system, delivery([text_event(psid, "cho mình gặp nhân viên")])).status_code == 200
    ticket_id = re.search(r"KN-\d{8}-\d{4}", replies(graph, psid)[0]).group(0)
    assert api(system, "POST", f"/api/tickets/{ticket_id}/claim").status_code == 200
    text = "Mình là Lan, mình đang xem yêu cầu của bạn."
    graph.fail_next(500, 500, 500, 500)
    assert api(system, "POST", f"/api/tickets/{ticket_id}/messages", json={"text": text}).status_code == 200
    time.sleep(1.0)
    attempts = [s for s in sent_to(graph, psid) if s.text == text]
    assert [s.status for s in attempts] == [500, 500, 500, 500, 200]
    bot_texts = [e.get("text") for e in tracker(system, psid)["events"] if e["event"] == "bot"]
    assert bot_texts.count(text) == 1


def test_repeated_relay_of_one_agent_message_is_sent_once(system, graph):
    """The relay's retry after a lost answer carries the same message_id: Messenger gets it once."""
    psid = new_psid()
    assert post(system, delivery([text_event(psid, "phí ship bao nhiêu")])).status_code == 200
    event = {
        "event": "bot",
        "text": "Mình là Minh bên CSKH, mình hỗ trợ bạn tiếp nhé.",
        "data": {"custom": {"agent": {"name": "minh", "message_id": uuid.uuid4().hex}}},
        "metadata": {"agent": "minh"},
    }
    url = f"{system.rasa_url}/conversations/{psid}/tracker/events"
    params = {"execute_side_effects": "true", "output_channel": "latest", "token": system.rasa_auth_token}
    for _ in range(2):
        assert requests.post(url, params=params, json=event, timeout=30).status_code == 200
    agent_sends = [s for s in sent_to(graph, psid) if s.text == event["text"]]
    assert len(agent_sends) == 1 and agent_sends[0].ok and agent_sends[0].body["tag"] == "HUMAN_AGENT"
