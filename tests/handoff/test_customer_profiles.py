"""One customer across channels: conversations giving the same phone/e-mail share one profile."""

import json

import pytest

from handoff.customer_profiles import contacts_in_event
from handoff.event_consumer import EventConsumer

STREAM = "senmart:events"
PHONE = "0912345678"


def user_event(sender, channel, text, entities=(), timestamp=1795489200.0):
    return {
        "event": "user",
        "sender_id": sender,
        "timestamp": timestamp,
        "text": text,
        "input_channel": channel,
        "parse_data": {"intent": {"name": "inform", "confidence": 0.9}, "entities": list(entities)},
    }


def phone_entity(value=PHONE):
    return {"entity": "phone", "value": value, "start": 0, "end": len(value)}


def email_entity(value):
    return {"entity": "email", "value": value, "start": 0, "end": len(value)}


@pytest.mark.parametrize(
    "event, expected",
    [
        (user_event("a", "socketio", "sdt 0912345678", [phone_entity()]), {"phone": PHONE}),
        (
            user_event("a", "socketio", "mail", [email_entity("lan@example.com")]),
            {"email": "lan@example.com"},
        ),
        ({"event": "slot", "name": "customer_phone", "value": PHONE, "sender_id": "a"}, {"phone": PHONE}),
        ({"event": "slot", "name": "customer_email", "value": None, "sender_id": "a"}, {}),
        ({"event": "slot", "name": "member_tier", "value": "Vàng", "sender_id": "a"}, {}),
        (user_event("a", "socketio", "phí ship", [{"entity": "money", "value": 450000}]), {}),
        ({"event": "bot", "text": "0912345678", "sender_id": "a"}, {}),
        ({"event": "user", "parse_data": "broken", "sender_id": "a"}, {}),
    ],
)
def test_contacts_in_event(event, expected):
    assert contacts_in_event(event) == expected


async def test_same_phone_on_two_channels_links_both(store):
    web = await store.profiles.link("web1", "socketio", {"phone": PHONE}, 10.0)
    fb = await store.profiles.link("2400000001", "facebook", {"phone": "+84 912 345 678"}, 20.0)
    assert web == fb and web.startswith("CP-")
    profile = await store.profiles.profile_of("2400000001")
    assert profile == {
        "id": web,
        "conversations": [
            {"sender_id": "web1", "channel": "socketio", "linked_at": 10.0},
            {"sender_id": "2400000001", "channel": "facebook", "linked_at": 20.0},
        ],
    }


async def test_profiles_merge_when_a_conversation_gives_both_contacts(store):
    by_phone = await store.profiles.link("web1", "socketio", {"phone": PHONE}, 10.0)
    by_email = await store.profiles.link("fb1", "facebook", {"email": "Lan@Example.com"}, 20.0)
    assert by_phone != by_email
    merged = await store.profiles.link("web2", "socketio", {"phone": PHONE, "email": "lan@example.com"}, 30.0)
    assert merged == by_phone  # the oldest profile wins
    for sender in ("web1", "fb1", "web2"):
        profile = await store.profiles.profile_of(sender)
        assert profile["id"] == merged
        assert [c["sender_id"] for c in profile["conversations"]] == ["web1", "fb1", "web2"]
    # the merged-away profile is gone; its contact now points at the winner
    assert await store.profiles.link("fb2", "facebook", {"email": "lan@example.com"}, 40.0) == merged


async def test_no_plain_contact_is_stored_in_redis(store, aredis):
    await store.profiles.link("web1", "socketio", {"phone": PHONE, "email": "lan@example.com"}, 10.0)
    for key in await aredis.keys("*"):
        kind = await aredis.type(key)
        dump = key
        if kind == "string":
            dump += await aredis.get(key)
        elif kind == "hash":
            dump += json.dumps(await aredis.hgetall(key))
        elif kind == "set":
            dump += " ".join(await aredis.smembers(key))
        assert "912345678" not in dump and "lan@example" not in dump


async def test_masked_or_short_values_do_not_link(store):
    assert await store.profiles.link("web1", "socketio", {"phone": "09******78"}, 1.0) is None
    assert await store.profiles.link("web1", "socketio", {"email": "not-an-email"}, 1.0) is None
    assert await store.profiles.profile_of("web1") is None


async def test_unknown_sender_has_no_profile(store):
    assert await store.profiles.profile_of("nobody") is None


async def test_event_stream_links_conversations_and_deletion_unlinks(store, aredis):
    consumer = EventConsumer(store, STREAM, consumer="profiles-test", block_ms=0)
    await consumer.ensure_group()
    events = [
        user_event("web1", "socketio", "sđt mình 0912345678", [phone_entity()], 10.0),
        user_event("psid-77", "facebook", "so dien thoai 0912345678 nhe", [phone_entity()], 20.0),
        {
            "event": "slot",
            "name": "customer_phone",
            "value": PHONE,
            "sender_id": "psid-77",
            "timestamp": 21.0,
        },
        user_event("other", "socketio", "phí ship bao nhiêu", [], 30.0),
    ]
    for event in events:
        await aredis.xadd(STREAM, {"data": json.dumps(event)})
    await consumer.read_once(block_ms=0)
    profile = await store.profiles.profile_of("web1")
    assert [(c["sender_id"], c["channel"]) for c in profile["conversations"]] == [
        ("web1", "socketio"),
        ("psid-77", "facebook"),
    ]
    assert await store.profiles.profile_of("other") is None
    await store.delete_customer("psid-77")
    profile = await store.profiles.profile_of("web1")
    assert [c["sender_id"] for c in profile["conversations"]] == ["web1"]
    assert await store.profiles.profile_of("psid-77") is None
