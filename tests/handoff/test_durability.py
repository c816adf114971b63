"""Tickets survive a killed service process and a restarted Redis (state lives in Redis, AOF everysec)."""

import time

import pytest
import redis
import requests

from bot.services import Process, embedded_redis_command, free_port, wait_until
from tests.polling import wait_for

from .conftest import LAN_TOKEN, Api


@pytest.fixture()
def own_redis(tmp_path):
    """A redis-server of this test alone, restartable on the same port and data directory."""
    port = free_port()
    data = tmp_path / "redis-data"
    processes = []

    def start():
        process = Process("redis", embedded_redis_command(port, data), tmp_path / "redis.log", env={})
        processes.append(process)
        client = redis.Redis(port=port)
        wait_until(lambda: client.ping(), "test Redis", process, timeout=20)
        client.close()
        return process

    start()
    yield f"redis://127.0.0.1:{port}/0", start, processes
    for process in processes:
        process.stop()


def snapshot(api, ticket_id):
    ticket = api.agent("GET", f"/api/tickets/{ticket_id}", LAN_TOKEN).json()
    return ticket["status"], ticket["claimed_by"], ticket["claimed_at"], ticket["transcript"]


def test_kill_service_then_restart_redis(api, start_service, own_redis):
    url, start_redis, redis_processes = own_redis
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
    redis_processes[-1].kill()
    start_redis()
    after = wait_for(lambda: restarted.agent("GET", f"/api/tickets/{ticket_id}").ok, timeout=10)
    assert after
    assert snapshot(restarted, ticket_id) == before
    # and the service keeps working on the restarted Redis
    follow_up = restarted.agent(
        "POST", f"/api/tickets/{ticket_id}/messages", json={"text": "Mình đang kiểm tra"}
    )
    assert follow_up.status_code == 200
    assert requests.get(f"{restarted.url}/health", timeout=5).json() == {"status": "ok", "redis": True}
