"""Relay to Rasa's HTTP API (a recording stand-in answers instead of Rasa)."""

import re

import pytest

from handoff.relay import RESUME_TEXT, RasaRelay, RelayError

from .conftest import RASA_TOKEN


@pytest.fixture()
async def relay(rasa_stub):
    rasa_stub.reset()
    relay = RasaRelay(rasa_stub.url, RASA_TOKEN, timeout_seconds=2, backoff_seconds=0.01)
    yield relay
    await relay.close()


async def test_agent_message_is_a_bot_event_on_the_latest_channel(relay, rasa_stub):
    await relay.send_agent_message("sender/1 ü", "Chào bạn <b>😀</b>", "Lan")
    # an id per agent message lets a channel skip a message it already sent when the relay retries
    message_id = rasa_stub.requests[0]["body"]["data"]["custom"]["agent"].pop("message_id")
    assert re.fullmatch(r"[0-9a-f]{32}", message_id)
    assert rasa_stub.requests == [
        {
            "path": "/conversations/sender%2F1%20%C3%BC/tracker/events",
            "query": {"execute_side_effects": "true", "output_channel": "latest", "token": RASA_TOKEN},
            "body": {
                "event": "bot",
                "text": "Chào bạn <b>😀</b>",
                "data": {"custom": {"agent": {"name": "Lan"}}},
                "metadata": {"agent": "Lan"},
            },
        }
    ]


async def test_return_to_bot_resumes_then_says_so(relay, rasa_stub):
    await relay.return_to_bot("s1")
    assert [(r["path"], r["body"]) for r in rasa_stub.requests] == [
        (
            "/conversations/s1/tracker/events",
            [{"event": "resume"}, {"event": "action", "name": "action_listen"}],
        ),
        ("/conversations/s1/tracker/events", {"event": "bot", "text": RESUME_TEXT}),
    ]
    assert RESUME_TEXT.startswith("Trợ lý ảo SenMart tiếp tục hỗ trợ bạn.")


async def test_resolve_resumes_and_asks_for_csat(relay, rasa_stub):
    await relay.resume_and_request_csat("s1", "KN-20261124-0001")
    assert [(r["path"], r["query"], r["body"]) for r in rasa_stub.requests] == [
        (
            "/conversations/s1/tracker/events",
            {"execute_side_effects": "true", "output_channel": "latest", "token": RASA_TOKEN},
            [{"event": "resume"}, {"event": "action", "name": "action_listen"}],
        ),
        (
            "/conversations/s1/trigger_intent",
            {"output_channel": "latest", "token": RASA_TOKEN},
            {"name": "EXTERNAL_csat_request", "entities": {"ticket_id": "KN-20261124-0001"}},
        ),
    ]


async def test_server_errors_are_retried_up_to_three_attempts(relay, rasa_stub):
    rasa_stub.failures = [500, 503]
    await relay.send_agent_message("s1", "xin chào", "Lan")
    assert len(rasa_stub.requests) == 3
    ids = {r["body"]["data"]["custom"]["agent"]["message_id"] for r in rasa_stub.requests}
    assert len(ids) == 1  # every retry carries the same message id
    rasa_stub.reset()
    rasa_stub.always_fail = 502
    with pytest.raises(RelayError, match="3 attempts"):
        await relay.send_agent_message("s1", "xin chào", "Lan")
    assert len(rasa_stub.requests) == 3
    ids = {r["body"]["data"]["custom"]["agent"]["message_id"] for r in rasa_stub.requests}
    assert len(ids) == 1  # every retry carries the same message id


async def test_client_errors_are_not_retried(relay, rasa_stub):
    rasa_stub.failures = [401]
    with pytest.raises(RelayError, match="401"):
        await relay.send_agent_message("s1", "xin chào", "Lan")
    assert len(rasa_stub.requests) == 1


async def test_unreachable_rasa_fails_after_three_attempts():
    from bot.services import free_port

    relay = RasaRelay(f"http://127.0.0.1:{free_port()}", timeout_seconds=1, backoff_seconds=0.01)
    try:
        with pytest.raises(RelayError, match="after 3 attempts"):
            await relay.send_agent_message("s1", "xin chào", "Lan")
    finally:
        await relay.close()


async def test_no_token_parameter_without_a_token(rasa_stub):
    rasa_stub.reset()
    relay = RasaRelay(rasa_stub.url)
    try:
        await relay.return_to_bot("s1")
    finally:
        await relay.close()
    assert all("token" not in r["query"] for r in rasa_stub.requests)


async def test_a_timed_out_write_is_not_resent(rasa_stub):
    rasa_stub.reset()
    relay = RasaRelay(rasa_stub.url, RASA_TOKEN, timeout_seconds=0.3, backoff_seconds=0.01)
    rasa_stub.delay_seconds = 1.0
    try:
        with pytest.raises(RelayError, match="not resent"):
            await relay.send_agent_message("s1", "xin chào", "Lan")
        assert len(rasa_stub.requests) == 1  # sent once: the agent's message is not shown twice
    finally:
        await relay.close()
        rasa_stub.reset()
