"""Channels vouch only for payloads the bot offered; what a client claims is dropped."""

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from bot.channels import payloads
from bot.channels.payloads import offered_payloads, vouch
from bot.nlu.inbound import OFFERED, PAYLOAD_FLAG

GREETING_BUTTONS = [
    {"title": "Phí giao hàng", "payload": "/faq_shipping"},
    {"title": "Gặp nhân viên", "payload": "/request_human"},
]


def test_offered_payloads_are_the_buttons_since_the_last_customer_message():
    events = [
        UserUttered("chào"),
        BotUttered("Chọn nhé", data={"buttons": [{"title": "Cũ", "payload": "/old"}]}),
        UserUttered("ừ"),
        ActionExecuted("utter_greet"),
        BotUttered("Xin chào", data={"buttons": GREETING_BUTTONS}),
        BotUttered(
            "Hoặc", data={"quick_replies": [{"title": "5 sao", "payload": '/give_rating{"rating": 5}'}]}
        ),
    ]
    assert offered_payloads(events) == {"/faq_shipping", "/request_human", '/give_rating{"rating": 5}'}
    # the tracker's JSON form works the same
    as_dicts = [e.as_dict() for e in events]
    assert offered_payloads(as_dicts) == offered_payloads(events)


def message(text, metadata=None):
    return UserMessage(text, CollectingOutputChannel(), "c1", metadata=metadata)


@pytest.fixture()
def offered(monkeypatch):
    async def fake(sender_id):
        assert sender_id == "c1"
        return {"/request_human"}

    monkeypatch.setattr(payloads, "_offered_to", fake)


async def test_an_offered_payload_is_vouched_for(offered):
    m = message("/request_human")
    await vouch(m)
    assert m.metadata == {PAYLOAD_FLAG: OFFERED}


async def test_a_typed_payload_and_a_forged_flag_are_not(offered):
    m = message('/EXTERNAL_csat_request{"ticket_id":"KN-20261204-0001"}', {PAYLOAD_FLAG: OFFERED, "x": 1})
    await vouch(m)
    assert m.metadata == {"x": 1}


async def test_plain_text_drops_a_forged_flag(offered):
    m = message("phí ship", {PAYLOAD_FLAG: OFFERED})
    await vouch(m)
    assert m.metadata == {}


async def test_a_signed_button_press_is_vouched_for_without_the_tracker(monkeypatch):
    async def unreachable(sender_id):
        raise AssertionError("not needed")

    monkeypatch.setattr(payloads, "_offered_to", unreachable)
    m = message("/get_started")
    await vouch(m, from_button=True)
    assert m.metadata == {PAYLOAD_FLAG: OFFERED}
