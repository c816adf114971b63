"""The website channel: Rasa's socket.io answers in the customer's session room.

Guards the python-socketio<5.10 pin: with 5.10+ Rasa never joins the room and the
customer receives nothing (../shared/docs/resources.md).
"""

import queue

import pytest

from testkit.socket_client import customer_client, start_session


def test_socketio_session_gets_bot_reply(system):
    client = customer_client()
    replies: "queue.Queue[dict]" = queue.Queue()
    client.on("bot_uttered", lambda data: replies.put(data))
    client.connect(
        f"http://127.0.0.1:{system.settings.rasa_port}", transports=["websocket"], socketio_path="socket.io"
    )
    try:
        session_id = start_session(client)
        client.emit("user_uttered", {"message": "phí ship bao nhiêu vậy", "session_id": session_id})
        reply = replies.get(timeout=30)
        assert "25.000đ" in reply["text"] and "300.000đ" in reply["text"]
    finally:
        client.disconnect()


def _connected(system):
    client = customer_client()
    inbox: "queue.Queue[tuple]" = queue.Queue()
    client.on("bot_uttered", lambda data: inbox.put(("bot_uttered", data)))
    client.on("session_invalid", lambda data: inbox.put(("session_invalid", data)))
    client.connect(f"http://127.0.0.1:{system.settings.rasa_port}", transports=["websocket"])
    return client, inbox


def test_a_foreign_or_made_up_session_id_is_never_joined(system):
    owner, owner_inbox = _connected(system)
    intruder, intruder_inbox = _connected(system)
    try:
        session = start_session(owner)
        # the owner's own id works again (a reload of the chat page)
        assert start_session(owner, proposed=session) == session
        # another client proposing it without the MAC, or a Messenger PSID, gets a new session
        assert start_session(intruder, proposed=session.split(".")[0]) != session
        psid = "1234567890123456"
        assert start_session(intruder, proposed=psid) != psid
        # and a message under an id the server never issued is refused, not processed
        intruder.emit("user_uttered", {"message": "phí ship bao nhiêu", "session_id": psid})
        assert intruder_inbox.get(timeout=10) == ("session_invalid", {"reason": "unknown_session"})
        owner.emit("user_uttered", {"message": "phí ship bao nhiêu vậy", "session_id": session})
        kind, reply = owner_inbox.get(timeout=30)
        assert kind == "bot_uttered" and "25.000đ" in reply["text"]
        with pytest.raises(queue.Empty):
            intruder_inbox.get(timeout=2)  # the owner's reply went to the owner only
    finally:
        owner.disconnect()
        intruder.disconnect()
