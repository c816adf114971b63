"""Zalo OA channel served in the test's event loop, with a real Redis and the Zalo stand-in
(testkit/zalo_stand_in.py); Rasa's agent is a small recording fake (sanic-testing is not installed, so the
app is served on a free port as tests/handoff/test_app_factory.py does)."""

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import time
import uuid

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from redis.exceptions import RedisError
from sanic import Sanic

from bot.channels import zalo_api
from bot.channels.webhooks import ATTACHMENT_REPLY, STICKER_REPLY
from bot.channels.zalo import ZaloChannel, ZaloOutput
from bot.channels.zalo_api import TOKEN_KEY, ZaloOAuthClient, ZaloTokenError, ZaloTokenStore
from bot.channels.zalo_window import LAST_KEY, WINDOW_SECONDS
from bot.nlu.inbound import PAYLOAD_FLAG
from bot.services import free_port
from common.delivery import ZALO_WINDOW, NotDelivered
from handoff.app import error_response
from handoff.relay import CustomerUnreachable, RasaRelay
from testkit.polling import wait_for_async
from testkit.zalo_stand_in import ZaloStandIn
from tests.serving import serving

OA_SECRET = "oa-secret-key-for-tests"
OTHER_APP = "9999999999999999999"
FAQ_ANSWER = "Phí giao hàng tiêu chuẩn của SenMart là 25.000đ, miễn phí cho đơn từ 300.000đ."
IMAGE_URL = "https://photo-stal-1.zdn.vn/2f3c/a1b2c3.jpg"
WINDOW_REFUSAL = "Không gửi được: khách chưa nhắn lại trong 48 giờ qua (quy định của Zalo)"


def sign(body: bytes, timestamp: str, app_id: str, secret: str = OA_SECRET) -> str:
    return hashlib.sha256(app_id.encode() + body + timestamp.encode() + secret.encode()).hexdigest()


def new_user() -> str:
    return str(uuid.uuid4().int)[:19]


class FakeProcessor:
    def __init__(self, store):
        self.store = store

    async def log_message(self, message, should_save_tracker=True):
        tracker = await self.store.get_or_create_tracker(message.sender_id)
        tracker.update(
            UserUttered(
                message.text,
                (message.parse_data or {}).get("intent"),
                input_channel=message.input_channel,
                message_id=message.message_id,
                metadata=message.metadata,
            )
        )
        return tracker

    async def save_tracker(self, tracker):
        await self.store.save(tracker)


class FakeAgent:
    """What the channel uses of Rasa's agent; `handle_message` answers shipping questions."""

    def __init__(self):
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.lock_store = InMemoryLockStore()
        self.processor = FakeProcessor(self.tracker_store)
        self.received = []
        self.delay = 0.0

    async def handle_message(self, message):
        self.received.append(message)
        await asyncio.sleep(self.delay)
        tracker = await self.processor.log_message(message)
        if "phí ship" in message.text:
            await message.output_channel.send_text_message(message.sender_id, FAQ_ANSWER)
            tracker.update(BotUttered(FAQ_ANSWER))
        await self.tracker_store.save(tracker)


