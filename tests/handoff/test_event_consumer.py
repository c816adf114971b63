"""Customer messages from Rasa's event stream reach the open ticket exactly once."""

import json

import pytest

from handoff.event_consumer import NON_TEXT_PLACEHOLDER, EventConsumer, customer_message
from handoff.ticket_rules import HandoffRequest

from .conftest import WORKDAY_10AM

STREAM = "senmart:events"


def user_event(sender, timestamp, text, intent="chitchat", confidence=0.9, **extra):
    return {
        "event": "user",
        "sender_id": sender,
        "timestamp": timestamp,
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": confidence}},
        "input_channel": "socketio",
        **extra,
    }


async def xadd(aredis, event) -> str:
    return await aredis.xadd(STREAM, {"data": json.dumps(event, ensure_ascii=False)})


@pytest.fixture()
async def consumer(store):
    consumer = EventConsumer(store, STREAM, consumer="test-consumer", block_ms=0)
    await consumer.ensure_group()
    return consumer


async def open_ticket(store, sender="s1") -> str:
    result = await store.create_or_reuse(HandoffRequest.from_json({"sender_id": sender}))
    return result.ticket_id


async def customer_texts(store, ticket_id):
    return [m["text"] for m in await store.transcript(ticket_id) if m["role"] == "customer"]


async def test_user_events_of_open_tickets_are_appended_once(store, aredis, consumer):
    ticket_id = await open_ticket(store)
    html = "<img src=x onerror=alert(1)> Đơn <b>SM12345678</b> 😡"
    event = user_event("s1", WORKDAY_10AM + 5, html, intent="complain", confidence=0.93)
    await xadd(aredis, event)
    await xadd(aredis, event)  # the broker delivered the same event twice
    await xadd(aredis, {"event": "bot", "sender_id": "s1", "timestamp": WORKDAY_10AM + 6, "text": "bot"})
    await xadd(aredis, user_event("s1", WORKDAY_10AM - 5, "before the handoff"))
    await xadd(aredis, user_event("nobody", WORKDAY_10AM + 7, "no ticket"))
    outcomes = await consumer.read_once()
    assert outcomes == ["appended", "duplicate", "ignored", "before_handoff", "no_ticket"]
    transcript = await store.transcript(ticket_id)
    assert transcript[-1] == {
        "role": "customer",
        "text": html,
        "timestamp": WORKDAY_10AM + 5,
        "intent": "complain",
        "confidence": 0.93,
        "agent": None,
    }
    assert await customer_texts(store, ticket_id) == [html]
    assert (await aredis.xpending(STREAM, "handoff"))["pending"] == 0
    assert await consumer.read_once() == []


async def test_pending_entries_of_a_dead_consumer_are_reclaimed(store, aredis, consumer):
    ticket_id = await open_ticket(store)
    await xadd(aredis, user_event("s1", WORKDAY_10AM + 1, "tin nhắn một"))
    await xadd(aredis, user_event("s1", WORKDAY_10AM + 2, "tin nhắn hai"))
    # another process read them and died before XACK
    await aredis.xreadgroup("handoff", "dead-process", {STREAM: ">"}, count=10)
    assert (await aredis.xpending(STREAM, "handoff"))["pending"] == 2
    assert await consumer.read_once() == []  # not delivered again to new readers
    assert await consumer.reclaim_once(min_idle_ms=0) == ["appended", "appended"]
    assert await consumer.reclaim_once(min_idle_ms=0) == []
    assert (await aredis.xpending(STREAM, "handoff"))["pending"] == 0
    assert await customer_texts(store, ticket_id) == ["tin nhắn một", "tin nhắn hai"]


async def test_entry_applied_but_not_acknowledged_is_not_applied_twice(store, aredis, consumer):
    ticket_id = await open_ticket(store)
    entry = await xadd(aredis, user_event("s1", WORKDAY_10AM + 1, "chỉ một lần"))
    entries = (await aredis.xreadgroup("handoff", "crashed", {STREAM: ">"}))[0][1]
    await consumer.handle(*entries[0])  # the crashed process got this far, no XACK
    assert await consumer.reclaim_once(min_idle_ms=0) == ["duplicate"]
    assert await customer_texts(store, ticket_id) == ["chỉ một lần"]
    assert entries[0][0] == entry


async def test_messages_after_the_ticket_closes_are_ignored(store, aredis, consumer, clock):
    ticket_id = await open_ticket(store)
    await store.resolve(ticket_id, "Lan")
    await xadd(aredis, user_event("s1", WORKDAY_10AM + 10, "cảm ơn"))
    assert await consumer.read_once() == ["no_ticket"]
    assert await customer_texts(store, ticket_id) == []


async def test_bad_entries_are_acknowledged_and_skipped(store, aredis, consumer):
    await aredis.xadd(STREAM, {"data": "{not json"})
    await aredis.xadd(STREAM, {"other": "field"})
    await xadd(aredis, {"event": "user", "sender_id": "s1", "timestamp": "yesterday"})
    assert await consumer.read_once() == ["invalid", "invalid", "ignored"]
    assert (await aredis.xpending(STREAM, "handoff"))["pending"] == 0


async def test_missing_group_is_recreated(store, aredis, consumer):
    await aredis.delete(STREAM)
    assert await consumer.read_once() == []
    ticket_id = await open_ticket(store)
    await xadd(aredis, user_event("s1", WORKDAY_10AM + 1, "sau khi tạo lại nhóm"))
    assert await consumer.read_once() == ["appended"]
    assert await customer_texts(store, ticket_id) == ["sau khi tạo lại nhóm"]


def test_non_text_messages_still_reach_the_agent():
    event = user_event("s1", 5.0, None, metadata={"attachment": "image"})
    assert customer_message(event)["text"] == NON_TEXT_PLACEHOLDER
    assert customer_message({**event, "event": "action"}) is None
    assert customer_message({**event, "parse_data": "broken"})["intent"] is None


async def test_an_entry_that_fails_does_not_block_the_stream(store, aredis, consumer, monkeypatch):
    ticket_id = await open_ticket(store)
    original = store.append_customer_event
    calls = []

    async def flaky(sender_id, timestamp, message):
        calls.append(message["text"])
        if message["text"] == "boom":
            raise ValueError("unexpected")
        return await original(sender_id, timestamp, message)

    monkeypatch.setattr(store, "append_customer_event", flaky)
    await xadd(aredis, user_event("s1", WORKDAY_10AM + 1, "boom"))
    await xadd(aredis, user_event("s1", WORKDAY_10AM + 2, "sau lỗi"))
    assert await consumer.read_once() == ["failed", "appended"]
    assert (await aredis.xpending(STREAM, "handoff"))["pending"] == 0
    assert await customer_texts(store, ticket_id) == ["sau lỗi"]


async def test_a_ticket_opened_event_goes_to_the_listeners_and_touches_no_ticket(store, aredis):
    heard = []

    async def listener(event, outcome):
        heard.append((event["ticket_id"], outcome))

    consumer = EventConsumer(store, STREAM, consumer="test-consumer", block_ms=0, listeners=[listener])
    await consumer.ensure_group()
    ticket_id = await open_ticket(store, "s5")
    before = await store.transcript(ticket_id)
    event = {"event": "senmart_ticket_opened", "sender_id": "s5", "ticket_id": ticket_id, "opening": []}
    await xadd(aredis, event)
    assert await consumer.read_once() == ["ticket_opened"]
    assert heard == [(ticket_id, "ticket_opened")]
    assert await store.transcript(ticket_id) == before
