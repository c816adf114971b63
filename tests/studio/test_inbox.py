"""The "Bot chưa hiểu" inbox on a real Redis: masking, grouping, counts, guesses, what counts as unclear
(AnswerGuard's decision, else the old rule at config.yml's threshold), statuses, consumer."""

import json
from datetime import date

import pytest

from bot.nlu.selective import Thresholds
from common.privacy import mask_customer_text
from evaluation.selective import model_thresholds
from handoff.event_consumer import EventConsumer
from handoff.hours import AgentHours, load_holidays
from handoff.settings import PROJECT_ROOT
from handoff.ticket_rules import HandoffRequest
from handoff.ticket_store import TicketStore
from studio.inbox import (
    ASSIGNED,
    IGNORED,
    OPEN,
    Inbox,
    InboxConflict,
    InboxItemNotFound,
    config_thresholds,
    dedupe_key,
    guesses_from_parse,
    is_unclear,
    item_id,
    masked_text,
)

# 2026-11-24 10:00 in Vietnam (UTC+7)
T0 = 1795489200.0
DAY = 86400.0
TEENCODE = PROJECT_ROOT / "data" / "teencode.yml"
STREAM = "senmart:events"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock():
    return Clock(T0)


@pytest.fixture()
def inbox(aredis, clock):
    return Inbox(aredis, teencode_file=TEENCODE, clock=clock)


def parse(intent, confidence, ranking=None, faq=None):
    data = {"intent": {"name": intent, "confidence": confidence}, "intent_ranking": ranking or []}
    if faq is not None:
        data["response_selector"] = {
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": {"intent_response_key": faq[0][0], "confidence": faq[0][1]},
                "ranking": [{"intent_response_key": key, "confidence": value} for key, value in faq],
            },
        }
    return data


# -- masking and grouping ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, masked",
    [
        (
            "Đơn SM12345678, sđt 0912345678, mail lan.nguyen@gmail.com, phiếu KN-20261122-0042",
            "Đơn SM********, sđt 09******78, mail l***@gmail.com, phiếu KN-********-****",
        ),
        ("don sm12345678 cua minh dau", "don SM******** cua minh dau"),
        ("kiểm tra kn-20261122-0042 giúp em", "kiểm tra KN-********-**** giúp em"),
        ("gọi mình số +84 912-345-678 nha", "gọi mình số 09******78 nha"),
        ("số bàn 024 3912 3456", "số bàn 02*******56"),
        ("đơn 1500000đ, mã GIAM50K", "đơn 1500000đ, mã GIAM50K"),
    ],
)
def test_personal_data_is_masked(raw, masked):
    assert mask_customer_text(raw) == masked


def test_stored_text_is_cleaned_then_masked():
    assert masked_text("  sđt\u200b  của mình\n 0987654321  ") == "sđt của mình 09******21"


def test_dedupe_key_folds_diacritics_teencode_and_spaces():
    from common.text import TeencodeFile

    table = TeencodeFile(TEENCODE).normalizer().teencode
    same = ["Phí ship bn?", "phi giao hang bao nhieu", "  PHÍ   giao hàng   bao nhiêu  "]
    assert {dedupe_key(masked_text(text), table) for text in same} == {"phi giao hang bao nhieu"}
    # different phone numbers, order ids or e-mails are the same question
    one = dedupe_key(masked_text("đổi sđt 0912345678 đơn SM12345678"), table)
    two = dedupe_key(masked_text("doi sdt 0987654321 don SM87654321"), table)
    assert one == two == "doi so dien thoai <phone> don <order>"
    assert dedupe_key(masked_text("ko nhận dc hàng"), table) == "khong nhan duoc hang"


