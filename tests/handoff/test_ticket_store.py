"""Ticket logic in Redis (real redis-server, injectable clock)."""

import asyncio
import json
import re

import pytest

from handoff.ticket_rules import HandoffRequest
from handoff.ticket_store import NotTicketOwner, TicketConflict, TicketNotFound, TicketStore
from handoff.transcript_export import export_json, export_text

from .conftest import WORKDAY_10AM

HOUR = 3600.0
DAY = 86400.0


def request(sender="s1", **body) -> HandoffRequest:
    return HandoffRequest.from_json({"sender_id": sender, "channel": "socketio", **body})


def texts(transcript):
    return [(m["role"], m["text"]) for m in transcript]


async def test_ids_are_dated_and_consecutive(store):
    results = [await store.create_or_reuse(request(f"s{i}")) for i in range(3)]
    assert [r.ticket_id for r in results] == ["KN-20261124-0001", "KN-20261124-0002", "KN-20261124-0003"]
    assert all(r.created and r.status == "waiting" for r in results)


async def test_concurrent_creations_get_distinct_consecutive_ids(store):
    results = await asyncio.gather(*[store.create_or_reuse(request(f"c{i}")) for i in range(200)])
    ids = sorted(r.ticket_id for r in results)
    assert ids == [f"KN-20261124-{n:04d}" for n in range(1, 201)]


async def test_same_conversation_reuses_its_open_ticket(store, clock):
    first = await store.create_or_reuse(
        request(
            reason="money_complaint",
            transcript=[
                {"role": "customer", "text": "bị trừ tiền 2 lần", "timestamp": 100.5},
                {"role": "bot", "text": "Mình chuyển bạn tới nhân viên nhé.", "timestamp": 101.0},
            ],
        )
    )
    clock.advance(60)
    again = await store.create_or_reuse(
        request(
            transcript=[
                {"role": "customer", "text": "bị trừ tiền 2 lần", "timestamp": 100.5},
                {"role": "bot", "text": "Mình chuyển bạn tới nhân viên nhé.", "timestamp": 101.0},
                {"role": "customer", "text": "gặp người thật", "timestamp": 150.0},
            ]
        )
    )
    assert (again.ticket_id, again.created, again.added_messages) == (first.ticket_id, False, 1)
    ticket = await store.get(first.ticket_id, with_transcript=True)
    assert ticket["reason"] == "money_complaint"
    assert texts(ticket["transcript"]) == [
        ("customer", "bị trừ tiền 2 lần"),
        ("bot", "Mình chuyển bạn tới nhân viên nhé."),
        ("system", "Khách được chuyển cho nhân viên (lý do: Khiếu nại tiền)."),
        ("customer", "gặp người thật"),
    ]
    await store.claim(first.ticket_id, "Lan")
    claimed_again = await store.create_or_reuse(request())
    assert (claimed_again.ticket_id, claimed_again.created, claimed_again.status) == (
        first.ticket_id,
        False,
        "claimed",
    )
    assert claimed_again.queue_position is None


async def test_new_ticket_after_resolve_or_return_to_bot(store):
    first = await store.create_or_reuse(request())
    await store.resolve(first.ticket_id, "Lan")
    second = await store.create_or_reuse(request())
    assert second.created and second.ticket_id == "KN-20261124-0002"
    await store.claim(second.ticket_id, "Lan")
    await store.return_to_bot(second.ticket_id, "Lan")
    third = await store.create_or_reuse(request())
    assert third.created and third.ticket_id == "KN-20261124-0003"


async def test_queue_order_is_priority_then_age(store, clock):
    created = {}
    for sender, body in [
        ("plain-old", {}),
        ("gold", {"customer": {"member_tier": "Vàng"}}),
        ("plain-new", {}),
        ("money", {"reason": "money_complaint"}),
        ("angry-diamond", {"customer": {"member_tier": "Kim Cương"}, "anger": 0.8}),
    ]:
        created[sender] = await store.create_or_reuse(request(sender, **body))
        clock.advance(10)
    waiting = await store.list_tickets("waiting")
    assert [t["sender_id"] for t in waiting] == ["angry-diamond", "money", "gold", "plain-old", "plain-new"]
    assert [t["priority"] for t in waiting] == [5, 4, 3, 1, 1]
    assert [t["queue_position"] for t in waiting] == [1, 2, 3, 4, 5]
    assert await store.queue_position(created["plain-new"].ticket_id) == 5
    assert (await store.get(created["gold"].ticket_id))["queue_position"] == 3
    # positions close up when the first is claimed
    await store.claim(created["angry-diamond"].ticket_id, "Lan")
    assert await store.queue_position(created["plain-new"].ticket_id) == 4
    open_list = await store.list_tickets("open")
    assert [t["status"] for t in open_list] == ["waiting"] * 4 + ["claimed"]


