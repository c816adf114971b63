"""Pure ticket rules: priority, SLA, wait estimate, input checks, customer data masking."""

from datetime import datetime, timedelta, timezone

import pytest

from handoff.hours import AgentHours
from handoff.ticket_rules import (
    HandoffRequest,
    InvalidRequest,
    agent_text,
    base_priority,
    contact_digests,
    csat_input,
    estimate_wait_minutes,
    first_response_due,
    mask_customer,
    message_dedup_key,
    normalize_message,
    resolution_due,
    sla_breaches,
)

VN = timezone(timedelta(hours=7))
HOURS = AgentHours(frozenset(), 7)


def at(day, hour, minute=0) -> float:
    return datetime(2026, 11, day, hour, minute, tzinfo=VN).timestamp()


@pytest.mark.parametrize(
    "tier, reason, anger, expected",
    [
        ("Đồng", "request_human", 0.0, 1),
        ("Bạc", "other", 0.49, 1),
        ("Vàng", "request_human", 0.0, 3),
        ("Kim Cương", "request_human", 0.0, 3),
        ("kim cuong", "request_human", 0.0, 3),
        ("Đồng", "money_complaint", 0.0, 4),
        ("Đồng", "request_human", 0.5, 3),
        ("Đồng", "anger", 0.0, 3),
        ("Vàng", "money_complaint", 0.9, 8),
        (None, "low_confidence", 0.0, 1),
    ],
)
def test_base_priority(tier, reason, anger, expected):
    assert base_priority({"member_tier": tier}, reason, anger) == expected


def test_sla_due_times_and_breaches():
    created = at(24, 21, 30)
    first_due = first_response_due(HOURS, created)
    assert first_due == at(25, 8, 30)
    assert resolution_due(created) == created + 86400
    assert sla_breaches(first_due, created + 86400, now=at(25, 8, 29)) == {
        "first_response_breached": False,
        "resolution_breached": False,
    }
    assert sla_breaches(first_due, created + 86400, now=at(25, 8, 31))["first_response_breached"] is True
    # answered in time: never breached later
    late_now = created + 2 * 86400
    flags = sla_breaches(first_due, created + 86400, late_now, first_response_at=at(25, 8, 10))
    assert flags == {"first_response_breached": False, "resolution_breached": True}
    flags = sla_breaches(first_due, created + 86400, late_now, at(25, 8, 10), finished_at=created + 3600)
    assert flags == {"first_response_breached": False, "resolution_breached": False}


def test_wait_estimate():
    assert estimate_wait_minutes(3, 5, HOURS, at(24, 10)) == 15
    assert estimate_wait_minutes(None, 5, HOURS, at(24, 10)) == 0
    # at 7:00 the queue starts moving at 8:00
    assert estimate_wait_minutes(1, 5, HOURS, at(24, 7)) == 65


def test_handoff_request_validation():
    request = HandoffRequest.from_json(
        {
            "sender_id": "s1",
            "channel": "socketio",
            "reason": "something_new",
            "customer": {"member_tier": "Vàng"},
            "transcript": [{"role": "user", "text": "<b>chào</b> 😀", "timestamp": 1.5, "confidence": True}],
            "anger": 3,
        }
    )
    assert request.reason == "other"
    assert request.anger == 1.0
    assert request.transcript == [
        {
            "role": "customer",
            "text": "<b>chào</b> 😀",
            "timestamp": 1.5,
            "intent": None,
            "confidence": None,
            "agent": None,
        }
    ]
    for body in (
        {},
        {"sender_id": ""},
        {"sender_id": 5},
        [],
        {"sender_id": "s", "transcript": "x"},
        {"sender_id": "s", "customer": []},
        {"sender_id": "s", "anger": "high"},
        {"sender_id": "s", "transcript": [{"role": "robot", "text": "x"}]},
    ):
        with pytest.raises(InvalidRequest) as caught:
            HandoffRequest.from_json(body)
        assert caught.value.message  # Vietnamese explanation for the caller


def test_agent_text_and_csat_input():
    assert agent_text({"text": "  <i>ok</i> 🙏 "}) == "  <i>ok</i> 🙏 "
    for body in ({}, {"text": ""}, {"text": "   "}, {"text": 5}, "text"):
        with pytest.raises(InvalidRequest):
            agent_text(body)
    assert csat_input({"rating": 5, "comment": "Tốt"}) == (5, "Tốt")
    assert csat_input({"rating": 4.0}) == (4, None)
    for body in ({"rating": 0}, {"rating": 6}, {"rating": "5"}, {"rating": True}, {"rating": 2.5}, {}):
        with pytest.raises(InvalidRequest) as caught:
            csat_input(body)
        assert caught.value.error == "invalid_rating"


def test_dedup_keys():
    customer = normalize_message({"role": "customer", "text": "a", "timestamp": 10.25})
    assert message_dedup_key(customer) == "customer:10.25"
    assert message_dedup_key({**customer, "text": "other text"}) == "customer:10.25"
    bot = normalize_message({"role": "bot", "text": "a", "timestamp": 10.25})
    assert message_dedup_key(bot) != message_dedup_key({**bot, "text": "b"})


def test_customer_contacts_are_masked_and_hashed():
    customer = {"member_tier": "Vàng", "phone": "0912 345 678", "email": "Lan.Nguyen@Gmail.com"}
    assert mask_customer(customer) == {
        "member_tier": "Vàng",
        "phone": "09******78",
        "email": "L***@Gmail.com",
    }
    digests = contact_digests(customer)
    assert len(digests) == 2
    assert contact_digests({"phone": "+84912345678", "email": "lan.nguyen@gmail.com"}) == digests
    assert "0912345678" not in "".join(digests)
    assert contact_digests({"phone": "09******78"}) == []