# -- guesses and what counts as unclear -------------------------------------------------------------
def test_top_three_guesses_name_faq_topics_and_skip_fallback():
    data = parse(
        "nlu_fallback",
        0.5,
        ranking=[
            {"name": "nlu_fallback", "confidence": 0.5},
            {"name": "faq", "confidence": 0.4},
            {"name": "ask_promotion", "confidence": 0.3},
            {"name": "greet", "confidence": 0.05},
        ],
        faq=[("faq/shipping_fee", 0.9), ("faq/delivery_time", 0.08), ("faq/cod_limit", 0.02)],
    )
    assert guesses_from_parse(data) == [
        {"intent": "faq/shipping_fee", "confidence": 0.36},
        {"intent": "ask_promotion", "confidence": 0.3},
        {"intent": "greet", "confidence": 0.05},
    ]
    without_selector = parse("faq", 0.42, ranking=[{"name": "faq", "confidence": 0.42}])
    assert guesses_from_parse(without_selector) == [{"intent": "faq", "confidence": 0.42}]
    assert guesses_from_parse({"intent": {"name": "greet", "confidence": 0.3}}) == [
        {"intent": "greet", "confidence": 0.3}
    ]


def test_unclear_means_fallback_or_below_half():
    assert is_unclear(parse("nlu_fallback", 0.7))
    assert is_unclear(parse("greet", 0.4999))
    assert not is_unclear(parse("greet", 0.5))
    assert not is_unclear(parse("faq", 0.93))
    # a FAQ answered with a topic guess: faq 1.0 × topic 0.17 (as the live model answers
    # "cty mình cần giấy đỏ để quyết toán" with redeem_points)
    assert is_unclear(parse("faq", 1.0, faq=[("faq/redeem_points", 0.17), ("faq/vat_invoice", 0.12)]))
    assert not is_unclear(parse("faq", 0.98, faq=[("faq/shipping_fee", 0.95)]))
    assert is_unclear(parse("faq", 0.8, faq=[("faq/shipping_fee", 0.6)]))  # 0.48
    assert not is_unclear({"intent": {"name": None, "confidence": 0.0}})  # Messenger attachment marker
    assert not is_unclear(None)


def guarded(parse_data, decision, reasons=()):
    """A parse with the block AnswerGuard adds (bot/nlu/answer_guard.py)."""
    intent = parse_data["intent"]
    signals = {
        "intent": intent["name"],
        "label": intent["name"],
        "intent_confidence": intent["confidence"],
        "margin": intent["confidence"],
        "confidence": intent["confidence"],
        "coverage": 0.3,
        "known_ratio": 0.9,
        "readable": True,
    }
    return {**parse_data, "answer_guard": {**signals, "decision": decision, "reasons": list(reasons)}}


def test_unclear_follows_answer_guard_and_config_thresholds(tmp_path):
    # AnswerGuard decided: its decision counts, whatever the confidences say
    assert is_unclear(guarded(parse("greet", 0.99), "clarify", ["coverage"]))
    assert not is_unclear(guarded(parse("faq", 1.0, faq=[("faq/redeem_points", 0.17)]), "answer"))
    assert is_unclear(guarded(parse("nlu_fallback", 0.6), "clarify", ["intent_confidence"]))
    # a refusal ("SenMart chưa có thông tin…") answered no fact: a knowledge gap for the inbox
    assert is_unclear(guarded(parse("out_of_scope", 0.99), "answer"))
    # without the block (a model trained before AnswerGuard): the old rule at its intent threshold
    assert is_unclear(parse("greet", 0.65), Thresholds(intent_confidence=0.7))
    assert not is_unclear(parse("greet", 0.65), Thresholds(intent_confidence=0.6))
    assert is_unclear(parse("faq", 0.9, faq=[("faq/shipping_fee", 0.7)]), Thresholds(intent_confidence=0.7))
    # the thresholds come from config.yml's AnswerGuard entry
    config = PROJECT_ROOT / "config.yml"
    assert config_thresholds(config) == model_thresholds(config)
    custom = tmp_path / "config.yml"
    custom.write_text("pipeline:\n  - name: bot.nlu.answer_guard.AnswerGuard\n    intent_confidence: 0.8\n")
    assert config_thresholds(custom).intent_confidence == 0.8
    assert config_thresholds(tmp_path / "missing.yml") == Thresholds()
    custom.write_text("pipeline: [")
    assert config_thresholds(custom) == Thresholds()


