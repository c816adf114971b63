"""The webhook queue (bot/channels/webhook_queue.py) and answering a queued event once
(bot/channels/webhook_turns.py), on a real Redis. A consumer's death is simulated in process by cancelling
its tasks without letting it finish (tests/e2e/test_workers.py kills a real Rasa process)."""

import asyncio
import itertools
import json
import time
from types import SimpleNamespace

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.channels.messenger_api import MessengerSendError
from bot.channels.webhook_queue import QueueEntry, QueueSettings, WebhookQueue
from bot.channels.webhook_turns import TurnBook, TurnCollector, answer_once, replies_in_tracker
from bot.channels.webhooks import AgentReplyOutput
from common.webhook_keys import dead_letter_key, stream_key
from testkit.polling import wait_for_async

FAST = QueueSettings(reclaim_seconds=1.0, attempts=3, backoff_seconds=0.05)
LOOP_CLOCK_SLACK = 0.002


@pytest.fixture()
def redis_url(redis_client, redis_server):
    return f"redis://{redis_server.host}:{redis_server.port}/0"


@pytest.fixture()
async def queues(redis_url):
    """queues(consumer, settings) → a WebhookQueue of channel `zalo`; all stopped at the end."""
    made = []

    def make(consumer="c1", settings=FAST):
        queue = WebhookQueue(redis_url, "zalo", "senmart:zalo", settings)
        queue.consumer = consumer
        made.append(queue)
        return queue

    yield make
    for queue in made:
        await queue.stop(grace_seconds=0.5)


wait_until = wait_for_async


async def test_a_message_id_is_queued_once(queues, redis_client):
    queue = queues()
    assert await queue.enqueue("u1", "mid-1", {"text": "phí ship bao nhiêu"}) is True
    assert await queue.enqueue("u1", "mid-1", {"text": "phí ship bao nhiêu"}) is False
    [(entry_id, fields)] = redis_client.xrange(stream_key("zalo"))
    assert (fields["sender"], fields["dedupe"], json.loads(fields["event"])) == (
        "u1",
        "mid-1",
        {"text": "phí ship bao nhiêu"},
    )
    assert redis_client.get("senmart:zalo:mid:mid-1") == "queued"
    assert 86_000 < redis_client.ttl("senmart:zalo:mid:mid-1") <= 86_400


async def test_each_event_is_handled_once_and_leaves_the_stream(queues, redis_client):
    queue = queues()
    handled = []

    async def handler(entry, attempt):
        handled.append((entry.sender_id, entry.dedupe_id, entry.event["n"], attempt))

    queue.start(handler)
    for n in range(5):
        await queue.enqueue(f"u{n}", f"m{n}", {"n": n})
    await wait_until(lambda: len(handled) == 5)
    await wait_until(queue.idle)
    assert sorted(handled) == [(f"u{n}", f"m{n}", n, 1) for n in range(5)]
    assert redis_client.xlen(stream_key("zalo")) == 0
    assert redis_client.xpending(stream_key("zalo"), "turns")["pending"] == 0
    assert redis_client.keys("senmart:webhook:zalo:lease:*") == []
    assert redis_client.hlen("senmart:webhook:zalo:attempts") == 0


async def test_one_senders_events_are_handled_in_order_one_at_a_time_across_consumers(queues):
    """Two consumers share the stream; a customer's 6 messages run in arrival order without overlap,
    while another customer's run alongside."""
    log = []
    running = {}

    async def handler(entry, attempt):
        sender = entry.sender_id
        assert running.get(sender) is None, "two events of one sender at once"
        running[sender] = entry.event["n"]
        log.append((sender, entry.event["n"]))
        await asyncio.sleep(0.03)
        running[sender] = None

    first, second = queues("c1"), queues("c2")
    for n in range(6):
        await first.enqueue("alice", f"a{n}", {"n": n})
        await first.enqueue("bao", f"b{n}", {"n": n})
    first.start(handler)
    second.start(handler)
    await wait_until(lambda: len(log) == 12)
    assert [n for sender, n in log if sender == "alice"] == list(range(6))
    assert [n for sender, n in log if sender == "bao"] == list(range(6))


async def test_a_customers_burst_does_not_hold_up_another_customer(queues):
    """One running slot: a customer's ten messages in a row wait for each other, not the next customer."""
    log = []

    async def handler(entry, attempt):
        log.append(entry.sender_id)
        await asyncio.sleep(0.05)

    queue = queues(
        settings=QueueSettings(reclaim_seconds=1.0, attempts=3, backoff_seconds=0.05, concurrency=1)
    )
    for n in range(10):
        await queue.enqueue("alice", f"a{n}", {"n": n})
    await queue.enqueue("bao", "b0", {"n": 0})
    queue.start(handler)
    await wait_until(lambda: len(log) == 11)
    assert log.index("bao") <= 2, log