async def test_repeat_escalation_within_seven_days(store, clock):
    first = await store.create_or_reuse(
        request("s1", customer={"phone": "0912345678", "email": "lan@gmail.com"})
    )
    assert (await store.get(first.ticket_id))["priority"] == 1
    await store.resolve(first.ticket_id, "Lan")
    clock.advance(6 * DAY)
    by_sender = await store.create_or_reuse(request("s1"))
    assert (await store.get(by_sender.ticket_id))["priority"] == 2
    by_phone = await store.create_or_reuse(request("s2", customer={"phone": "+84 912 345 678"}))
    assert (await store.get(by_phone.ticket_id))["priority"] == 2
    by_email = await store.create_or_reuse(request("s3", customer={"email": "LAN@gmail.com"}))
    assert (await store.get(by_email.ticket_id))["priority"] == 2
    stranger = await store.create_or_reuse(request("s4", customer={"phone": "0987654321"}))
    assert (await store.get(stranger.ticket_id))["priority"] == 1
    for ticket_id in (by_sender.ticket_id, by_phone.ticket_id, by_email.ticket_id, stranger.ticket_id):
        await store.resolve(ticket_id, "Lan")
    clock.advance(8 * DAY)
    later = await store.create_or_reuse(request("s4", customer={"member_tier": "Vàng"}))
    assert (await store.get(later.ticket_id))["priority"] == 3


async def test_claims_belong_to_one_agent(store):
    ticket_id = (await store.create_or_reuse(request())).ticket_id
    claimed = await store.claim(ticket_id, "Lan")
    assert (claimed["status"], claimed["status_label"], claimed["claimed_by"]) == (
        "claimed",
        "Đang xử lý",
        "Lan",
    )
    assert claimed["lease_expires_at"] == claimed["claimed_at"] + 300
    with pytest.raises(TicketConflict) as conflict:
        await store.claim(ticket_id, "Minh")
    assert conflict.value.claimed_by == "Lan"
    for action in (store.heartbeat, store.claim_for_reply, store.resolve, store.return_to_bot):
        with pytest.raises(NotTicketOwner) as refused:
            await action(ticket_id, "Minh")
        assert refused.value.claimed_by == "Lan"
    assert (await store.claim(ticket_id, "Lan"))["claimed_by"] == "Lan"  # claiming again renews
    assert (await store.heartbeat(ticket_id, "Lan"))["status"] == "claimed"
    resolved = await store.resolve(ticket_id, "Lan")
    assert resolved["status"] == "resolved"
    for action in (store.claim, store.heartbeat, store.claim_for_reply, store.resolve):
        with pytest.raises(TicketConflict):
            await action(ticket_id, "Lan")
    with pytest.raises(TicketNotFound):
        await store.claim("KN-20261124-9999", "Lan")
    waiting = (await store.create_or_reuse(request("s2"))).ticket_id
    with pytest.raises(TicketConflict):
        await store.heartbeat(waiting, "Lan")  # nothing to renew


async def test_expired_lease_returns_ticket_to_its_place(store, clock):
    ids = []
    for i in range(3):
        ids.append((await store.create_or_reuse(request(f"s{i}"))).ticket_id)
        clock.advance(1)
    await store.claim(ids[0], "Lan")
    clock.advance(200)
    await store.heartbeat(ids[0], "Lan")  # lease now ends 300 s from here
    clock.advance(299)
    assert await store.requeue_expired() == []
    clock.advance(2)
    results = await asyncio.gather(store.requeue_expired(), store.requeue_expired())
    assert sorted(results, key=len) == [[], [ids[0]]]  # two reapers, one requeue
    ticket = await store.get(ids[0], with_transcript=True)
    assert (ticket["status"], ticket["claimed_by"], ticket["queue_position"], ticket["priority"]) == (
        "waiting",
        None,
        1,
        1,
    )
    assert ticket["created_at"] == WORKDAY_10AM
    assert "Lan" in ticket["transcript"][-1]["text"]
    assert [t["id"] for t in await store.list_tickets("waiting")] == ids
    # a new agent can take it
    assert (await store.claim(ids[0], "Minh"))["claimed_by"] == "Minh"


