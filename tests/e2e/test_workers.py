"""Several Rasa processes behind nginx (RASA_WORKERS, `python -m bot run` starts one per core) on the atomic
lock store: one customer's burst is answered in order and once each, many website customers lose no reply,
and a process killed while it holds a conversation's lock delays that customer by at most the lock's TTL,
and the chat page reconnects to another process without losing the message.

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

from common.webhook_keys import queue_prefix
from testkit.polling import wait_for
from testkit.website_customers import website_customers

from .conftest import settled
from .test_chat_browser import open_chat, say, session_id, wait_for_bubble
from .test_messenger import delivery, new_psid, post, replies, text_event, user_events

BURST = [f"câu {i}: phí ship bao nhiêu vậy" for i in range(10)]
PROMO_QUESTION = "Đơn hàng của bạn trị giá bao nhiêu ạ? (tổng tiền hàng, chưa gồm phí giao)"


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
    """Pids of the running Rasa processes behind nginx (one Sanic worker each: the process itself)."""
    names = {backend.name for backend in system.rasa_backends}
    return [p.popen.pid for p in system.processes if p.name in names and p.alive()]


def test_the_system_runs_several_rasa_processes_behind_nginx(system):
    assert system.settings.rasa_workers >= 2
    assert len(workers(system)) == system.settings.rasa_workers
    assert any(p.name == "nginx" and p.alive() for p in system.processes)
    # the webhook ingress beside them acknowledges Messenger and Zalo (tests/bot/test_webhook_ingress.py)
    assert any(p.name == "ingress" and p.alive() for p in system.processes)
    health = requests.get(f"{system.ingress_url}/health", timeout=10).json()
    assert health["status"] == "ok"
    assert {c: v["configured"] for c, v in health["channels"].items()} == {"facebook": True, "zalo": True}
    # one Sanic worker per process: no child process answers on a shared port
    for pid in workers(system):
        assert not [c for c in psutil.Process(pid).children() if "rasa" in " ".join(c.cmdline())]
    # the turns yield the cores to the light services on a customer's path (Settings.rasa_nice)
    assert system.settings.rasa_nice == 5
    assert [psutil.Process(pid).nice() for pid in workers(system)] == [5] * system.settings.rasa_workers
    light = {
        p.name: psutil.Process(p.popen.pid).nice()
        for p in system.processes
        if p.name in ("ingress", "handoff", "actions", "nginx")
    }
    assert light == {"ingress": 0, "handoff": 0, "actions": 0, "nginx": 0}


def warm_up(system):
    """Every Rasa process answers one message first. A process's first message builds its TensorFlow graphs
    (about 0.2 s, its event loop blocked); nginx still hands it requests meanwhile, and one sender's messages
    piling up there reach the conversation's lock in no defined order (Sanic's shared port let the idle
    worker take them). See docs/architecture.md, "Several workers"."""
    for backend in system.rasa_backends:
        reply = requests.post(
            f"http://127.0.0.1:{backend.port}/webhooks/rest/webhook",
            json={"sender": f"warm-{uuid.uuid4().hex}", "message": "phí ship bao nhiêu vậy"},
            timeout=60,
        )
        assert reply.status_code == 200 and reply.json()


def test_a_burst_of_ten_messages_is_answered_in_order_once_each(system):
    warm_up(system)
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


def test_a_hundred_website_customers_for_twenty_seconds_lose_no_reply(system):
    """Nothing lost; the minute-long run with its latency figures is `make bench` (channels)."""
    result = website_customers(system, clients=100, seconds=20.0, think_seconds=1.0)
    assert result["sent"] >= 100
    assert result["lost"] == 0
    assert result["answered"] == result["sent"]
    assert result["in_tracker"] == result["sent"]


@pytest.fixture()
def action_server_frozen(system):
    """Freeze the action server (SIGSTOP): a turn that calls an action holds its lock until thawed."""
    group = next(p for p in system.processes if p.name == "actions").popen.pid
    os.killpg(group, signal.SIGSTOP)
    thawed = []

    def thaw():
        if not thawed:
            os.killpg(group, signal.SIGCONT)
            thawed.append(True)

    try:
        yield thaw
    finally:
        thaw()


def test_kill_9_of_the_process_answering_a_messenger_message(system, graph, action_server_frozen):
    """A Messenger message is acknowledged, then the process running its turn dies: the other process
    takes the event over (after WEBHOOK_RECLAIM_SECONDS and the conversation lock's TTL) and the customer
    gets the answer once; the conversation holds the message once. The killed process is started again."""
    store = redis.Redis.from_url(system.redis.url, decode_responses=True)
    psid = new_psid()
    body = delivery([text_event(psid, "Cho tôi hỏi mã GIAM50K")])
    assert post(system, body, settle=False).status_code == 200
    # the turn runs action_check_promotion: with the action server frozen, it hangs in its process
    holder = wait_for(lambda: store.get(f"{queue_prefix('facebook')}:lease:{psid}"), timeout=30)
    pid = int(holder.rsplit("-", 1)[1])
    assert pid in workers(system)
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    action_server_frozen()
    settled(system, "facebook")
    waited = time.monotonic() - killed_at
    texts = replies(graph, psid)
    assert texts and texts[-1].endswith(PROMO_QUESTION), texts
    assert len(texts) == len(set(texts)), texts  # nothing sent twice
    assert [e["text"] for e in user_events(system, psid)] == ["Cho tôi hỏi mã GIAM50K"]
    assert waited <= 3 + system.settings.lock_ttl_seconds + 15, f"answered {waited:.1f}s after the kill"
    assert post(system, delivery([text_event(psid, "đơn 600k thì sao")])).status_code == 200
    assert replies(graph, psid)[-1].startswith("Đơn 600.000đ dùng được mã GIAM50K")
    system.start_rasa_processes()  # the next test kills a process again
    assert len(workers(system)) == system.settings.rasa_workers


def test_kill_9_of_the_worker_holding_a_customers_lock(system, driver, action_server_frozen):
    """The chat page's process dies mid-turn: the page reconnects (through nginx) to the other process,
    re-sends the message the conversation never got, and it is answered once the dead process's lock
    expires (its TTL)."""
    ttl = system.settings.lock_ttl_seconds
    store = redis.Redis.from_url(system.redis.url, decode_responses=True)
    open_chat(driver, system)
    sender = session_id(driver)
    queue_key = f"senmart:lock:{{{sender}}}:queue"
    # a promotion question runs action_check_promotion: with the action server frozen, the turn hangs
    say(driver, "Cho tôi hỏi mã GIAM50K")
    holder = wait_for(lambda: store.zrange(queue_key, 0, 0), timeout=30)[0]
    pid = int(holder.split("-", 1)[0])
    assert pid in workers(system)
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    action_server_frozen()
    answer = wait_for_bubble(driver, "bot", lambda t: t.endswith(PROMO_QUESTION), timeout=ttl + 30)
    waited = time.monotonic() - killed_at
    assert answer.endswith(PROMO_QUESTION)
    assert waited <= ttl + 15, f"answered {waited:.1f}s after the kill (lock TTL {ttl}s)"
    assert pid not in workers(system) and len(workers(system)) == system.settings.rasa_workers - 1
    say(driver, "đơn 600k thì sao")
    wait_for_bubble(driver, "bot", lambda t: t.startswith("Đơn 600.000đ dùng được mã GIAM50K"))
    # the conversation holds each message once, in order
    texts = [e["text"] for e in tracker_events(system, sender) if e["event"] == "user"]
    assert texts == ["Cho tôi hỏi mã GIAM50K", "đơn 600k thì sao"]