async def test_a_failing_event_is_retried_with_back_off_then_dead_lettered(queues, redis_client):
    queue = queues()
    attempts = []

    async def handler(entry, attempt):
        attempts.append((attempt, time.monotonic()))
        raise MessengerSendError("Graph API answered 500", status=500, retryable=True)

    queue.start(handler)
    await queue.enqueue("1234567890", "mid-9", {"text": "alo"})
    await wait_until(queue.idle)
    assert [a for a, _ in attempts] == [1, 2, 3]
    waits = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(attempts)]
    # back-off doubles; the loop's clock (uvloop's, as Sanic installs it) is read once per loop turn at
    # millisecond resolution, so a timer may fire up to about a millisecond before 0.05 s of real time
    assert waits[0] >= 0.05 - LOOP_CLOCK_SLACK and waits[1] >= 0.1 - LOOP_CLOCK_SLACK
    [letter] = await queue.dead_letters()
    assert letter["channel"] == "zalo" and letter["sender_id"] == "1234567890"
    assert letter["message_id"] == "mid-9" and json.loads(letter["event"]) == {"text": "alo"}
    assert letter["attempts"] == 3 and letter["error"] == "MessengerSendError: Graph API answered 500"
    assert redis_client.llen(dead_letter_key("zalo")) == 1
    # the message id stays taken: a redelivery is not queued again
    assert await queue.enqueue("1234567890", "mid-9", {"text": "alo"}) is False


async def test_the_events_of_a_dead_consumer_are_taken_over_after_the_reclaim_time(queues):
    """c1 takes the event and dies mid-turn (no finish, no lease release); c2 takes it over after about
    reclaim_seconds as a second attempt, and the customer's next message waits for it."""
    started = asyncio.Event()

    async def hangs(entry, attempt):
        started.set()
        await asyncio.sleep(3600)

    handled = []

    async def handler(entry, attempt):
        handled.append((entry.dedupe_id, attempt, time.monotonic()))

    dying = queues("c1")
    dying.start(hangs)
    await dying.enqueue("alice", "a1", {"n": 1})
    await asyncio.wait_for(started.wait(), 5)
    await dying.enqueue("alice", "a2", {"n": 2})
    # death: its tasks stop where they are, nothing is finished or released
    dying._stopping = True
    dying._loop.cancel()
    for task in list(dying._working.values()):
        task.cancel()
    died_at = time.monotonic()

    survivor = queues("c2")
    survivor.start(handler)
    await wait_until(lambda: len(handled) == 2)
    assert [(mid, attempt) for mid, attempt, _ in handled] == [("a1", 2), ("a2", 1)]
    assert 0.9 <= handled[0][2] - died_at <= 4.0
    await wait_until(survivor.idle)


async def test_a_worker_that_renews_its_lease_keeps_its_event(queues):
    """A turn longer than reclaim_seconds is not taken over while its consumer lives."""
    calls = []

    async def slow(entry, attempt):
        calls.append(("c1", attempt))
        await asyncio.sleep(2.5)

    async def other(entry, attempt):
        calls.append(("c2", attempt))

    first, second = queues("c1"), queues("c2")
    first.start(slow)
    await first.enqueue("alice", "a1", {})
    await wait_until(lambda: calls)
    second.start(other)
    await wait_until(first.idle, timeout=6)
    assert calls == [("c1", 1)]


async def test_a_bad_queued_event_goes_to_the_dead_letters(queues, redis_client):
    queue = queues()
    redis_client.xadd(stream_key("zalo"), {"sender": "u1", "dedupe": "m1", "event": "not json"})
    queue.start(lambda entry, attempt: asyncio.sleep(0))
    await wait_until(queue.idle)
    [letter] = await queue.dead_letters()
    assert letter["attempts"] == 0 and letter["error"].startswith("JSONDecodeError")


# -- answering once ---------------------------------------------------------------------------------------


class RecordingOutput(AgentReplyOutput):
    """Sends to a list; `failures` maps a text to how many times its send fails first (retryable)."""

    @classmethod
    def name(cls):
        return "zalo"

    def __init__(self, delivered, failures=None):
        self.delivered = delivered
        self.failures = failures if failures is not None else {}

    async def send_text_message(self, recipient_id, text, **kwargs):
        if self.replayed():
            return
        if self.failures.get(text):
            self.failures[text] -= 1
            error = MessengerSendError("503", status=503, retryable=True)
            if self.must_retry(error):
                raise error
        self.delivered.append(text)
        await self.settled(delivered=True)

    async def send_agent_part(self, recipient_id, text):
        raise AssertionError("no agent reply here")


def entry(entry_id="1-0", mid="mid-1"):
    return QueueEntry(id=entry_id, sender_id="u1", dedupe_id=mid, event={}, received_at=0.0)


async def test_a_retry_runs_the_turn_once_and_sends_only_what_is_left(redis_url, queues):
    queue = queues()
    book = TurnBook(lambda: queue.redis, queue.turn_key)
    turns, delivered = [], []
    failures = {"hai": 1}

    async def run_turn(collector):
        turns.append(1)
        for text in ("một", "hai", "ba"):
            await collector.send_text_message("u1", text)

    class NoTracker:
        async def retrieve(self, sender_id):
            raise AssertionError("a stored turn needs no tracker")

    no_tracker = NoTracker()

    with pytest.raises(MessengerSendError):
        await answer_once(
            book, entry(), 1, run_turn, no_tracker, RecordingOutput(delivered, failures), "zalo"
        )
    assert delivered == ["một"]
    await answer_once(book, entry(), 2, run_turn, no_tracker, RecordingOutput(delivered, failures), "zalo")
    assert turns == [1] and delivered == ["một", "hai", "ba"]


