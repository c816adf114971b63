"""Rasa tracker events -> the chat messages of handoff/conversation.py (chat page history, console)."""

import pytest

from handoff.conversation import NO_TEXT, messages_from_events

RATING_BUTTONS = [{"title": f"⭐ {n}", "payload": f'/give_rating{{"rating": {n}}}'} for n in range(1, 6)]


def user(text, timestamp, **extra):
    return {"event": "user", "text": text, "timestamp": timestamp, "input_channel": "socketio", **extra}


def bot(text, timestamp, data=None, metadata=None):
    empty = {"elements": None, "quick_replies": None, "buttons": None, "attachment": None, "image": None}
    return {
        "event": "bot",
        "text": text,
        "timestamp": timestamp,
        "data": {**empty, "custom": None, **(data or {})},
        "metadata": metadata or {},
    }


def test_customer_bot_and_agent_messages_in_order():
    events = [
        {"event": "action", "name": "action_session_start", "timestamp": 1.0},
        {"event": "session_started", "timestamp": 1.1},
        {"event": "action", "name": "action_listen", "timestamp": 1.2},
        user("phí ship bao nhiêu?", 2.0, parse_data={"intent": {"name": "faq", "confidence": 0.98}}),
        {"event": "user_featurization", "timestamp": 2.1, "use_text_for_featurization": False},
        bot("Phí giao hàng tiêu chuẩn là 25.000đ.\nMiễn phí cho đơn từ 300.000đ.", 2.2),
        {"event": "slot", "name": "ticket_id", "value": "KN-20261123-0001", "timestamp": 3.1},
        bot(None, 3.2, {"custom": {"handoff": {"ticket_id": "KN-20261123-0001", "queue_position": 2}}}),
        {"event": "pause", "timestamp": 3.3},
        bot(
            "Chào bạn, mình là Lan.",
            4.0,
            {"custom": {"agent": {"name": "lan"}}},
            {"agent": "lan"},
        ),
        {"event": "resume", "timestamp": 5.0},
        {"event": "followup", "name": "action_listen", "timestamp": 5.1},
    ]
    assert messages_from_events(events) == [
        {"role": "customer", "text": "phí ship bao nhiêu?", "timestamp": 2.0},
        {
            "role": "bot",
            "text": "Phí giao hàng tiêu chuẩn là 25.000đ.\nMiễn phí cho đơn từ 300.000đ.",
            "timestamp": 2.2,
        },
        {
            "role": "bot",
            "text": "",
            "timestamp": 3.2,
            "custom": {"handoff": {"ticket_id": "KN-20261123-0001", "queue_position": 2}},
        },
        {
            "role": "agent",
            "text": "Chào bạn, mình là Lan.",
            "timestamp": 4.0,
            "custom": {"agent": {"name": "lan"}},
            "agent": "lan",
        },
    ]


@pytest.mark.parametrize(
    "event",
    [
        bot("Mình kiểm tra ngay.", 1.0, metadata={"agent": "minh"}),
        bot("Mình kiểm tra ngay.", 1.0, data={"custom": {"agent": {"name": "minh"}}}),
    ],
    ids=["metadata", "custom"],
)
def test_agent_is_read_from_metadata_or_custom_payload(event):
    [message] = messages_from_events([event])
    assert (message["role"], message["agent"], message["text"]) == ("agent", "minh", "Mình kiểm tra ngay.")


def test_buttons_and_quick_replies_become_title_payload_pairs():
    events = [
        bot("Ý bạn là?", 1.0, {"buttons": [{"title": "Gặp nhân viên", "payload": "/request_human"}]}),
        bot(
            "Chọn một",
            2.0,
            {"quick_replies": [{"content_type": "text", "title": "Có", "payload": "/affirm"}]},
        ),
        bot("Không tên", 3.0, {"buttons": [{"payload": "/x"}, {"title": "bỏ qua: không có payload"}]}),
    ]
    assert [m["buttons"] for m in messages_from_events(events)] == [
        [{"title": "Gặp nhân viên", "payload": "/request_human"}],
        [{"title": "Có", "payload": "/affirm"}],
        [{"title": "/x", "payload": "/x"}],
    ]


