"""The webhook ingress (bot/webhook_ingress.py): the Messenger and Zalo intakes served without Rasa, on a
real Redis, in this test's event loop; and the process itself (`python -m bot.webhook_ingress`), which
must import neither Rasa nor TensorFlow and must mask personal data in its log."""

import contextlib
import hashlib
import hmac
import json
import os
import sys
import time
import uuid

import pytest
import requests
from sanic import Sanic

from bot.channels.webhook_intake import REFUSALS_ALLOWED
from bot.channels.zalo_window import LAST_KEY
from bot.services import PROJECT_ROOT, Process, free_port, wait_until
from bot.webhook_ingress import IngressSettings, create_app
from common.webhook_keys import stream_key
from tests.serving import serving

FB_SECRET = "ingress-app-secret"
FB_VERIFY = "ingress-verify-token"
ZALO_APP_ID = "1234567890123456789"
ZALO_OA_SECRET = "ingress-oa-secret"
MESSENGER = "/webhooks/facebook/webhook"
ZALO = "/webhooks/zalo/webhook"


def fb_signature(body: bytes, secret: str = FB_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def zalo_signature(body: bytes, timestamp: str) -> str:
    material = ZALO_APP_ID.encode() + body + timestamp.encode() + ZALO_OA_SECRET.encode()
    return "mac=" + hashlib.sha256(material).hexdigest()


def messenger_body(*events) -> bytes:
    entries = [{"id": "page-1", "time": 1, "messaging": list(group)} for group in events]
    return json.dumps({"object": "page", "entry": entries}).encode()


def text_event(psid: str, text: str, mid: str) -> dict:
    return {
        "sender": {"id": psid},
        "recipient": {"id": "page-1"},
        "timestamp": 1,
        "message": {"mid": mid, "text": text},
    }


def zalo_body(user: str, text: str, msg_id: str) -> tuple:
    timestamp = str(int(time.time() * 1000))
    event = {
        "app_id": ZALO_APP_ID,
        "event_name": "user_send_text",
        "sender": {"id": user},
        "recipient": {"id": "oa-1"},
        "timestamp": timestamp,
        "message": {"msg_id": msg_id, "text": text},
    }
    body = json.dumps(event, ensure_ascii=False).encode()
    return body, zalo_signature(body, timestamp)


def settings_for(redis_url: str, **overrides) -> IngressSettings:
    values = dict(
        redis_url=redis_url,
        fb_verify_token=FB_VERIFY,
        fb_app_secret=FB_SECRET,
        zalo_app_id=ZALO_APP_ID,
        zalo_oa_secret_key=ZALO_OA_SECRET,
    )
    values.update(overrides)
    return IngressSettings(**values)


@pytest.fixture()
def redis_url(redis_client, redis_server):
    return f"redis://{redis_server.host}:{redis_server.port}/0"


@pytest.fixture()
async def serve(monkeypatch):
    """serve(settings, real_ip_header=None) → an aiohttp session on the ingress app, served on a free port."""
    monkeypatch.setattr(Sanic, "_app_registry", {})
    async with contextlib.AsyncExitStack() as stack:

        async def start(settings, real_ip_header=None):
            app = create_app(settings, name=f"ingress_test_{uuid.uuid4().hex[:8]}")
            if real_ip_header:
                app.config.REAL_IP_HEADER = real_ip_header
            return await stack.enter_async_context(serving(app))

        yield start


async def answer(session, method, path, **kwargs):
    async with session.request(method, path, **kwargs) as response:
        return response.status, await response.text()


# -- Messenger ---------------------------------------------------------------------------------------------


async def test_the_handshake_answers_the_challenge_for_the_verify_token_only(serve, redis_url):
    session = await serve(settings_for(redis_url))
    params = {"hub.mode": "subscribe", "hub.verify_token": FB_VERIFY, "hub.challenge": "1158201444"}
    assert await answer(session, "GET", MESSENGER, params=params) == (200, "1158201444")
    wrong = {**params, "hub.verify_token": "wrong"}
    assert await answer(session, "GET", MESSENGER, params=wrong) == (403, "forbidden")
    unsubscribe = {**params, "hub.mode": "unsubscribe"}
    assert await answer(session, "GET", MESSENGER, params=unsubscribe) == (403, "forbidden")
    assert await answer(session, "GET", "/webhooks/facebook/") == (200, '{"status":"ok"}')


@pytest.mark.parametrize(
    "signature", [None, "sha256=" + "0" * 64, "garbage", fb_signature(b"another body"), "WRONG-SECRET"]
)
async def test_a_wrong_messenger_signature_is_403_and_nothing_is_queued(
    serve, redis_url, redis_client, signature
):
    session = await serve(settings_for(redis_url))
    body = messenger_body([text_event("111", "phí ship bao nhiêu", "m_1")])
    if signature == "WRONG-SECRET":
        signature = fb_signature(body, secret="not-the-app-secret")
    headers = {"X-Hub-Signature-256": signature} if signature else {}
    assert await answer(session, "POST", MESSENGER, data=body, headers=headers) == (403, "invalid signature")
    assert redis_client.xlen(stream_key("facebook")) == 0
    assert redis_client.keys("senmart:fb:*") == []


async def test_every_event_of_a_batch_is_queued_once_in_order(serve, redis_url, redis_client):
    session = await serve(settings_for(redis_url))
    body = messenger_body(
        [text_event("111", "câu 1", "m_1"), text_event("111", "câu 2", "m_2")],
        [text_event("222", "câu 3", "m_3"), {"sender": {"id": "111"}, "delivery": {"mids": ["m_0"]}}],
    )
    headers = {"X-Hub-Signature-256": fb_signature(body)}
    assert await answer(session, "POST", MESSENGER, data=body, headers=headers) == (200, "EVENT_RECEIVED")
    # Meta's redelivery of the same batch: acknowledged, nothing queued again
    assert await answer(session, "POST", MESSENGER, data=body, headers=headers) == (200, "EVENT_RECEIVED")
    queued = redis_client.xrange(stream_key("facebook"))
    assert [(f["sender"], f["dedupe"], json.loads(f["event"])["message"]["text"]) for _, f in queued] == [
        ("111", "m_1", "câu 1"),
        ("111", "m_2", "câu 2"),
        ("222", "m_3", "câu 3"),
    ]
    assert redis_client.get("senmart:fb:mid:m_1") == "queued"
    status, text = await answer(session, "GET", "/health")
    assert status == 200
    assert json.loads(text) == {
        "status": "ok",
        "channels": {
            "facebook": {"configured": True, "accepted": 3},
            "zalo": {"configured": True, "accepted": 0},
        },
    }


async def test_bad_bodies_are_400_and_413(serve, redis_url, redis_client):
    session = await serve(settings_for(redis_url))
    for raw, status, text in (
        (b'{"object": "page", "entry": [', 400, "malformed JSON"),
        (b"\xff\xfe", 400, "malformed JSON"),
        (b'{"object": "page", "entry": {"id": 1}}', 400, "malformed payload"),
        (b"x" * (1_048_576 + 1), 413, "payload too large"),
    ):
        headers = {"X-Hub-Signature-256": fb_signature(raw)}
        assert await answer(session, "POST", MESSENGER, data=raw, headers=headers) == (status, text)
    assert redis_client.xlen(stream_key("facebook")) == 0


async def test_refusals_count_per_sender_behind_a_proxy(serve, redis_url):
    """Behind nginx (X-Real-IP), one sender's refusals do not refuse the others' deliveries."""
    session = await serve(settings_for(redis_url), real_ip_header="x-real-ip")
    body = messenger_body([text_event("111", "chào", "m_9")])
    bad = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "X-Real-IP": "203.0.113.9"}
    for _ in range(REFUSALS_ALLOWED):
        assert (await answer(session, "POST", MESSENGER, data=body, headers=bad))[0] == 403
    assert await answer(session, "POST", MESSENGER, data=body, headers=bad) == (
        429,
        "too many invalid requests",
    )
    good = {"X-Hub-Signature-256": fb_signature(body), "X-Real-IP": "198.51.100.1"}
    assert await answer(session, "POST", MESSENGER, data=body, headers=good) == (200, "EVENT_RECEIVED")


