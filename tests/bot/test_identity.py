"""A channel vouches for who the customer is; a client's claim counts only with the shop's signature."""

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels.identity import VERIFIED_IDS, customer_hash, identify, verified_customer

SECRET = "shop-secret"


def message(metadata=None):
    return UserMessage("chào", CollectingOutputChannel(), "s1", metadata=metadata)


def test_a_signed_customer_is_verified(monkeypatch):
    monkeypatch.setenv("CUSTOMER_IDENTITY_SECRET", SECRET)
    m = message({"customer": {"id": "kh-1", "hash": customer_hash("kh-1", SECRET)}})
    identify(m)
    assert m.metadata[VERIFIED_IDS] == {"customer": "kh-1"}


def test_a_forged_claim_or_a_client_set_flag_verifies_nothing(monkeypatch):
    monkeypatch.setenv("CUSTOMER_IDENTITY_SECRET", SECRET)
    m = message({"customer": {"id": "kh-1", "hash": "0" * 64}, VERIFIED_IDS: {"customer": "kh-1"}})
    identify(m)
    assert VERIFIED_IDS not in m.metadata


def test_without_a_secret_no_website_customer_is_verified(monkeypatch):
    monkeypatch.delenv("CUSTOMER_IDENTITY_SECRET", raising=False)
    assert verified_customer({"id": "kh-1", "hash": customer_hash("kh-1", "")}, "") is None


def test_the_channel_adds_what_it_knows(monkeypatch):
    monkeypatch.delenv("CUSTOMER_IDENTITY_SECRET", raising=False)
    m = message()
    identify(m, {"messenger": "2400000001"})
    assert m.metadata == {VERIFIED_IDS: {"messenger": "2400000001"}}


def test_odd_claims_are_ignored():
    for claim in (
        None,
        "kh-1",
        {"id": 1, "hash": "x"},
        {"id": "k" * 200, "hash": customer_hash("k" * 200, SECRET)},
    ):
        assert verified_customer(claim, SECRET) is None
