"""One customer across conversations: linked on identifiers a channel verified, never on typed contacts."""

import json

import pytest

from handoff.customer_profiles import verified_ids_in_event
from handoff.event_consumer import EventConsumer

STREAM = "senmart:events"
PHONE = "0912345678"
CUSTOMER = "kh-000123"


def user_event(sender, channel, text, entities=(), timestamp=1795489200.0, verified=None):
    event = {
        "event": "user",
        "sender_id": sender,
        "timestamp": timestamp,
        "text": text,
        "input_channel": channel,
        "parse_data": {"intent": {"name": "inform", "confidence": 0.9}, "entities": list(entities)},
    }
    if verified is not None:
        event["metadata"] = {"verified_ids": verified}
    return event


def phone_entity(value=PHONE):
    return {"entity": "phone", "value": value, "start": 0, "end": len(value)}


@pytest.mark.parametrize(
    "event, expected",
    [
        (user_event("a", "socketio", "chào", verified={"customer": CUSTOMER}), {"customer": CUSTOMER}),
        (
            user_event("p", "facebook", "chào", verified={"messenger": "2400000001"}),
            {"messenger": "2400000001"},
        ),
        # a typed phone is no identity
        (user_event("a", "socketio", "sdt 0912345678", [phone_entity()]), {}),
        ({"event": "slot", "name": "customer_phone", "value": PHONE, "sender_id": "a"}, {}),
        # unknown kinds, empty or huge values, broken metadata: nothing
        (user_event("a", "socketio", "x", verified={"phone": PHONE, "customer": ""}), {}),
        (user_event("a", "socketio", "x", verified={"customer": "k" * 500}), {}),
        ({"event": "user", "sender_id": "a", "metadata": "broken"}, {}),
        (
            {"event": "bot", "text": "hi", "sender_id": "a", "metadata": {"verified_ids": {"customer": "x"}}},
            {},
        ),
    ],
)
def test_verified_ids_in_event(event, expected):
    assert verified_ids_in_event(event) == expected


async def test_one_signed_in_customer_on_two_conversations_links_both(store):
    web = await store.profiles.link("web1", "socketio", {"customer": CUSTOMER}, 10.0)
    other_tab = await store.profiles.link("web2", "socketio", {"customer": CUSTOMER}, 20.0)
    assert web == other_tab and web.startswith("CP-")
    profile = await store.profiles.profile_of("web2")
    assert profile == {
        "id": web,
        "conversations": [
            {"sender_id": "web1", "channel": "socketio", "linked_at": 10.0},
            {"sender_id": "web2", "channel": "socketio", "linked_at": 20.0},
        ],
    }


async def test_profiles_merge_when_a_conversation_verifies_both_ids(store):
    by_customer = await store.profiles.link("web1", "socketio", {"customer": CUSTOMER}, 10.0)
    by_messenger = await store.profiles.link("2400000001", "facebook", {"messenger": "2400000001"}, 20.0)
    assert by_customer != by_messenger
    merged = await store.profiles.link(
        "web2", "socketio", {"customer": CUSTOMER, "messenger": "2400000001"}, 30.0
    )
    assert merged == by_customer  # the oldest profile wins
    for sender in ("web1", "2400000001", "web2"):
        profile = await store.profiles.profile_of(sender)
        assert profile["id"] == merged
        assert [c["sender_id"] for c in profile["conversations"]] == ["web1", "2400000001", "web2"]


async def test_no_plain_identifier_is_stored_in_redis(store, aredis):
    await store.profiles.link("web1", "socketio", {"customer": CUSTOMER, "messenger": "2400000001"}, 10.0)
    for key in await aredis.keys("*"):
        kind = await aredis.type(key)
        dump = key
        if kind == "string":
            dump += await aredis.get(key)
        elif kind == "hash":
            dump += json.dumps(await aredis.hgetall(key))
        elif kind == "set":
            dump += " ".join(await aredis.smembers(key))
        assert CUSTOMER not in dump and "2400000001" not in dump


async def test_typed_contacts_never_link(store):
    assert await store.profiles.link("web1", "socketio", {"phone": PHONE}, 1.0) is None
    assert await store.profiles.link("web2", "socketio", {"email": "lan@example.com"}, 1.0) is None
    assert await store.profiles.profile_of("web1") is None


async def test_unknown_sender_has_no_profile(store):
    assert await store.profiles.profile_of("nobody") is None


async def test_event_stream_links_verified_conversations_and_deletion_unlinks(store, aredis):
    consumer = EventConsumer(store, STREAM, consumer="profiles-test", block_ms=0)
    await consumer.ensure_group()
    events = [
        user_event("web1", "socketio", "chào shop", [], 10.0, verified={"customer": CUSTOMER}),
        user_event("web2", "socketio", "phí ship bao nhiêu", [], 20.0, verified={"customer": CUSTOMER}),
        # someone else typing the same phone as web1's customer did: not the same customer
        user_event("web1", "socketio", "sđt mình 0912345678", [phone_entity()], 21.0),
        user_event("stranger", "socketio", "sđt 0912345678 nè", [phone_entity()], 30.0),
        {
            "event": "slot",
            "name": "customer_phone",
            "value": PHONE,
            "sender_id": "stranger",
            "timestamp": 31.0,
        },
    ]
    for event in events:
        await aredis.xadd(STREAM, {"data": json.dumps(event)})
    await consumer.read_once(block_ms=0)
    profile = await store.profiles.profile_of("web1")
    assert [(c["sender_id"], c["channel"]) for c in profile["conversations"]] == [
        ("web1", "socketio"),
        ("web2", "socketio"),
    ]
    assert await store.profiles.profile_of("stranger") is None
    await store.delete_customer("web2")
    profile = await store.profiles.profile_of("web1")
    assert [c["sender_id"] for c in profile["conversations"]] == ["web1"]
    assert await store.profiles.profile_of("web2") is None


async def test_deleting_the_last_conversation_removes_the_identifier_digests(store, aredis):
    await store.profiles.link("web1", "socketio", {"customer": CUSTOMER}, 10.0)
    assert await aredis.keys("handoff:profile_contact:*")
    await store.delete_customer("web1")
    assert await aredis.keys("handoff:profile*") == ["handoff:profile_seq"]  # only the id counter