class Served:
    def __init__(self, session, channel, agent, zalo):
        self.session, self.channel, self.agent, self.zalo = session, channel, agent, zalo

    async def post(self, event, signature="valid", app_id=None, raw=None, settle=True):
        """POST the event; with `settle`, return once the channel's queue has answered what it took."""
        body = raw if raw is not None else json.dumps(event, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "valid":
            headers["X-ZEvent-Signature"] = sign(
                body, str(event.get("timestamp")), app_id or self.zalo.app_id
            )
        elif signature is not None:
            headers["X-ZEvent-Signature"] = signature
        async with self.session.post("/webhooks/zalo/webhook", data=body, headers=headers) as response:
            answer = response.status, await response.text()
        if settle:
            await wait_until(self.channel.queue.idle)
        return answer

    def event(self, name, user, **fields):
        return {
            "app_id": self.zalo.app_id,
            "user_id_by_app": "55" + user[2:],
            "event_name": name,
            "sender": {"id": user},
            "recipient": {"id": "579745863508352884"},
            "timestamp": str(int(time.time() * 1000)),
            **fields,
        }

    def text(self, user, text, msg_id=None):
        message = {"msg_id": msg_id or uuid.uuid4().hex, "text": text}
        return self.event("user_send_text", user, message=message)

    async def user_events(self, user):
        tracker = await self.agent.tracker_store.retrieve(user)
        return [e for e in (tracker.events if tracker else []) if isinstance(e, UserUttered)]


@pytest.fixture()
def zalo():
    stand_in = ZaloStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture()
def redis_url(redis_client, redis_server):
    return f"redis://{redis_server.host}:{redis_server.port}/0"


def make_channel(zalo, redis_url, **overrides):
    settings = dict(
        app_id=zalo.app_id,
        app_secret=zalo.app_secret,
        oa_secret_key=OA_SECRET,
        access_token=zalo.access_token,
        refresh_token=zalo.refresh_token,
        api_url=zalo.url,
        oauth_url=zalo.url,
        redis_url=redis_url,
    )
    settings.update(overrides)
    channel = ZaloChannel(**settings)
    channel.client.backoff = 0.01
    return channel


@pytest.fixture()
async def serve(zalo, redis_url, monkeypatch):
    """serve(**channel settings) → Served: the channel's blueprint on a Sanic app on a free port."""
    # the channel finds Rasa's agent with Sanic.get_app(), as in Rasa's one-app process: only this test's app
    monkeypatch.setattr(Sanic, "_app_registry", {})
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides):
            channel = make_channel(zalo, redis_url, **overrides)
            agent = FakeAgent()
            app = Sanic(f"zalo_test_{uuid.uuid4().hex[:8]}")
            app.ctx.agent = agent

            async def handler(message):
                await agent.handle_message(message)

            app.blueprint(channel.blueprint(handler), url_prefix="/webhooks/zalo")
            session = await stack.enter_async_context(serving(app))
            return Served(session, channel, agent, zalo)

        yield start


wait_until = functools.partial(wait_for_async, timeout=5.0)


# -- signature and body --------------------------------------------------------------------------------


async def test_signed_text_is_answered_through_the_send_api(serve, zalo, redis_client):
    served = await serve()
    user = new_user()
    event = served.text(user, "phí ship bao nhiêu", msg_id="a1b2c3")
    assert await served.post(event) == (200, '{"status":"ok"}')
    [message] = served.agent.received
    assert (message.text, message.sender_id, message.input_channel, message.message_id) == (
        "phí ship bao nhiêu",
        user,
        "zalo",
        "a1b2c3",
    )
    assert message.metadata == {"verified_ids": {"zalo": user}}
    [reply] = zalo.sent
    assert reply.ok and reply.access_token == "zalo-access-0"
    assert reply.body == {"recipient": {"user_id": user}, "message": {"text": FAQ_ANSWER}}
    assert float(redis_client.get(LAST_KEY.format(user))) == int(event["timestamp"]) / 1000


async def test_mac_prefix_is_accepted(serve, zalo):
    served = await serve()
    event = served.text(new_user(), "phí ship bao nhiêu")
    body = json.dumps(event).encode()
    signature = "mac=" + sign(body, event["timestamp"], zalo.app_id)
    assert (await served.post(event, signature=signature, raw=body))[0] == 200
    assert len(served.agent.received) == 1


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "0" * 64,
        "mac=",
        "sha256=" + "0" * 64,
        "z" * 64,
        "mac=" + sign(b"{}", "1", "1234567890123456789"),
    ],
)
async def test_missing_or_wrong_signature_is_403_and_nothing_processed(serve, zalo, redis_client, signature):
    served = await serve()
    user = new_user()
    assert (await served.post(served.text(user, "phí ship bao nhiêu"), signature=signature))[0] == 403
    assert served.agent.received == [] and zalo.sent == []
    assert redis_client.get(LAST_KEY.format(user)) is None


async def test_signature_with_another_oa_secret_or_timestamp_is_refused(serve):
    served = await serve()
    event = served.text(new_user(), "phí ship bao nhiêu")
    body = json.dumps(event).encode()
    other_secret = sign(body, event["timestamp"], served.zalo.app_id, secret="not-our-oa-secret")
    other_time = sign(body, str(int(event["timestamp"]) + 1), served.zalo.app_id)
    for signature in (other_secret, other_time):
        assert (await served.post(event, signature=signature, raw=body))[0] == 403
    assert served.agent.received == []