async def test_sla_clock_and_breaches(store, clock):
    clock.now = WORKDAY_10AM + 11.5 * HOUR  # 21:30 local: 30 working minutes left today
    night = (await store.create_or_reuse(request("night"))).ticket_id
    ticket = await store.get(night)
    assert ticket["sla"]["first_response_due"] == WORKDAY_10AM + 22.5 * HOUR  # 8:30 next day
    assert ticket["sla"]["resolution_due"] == clock.now + 24 * HOUR
    clock.now = WORKDAY_10AM + 22.5 * HOUR - 1
    assert (await store.get(night))["sla"]["first_response_breached"] is False
    clock.now = WORKDAY_10AM + 22.5 * HOUR + 1
    assert (await store.get(night))["sla"]["first_response_breached"] is True
    dashboard = await store.dashboard()
    assert dashboard["breached"] == {"first_response": 1, "resolution": 0}
    await store.claim(night, "Lan")
    await store.record_agent_message(night, "Lan", "Chào bạn")
    clock.advance(14 * HOUR)  # past resolution_due (21:30 the next day) too
    snap = await store.snapshot()
    assert snap.breached_open == {"first_response": 1, "resolution": 1}
    await store.resolve(night, "Lan")
    snap = await store.snapshot()
    assert snap.breached_open == {"first_response": 0, "resolution": 0}
    assert snap.breached_finished == {"first_response": 1, "resolution": 1}
    # answered and resolved in time: no breach
    on_time = (await store.create_or_reuse(request("day"))).ticket_id
    clock.advance(600)
    await store.record_agent_message(on_time, "Lan", "Chào bạn")
    clock.advance(600)
    ticket = await store.resolve(on_time, "Lan")
    assert ticket["sla"]["first_response_breached"] is False
    assert ticket["sla"]["resolution_breached"] is False
    assert (await store.dashboard())["breached"] == {"first_response": 1, "resolution": 1}


async def test_dashboard_and_csat(store, clock):
    a = (await store.create_or_reuse(request("a", reason="money_complaint"))).ticket_id
    b = (await store.create_or_reuse(request("b", reason="anger"))).ticket_id
    await store.create_or_reuse(request("c", reason="anger"))
    clock.advance(120)
    await store.record_agent_message(a, "Lan", "Chào bạn")  # claims nothing, but counts the response
    clock.advance(180)
    await store.claim(b, "Minh")
    await store.record_agent_message(b, "Minh", "Chào bạn")
    clock.advance(600)
    await store.resolve(a, "Lan")
    await store.resolve(b, "Minh")
    with pytest.raises(TicketConflict):
        await store.record_csat((await store.create_or_reuse(request("d"))).ticket_id, 5, None)
    closed = await store.record_csat(a, 5, "Nhân viên nhiệt tình 👍")
    assert (closed["status"], closed["csat"]) == (
        "closed",
        {"rating": 5, "comment": "Nhân viên nhiệt tình 👍"},
    )
    await store.record_csat(b, 2, None)
    with pytest.raises(TicketConflict):
        await store.record_csat(a, 4, None)
    dashboard = await store.dashboard()
    assert dashboard["queue_length"] == 2
    assert dashboard["oldest_waiting_seconds"] == 900.0
    assert dashboard["handoffs_by_reason"]["anger"] == 2
    assert dashboard["handoffs_by_reason"]["money_complaint"] == 1
    assert dashboard["handoffs_total"] == 4
    assert dashboard["avg_first_response_seconds"] == 210.0  # (120 + 300) / 2
    assert dashboard["avg_resolution_seconds"] == 900.0
    assert (dashboard["csat_average"], dashboard["csat_count"]) == (3.5, 2)
    assert dashboard["within_hours"] is True
    assert (dashboard["conversations_total"], dashboard["handoff_rate"]) == (0, None)
    for sender in ("a", "b", "c", "d", "e", "f", "g", "h", "a", "b"):
        await store.count_conversation(sender)
    dashboard = await store.dashboard()
    assert (dashboard["conversations_total"], dashboard["handoff_rate"]) == (8, 0.5)


