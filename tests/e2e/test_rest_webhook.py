"""End to end over HTTP: the real Rasa server + action server + Redis, through the REST webhook."""

import uuid

import redis
import requests
import yaml

from bot.settings import PROJECT_ROOT


def url(system, path):
    return f"http://127.0.0.1:{system.settings.rasa_port}{path}"


def say(system, sender, text):
    response = requests.post(
        url(system, "/webhooks/rest/webhook"), json={"sender": sender, "message": text}, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()


def texts(replies):
    return [r["text"] for r in replies if "text" in r]


def faq_answer(topic):
    data = yaml.safe_load(
        (PROJECT_ROOT / "data" / "nlu" / "faq" / f"{topic}.yml").read_text(encoding="utf-8")
    )
    return [r["text"] for r in data["responses"][f"utter_faq/{topic}"]]


def new_sender():
    return f"e2e-{uuid.uuid4().hex[:8]}"


def test_faq_answer_with_exact_kb_numbers(system):
    replies = texts(say(system, new_sender(), "phí ship bao nhiêu vậy shop"))
    assert len(replies) == 1
    assert replies[0] in faq_answer("shipping_fee")
    assert "25.000đ" in replies[0] and "300.000đ" in replies[0]


def test_faq_without_diacritics(system):
    replies = texts(say(system, new_sender(), "hoan tien ve vi senpay mat bao lau"))
    assert replies and replies[0] in faq_answer("refund_time")


def test_multi_turn_promotion_remembers_the_code(system):
    sender = new_sender()
    first = texts(say(system, sender, "Cho tôi hỏi mã GIAM50K"))
    assert first and first[-1].endswith(
        "Đơn hàng của bạn trị giá bao nhiêu ạ? (tổng tiền hàng, chưa gồm phí giao)"
    )
    second = texts(say(system, sender, "đơn 450 nghìn thì sao?"))
    assert second == ["Đơn 450.000đ chưa dùng được mã GIAM50K vì mã này áp dụng cho đơn từ 500.000đ."]
    third = texts(say(system, sender, "thế 600k thì sao"))
    assert third and third[0].startswith(
        "Đơn 600.000đ dùng được mã GIAM50K: giảm 50.000đ, tiền hàng còn 550.000đ."
    )


def test_greeting_has_buttons(system):
    replies = say(system, new_sender(), "xin chào")
    assert replies[0]["text"].startswith("Xin chào, mình là trợ lý ảo của SenMart.")
    assert [b["title"] for b in replies[0]["buttons"]] == [
        "Phí giao hàng",
        "Đổi trả hàng",
        "Khuyến mãi đang có",
    ]


def test_bad_inputs_each_get_a_vietnamese_reply(system):
    cases = {
        "": "Mình chưa nhận được nội dung câu hỏi",
        "    ": "Mình chưa nhận được nội dung câu hỏi",
        "😀😀😀": "Mình chưa nhận được nội dung câu hỏi",
    }
    for text, start in cases.items():
        replies = texts(say(system, new_sender(), text))
        assert replies and replies[0].startswith(start), (text, replies)

    long_text = ("Mình đặt hàng hôm qua mà chưa thấy giao, " * 130)[:5000]
    assert len(long_text) == 5000
    replies = texts(say(system, new_sender(), long_text))
    assert replies and all(r.strip() for r in replies)

    html_replies = texts(say(system, new_sender(), "<script>alert('x')</script> phí ship bao nhiêu?"))
    assert html_replies and html_replies[0] in faq_answer("shipping_fee")

    english = texts(say(system, new_sender(), "shipping fee bao nhiêu vậy?"))
    assert english and english[0] in faq_answer("shipping_fee")


def test_unclear_twice_clarifies_once_then_hands_off(system):
    sender = new_sender()
    first = say(system, sender, "xqzw plorb vmmk")
    assert len(first) == 1 and first[0]["text"].startswith("Xin lỗi, mình chưa")
    assert first[0]["buttons"][-1] == {"title": "Gặp nhân viên", "payload": "/request_human"}
    second = say(system, sender, "xqzw plorb vmmk")
    handoff = [m["custom"]["handoff"] for m in second if "custom" in m]
    assert len(handoff) == 1 and handoff[0]["ticket_id"].startswith("KN-")
    assert any(handoff[0]["ticket_id"] in m.get("text", "") for m in second)
    assert say(system, sender, "alo") == []  # an agent owns the conversation now: the bot is silent


def test_broken_json_is_400_and_server_keeps_serving(system):
    response = requests.post(
        url(system, "/webhooks/rest/webhook"),
        data=b'{"sender": "x", "message": ',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert texts(say(system, new_sender(), "chào shop"))


def test_transcript_keeps_what_the_customer_wrote(system):
    sender = new_sender()
    raw = "<b>Xin chào</b> &amp; 😀  ko dc à"
    say(system, sender, raw)
    tracker = requests.get(
        url(system, f"/conversations/{sender}/tracker"), params={"token": system.rasa_auth_token}, timeout=10
    ).json()
    user_texts = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    assert user_texts == [raw]
    assert requests.get(url(system, f"/conversations/{sender}/tracker"), timeout=10).status_code == 401


def test_conversations_are_stored_in_redis(system):
    sender = new_sender()
    say(system, sender, "chào shop")
    client = redis.Redis(host=system.redis.host, port=system.redis.port, db=system.redis.db)
    assert client.exists(f"senmart:tracker:{sender}") == 1