async def test_tampered_body_is_refused(serve):
    served = await serve()
    event = served.text(new_user(), "phí ship bao nhiêu")
    signed = json.dumps(event).encode()
    tampered = json.dumps({**event, "message": {**event["message"], "text": "hoàn tiền 5 triệu"}}).encode()
    signature = sign(signed, event["timestamp"], served.zalo.app_id)
    assert (await served.post(event, signature=signature, raw=tampered))[0] == 403
    assert served.agent.received == []


async def test_event_of_another_app_is_refused(serve):
    served = await serve()
    event = {**served.text(new_user(), "phí ship bao nhiêu"), "app_id": OTHER_APP}
    assert await served.post(event, app_id=OTHER_APP) == (403, "unknown app_id")
    assert served.agent.received == []


async def test_body_over_1_mb_is_413_and_exactly_1_mb_is_read(serve):
    served = await serve()
    event = served.text(new_user(), "phí ship bao nhiêu")
    head = json.dumps(event)[:-1].encode() + b', "pad": "'
    exactly = head + b"x" * (1_048_576 - len(head) - 2) + b'"}'
    assert len(exactly) == 1_048_576
    assert (await served.post(event, raw=exactly + b" "))[0] == 413
    assert served.agent.received == []
    assert (await served.post(event, raw=exactly))[0] == 200
    assert [m.text for m in served.agent.received] == ["phí ship bao nhiêu"]


async def test_broken_json_is_400(serve):
    served = await serve()
    for raw in (b'{"app_id": "1', b"\xff\xfe", b'["user_send_text"]'):
        assert (await served.post({}, signature="0" * 64, raw=raw))[0] == 400
    assert served.agent.received == []


async def test_unconfigured_channel_refuses_everything(serve, zalo):
    served = await serve(app_id="", oa_secret_key="")
    event = served.text(new_user(), "phí ship bao nhiêu")
    status, text = await served.post(event, app_id="")
    assert status == 503
    assert json.loads(text) == {
        "error": "not_configured",
        "message": "Zalo channel not configured: set ZALO_APP_ID and ZALO_OA_SECRET_KEY.",
    }
    assert served.agent.received == [] and zalo.sent == []
    async with served.session.get("/webhooks/zalo/") as response:
        assert await response.json() == {"status": "not configured"}


# -- events ----------------------------------------------------------------------------------------------


async def test_redelivered_msg_id_is_processed_once(serve, zalo):
    served = await serve()
    event = served.text(new_user(), "phí ship bao nhiêu")
    assert await served.post(event) == (200, '{"status":"ok"}')
    assert await served.post(event) == (200, '{"status":"duplicate"}')
    assert len(served.agent.received) == 1 and len(zalo.sent) == 1


async def test_slow_turn_is_acknowledged_at_once_and_a_redelivery_meanwhile_is_skipped(serve, zalo):
    served = await serve()
    served.agent.delay = 1.0
    event = served.text(new_user(), "phí ship bao nhiêu")
    started = time.monotonic()
    assert await served.post(event, settle=False) == (200, '{"status":"ok"}')
    assert time.monotonic() - started < 0.5  # answered before the turn finished
    assert await served.post(event, settle=False) == (200, '{"status":"duplicate"}')  # still processing
    await wait_until(lambda: zalo.sent)
    assert await served.post(event) == (200, '{"status":"duplicate"}')  # done
    assert len(served.agent.received) == 1 and [s.text for s in zalo.sent] == [FAQ_ANSWER]


@pytest.mark.parametrize(
    "name, attachment, line, reply",
    [
        (
            "user_send_image",
            {"type": "image", "payload": {"thumbnail": IMAGE_URL + "?t", "url": IMAGE_URL}},
            f"[Hình ảnh] {IMAGE_URL}",
            ATTACHMENT_REPLY.format(what="hình ảnh"),
        ),
        (
            "user_send_sticker",
            {
                "type": "sticker",
                "payload": {"id": "bfe1f3c5ac8745d91c96", "url": "https://zalo-api.zadn.vn/s"},
            },
            "[Nhãn dán]",
            STICKER_REPLY,
        ),
        (
            "user_send_file",
            {
                "type": "file",
                "payload": {"url": "https://f1.zdn.vn/hd.pdf", "size": "20480", "name": "hoa-don.pdf"},
            },
            "[Tệp] hoa-don.pdf https://f1.zdn.vn/hd.pdf",
            ATTACHMENT_REPLY.format(what="tệp"),
        ),
        (
            "user_send_location",
            {"type": "location", "payload": {"coordinates": {"latitude": "10.77", "longitude": "106.70"}}},
            "[Vị trí] 10.77,106.70",
            ATTACHMENT_REPLY.format(what="vị trí"),
        ),
    ],
)
async def test_attachments_become_transcript_lines_with_a_polite_reply(
    serve, zalo, name, attachment, line, reply
):
    served = await serve()
    user = new_user()
    event = served.event(name, user, message={"msg_id": uuid.uuid4().hex, "attachments": [attachment]})
    assert (await served.post(event))[0] == 200
    [user_event] = await served.user_events(user)
    assert user_event.text == line
    assert user_event.input_channel == "zalo"
    assert user_event.metadata == {"attachments": [attachment]}
    assert served.agent.received == []  # no NLU, no prediction
    assert [s.text for s in zalo.sent] == [reply]
    tracker = await served.agent.tracker_store.retrieve(user)
    assert [e.text for e in tracker.events if isinstance(e, BotUttered)] == [reply]


