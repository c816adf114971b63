"""action_handoff helpers: full transcript from tracker events, reason, customer message."""

from rasa_sdk import Tracker

from actions.handoff import handoff_reason, handoff_text, transcript


def make_tracker(events, intent="request_human"):
    latest = {"text": "cho gặp nhân viên", "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return Tracker("s1", {}, latest, events, False, None, {}, "action_listen")


def test_transcript_keeps_every_message_in_order():
    events = [
        {"event": "action", "name": "action_listen", "timestamp": 1.0},
        {
            "event": "user",
            "text": "phí ship <b>bn</b>",
            "timestamp": 2.0,
            "parse_data": {"intent": {"name": "faq", "confidence": 0.91}},
        },
        {"event": "bot", "text": "Phí giao hàng 25.000đ", "timestamp": 3.0},
        {"event": "bot", "text": None, "data": {"custom": {"handoff": {}}}, "timestamp": 3.5},
        {
            "event": "user",
            "text": "cho gặp nhân viên",
            "timestamp": 4.0,
            "parse_data": {"intent": {"name": "request_human", "confidence": 0.99}},
        },
    ]
    assert transcript(make_tracker(events).events) == [
        {
            "role": "customer",
            "text": "phí ship <b>bn</b>",
            "timestamp": 2.0,
            "intent": "faq",
            "confidence": 0.91,
        },
        {"role": "bot", "text": "Phí giao hàng 25.000đ", "timestamp": 3.0},
        {"role": "bot", "text": "{'handoff': {}}", "timestamp": 3.5},
        {
            "role": "customer",
            "text": "cho gặp nhân viên",
            "timestamp": 4.0,
            "intent": "request_human",
            "confidence": 0.99,
        },
    ]


def test_reasons():
    assert handoff_reason(make_tracker([], "complain_money")) == "money_complaint"
    assert handoff_reason(make_tracker([], "complain")) == "anger"
    assert handoff_reason(make_tracker([], "nlu_fallback")) == "low_confidence"
    assert handoff_reason(make_tracker([], "greet")) == "other"


def test_texts_within_and_outside_hours():
    ticket = {
        "ticket_id": "KN-20261123-0007",
        "queue_position": 2,
        "estimated_wait_minutes": 10,
        "within_hours": True,
    }
    inside = handoff_text("request_human", ticket)
    assert "KN-20261123-0007" in inside and "vị trí số 2" in inside and "10 phút" in inside
    outside = handoff_text("money_complaint", {**ticket, "within_hours": False, "agents_return_at": "08:00"})
    assert "ngoài giờ" in outside and "08:00" in outside and "1900 6868" in outside
