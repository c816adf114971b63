"""A claim nobody renews goes back to the queue, in its old place (real service, 1-second lease)."""

import time

from testkit.polling import wait_for

from .conftest import LAN_TOKEN, MINH_TOKEN, Api


def test_unrenewed_claim_returns_to_the_queue(api, start_service):
    short = Api(start_service(HANDOFF_LEASE_SECONDS="1"), api.rasa)
    ids = [short.handoff(f"s{i}").json()["ticket_id"] for i in range(3)]
    crashed = short.agent("POST", f"/api/tickets/{ids[0]}/claim", LAN_TOKEN).json()
    assert crashed["status"] == "claimed"
    assert short.agent("GET", f"/api/tickets/{ids[1]}").json()["queue_position"] == 1
    kept = ids[1]
    assert short.agent("POST", f"/api/tickets/{kept}/claim", MINH_TOKEN).status_code == 200

    def back_in_queue():
        ticket = short.agent("GET", f"/api/tickets/{ids[0]}").json()
        if ticket["status"] == "waiting":
            return ticket
        assert short.agent("POST", f"/api/tickets/{kept}/heartbeat", MINH_TOKEN).status_code == 200
        return None

    started = time.monotonic()
    ticket = wait_for(back_in_queue, timeout=5, interval=0.2)
    assert time.monotonic() - started < 3
    assert (ticket["claimed_by"], ticket["queue_position"], ticket["priority"]) == (None, 1, 1)
    assert ticket["created_at"] == crashed["created_at"]
    assert [t["id"] for t in short.agent("GET", "/api/tickets?status=waiting").json()["tickets"]] == [
        ids[0],
        ids[2],
    ]
    # the agent who kept sending heartbeats still holds the other ticket
    assert short.agent("GET", f"/api/tickets/{kept}").json()["claimed_by"] == "Minh"
    assert short.agent("POST", f"/api/tickets/{ids[0]}/claim", MINH_TOKEN).json()["claimed_by"] == "Minh"