async def test_image_with_caption_keeps_both(serve):
    served = await serve()
    user = new_user()
    message = {
        "msg_id": "m-cap",
        "text": "hàng bị vỡ",
        "attachments": [{"type": "image", "payload": {"url": IMAGE_URL}}],
    }
    assert (await served.post(served.event("user_send_image", user, message=message)))[0] == 200
    assert [e.text for e in await served.user_events(user)] == [f"[Hình ảnh] {IMAGE_URL}\nhàng bị vỡ"]


@pytest.mark.parametrize("name", ["follow", "unfollow"])
async def test_follow_and_unfollow_are_logged_without_a_turn(serve, zalo, redis_client, caplog, name):
    caplog.set_level(logging.INFO, logger="bot.channels.zalo_intake")
    served = await serve()
    user = new_user()
    event = {**served.event(name, user), "follower": {"id": user}, "source": "oa_profile"}
    del event["sender"]
    assert await served.post(event) == (200, '{"status":"ok"}')
    assert served.agent.received == [] and zalo.sent == []
    assert f"Zalo {name} by user {'*' * 17}{user[-2:]}." in caplog.text
    assert user not in caplog.text
    assert (redis_client.get(LAST_KEY.format(user)) is not None) == (name == "follow")


async def test_other_events_are_acknowledged_and_ignored(serve, zalo):
    served = await serve()
    seen = served.event("user_seen_message", new_user(), message={"msg_ids": ["x"]})
    echo = served.event("oa_send_text", new_user(), message={"msg_id": "oa1", "text": "chào"})
    for event in (seen, echo):
        assert await served.post(event) == (200, '{"status":"ignored"}')
    assert served.agent.received == [] and zalo.sent == []


async def test_typed_intent_payload_counts_only_when_the_bot_offered_it(serve):
    served = await serve()
    user = new_user()
    rating = '/give_rating{"rating": 5}'
    assert (await served.post(served.text(user, rating)))[0] == 200
    assert PAYLOAD_FLAG not in served.agent.received[-1].metadata
    tracker = await served.agent.tracker_store.get_or_create_tracker(user)
    buttons = [{"title": f"⭐ {n}", "payload": f'/give_rating{{"rating": {n}}}'} for n in range(1, 6)]
    tracker.update(BotUttered("Bạn đánh giá 1 đến 5 sao nhé", data={"buttons": buttons}))
    await served.agent.tracker_store.save(tracker)
    assert (await served.post(served.text(user, rating)))[0] == 200
    assert served.agent.received[-1].metadata[PAYLOAD_FLAG] == "offered"


async def test_a_number_picks_the_numbered_option(serve):
    served = await serve()
    user = new_user()
    tracker = await served.agent.tracker_store.get_or_create_tracker(user)
    buttons = [{"title": f"⭐ {n}", "payload": f'/give_rating{{"rating": {n}}}'} for n in range(1, 6)]
    tracker.update(BotUttered("Bạn đánh giá 1 đến 5 sao nhé", data={"buttons": buttons}))
    await served.agent.tracker_store.save(tracker)
    assert (await served.post(served.text(user, "4")))[0] == 200
    assert (await served.post(served.text(user, "9")))[0] == 200
    first, second = served.agent.received
    assert (first.text, first.metadata[PAYLOAD_FLAG]) == ('/give_rating{"rating": 4}', "offered")
    assert second.text == "9"  # the bot's last message had no option 9 (a new turn anyway)


# -- output ----------------------------------------------------------------------------------------------