# -- Zalo --------------------------------------------------------------------------------------------------


async def test_a_zalo_message_is_queued_once_and_the_interaction_noted(serve, redis_url, redis_client):
    session = await serve(settings_for(redis_url))
    body, signature = zalo_body("5550001", "phí ship bao nhiêu", "z-1")
    headers = {"X-ZEvent-Signature": signature}
    assert await answer(session, "POST", ZALO, data=body, headers=headers) == (200, '{"status":"ok"}')
    assert await answer(session, "POST", ZALO, data=body, headers=headers) == (200, '{"status":"duplicate"}')
    [(_, fields)] = redis_client.xrange(stream_key("zalo"))
    assert (fields["sender"], fields["dedupe"]) == ("5550001", "z-1")
    assert float(redis_client.get(LAST_KEY.format("5550001"))) == int(json.loads(body)["timestamp"]) / 1000


async def test_a_wrong_zalo_signature_is_403_and_nothing_is_queued(serve, redis_url, redis_client):
    session = await serve(settings_for(redis_url))
    body, _ = zalo_body("5550002", "phí ship bao nhiêu", "z-2")
    for signature in ("mac=" + "0" * 64, zalo_signature(body, "1")):
        headers = {"X-ZEvent-Signature": signature}
        assert await answer(session, "POST", ZALO, data=body, headers=headers) == (403, "invalid signature")
    assert redis_client.xlen(stream_key("zalo")) == 0
    assert redis_client.get(LAST_KEY.format("5550002")) is None


