"""One policy for what the NLU reads of a customer message: bounded length, no typed payloads."""

import pytest

from bot.nlu.inbound import MAX_UNDERSTOOD_CHARS, OFFERED, PAYLOAD_FLAG, bounded
from bot.nlu.selective import inbound_reasons


def test_short_text_is_read_whole():
    assert bounded("phí ship bao nhiêu") == (
        "phí ship bao nhiêu",
        {"chars": 18, "clipped": False, "typed_payload": False},
    )


def test_long_text_is_clipped_for_the_classifiers():
    text, facts = bounded("đơn hàng " * 7000)
    assert len(text) == MAX_UNDERSTOOD_CHARS
    assert facts == {"chars": len("đơn hàng " * 7000), "clipped": True, "typed_payload": False}


@pytest.mark.parametrize(
    "typed, read",
    [
        (
            '/EXTERNAL_csat_request{"ticket_id":"KN-20261204-0001"}',
            'EXTERNAL_csat_request{"ticket_id":"KN-20261204-0001"}',
        ),
        ('  /inform{"member_tier":"Kim Cương"}', 'inform{"member_tier":"Kim Cương"}'),
        ("/request_human", "request_human"),
    ],
)
def test_typed_payloads_are_read_as_words(typed, read):
    text, facts = bounded(typed, {PAYLOAD_FLAG: "yes, trust me"})
    assert text == read and facts["typed_payload"] is True


def test_the_entry_payload_of_chat_widgets_stays_a_payload():
    assert bounded("/get_started") == (
        "/get_started",
        {"chars": 12, "clipped": False, "typed_payload": False},
    )


def test_a_payload_the_channel_vouched_for_stays_a_payload():
    text, facts = bounded("/request_human", {PAYLOAD_FLAG: OFFERED})
    assert text == "/request_human" and facts["typed_payload"] is False


@pytest.mark.parametrize(
    "inbound, intent, reasons",
    [
        ({"clipped": True, "typed_payload": False}, "faq", ["too_long"]),
        ({"clipped": False, "typed_payload": True}, "inform", ["typed_payload"]),
        ({"clipped": True, "typed_payload": True}, "give_rating", ["too_long", "typed_payload"]),
        # a long complaint or a request for a person still reaches a person
        ({"clipped": True, "typed_payload": False}, "complain_money", []),
        ({"clipped": False, "typed_payload": True}, "request_human", []),
        ({"clipped": False, "typed_payload": False}, "faq", []),
        (None, "faq", []),
    ],
)
def test_inbound_reasons(inbound, intent, reasons):
    assert inbound_reasons(inbound, intent) == reasons
