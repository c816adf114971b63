"""Capacity (atomic with the claim), presence, every agent's load for supervisors, reassigning."""

import asyncio

from .conftest import SERVICE_TOKEN


async def open_tickets(staff, count):
    ids = []
    for n in range(count):
        status, body = await staff.token_call(
            "POST",
            "/internal/handoffs",
            SERVICE_TOKEN,
            json={"sender_id": f"khach-{n}", "channel": "socketio"},
        )
        assert status == 201
        ids.append(body["ticket_id"])
    return ids


async def test_a_claim_past_the_capacity_is_refused(staff):
    agent = await staff.signed_in("Phương", "agent", capacity=1)
    first, second = await open_tickets(staff, 2)
    assert (await agent.call("POST", f"/api/tickets/{first}/claim"))[0] == 200
    status, body = await agent.call("POST", f"/api/tickets/{second}/claim")
    assert (status, body["error"], body["capacity"], body["load"]) == (409, "at_capacity", 1, 1)
    assert "đã đạt giới hạn 1 phiếu" in body["message"]
    # replying to a waiting ticket claims it: refused the same way
    status, body = await agent.call("POST", f"/api/tickets/{second}/messages", json={"text": "Chào anh"})
    assert (status, body["error"]) == (409, "at_capacity")
    # a resolved ticket frees a place
    assert (await agent.call("POST", f"/api/tickets/{first}/resolve"))[0] == 200
    assert (await agent.call("POST", f"/api/tickets/{second}/claim"))[0] == 200


async def test_concurrent_claims_respect_the_capacity(staff):
    ids = await open_tickets(staff, 6)
    tabs = []
    account = await staff.account("Quân", "agent", capacity=2)
    for _ in range(3):  # the same agent in three tabs, claiming two tickets each at once
        tab = staff.person()
        await tab.sign_in(account.email)
        tabs.append(tab)
    claims = [tabs[n % 3].call("POST", f"/api/tickets/{ticket_id}/claim") for n, ticket_id in enumerate(ids)]
    statuses = sorted(status for status, _ in await asyncio.gather(*claims))
    assert statuses == [200, 200, 409, 409, 409, 409]
    assert (await staff.app.ctx.store.agent_loads()) == {"Quân": 2}


async def test_two_agents_claim_at_once_with_room_for_one(staff):
    (ticket_id,) = await open_tickets(staff, 1)
    an = await staff.signed_in("An", "agent", capacity=1)
    binh = await staff.signed_in("Bình", "agent", capacity=1)
    results = await asyncio.gather(*(p.call("POST", f"/api/tickets/{ticket_id}/claim") for p in (an, binh)))
    assert sorted(status for status, _ in results) == [200, 409]
    assert sum(1 for _, body in results if body.get("claimed_by") in ("An", "Bình")) >= 1


async def test_supervisors_see_load_presence_and_capacity(staff):
    supervisor = await staff.signed_in("Trưởng ca Hoa", "supervisor", capacity=3)
    agent = await staff.signed_in("Sơn", "agent", capacity=4)
    await staff.account("Tuấn", "agent")  # never signed in: offline
    (ticket_id,) = await open_tickets(staff, 1)
    await agent.call("POST", f"/api/tickets/{ticket_id}/claim")
    status, body = await agent.call("POST", "/api/presence", json={"status": "online"})
    assert (status, body["agents_online"], body["online"]) == (200, 1, ["Sơn"])
    await supervisor.call("POST", "/api/presence", json={"status": "away"})
    assert (await agent.call("GET", "/api/agents"))[0] == 403
    status, body = await supervisor.call("GET", "/api/agents")
    rows = {row["name"]: row for row in body["agents"]}
    assert {k: rows["Sơn"][k] for k in ("presence", "load", "capacity")} == {
        "presence": "online",
        "load": 1,
        "capacity": 4,
    }
    assert rows["Trưởng ca Hoa"]["presence"] == "away" and rows["Tuấn"]["presence"] == "offline"
    status, body = await agent.call("POST", "/api/presence", json={"status": "busy"})
    assert (status, body["error"]) == (400, "invalid_status")
    await agent.call("POST", "/auth/signout")
    status, body = await supervisor.call("GET", "/api/agents")
    assert {row["name"]: row["presence"] for row in body["agents"]}["Sơn"] == "offline"


async def test_supervisor_reassigns_within_the_target_capacity(staff):
    supervisor = await staff.signed_in("Trưởng ca Vy", "supervisor")
    xuan = await staff.signed_in("Xuân", "agent", capacity=1)
    yen = await staff.signed_in("Yến", "agent", capacity=1)
    first, second = await open_tickets(staff, 2)
    await xuan.call("POST", f"/api/tickets/{first}/claim")
    status, body = await xuan.call(
        "POST", f"/api/tickets/{first}/reassign", json={"agent_id": yen.account.id}
    )
    assert status == 403  # agents cannot
    status, ticket = await supervisor.call(
        "POST", f"/api/tickets/{first}/reassign", json={"agent_id": yen.account.id}
    )
    assert (status, ticket["claimed_by"], ticket["previous_agent"]) == (200, "Yến", "Xuân")
    # Yến is full now: a waiting ticket cannot go to her
    status, body = await supervisor.call(
        "POST", f"/api/tickets/{second}/reassign", json={"agent_id": yen.account.id}
    )
    assert (status, body["error"]) == (409, "at_capacity")
    status, ticket = await supervisor.call(
        "POST", f"/api/tickets/{second}/reassign", json={"agent_id": xuan.account.id}
    )
    assert (status, ticket["status"], ticket["claimed_by"]) == (200, "claimed", "Xuân")
    status, body = await supervisor.call(
        "POST", f"/api/tickets/{second}/reassign", json={"agent_id": "u_nobody"}
    )
    assert (status, body["error"]) == (400, "invalid_agent")
    status, detail = await yen.call("GET", f"/api/tickets/{first}")
    assert detail["transcript"][-1]["text"] == "Trưởng ca Vy đã chuyển phiếu cho nhân viên Yến."
    # the new owner can answer, the old one cannot
    assert (await xuan.call("POST", f"/api/tickets/{first}/resolve"))[0] == 403
    assert (await yen.call("POST", f"/api/tickets/{first}/resolve"))[0] == 200
