"""Pure parts of the Messenger channel: event kinds, de-dup ids, attachment texts, Messenger limits."""

import asyncio
import hashlib
import hmac
from itertools import pairwise
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.message import Message

from bot.channels.facebook import (
    MessengerChannel,
    attachment_marker,
    attachment_reply,
    payload_text,
    short_title,
    split_text,
)
from bot.channels.messenger_intake import dedupe_id, event_kind
from bot.channels.webhook_turns import TurnCollector
from bot.channels.webhooks import ATTACHMENT_REPLY, STICKER_REPLY

IMAGE = {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/a.jpg"}}
FILE = {"type": "file", "payload": {"url": "https://cdn.fbsbx.com/hoa-don.pdf"}}
STICKER = {
    "type": "image",
    "payload": {"url": "https://scontent.xx.fbcdn.net/s.png", "sticker_id": 369239263222822},
}
LOCATION = {"type": "location", "payload": {"coordinates": {"lat": 10.77, "long": 106.7}}}


@pytest.mark.parametrize(
    "event, kind",
    [
        ({"message": {"mid": "m_1", "text": "chào"}}, "message"),
        ({"message": {"mid": "m_1", "text": "chào", "is_echo": True}}, "echo"),
        ({"postback": {"payload": "GET_STARTED"}}, "postback"),
        ({"delivery": {"mids": ["m_1"], "watermark": 1}}, "delivery"),
        ({"read": {"watermark": 1}}, "read"),
        ({"reaction": {"mid": "m_1", "action": "react"}}, "unknown"),
        ({"message": "not an object"}, "unknown"),
    ],
)
def test_event_kind(event, kind):
    assert event_kind(event) == kind


def test_dedupe_id_is_the_mid_or_sender_and_timestamp():
    assert dedupe_id({"message": {"mid": "m_abc"}}, "message", "123") == "m_abc"
    assert dedupe_id({"postback": {"mid": "m_pb"}}, "postback", "123") == "m_pb"
    assert dedupe_id({"postback": {"payload": "X"}, "timestamp": 1700}, "postback", "123") == "123:1700"


@pytest.mark.parametrize(
    "payload, text",
    [
        ("GET_STARTED", "/get_started"),
        ("get_started", "/get_started"),
        ('/give_rating{"rating": 5}', '/give_rating{"rating": 5}'),
        ("  phí ship  ", "phí ship"),
        (None, ""),
    ],
)
def test_payload_text(payload, text):
    assert payload_text(payload) == text


def test_attachment_markers_keep_what_the_customer_sent():
    assert attachment_marker({}, [IMAGE]) == "[Hình ảnh] https://scontent.xx.fbcdn.net/a.jpg"
    assert attachment_marker({"sticker_id": 369239263222822}, [STICKER]) == "[Nhãn dán]"
    assert attachment_marker({}, [LOCATION]) == "[Vị trí] 10.77,106.7"
    assert attachment_marker({}, [IMAGE, FILE]) == (
        "[Hình ảnh] https://scontent.xx.fbcdn.net/a.jpg\n[Tệp] https://cdn.fbsbx.com/hoa-don.pdf"
    )
    assert attachment_marker({}, [{"type": "ig_reel", "payload": {"url": "https://x/r"}}]) == (
        "[Tệp đính kèm] https://x/r"
    )


def test_attachment_replies_are_polite_and_name_what_was_sent():
    assert attachment_reply({"sticker_id": 1}, [STICKER]) == STICKER_REPLY
    assert attachment_reply({}, [IMAGE]) == ATTACHMENT_REPLY.format(what="hình ảnh")
    assert attachment_reply({}, [FILE]) == ATTACHMENT_REPLY.format(what="tệp")
    assert attachment_reply({}, [IMAGE, FILE]) == ATTACHMENT_REPLY.format(what="hình ảnh/tệp")
    assert "hotro@senmart.vn" in ATTACHMENT_REPLY and "SenMart" in STICKER_REPLY


def test_split_text_keeps_every_character_within_messengers_limit():
    paragraph = "Phí giao hàng tiêu chuẩn của SenMart là 25.000đ. " * 30
    text = f"{paragraph}\n\n{paragraph}"
    parts = split_text(text, limit=2000)
    assert all(len(part) <= 2000 for part in parts) and len(parts) == 2
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert split_text("x" * 4500, limit=2000) == ["x" * 2000, "x" * 2000, "x" * 500]
    assert split_text("   ") == []


def test_short_title_cuts_to_20_characters():
    assert short_title("Gặp nhân viên") == "Gặp nhân viên"
    long = short_title("Báo lỗi về tiền (bị trừ tiền, hoàn tiền chậm)")
    assert len(long) == 20 and long.endswith("…")


def test_signature_is_hmac_sha256_of_the_raw_body():
    channel = MessengerChannel(
        "verify", "app-secret", "page-token", "http://127.0.0.1:9", "redis://127.0.0.1:9"
    )
    body = '{"object":"page","entry":[]}'.encode()
    good = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert channel.intake.signature_valid(body, good)
    assert channel.intake.signature_valid(body, good.upper().replace("SHA256=", "sha256="))
    assert not channel.intake.signature_valid(body + b" ", good)
    assert not channel.intake.signature_valid(
        body, "sha1=" + hmac.new(b"app-secret", body, hashlib.sha1).hexdigest()
    )
    assert not channel.intake.signature_valid(body, None)
    assert not channel.intake.signature_valid(body, "sha256=")
    unconfigured = MessengerChannel("verify", "", "page-token", "http://127.0.0.1:9", "redis://127.0.0.1:9")
    assert not unconfigured.intake.signature_valid(body, good)


PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_get_started_postback_reaches_rasa_as_get_started():
    channel = MessengerChannel(
        "verify", "app-secret", "page-token", "http://127.0.0.1:9", "redis://127.0.0.1:9"
    )
    received = []

    async def on_new_message(message):
        received.append(message)

    event = {"sender": {"id": "psid-1"}, "postback": {"title": "Bắt đầu", "payload": "GET_STARTED"}}
    collector = TurnCollector("facebook")
    asyncio.run(channel._process(None, on_new_message, event, "psid-1", "psid-1:1700", collector))
    assert [(m.text, m.sender_id, m.input_channel) for m in received] == [
        ("/get_started", "psid-1", "facebook")
    ]


def test_get_started_is_an_intent_of_the_domain_answered_by_the_greeting():
    """What widgets and the Messenger postback send: Rasa's `/intent` parsing finds the intent in the
    domain (an unknown one would go to the NLU model and the fallback), and a rule answers utter_greet."""
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    parsed = YAMLStoryReader.unpack_regex_message(Message({"text": "/get_started"}), domain)
    assert parsed.get("intent") == {"name": "get_started", "confidence": 1.0}

    reader = YAMLStoryReader(domain)
    answers = set()
    for path in sorted((PROJECT_ROOT / "data" / "stories").glob("*.yml")):
        for step in reader.read_from_file(str(path)):
            events = step.events
            for first, second in pairwise(events):
                if isinstance(first, UserUttered) and first.intent_name == "get_started":
                    assert isinstance(second, ActionExecuted)
                    answers.add(second.action_name)
    assert answers == {"utter_greet"}


def test_refused_deliveries_block_an_address_for_a_window_and_log_once(caplog):
    from bot.channels.webhook_intake import REFUSAL_WINDOW_SECONDS, REFUSALS_ALLOWED, Refusals

    now = [1000.0]
    refusals = Refusals(clock=lambda: now[0])
    for _ in range(REFUSALS_ALLOWED):
        assert not refusals.blocked("203.0.113.9")
        refusals.note("203.0.113.9", "wrong X-Hub-Signature-256")
    assert refusals.blocked("203.0.113.9")
    assert not refusals.blocked("198.51.100.1")  # another sender is not affected
    assert sum("203.0.113.9" in r.getMessage() for r in caplog.records) == 1
    now[0] += REFUSAL_WINDOW_SECONDS + 1
    assert not refusals.blocked("203.0.113.9")  # a new window


@pytest.mark.parametrize(
    "header", ["", "sha256=", "sha1=" + "0" * 40, "sha256=" + "z" * 64, "sha256=" + "0" * 63]
)
def test_malformed_signatures_are_refused_before_the_body_is_read(header):
    from bot.channels.messenger_intake import SIGNATURE_FORMAT

    assert SIGNATURE_FORMAT.match(header) is None
    assert SIGNATURE_FORMAT.match("sha256=" + "a1" * 32)
