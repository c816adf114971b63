"""Tickets survive a killed service process and a restarted Redis (state lives in Redis, AOF everysec)."""

import time

import requests

from testkit.polling import wait_for

from .conftest import LAN_TOKEN, Api


def snapshot(api, ticket_id):
    ticket = api.agent("GET", f"/api/tickets/{ticket_id}", LAN_TOKEN).json()
    return ticket["status"], ticket["claimed_by"], ticket["claimed_at"], ticket["transcript"]


def test_kill_service_then_restart_redis(api, start_service, restartable_redis):
    url, restart_redis = restartable_redis  # tests/conftest.py: killable, same port and data
    first = start_service(redis_url=url)
    client = Api(first, api.rasa)
    transcript = [{"role": "customer", "text": "Tôi bị trừ tiền hai lần 😡", "timestamp": 1795400000.0}]
    ticket_id = client.handoff("durable", reason="money_complaint", transcript=transcript).json()["ticket_id"]
    client.agent("POST", f"/api/tickets/{ticket_id}/claim")
    assert (
        client.agent("POST", f"/api/tickets/{ticket_id}/messages", json={"text": "Chào bạn"}).status_code
        == 200
    )
    before = snapshot(client, ticket_id)
    assert before[:2] == ("claimed", "Lan")

    first.kill()  # kill -9 while the ticket is claimed
    restarted = Api(start_service(redis_url=url), api.rasa)
    assert snapshot(restarted, ticket_id) == before

    time.sleep(1.5)  # appendfsync everysec
    restart_redis()
    after = wait_for(lambda: restarted.agent("GET", f"/api/tickets/{ticket_id}").ok, timeout=10)
    assert after
    assert snapshot(restarted, ticket_id) == before
    # and the service keeps working on the restarted Redis
    follow_up = restarted.agent(
        "POST", f"/api/tickets/{ticket_id}/messages", json={"text": "Mình đang kiểm tra"}
    )
    assert follow_up.status_code == 200
    assert requests.get(f"{restarted.url}/health", timeout=5).json() == {"status": "ok", "redis": True}