async def test_observe_records_what_answer_guard_was_unsure_of(aredis, clock, tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("pipeline:\n  - name: bot.nlu.answer_guard.AnswerGuard\n    intent_confidence: 0.7\n")
    inbox = Inbox(aredis, teencode_file=TEENCODE, clock=clock, thresholds=config_thresholds(config))
    assert inbox.thresholds.intent_confidence == 0.7
    events = [
        user_event("a", T0, "ship qua singapore ko", guarded(parse("faq", 1.0), "clarify", ["coverage"])),
        user_event("b", T0 + 1, "chào shop nha", guarded(parse("greet", 0.55), "answer")),
        user_event("c", T0 + 2, "hello shop ơi", parse("greet", 0.65)),  # no block: 0.65 < 0.7
        user_event("d", T0 + 3, "alo alo", parse("greet", 0.75)),
    ]
    assert [await inbox.observe(event) for event in events] == ["new", None, "new", None]
    assert sorted(item["text"] for item in await inbox.list()) == ["hello shop ơi", "ship qua singapore ko"]


# -- recording ----------------------------------------------------------------------------------------
async def test_same_question_is_one_item_with_count_first_and_last_seen(inbox):
    first = await inbox.record("Phí ship bn?", "low_confidence", T0, [{"intent": "greet", "confidence": 0.3}])
    second = await inbox.record("phi giao hang bao nhieu", "low_confidence", T0 + 60)
    third = await inbox.record("PHÍ giao hàng bao nhiêu", "handoff", T0 + 30)
    identity = item_id("phi giao hang bao nhieu")
    assert [first, second, third] == [(identity, "new"), (identity, "updated"), (identity, "updated")]
    assert await inbox.get(identity) == {
        "id": identity,
        "text": "Phí ship bn?",
        "count": 3,
        "first_seen": "2026-11-24T03:00:00+00:00",
        "last_seen": "2026-11-24T03:01:00+00:00",
        "guesses": [{"intent": "greet", "confidence": 0.3}],
        "sources": ["low_confidence", "handoff"],
        "status": "open",
    }


async def test_nothing_unmasked_is_stored(inbox, aredis):
    await inbox.record("sđt mình 0912345678, email lan@gmail.com, đơn SM12345678", "low_confidence", T0)
    dump = json.dumps(
        {key: await aredis.hgetall(key) for key in await aredis.keys("senmart:studio:inbox:item:*")}
    )
    for secret in ("0912345678", "lan@gmail.com", "SM12345678", "12345678"):
        assert secret not in dump
    [item] = await inbox.list()
    assert item["text"] == "sđt mình 09******78, email l***@gmail.com, đơn SM********"


async def test_markers_and_payloads_are_not_recorded(inbox):
    for text in ["[Hình ảnh] https://cdn.example/a.jpg", "/greet", '/inform{"x": 1}', "   ", ""]:
        assert await inbox.record(text, "handoff", T0) == (None, "skipped")
    assert await inbox.list() == []


async def test_newest_first_and_statuses(inbox, clock):
    ids = [(await inbox.record(text, "low_confidence", T0 + i))[0] for i, text in enumerate("abc")]
    await inbox.record("a", "low_confidence", T0 + 10)  # "a" seen again: newest now
    assert [item["text"] for item in await inbox.list()] == ["a", "c", "b"]
    clock.now = T0 + 100
    change = await inbox.set_status(ids[1], ASSIGNED, "lan", topic="shipping_fee")
    assert (change.before["status"], change.after["status"], change.after["topic"]) == (
        OPEN,
        ASSIGNED,
        "shipping_fee",
    )
    assert change.after["updated_by"] == "lan"
    assert change.after["updated_at"] == "2026-11-24T03:01:40+00:00"
    await inbox.set_status(ids[2], IGNORED, "lan", allowed_from=(OPEN,))
    assert [item["text"] for item in await inbox.list(OPEN)] == ["a"]
    assert [item["text"] for item in await inbox.list(ASSIGNED)] == ["b"]
    assert [item["text"] for item in await inbox.list(None)] == ["a", "c", "b"]
    assert await inbox.counts() == {"open": 1, "assigned": 1, "out_of_scope": 0, "ignored": 1}
    with pytest.raises(InboxConflict) as conflict:
        await inbox.set_status(ids[1], IGNORED, "minh", allowed_from=(OPEN,))
    assert conflict.value.status == ASSIGNED and conflict.value.item["topic"] == "shipping_fee"
    with pytest.raises(InboxItemNotFound):
        await inbox.set_status("0" * 16, IGNORED, "minh")
    # a handled question asked again keeps its status, and counts
    await inbox.record("b", "low_confidence", T0 + 200)
    assert [(i["text"], i["count"]) for i in await inbox.list(ASSIGNED)] == [("b", 2)]
    await inbox.restore(change.before, "lan")
    restored = await inbox.get(ids[1])
    assert (restored["status"], "topic" in restored) == (OPEN, False)


async def test_open_items_are_bounded(aredis, clock):
    inbox = Inbox(aredis, teencode_file=TEENCODE, clock=clock, max_items=3)
    for i in range(5):
        await inbox.record(f"câu hỏi số {i}", "low_confidence", T0 + i)
    assert [item["text"] for item in await inbox.list()] == ["câu hỏi số 4", "câu hỏi số 3", "câu hỏi số 2"]
    assert len(await aredis.keys("senmart:studio:inbox:item:*")) == 3


async def test_one_customer_message_is_counted_once_whatever_reports_it(inbox, aredis):
    guesses = [{"intent": "faq/shipping_fee", "confidence": 0.36}]
    assert (await inbox.record("ship bn", "low_confidence", T0, guesses, sender_id="s1"))[1] == "new"
    assert (await inbox.record("ship bn", "low_confidence", T0, guesses, sender_id="s1"))[1] == "seen"
    outcomes = await inbox.record_handoff(
        "s1",
        "low_confidence",
        [
            {
                "role": "customer",
                "text": "ship bn",
                "timestamp": T0,
                "intent": "nlu_fallback",
                "confidence": 0.5,
            },
            {"role": "bot", "text": "Ý bạn là…?", "timestamp": T0 + 1},
            {"role": "customer", "text": "[Hình ảnh] https://x/y.png", "timestamp": T0 + 2},
            {
                "role": "customer",
                "text": "hủy đơn SM12345678",
                "timestamp": T0 + 3,
                "intent": "faq",
                "confidence": 0.4,
            },
            {"role": "customer", "text": "gặp người thật", "timestamp": T0 + 4},
            {"role": "customer", "text": "nhanh lên", "timestamp": T0 + 5},
        ],
        created_at=T0 + 6,
    )
    assert outcomes == ["seen", "new", "new"]
    items = {item["text"]: item for item in await inbox.list()}
    assert set(items) == {"ship bn", "hủy đơn SM********", "gặp người thật"}
    assert items["ship bn"]["count"] == 1
    assert items["ship bn"]["sources"] == ["low_confidence", "handoff"]
    assert items["ship bn"]["guesses"] == guesses
    assert items["hủy đơn SM********"]["guesses"] == [{"intent": "faq", "confidence": 0.4}]
    assert items["gặp người thật"]["guesses"] == []
    [today] = await inbox.daily(1, date(2026, 11, 24))
    assert today == {
        "day": "2026-11-24",
        "inbox": 3,
        "conversations": 0,
        "handoffs": {"low_confidence": 1},
    }


async def test_daily_figures_use_the_local_date(inbox, clock):
    # 23:30 on the 24th in Vietnam is 16:30 UTC; 00:30 on the 25th is 17:30 UTC the 24th
    late, after_midnight = T0 + 13.5 * 3600, T0 + 14.5 * 3600
    await inbox.count_conversation("a", T0)
    await inbox.count_conversation("a", late)
    await inbox.count_conversation("b", late)
    await inbox.count_conversation("a", after_midnight)
    await inbox.record("x", "low_confidence", late)
    await inbox.record("x", "low_confidence", after_midnight)
    await inbox.record("y", "low_confidence", after_midnight)
    await inbox.record_handoff("a", "anger", [], created_at=late)
    await inbox.record_handoff("b", "anger", [], created_at=late)
    await inbox.record_handoff("c", "request_human", [], created_at=after_midnight)
    clock.now = after_midnight
    assert await inbox.daily(3) == [
        {"day": "2026-11-23", "inbox": 0, "conversations": 0, "handoffs": {}},
        {"day": "2026-11-24", "inbox": 1, "conversations": 2, "handoffs": {"anger": 2}},
        {"day": "2026-11-25", "inbox": 2, "conversations": 1, "handoffs": {"request_human": 1}},
    ]


# -- fed by the handoff service's event consumer -------------------------------------------------------
def user_event(sender, timestamp, text, parse_data):
    return {
        "event": "user",
        "sender_id": sender,
        "timestamp": timestamp,
        "text": text,
        "parse_data": parse_data,
        "input_channel": "socketio",
    }


async def test_consumer_feeds_the_inbox_from_the_real_stream(aredis, clock):
    hours = AgentHours.with_holidays(load_holidays(PROJECT_ROOT / "data" / "holidays.yml"))
    store = TicketStore(aredis, hours, clock=clock)
    inbox = Inbox(aredis, teencode_file=TEENCODE, tz=hours.tz, clock=clock)
    consumer = EventConsumer(store, STREAM, consumer="test-consumer", block_ms=0, listeners=[inbox.observe])
    await consumer.ensure_group()
    unclear = parse(
        "nlu_fallback",
        0.5,
        ranking=[{"name": "nlu_fallback", "confidence": 0.5}, {"name": "faq", "confidence": 0.45}],
        faq=[("faq/refund_time", 0.6), ("faq/return_policy", 0.4)],
    )
    clear = parse("greet", 0.98, ranking=[{"name": "greet", "confidence": 0.98}])
    await store.create_or_reuse(HandoffRequest.from_json({"sender_id": "with-agent"}))
    events = [
        user_event("s1", T0 + 1, "tiền hoàn bao lâu về tk 0912345678", unclear),
        user_event("s1", T0 + 1, "tiền hoàn bao lâu về tk 0912345678", unclear),  # delivered twice
        user_event("s2", T0 + 2, "tien hoan bao lau ve tk 0987654321", unclear),
        user_event("s2", T0 + 3, "xin chào", clear),
        user_event("with-agent", T0 + 4, "ờ", unclear),  # written to the agent, not to the bot
        {"event": "bot", "sender_id": "s1", "timestamp": T0 + 5, "text": "Ý bạn là…?"},
    ]
    for event in events:
        await aredis.xadd(STREAM, {"data": json.dumps(event, ensure_ascii=False)})
    outcomes = await consumer.read_once()
    assert outcomes == ["no_ticket", "no_ticket", "no_ticket", "no_ticket", "appended", "ignored"]
    [item] = await inbox.list()
    assert item == {
        "id": item_id("tien hoan bao lau ve tai khoan <phone>"),
        "text": "tiền hoàn bao lâu về tk 09******78",
        "count": 2,
        "first_seen": "2026-11-24T03:00:01+00:00",
        "last_seen": "2026-11-24T03:00:02+00:00",
        "guesses": [
            {"intent": "faq/refund_time", "confidence": 0.27},
            {"intent": "faq/return_policy", "confidence": 0.18},
        ],
        "sources": ["low_confidence"],
        "status": "open",
    }
    [today] = await inbox.daily(1)
    assert today == {"day": "2026-11-24", "inbox": 2, "conversations": 3, "handoffs": {}}
    assert (await aredis.xpending(STREAM, "handoff"))["pending"] == 0


async def test_a_ticket_opened_event_records_its_opening_messages_and_counts_once(inbox, aredis):
    event = {
        "event": "senmart_ticket_opened",
        "sender_id": "s7",
        "ticket_id": "KN-20261124-0007",
        "timestamp": T0,
        "reason": "money_complaint",
        "channel": "facebook",
        "opening": [
            {"role": "customer", "text": "bị trừ tiền 2 lần", "timestamp": T0 - 5},
            {"role": "bot", "text": "Mình chuyển bạn tới nhân viên nhé.", "timestamp": T0 - 4},
        ],
    }
    assert await inbox.observe(event, "ticket_opened") == "ticket_recorded"
    assert await inbox.observe(event, "ticket_opened") == "duplicate"  # a replayed stream entry
    [item] = await inbox.list()
    assert (item["text"], item["count"], item["sources"]) == ("bị trừ tiền 2 lần", 1, ["handoff"])
    day = inbox.day(T0)
    assert await aredis.hgetall(inbox.stats_key("handoffs", day)) == {"money_complaint": "1"}
    assert await inbox.observe({**event, "opening": "not a list"}, "ticket_opened") is None