def output_of(channel):
    output = channel.get_output_channel()
    assert isinstance(output, ZaloOutput)
    return output


async def open_window(redis_client, user, ago=0.0):
    redis_client.set(LAST_KEY.format(user), f"{time.time() - ago:.3f}")


async def test_long_text_is_split_at_2000_characters(zalo, redis_url, redis_client):
    channel = make_channel(zalo, redis_url)
    user = new_user()
    await open_window(redis_client, user)
    sentence = "Phí giao hàng tiêu chuẩn của SenMart là 25.000đ. "
    text = (sentence * 90).strip()
    await output_of(channel).send_text_message(user, text)
    parts = [s.text for s in zalo.sent]
    assert len(parts) == 3 and all(len(p) <= 2000 for p in parts)
    assert all(p.endswith("25.000đ.") for p in parts)  # cut at sentence ends
    assert " ".join(parts) == text


async def test_buttons_are_numbered_lines(zalo, redis_url, redis_client):
    channel = make_channel(zalo, redis_url)
    user = new_user()
    await open_window(redis_client, user)
    buttons = [
        {"title": "Phí giao hàng", "payload": "Phí giao hàng bao nhiêu?"},
        {"title": "Đổi trả hàng", "payload": "Chính sách đổi trả thế nào?"},
        {"title": "Trang hỗ trợ", "url": "https://senmart.vn/ho-tro"},
    ]
    output = output_of(channel)
    await output.send_response(user, {"text": "Bạn cần hỗ trợ gì ạ?", "buttons": buttons})
    await output.send_response(user, {"text": "Chọn giúp mình:", "quick_replies": buttons[:1]})
    assert [s.text for s in zalo.sent] == [
        "Bạn cần hỗ trợ gì ạ?\n1. Phí giao hàng\n2. Đổi trả hàng\n3. Trang hỗ trợ: https://senmart.vn/ho-tro",
        "Chọn giúp mình:\n1. Phí giao hàng",
    ]


async def test_handoff_payload_sends_its_text_only_and_images_use_the_media_template(
    zalo, redis_url, redis_client
):
    channel = make_channel(zalo, redis_url)
    user = new_user()
    await open_window(redis_client, user)
    output = output_of(channel)
    text = "Mình đã chuyển yêu cầu của bạn cho nhân viên CSKH, mã phiếu KN-20261123-0001."
    await output.send_response(user, {"text": text, "custom": {"handoff": {"ticket_id": "KN-20261123-0001"}}})
    await output.send_response(user, {"custom": {"handoff": {"ticket_id": "KN-20261123-0001"}}})
    await output.send_response(user, {"custom": {"text": "Cảm ơn bạn!", "kind": "note"}})
    await output.send_response(user, {"custom": {"kind": "widget"}})
    await output.send_response(user, {"image": IMAGE_URL})
    assert [s.message for s in zalo.sent] == [
        {"text": text},
        {"text": "Cảm ơn bạn!"},
        {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "media",
                    "elements": [{"media_type": "image", "url": IMAGE_URL}],
                },
            }
        },
    ]
    assert not any("{" in (s.text or "") for s in zalo.sent)


async def test_5xx_and_rate_limit_are_retried_with_back_off(zalo, redis_url, redis_client, monkeypatch):
    channel = make_channel(zalo, redis_url)
    user = new_user()
    await open_window(redis_client, user)
    slept = []
    real_sleep = asyncio.sleep

    async def sleep(seconds):
        slept.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(zalo_api.asyncio, "sleep", sleep)
    zalo.fail_next(500, -32, 503)
    output = output_of(channel)
    await output.send_text_message(user, "Chào bạn")
    assert [(s.status, s.error) for s in zalo.sent] == [(500, 0), (200, -32), (503, 0), (200, 0)]
    assert slept == [0.01, 0.02, 0.04]
    assert output.sent == 1
    zalo.fail_next(500, 500, 500, 500)
    await output.send_text_message(user, "Chào bạn lần nữa")  # given up after 4 attempts, logged
    assert len(zalo.sent) == 8 and output.sent == 1


