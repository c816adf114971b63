"""Send API client against the local Graph stand-in: retries, back-off, give-up, no duplicate sends."""

import asyncio
import itertools
import logging
import socket
import threading
import time

import pytest

from bot.channels.messenger_api import MessengerSendClient, MessengerSendError, mask_token
from bot.services import free_port
from testkit.graph_stand_in import GraphStandIn

TOKEN = "EAAG-page-token-123"
PSID = "6254789012345678"
MESSAGE = {"text": "Phí giao hàng tiêu chuẩn là 25.000đ."}


@pytest.fixture()
def graph():
    stand_in = GraphStandIn().start()
    yield stand_in
    stand_in.stop()


def client_for(url, **kwargs):
    kwargs.setdefault("backoff", 0.01)
    return MessengerSendClient(TOKEN, url, **kwargs)


def payload(**extra):
    return {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": MESSAGE, **extra}


def test_success_posts_once_with_the_access_token(graph):
    answer = client_for(graph.url).send_sync(payload())
    assert answer["recipient_id"] == PSID and answer["message_id"].startswith("m_")
    assert len(graph.sent) == 1
    sent = graph.sent[0]
    assert sent.path == "/me/messages"
    assert sent.query == {"access_token": TOKEN}
    assert sent.body == payload()
    assert sent.status == 200


async def test_async_send_with_human_agent_tag(graph):
    client = client_for(graph.url)
    await client.send(PSID, {"text": "Chào bạn, mình là Lan."}, "MESSAGE_TAG", tag="HUMAN_AGENT")
    assert [s.body for s in graph.sent] == [
        {
            "recipient": {"id": PSID},
            "messaging_type": "MESSAGE_TAG",
            "message": {"text": "Chào bạn, mình là Lan."},
            "tag": "HUMAN_AGENT",
        }
    ]


def test_retries_429_and_500_then_one_success(graph):
    graph.fail_next(429, 500)
    answer = client_for(graph.url).send_sync(payload())
    assert answer["message_id"].startswith("m_")
    assert [s.status for s in graph.sent] == [429, 500, 200]
    assert [s.ok for s in graph.sent].count(True) == 1
    assert all(s.body == payload() for s in graph.sent)


def test_exponential_back_off_between_attempts(graph):
    graph.fail_next(500, 500)
    client_for(graph.url, backoff=0.2).send_sync(payload())
    first, second, third = (s.time for s in graph.sent)
    assert 0.18 <= second - first < 0.6
    assert 0.38 <= third - second < 0.9


def test_retry_after_is_honoured_and_capped(graph):
    graph.fail_next(429, retry_after="0.4")
    client_for(graph.url, backoff=0.01).send_sync(payload())
    assert graph.sent[1].time - graph.sent[0].time >= 0.38

    graph.sent.clear()
    graph.fail_next(429, retry_after="3600")
    start = time.monotonic()
    client_for(graph.url, max_backoff=0.2).send_sync(payload())
    assert time.monotonic() - start < 1.5
    assert [s.status for s in graph.sent] == [429, 200]


def test_gives_up_after_the_attempts(graph):
    graph.fail_next(500, 429, 503, 500)
    with pytest.raises(MessengerSendError) as failure:
        client_for(graph.url, attempts=4).send_sync(payload())
    assert failure.value.attempts == 4
    assert failure.value.status == 500 and failure.value.code == 2
    assert failure.value.retryable and not failure.value.maybe_delivered
    assert [s.status for s in graph.sent] == [500, 429, 503, 500]


def test_no_retry_on_400(graph):
    graph.fail_next(400)
    with pytest.raises(MessengerSendError) as failure:
        client_for(graph.url).send_sync(payload())
    assert failure.value.status == 400 and failure.value.code == 100
    assert failure.value.attempts == 1 and not failure.value.retryable
    assert [s.status for s in graph.sent] == [400]


def test_connection_refused_is_retried_and_reported_without_the_token(caplog):
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{free_port()}"  # nobody listens: the request never leaves
    with pytest.raises(MessengerSendError) as failure:
        client_for(url, attempts=3).send_sync(payload())
    assert failure.value.attempts == 3
    assert failure.value.retryable and not failure.value.maybe_delivered
    assert TOKEN not in str(failure.value)
    assert TOKEN not in caplog.text
    assert caplog.text.count("Send API attempt") == 2


def test_read_timeout_is_not_retried():
    """The request may have reached Meta: a second POST could deliver the message twice."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    connections = []

    def accept_and_stay_silent():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            connections.append(connection)

    threading.Thread(target=accept_and_stay_silent, daemon=True).start()
    url = "http://127.0.0.1:%d" % server.getsockname()[1]
    try:
        with pytest.raises(MessengerSendError) as failure:
            client_for(url, timeout=0.5, attempts=4).send_sync(payload())
        assert failure.value.maybe_delivered and not failure.value.retryable
        assert failure.value.attempts == 1
        assert TOKEN not in str(failure.value)
        time.sleep(0.2)
        assert len(connections) == 1
    finally:
        server.close()
        for connection in connections:
            connection.close()


async def test_send_does_not_block_the_event_loop(graph):
    graph.fail_next(500, 500)
    ticks = []

    async def ticker():
        for _ in range(10):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    client = client_for(graph.url, backoff=0.2)
    await asyncio.gather(client.send(PSID, MESSAGE), ticker())
    assert len(ticks) == 10
    assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.15
    assert [s.status for s in graph.sent] == [500, 500, 200]


def test_mask_token():
    assert (
        mask_token(f"POST /me/messages?access_token={TOKEN}&x=1") == "POST /me/messages?access_token=***&x=1"
    )
