"""The website channel: Rasa's socket.io answers in the customer's session room.

Guards the python-socketio<5.10 pin: with 5.10+ Rasa never joins the room and the
customer receives nothing (../shared/docs/resources.md).
"""

import queue
import uuid

from tests.socket_client import customer_client


def test_socketio_session_gets_bot_reply(system):
    client = customer_client()
    replies: "queue.Queue[dict]" = queue.Queue()
    confirmed: "queue.Queue[str]" = queue.Queue()
    session_id = uuid.uuid4().hex
    client.on("bot_uttered", lambda data: replies.put(data))
    client.on("session_confirm", lambda data: confirmed.put(data))
    client.connect(
        f"http://127.0.0.1:{system.settings.rasa_port}", transports=["websocket"], socketio_path="socket.io"
    )
    try:
        client.emit("session_request", {"session_id": session_id})
        assert confirmed.get(timeout=10)
        client.emit("user_uttered", {"message": "phí ship bao nhiêu vậy", "session_id": session_id})
        reply = replies.get(timeout=30)
        assert "25.000đ" in reply["text"] and "300.000đ" in reply["text"]
    finally:
        client.disconnect()
