"""A server-side socket.io customer (tests, benchmarks) over a WebSocket, as the chat page connects."""

import queue
from typing import Optional

import socketio


def customer_client() -> socketio.Client:
    """A client that sends no Origin header: Rasa's Origin check is for browsers, which always send one
    (websocket-client would otherwise claim Rasa's own URL as its Origin and be refused)."""
    return socketio.Client(reconnection=False, websocket_extra_options={"suppress_origin": True})


def start_session(client: socketio.Client, proposed: Optional[str] = None, timeout: float = 10.0) -> str:
    """session_request → the id the server confirms (it issues one unless `proposed` is an id it issued;
    common/chat_sessions.py). Call after connect()."""
    confirmed: "queue.Queue[str]" = queue.Queue()
    client.on("session_confirm", confirmed.put)
    client.emit("session_request", {"session_id": proposed} if proposed else {})
    return confirmed.get(timeout=timeout)
