"""Pure parts of the Messenger channel: event kinds, de-dup ids, attachment texts, Messenger limits."""

import hashlib
import hmac

import pytest

from bot.channels.facebook import (
    ATTACHMENT_REPLY,
    STICKER_REPLY,
    MessengerChannel,
    attachment_marker,
    attachment_reply,
    dedupe_id,
    event_kind,
    payload_text,
    short_title,
    split_text,
)

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
        ("GET_STARTED", "/greet"),
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
    assert channel.signature_valid(body, good)
    assert channel.signature_valid(body, good.upper().replace("SHA256=", "sha256="))
    assert not channel.signature_valid(body + b" ", good)
    assert not channel.signature_valid(
        body, "sha1=" + hmac.new(b"app-secret", body, hashlib.sha1).hexdigest()
    )
    assert not channel.signature_valid(body, None)
    assert not channel.signature_valid(body, "sha256=")
    unconfigured = MessengerChannel("verify", "", "page-token", "http://127.0.0.1:9", "redis://127.0.0.1:9")
    assert not unconfigured.signature_valid(body, good)