async def test_invalid_token_is_refreshed_once_and_the_send_retried(zalo, redis_url, redis_client):
    channel = make_channel(zalo, redis_url)
    user = new_user()
    await open_window(redis_client, user)
    zalo.expire_access_tokens()
    await output_of(channel).send_text_message(user, "Chào bạn")
    first, second = zalo.sent
    assert (first.access_token, first.error) == ("zalo-access-0", -216)
    assert second.ok and second.access_token == zalo.access_token != "zalo-access-0"
    [refresh] = zalo.refreshes
    assert refresh.secret_key == zalo.app_secret
    assert refresh.form == {
        "app_id": zalo.app_id,
        "grant_type": "refresh_token",
        "refresh_token": "zalo-refresh-0",
    }
    stored = redis_client.hgetall(TOKEN_KEY)
    assert (stored["access_token"], stored["refresh_token"]) == (zalo.access_token, zalo.refresh_token)
    assert 89_990 < float(stored["access_expires_at"]) - time.time() <= 90_000
    # Zalo answers -216 again right after the refresh: no second refresh, the message is given up
    zalo.fail_next(-216, -216)
    await output_of(channel).send_text_message(user, "Chào bạn lần nữa")
    assert [s.error for s in zalo.sent[2:]] == [-216, -216] and len(zalo.refreshes) == 2


# -- 48-hour window and -230 -----------------------------------------------------------------------------


AGENT = {"name": "lan", "message_id": "agent-msg-1"}


async def test_agent_reply_outside_48_hours_is_refused_without_sending(zalo, redis_url, redis_client):
    channel = make_channel(zalo, redis_url)
    user = new_user()
    await open_window(redis_client, user, ago=WINDOW_SECONDS + 60)
    output = output_of(channel)
    with pytest.raises(NotDelivered) as refused:
        await output.send_response(user, {"text": "Chào bạn", "custom": {"agent": AGENT}})
    assert refused.value.reason == ZALO_WINDOW
    assert str(refused.value) == f"[senmart-not-delivered:zalo_window] {WINDOW_REFUSAL}"
    assert zalo.sent == []
    redis_client.delete(LAST_KEY.format(user))  # unknown (past 8 days): refused as well
    with pytest.raises(NotDelivered):
        await output.send_response(user, {"text": "Chào bạn", "custom": {"agent": AGENT}})
    # the bot's own pushed messages (resume, CSAT) outside the window are dropped, not raised
    await output.send_text_message(user, "Trợ lý ảo SenMart tiếp tục hỗ trợ bạn.")
    assert zalo.sent == [] and output.sent == 0


async def test_agent_reply_inside_48_hours_is_sent_once(zalo, redis_url, redis_client):
    channel = make_channel(zalo, redis_url)
    user = new_user()
    await open_window(redis_client, user, ago=WINDOW_SECONDS - 60)
    for _ in range(2):  # the relay's retry carries the same message_id
        await output_of(channel).send_response(user, {"text": "Chào bạn", "custom": {"agent": AGENT}})
    assert [(s.recipient, s.text) for s in zalo.sent] == [(user, "Chào bạn")]


async def test_zalo_230_refuses_the_agent_reply_and_frees_its_id(zalo, redis_url, redis_client):
    channel = make_channel(zalo, redis_url)
    user = new_user()
    await open_window(redis_client, user)
    zalo.fail_next(-230)
    with pytest.raises(NotDelivered) as refused:
        await output_of(channel).send_response(user, {"text": "Chào bạn", "custom": {"agent": AGENT}})
    assert refused.value.reason == ZALO_WINDOW
    assert [s.error for s in zalo.sent] == [-230]  # not retried
    await output_of(channel).send_response(user, {"text": "Chào bạn", "custom": {"agent": AGENT}})
    assert [s.error for s in zalo.sent] == [-230, 0]


async def test_the_refusal_reaches_the_console_as_a_clear_message():
    """Rasa answers 500 with the channel's exception text; the relay stops at once and the staff
    service answers the console with the Vietnamese reason."""
    calls = []

    async def rasa(request):
        calls.append(request.path)
        message = f"An unexpected error occurred. Error: {NotDelivered(ZALO_WINDOW)}"
        body = {"version": "3.6.21", "status": "failure", "message": message, "reason": "ConversationError"}
        return web.json_response(body, status=500)

    app = web.Application()
    app.router.add_post("/conversations/{id}/tracker/events", rasa)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    relay = RasaRelay(f"http://127.0.0.1:{port}", backoff_seconds=0.01)
    try:
        with pytest.raises(CustomerUnreachable) as failed:
            await relay.send_agent_message("1234567890123456789", "Chào bạn", "lan")
    finally:
        await relay.close()
        await runner.cleanup()
    assert len(calls) == 1  # not retried
    answer = error_response(failed.value)
    assert answer.status == 502
    assert json.loads(answer.body) == {
        "error": "not_delivered",
        "message": WINDOW_REFUSAL,
        "reason": "zalo_window",
    }


