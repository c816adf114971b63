"""socket.io across Rasa instances: a reply emitted by another Rasa process (an agent's reply relayed through
that instance's HTTP API) reaches the customer's socket, through Redis pub/sub (credentials `redis_url`)."""

import queue
import uuid

import pytest
import requests

from testkit.socket_client import customer_client, start_session


@pytest.fixture(scope="module")
def instances(system):
    """The URLs of two Rasa processes of the system (each its own socket.io server, sharing only Redis, as
    two machines would), addressed directly rather than through nginx's sticky routing."""
    first, second = system.rasa_backends[:2]
    return f"http://127.0.0.1:{first.port}", f"http://127.0.0.1:{second.port}"


def connect(base_url):
    """A website customer on one Rasa instance (websocket, as the chat page): (client, session, inbox)."""
    client = customer_client()
    inbox: "queue.Queue[dict]" = queue.Queue()
    client.on("bot_uttered", inbox.put)
    client.connect(base_url, transports=["websocket"], socketio_path="socket.io")
    session = start_session(client)
    return client, session, inbox


def next_text(inbox, timeout=15):
    while True:
        message = inbox.get(timeout=timeout)
        if message.get("text"):
            return message


def relay(base_url, token, session, text, agent="lan"):
    """What the handoff service does for an agent's reply, sent to the given instance."""
    response = requests.post(
        f"{base_url}/conversations/{session}/tracker/events",
        params={"execute_side_effects": "true", "output_channel": "latest", "token": token},
        json={
            "event": "bot",
            "text": text,
            "data": {"custom": {"agent": {"name": agent, "message_id": uuid.uuid4().hex}}},
            "metadata": {"agent": agent},
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_agent_reply_relayed_through_another_instance_reaches_the_socket(system, instances):
    first, second = instances
    client, session, inbox = connect(first)
    try:
        client.emit("user_uttered", {"message": "phí ship bao nhiêu vậy", "session_id": session})
        assert "25.000đ" in next_text(inbox)["text"]
        for i in range(3):
            relay(second, system.rasa_auth_token, session, f"Nhân viên trả lời lần {i + 1}")
            message = next_text(inbox)
            assert message["text"] == f"Nhân viên trả lời lần {i + 1}"
            assert message["custom"]["agent"]["name"] == "lan"
        assert inbox.empty()  # each reply once, not once per instance
    finally:
        client.disconnect()


def test_customers_on_both_instances_get_their_own_replies_only(system, instances):
    first, second = instances
    on_a, session_a, inbox_a = connect(first)
    on_b, session_b, inbox_b = connect(second)
    try:
        # a first message makes socketio the conversation's latest channel (what output_channel=latest uses)
        for client, session, inbox in ((on_a, session_a, inbox_a), (on_b, session_b, inbox_b)):
            client.emit("user_uttered", {"message": "chào shop", "session_id": session})
            next_text(inbox)
        relay(first, system.rasa_auth_token, session_b, "Gửi khách ở máy B qua máy A")
        relay(second, system.rasa_auth_token, session_a, "Gửi khách ở máy A qua máy B")
        assert next_text(inbox_b)["text"] == "Gửi khách ở máy B qua máy A"
        assert next_text(inbox_a)["text"] == "Gửi khách ở máy A qua máy B"
        assert inbox_a.empty() and inbox_b.empty()
    finally:
        on_a.disconnect()
        on_b.disconnect()