async def test_a_turn_that_ran_before_a_crash_is_not_run_again(redis_url, queues):
    """The process died after Rasa saved the turn and before its replies were stored: the next attempt
    sends the replies the tracker holds after the customer's message."""
    queue = queues()
    book = TurnBook(lambda: queue.redis, queue.turn_key)
    delivered = []
    events = [
        UserUttered("chào", message_id="mid-0"),
        BotUttered("Chào bạn!"),
        UserUttered("phí ship bao nhiêu", message_id="mid-1"),
        ActionExecuted("utter_faq"),
        BotUttered("Phí giao hàng tiêu chuẩn là 25.000đ."),
        BotUttered("Bạn cần hỗ trợ gì thêm không?"),
        UserUttered("cảm ơn", message_id="mid-2"),
        BotUttered("Không có gì ạ."),
    ]

    async def run_turn(collector):
        raise AssertionError("the turn ran already")

    class Store:
        async def retrieve(self, sender_id):
            assert sender_id == "u1"
            return SimpleNamespace(events=events)

    await answer_once(book, entry(), 2, run_turn, Store(), RecordingOutput(delivered), "zalo")
    assert delivered == ["Phí giao hàng tiêu chuẩn là 25.000đ.", "Bạn cần hỗ trợ gì thêm không?"]
    assert replies_in_tracker(events, "mid-404") is None
    assert replies_in_tracker(events, "mid-2")[0]["text"] == "Không có gì ạ."


async def test_the_collector_keeps_what_rasa_sends():
    collector = TurnCollector("facebook")
    await collector.send_response("u1", {"text": "Chọn một:", "buttons": [{"title": "A", "payload": "/a"}]})
    await collector.send_custom_json("u1", {"handoff": {"ticket_id": "KN-20261205-0001"}})
    await collector.send_image_url("u1", "https://senmart.vn/a.png")
    assert collector.name() == "facebook" and collector.sent == 3
    assert collector.messages == [
        {"text": "Chọn một:", "buttons": [{"title": "A", "payload": "/a"}]},
        {"custom": {"handoff": {"ticket_id": "KN-20261205-0001"}}},
        {"image": "https://senmart.vn/a.png"},
    ]


async def test_dead_letters_are_shown_masked_and_queued_again_as_later_attempts(
    queues, redis_url, monkeypatch, capsys
):
    """`python -m bot webhooks --retry`: the operator sees the dead letter, then queues it again; the
    new attempt counts as a later one, so a turn that ran is looked up, not run again."""
    failing = queues()

    async def fails(entry, attempt):
        raise RuntimeError("Zalo unreachable")

    failing.start(fails)
    await failing.enqueue("8412345678", "mid-7", {"text": "alo"})
    await wait_until(failing.idle)
    await failing.stop()

    monkeypatch.setenv("REDIS_URL", redis_url)
    from bot.__main__ import main

    assert await asyncio.get_running_loop().run_in_executor(None, main, ["webhooks", "--retry"]) == 0
    out = capsys.readouterr().out
    assert "zalo: 0 waiting, 1 dead letters" in out and "facebook: 0 waiting, 0 dead letters" in out
    assert "********78  mid-7  RuntimeError: Zalo unreachable" in out and "8412345678" not in out
    assert "queued again: 1" in out

    handled = []

    async def handler(entry, attempt):
        handled.append((entry.sender_id, entry.dedupe_id, entry.event, attempt))

    retried = queues("c2")
    retried.start(handler)
    await wait_until(lambda: handled)
    assert handled == [("8412345678", "mid-7", {"text": "alo"}, 2)]
    await wait_until(retried.idle)
    assert await retried.dead_letters() == []


async def test_a_redis_timeout_while_handling_is_retried_at_once_not_after_the_reclaim_time(queues):
    """Seen in the deployment smoke run: a consumer's connection to Redis timed out while it waited for the
    event's turn; the event is its own, so it tries again a second later instead of leaving it for 30 s."""
    queue = queues(settings=QueueSettings(reclaim_seconds=30.0, attempts=3, backoff_seconds=0.05))
    original, failures = queue._wait_turn, []

    async def flaky(entry_id, sender_id):
        if not failures:
            failures.append(entry_id)
            raise RedisTimeoutError("Timeout connecting to server")
        return await original(entry_id, sender_id)

    queue._wait_turn = flaky
    handled = []

    async def handler(entry, attempt):
        handled.append((entry.dedupe_id, attempt, time.monotonic()))

    await queue.enqueue("u1", "m1", {})
    started = time.monotonic()
    queue.start(handler)
    await wait_until(lambda: handled, timeout=5)
    assert len(failures) == 1 and [(mid, attempt) for mid, attempt, _ in handled] == [("m1", 1)]
    assert handled[0][2] - started < 3.0