def test_a_clicked_payload_shows_the_button_title():
    events = [
        bot("Bạn đánh giá thế nào ạ (1 đến 5 sao)?", 1.0, {"buttons": RATING_BUTTONS}),
        user('/give_rating{"rating": 5}', 2.0),
        bot("Bạn có góp ý gì thêm cho SenMart không ạ?", 3.0),
        user("không", 4.0),
    ]
    customer = [m["text"] for m in messages_from_events(events) if m["role"] == "customer"]
    assert customer == ["⭐ 5", "không"]


def test_plain_text_payloads_of_the_greeting_show_their_titles_too():
    greet = bot(
        "Xin chào", 1.0, {"buttons": [{"title": "Phí giao hàng", "payload": "Phí giao hàng bao nhiêu?"}]}
    )
    events = [greet, user("Phí giao hàng bao nhiêu?", 2.0), user("Phí giao hàng bao nhiêu?", 3.0)]
    customer = [m["text"] for m in messages_from_events(events) if m["role"] == "customer"]
    # only the buttons offered since the previous customer message count
    assert customer == ["Phí giao hàng", "Phí giao hàng bao nhiêu?"]


def test_payloads_without_a_matching_button_are_kept_as_typed():
    events = [user('/give_rating{"rating": 4}', 1.0), user("/request_human", 2.0)]
    assert [m["text"] for m in messages_from_events(events)] == [
        '/give_rating{"rating": 4}',
        "/request_human",
    ]


def test_customer_messages_are_never_dropped_and_html_is_left_as_text():
    events = [
        user("<img src=x onerror=window.__xss=1>", 1.0),
        user("", 2.0),
        user(None, 3.0),
        user("   ", 4.0),
    ]
    assert messages_from_events(events) == [
        {"role": "customer", "text": "<img src=x onerror=window.__xss=1>", "timestamp": 1.0},
        {"role": "customer", "text": NO_TEXT, "timestamp": 2.0},
        {"role": "customer", "text": NO_TEXT, "timestamp": 3.0},
        {"role": "customer", "text": NO_TEXT, "timestamp": 4.0},
    ]


def test_external_intents_are_not_customer_messages():
    events = [
        {"event": "resume", "timestamp": 1.0},
        user("EXTERNAL: EXTERNAL_csat_request", 2.0),
        bot("Bạn đánh giá thế nào ạ?", 3.0, {"buttons": RATING_BUTTONS}),
    ]
    assert [(m["role"], m["text"]) for m in messages_from_events(events)] == [
        ("bot", "Bạn đánh giá thế nào ạ?")
    ]


def test_images_from_image_or_attachment():
    events = [
        bot(None, 1.0, {"image": "https://senmart.vn/a.png"}),
        bot("Ảnh", 2.0, {"attachment": {"type": "image", "payload": {"src": "https://senmart.vn/b.png"}}}),
        bot("Tệp", 3.0, {"attachment": {"type": "file", "payload": {"src": "https://senmart.vn/c.pdf"}}}),
    ]
    assert messages_from_events(events) == [
        {"role": "bot", "text": "", "timestamp": 1.0, "image": "https://senmart.vn/a.png"},
        {"role": "bot", "text": "Ảnh", "timestamp": 2.0, "image": "https://senmart.vn/b.png"},
        {"role": "bot", "text": "Tệp", "timestamp": 3.0},
    ]


def test_unknown_and_empty_events_are_skipped():
    events = [
        {"event": "reminder", "timestamp": 1.0},
        {"event": "something_new", "text": "không phải tin nhắn", "timestamp": 2.0},
        {"timestamp": 3.0},
        bot(None, 4.0),
        bot("", 5.0, {"custom": "not a dict"}),
        {"event": "bot", "text": "không có data", "timestamp": 6.0},
    ]
    assert messages_from_events(events) == [{"role": "bot", "text": "không có data", "timestamp": 6.0}]