# -- token store -----------------------------------------------------------------------------------------


def token_store(zalo, redis_url, clients, **kwargs):
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    clients.append(client)
    oauth = ZaloOAuthClient(zalo.app_id, zalo.app_secret, zalo.url)
    return ZaloTokenStore(lambda: client, oauth, "zalo-access-0", "zalo-refresh-0", **kwargs)


@pytest.fixture()
async def clients():
    made = []
    yield made
    for client in made:
        await client.close()


async def test_two_concurrent_refreshers_make_one_oauth_call(zalo, redis_url, clients):
    zalo.oauth_delay = 0.3
    first, second = token_store(zalo, redis_url, clients), token_store(zalo, redis_url, clients)
    tokens = await asyncio.gather(first.refresh("zalo-access-0"), second.refresh("zalo-access-0"))
    assert len(zalo.refreshes) == 1 and zalo.refreshes[0].ok
    assert tokens == [zalo.access_token, zalo.access_token]


async def test_rotated_refresh_token_is_saved_before_the_access_token_is_used(
    zalo, redis_url, clients, redis_client
):
    store = token_store(zalo, redis_url, clients)
    await store.seed()
    client = clients[0]

    async def failing_hset(*args, **kwargs):
        raise RedisError("Redis gone")

    client.hset = failing_hset
    with pytest.raises(RedisError):
        await store.refresh("zalo-access-0")  # the new access token is never handed out unsaved
    assert len(zalo.refreshes) == 1 and zalo.refreshes[0].ok
    del client.hset
    # that pair is lost with Redis (the OA must be authorised again): Zalo refuses the spent token
    with pytest.raises(ZaloTokenError, match="error -14014 Invalid refresh token"):
        await token_store(zalo, redis_url, clients).refresh("zalo-access-0")
    assert [r.ok for r in zalo.refreshes] == [True, False]


async def test_old_refresh_token_is_never_reused(zalo, redis_url, clients, redis_client):
    store = token_store(zalo, redis_url, clients)
    new = await store.refresh("zalo-access-0")
    assert redis_client.hget(TOKEN_KEY, "refresh_token") == zalo.refresh_token != "zalo-refresh-0"
    # a restart with the same env values does not seed over the rotated pair
    restarted = token_store(zalo, redis_url, clients)
    assert await restarted.access_token() == new
    await restarted.refresh(new)
    assert [r.form["refresh_token"] for r in zalo.refreshes] == [
        "zalo-refresh-0",
        zalo.refreshes[0].answer["refresh_token"],
    ]
    assert all(r.ok for r in zalo.refreshes)
    # an operator's new env value is newer than the stored chain and replaces it
    zalo.refresh_token = "zalo-refresh-operator"
    reseeded = ZaloTokenStore(
        lambda: clients[0],
        ZaloOAuthClient(zalo.app_id, zalo.app_secret, zalo.url),
        "",
        "zalo-refresh-operator",
    )
    await reseeded.refresh()
    assert zalo.refreshes[-1].form["refresh_token"] == "zalo-refresh-operator" and zalo.refreshes[-1].ok


async def test_access_token_is_refreshed_when_less_than_an_hour_remains(
    zalo, redis_url, clients, redis_client
):
    now = [time.time()]
    store = token_store(zalo, redis_url, clients, clock=lambda: now[0])
    assert await store.access_token() == "zalo-access-0"  # env token, expiry unknown: used as is
    assert zalo.refreshes == []
    fresh = await store.refresh("zalo-access-0")
    now[0] += 90_000 - 3_500  # 58 minutes left
    newer = await store.access_token()
    assert newer != fresh and newer == zalo.access_token and len(zalo.refreshes) == 2


async def test_refresh_without_a_refresh_token_fails_clearly(zalo, redis_url, clients):
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    clients.append(client)
    store = ZaloTokenStore(
        lambda: client, ZaloOAuthClient(zalo.app_id, zalo.app_secret, zalo.url), "only-access"
    )
    with pytest.raises(ZaloTokenError, match="set ZALO_REFRESH_TOKEN"):
        await store.refresh("only-access")
    assert zalo.refreshes == []
