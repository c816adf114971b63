"""A server-side socket.io customer (tests, benchmarks) over a WebSocket, as the chat page connects."""

import socketio


def customer_client() -> socketio.Client:
    """A client that sends no Origin header: Rasa's Origin check is for browsers, which always send one
    (websocket-client would otherwise claim Rasa's own URL as its Origin and be refused)."""
    return socketio.Client(reconnection=False, websocket_extra_options={"suppress_origin": True})
