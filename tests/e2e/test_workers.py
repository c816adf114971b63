"""Several Rasa workers (SANIC_WORKERS, `python -m bot run` starts one per core) on the atomic lock store:
one customer's burst is answered in order and once each, many website customers lose no reply, and a worker
killed while it holds a conversation's lock delays that customer by at most the lock's TTL.

Runs last among the e2e tests (it kills a worker of the shared system)."""

import concurrent.futures
import os
import signal
import time
import uuid

import psutil
import pytest
import redis
import requests

from benchmarks.channels_bench import website_sessions
from tests.polling import wait_for

BURST = [f"câu {i}: phí ship bao nhiêu vậy" for i in range(10)]


def rest(system, sender, text, timeout=60):
    return requests.post(
        f"{system.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=timeout
    )


def tracker_events(system, sender):
    response = requests.get(
        f"{system.rasa_url}/conversations/{sender}/tracker",
        params={"token": system.rasa_auth_token},
        timeout=30,
    )
    return response.json()["events"]


def workers(system):
    rasa = next(p for p in system.processes if p.name == "rasa")
    return [child.pid for child in psutil.Process(rasa.popen.pid).children() if child.is_running()]


def test_the_system_runs_several_rasa_workers(system):
    assert system.settings.rasa_workers >= 2
    assert len(workers(system)) == system.settings.rasa_workers


def test_a_burst_of_ten_messages_is_answered_in_order_once_each(system):
    sender = f"burst-{uuid.uuid4().hex}"

    def send(index):
        time.sleep(index * 0.03)  # the order they are sent in; all ten are in flight at once
        return rest(system, sender, BURST[index])

    with concurrent.futures.ThreadPoolExecutor(len(BURST)) as pool:
        responses = list(pool.map(send, range(len(BURST))))
    assert [r.status_code for r in responses] == [200] * len(BURST)
    for response in responses:
        [reply] = response.json()
        assert "25.000đ" in reply["text"]
    events = [e for e in tracker_events(system, sender) if e["event"] in ("user", "bot")]
    assert [e["text"] for e in events if e["event"] == "user"] == BURST
    # each message followed by its own answer before the next one starts: one turn at a time
    assert [e["event"] for e in events] == ["user", "bot"] * len(BURST)


def test_a_hundred_website_customers_for_a_minute_lose_no_reply(system):
    result = website_sessions(system, clients=100, seconds=60.0, think_seconds=1.0)
    assert result["sent"] >= 300
    assert result["lost"] == 0
    assert result["answered"] == result["sent"]
    assert result["in_tracker"] == result["sent"]


@pytest.fixture()
def stopped_action_server(system):
    """The action server frozen (SIGSTOP), so a turn that calls an action holds its lock."""
    actions = next(p for p in system.processes if p.name == "actions")
    os.killpg(actions.popen.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(actions.popen.pid, signal.SIGCONT)


def test_kill_9_of_the_worker_holding_a_lock_delays_that_customer_by_at_most_the_ttl(
    system, stopped_action_server
):
    ttl = system.settings.lock_ttl_seconds
    sender = f"killed-{uuid.uuid4().hex}"
    queue_key = f"senmart:lock:{{{sender}}}:queue"
    store = redis.Redis.from_url(system.redis.url, decode_responses=True)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        # a promotion question calls action_check_promotion: the turn waits on the frozen action server
        stuck = pool.submit(rest, system, sender, "cho mình hỏi mã GIAM50K", 120)
        holder = wait_for(lambda: store.zrange(queue_key, 0, 0), timeout=30)[0]
        pid = int(holder.split("-", 1)[0])
        assert pid in workers(system)
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        with pytest.raises(requests.exceptions.ConnectionError):
            stuck.result(timeout=30)  # that request dies with its worker
    os.killpg(next(p for p in system.processes if p.name == "actions").popen.pid, signal.SIGCONT)
    response = rest(system, sender, "phí ship bao nhiêu vậy")
    waited = time.monotonic() - killed_at
    assert response.status_code == 200 and "25.000đ" in response.json()[0]["text"]
    assert waited <= ttl + 5, f"answered {waited:.1f}s after the kill (lock TTL {ttl}s)"
    assert pid not in workers(system) and len(workers(system)) == system.settings.rasa_workers - 1
    texts = [e.get("text") for e in tracker_events(system, sender) if e["event"] == "user"]
    assert texts[-1] == "phí ship bao nhiêu vậy"