# -- off until configured, Redis down ----------------------------------------------------------------------


async def test_an_unconfigured_ingress_refuses_every_request(serve, redis_url, redis_client):
    session = await serve(
        settings_for(redis_url, fb_verify_token="", fb_app_secret="", zalo_oa_secret_key="")
    )
    params = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    assert await answer(session, "GET", MESSENGER, params=params) == (403, "forbidden")
    body = messenger_body([text_event("111", "chào", "m_1")])
    headers = {"X-Hub-Signature-256": fb_signature(body, secret="")}
    assert await answer(session, "POST", MESSENGER, data=body, headers=headers) == (403, "invalid signature")
    zalo, signature = zalo_body("5550003", "chào", "z-3")
    status, text = await answer(session, "POST", ZALO, data=zalo, headers={"X-ZEvent-Signature": signature})
    assert (status, json.loads(text)["error"]) == (503, "not_configured")
    assert await answer(session, "GET", "/webhooks/zalo/") == (200, '{"status":"not configured"}')
    assert redis_client.xlen(stream_key("facebook")) == redis_client.xlen(stream_key("zalo")) == 0


async def test_redis_down_is_503_for_both_webhooks_and_the_health_check(serve):
    session = await serve(settings_for(f"redis://127.0.0.1:{free_port()}/0"))
    body = messenger_body([text_event("111", "chào", "m_1")])
    headers = {"X-Hub-Signature-256": fb_signature(body)}
    assert await answer(session, "POST", MESSENGER, data=body, headers=headers) == (
        503,
        "temporarily unavailable",
    )
    zalo, signature = zalo_body("5550004", "chào", "z-4")
    headers = {"X-ZEvent-Signature": signature}
    assert await answer(session, "POST", ZALO, data=zalo, headers=headers) == (503, "temporarily unavailable")
    status, text = await answer(session, "GET", "/health")
    assert (status, json.loads(text)["status"]) == (503, "redis unavailable")


# -- the process -------------------------------------------------------------------------------------------


def test_the_ingress_process_imports_neither_rasa_nor_tensorflow_and_masks_its_log(
    tmp_path, redis_url, redis_client
):
    """`python -X importtime` writes every module the process imports to its log, also any imported
    later, while it answers."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "REDIS_URL": redis_url,
        "WEBHOOK_INGRESS_PORT": str(port),
        "FB_APP_SECRET": FB_SECRET,
        "FB_VERIFY_TOKEN": FB_VERIFY,
        "ZALO_APP_ID": ZALO_APP_ID,
        "ZALO_OA_SECRET_KEY": ZALO_OA_SECRET,
    }
    command = [sys.executable, "-X", "importtime", "-m", "bot.webhook_ingress"]
    process = Process("ingress", command, tmp_path / "ingress.log", env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(base + "/health", timeout=2).ok, "ingress", process, timeout=30)
        body = messenger_body([text_event("111", "chào", "m_1")])
        response = requests.post(
            base + MESSENGER, data=body, headers={"X-Hub-Signature-256": fb_signature(body)}
        )
        assert (response.status_code, response.text) == (200, "EVENT_RECEIVED")
        follower = "8417000123456789"
        timestamp = str(int(time.time() * 1000))
        follow = json.dumps(
            {
                "app_id": ZALO_APP_ID,
                "event_name": "follow",
                "follower": {"id": follower},
                "timestamp": timestamp,
            }
        ).encode()
        headers = {"X-ZEvent-Signature": zalo_signature(follow, timestamp)}
        assert requests.post(base + ZALO, data=follow, headers=headers).status_code == 200
        assert redis_client.xlen(stream_key("facebook")) == 1
    finally:
        process.stop()
    log = (tmp_path / "ingress.log").read_text(encoding="utf-8", errors="replace")
    imported = {
        line.rsplit("|", 1)[1].strip() for line in log.splitlines() if line.startswith("import time:")
    }
    assert {"bot.channels.messenger_intake", "bot.channels.zalo_intake", "redis", "sanic"} <= imported
    assert not {m for m in imported if m.split(".")[0] in ("rasa", "tensorflow")}
    assert f"Zalo follow by user {'*' * (len(follower) - 2)}{follower[-2:]}." in log
    assert follower not in log