async def test_resolved_tickets_expire_after_retention(store, aredis, clock, hours):
    ticket_id = (
        await store.create_or_reuse(request(transcript=[{"text": "xin chào", "timestamp": 1.0}]))
    ).ticket_id
    assert await aredis.ttl(f"handoff:ticket:{ticket_id}") == -1  # open tickets never expire
    await store.resolve(ticket_id, "Lan")
    for key in ("ticket", "transcript", "seen"):
        ttl = await aredis.ttl(f"handoff:{key}:{ticket_id}")
        assert 180 * DAY - 5 <= ttl <= 180 * DAY
    short = TicketStore(aredis, hours, retention_seconds=1, clock=clock)
    other = (await short.create_or_reuse(request("s2"))).ticket_id
    await short.return_to_bot(other, "Lan")
    await asyncio.sleep(2.1)
    assert await short.get(other) is None
    assert await short.sweep_indexes() == 1
    assert [t["id"] for t in await short.list_tickets("closed")] == []
    assert [t["id"] for t in await short.list_tickets("resolved")] == [ticket_id]


async def test_delete_customer_removes_every_ticket(store, aredis):
    old = (await store.create_or_reuse(request("s1", customer={"phone": "0912345678"}))).ticket_id
    await store.resolve(old, "Lan")
    current = (await store.create_or_reuse(request("s1"))).ticket_id
    await store.claim(current, "Lan")
    keep = (await store.create_or_reuse(request("s2"))).ticket_id
    assert sorted(await store.delete_customer("s1")) == sorted([old, current])
    assert await store.get(old) is None and await store.get(current) is None
    assert await store.get(keep) is not None
    assert [key async for key in aredis.scan_iter(f"handoff:*{old}*")] == []
    assert [key async for key in aredis.scan_iter("handoff:contact:*")] == []
    assert await aredis.exists("handoff:open:s1", "handoff:sender:s1") == 0
    assert [t["id"] for t in await store.list_tickets("open")] == [keep]
    assert await store.delete_customer("s1") == []


async def test_messages_are_stored_exactly_and_searchable(store):
    exact = ["<script>alert('x')</script> & <b>đậm</b>", "😀🙏🇻🇳 ok", "ả" * 5000]
    transcript = [{"role": "customer", "text": text, "timestamp": 10.0 + i} for i, text in enumerate(exact)]
    ticket_id = (await store.create_or_reuse(request(transcript=transcript))).ticket_id
    await store.record_agent_message(ticket_id, "Lan", exact[0])
    stored = (await store.get(ticket_id, with_transcript=True))["transcript"]
    assert [m["text"] for m in stored[:3]] == exact
    assert stored[-1] == {
        "role": "agent",
        "text": exact[0],
        "timestamp": stored[-1]["timestamp"],
        "intent": None,
        "confidence": None,
        "agent": "Lan",
    }
    await store.create_or_reuse(request("s2", transcript=[{"text": "Hoàn tiền chậm quá", "timestamp": 1.0}]))
    assert [t["sender_id"] for t in await store.list_tickets("open", "hoan tien")] == ["s2"]
    assert [t["id"] for t in await store.list_tickets("open", ticket_id.lower())] == [ticket_id]
    assert await store.list_tickets("open", "không có đâu") == []


async def test_export_has_every_message_in_order(store, hours):
    transcript = [
        {"role": "customer", "text": "Đơn SM12345678 chưa hoàn tiền", "timestamp": WORKDAY_10AM - 60},
        {"role": "bot", "text": "Mình chuyển bạn tới nhân viên.", "timestamp": WORKDAY_10AM - 30},
    ]
    ticket_id = (await store.create_or_reuse(request(transcript=transcript))).ticket_id
    await store.record_agent_message(ticket_id, "Lan", "Chào bạn, mình là Lan")
    ticket = await store.get(ticket_id, with_transcript=True)
    text = export_text(ticket, hours)
    lines = [line for line in text.splitlines() if line.startswith("[")]
    assert lines == [
        "[2026-11-24 09:59:00] Khách: Đơn SM12345678 chưa hoàn tiền",
        "[2026-11-24 09:59:30] Trợ lý ảo: Mình chuyển bạn tới nhân viên.",
        "[2026-11-24 10:00:00] Hệ thống: Khách được chuyển cho nhân viên (lý do: Khác).",
        "[2026-11-24 10:00:00] Nhân viên Lan: Chào bạn, mình là Lan",
    ]
    assert text.startswith(f"Phiếu {ticket_id} — Đã tiếp nhận\n")
    exported = json.loads(export_json(ticket))
    assert exported["transcript"] == ticket["transcript"]
    assert re.fullmatch(r"KN-\d{8}-\d{4}", exported["id"])
