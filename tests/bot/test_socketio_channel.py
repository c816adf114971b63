"""bot/channels/socketio.py without a server: allowed Origins and what the output emits."""

from typing import Any, Dict, List

import pytest

from bot.channels.socketio import SocketIOChannel, SocketIOChannelOutput, parse_origins


class RecordingServer:
    """Stands in for socketio.AsyncServer: records emits."""

    def __init__(self) -> None:
        self.emitted: List[Dict[str, Any]] = []

    async def emit(self, event: str, data: Any = None, room: Any = None, **kwargs: Any) -> None:
        self.emitted.append({"event": event, "data": data, "room": room})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://localhost:8000 http://127.0.0.1:8000", ["http://localhost:8000", "http://127.0.0.1:8000"]),
        ("https://senmart.vn/, https://www.senmart.vn", ["https://senmart.vn", "https://www.senmart.vn"]),
        (["https://senmart.vn"], ["https://senmart.vn"]),
        ("  ", []),
        (None, []),
    ],
)
def test_origins_are_space_or_comma_separated(value, expected):
    assert parse_origins(value) == expected


@pytest.mark.parametrize(
    ("configured", "applied"),
    [
        ("http://localhost:8000 http://127.0.0.1:8000", ["http://localhost:8000", "http://127.0.0.1:8000"]),
        ("", None),
    ],
)
def test_the_engineio_server_checks_the_configured_origins(configured, applied):
    channel = SocketIOChannel.from_credentials(
        {"session_persistence": True, "cors_allowed_origins": configured, "session_secret": "s3cret"}
    )
    channel.blueprint(lambda message: None)
    # [] would accept every Origin; None is engineio's "same origin only"
    assert channel.sio.eio.cors_allowed_origins == applied
    assert channel.session_persistence is True
    assert channel.sio.eio.max_http_buffer_size == 64 * 1024


def test_no_session_secret_no_channel():
    with pytest.raises(ValueError, match="session_secret"):
        SocketIOChannel.from_credentials({"session_persistence": True, "session_secret": ""})


async def test_an_agent_reply_is_one_event_with_its_text_and_agent():
    sio = RecordingServer()
    output = SocketIOChannelOutput(sio, "bot_uttered")
    message = {
        "text": "Chào bạn,\n\nmình là Lan.",
        "custom": {"agent": {"name": "lan"}},
        "agent": "lan",
        "timestamp": 1.0,
    }
    await output.send_response("s1", message)
    assert sio.emitted == [
        {
            "event": "bot_uttered",
            "data": {"text": "Chào bạn,\n\nmình là Lan.", "custom": {"agent": {"name": "lan"}}},
            "room": "s1",
        }
    ]
    assert output.sent == 1


async def test_other_custom_payloads_follow_their_text_as_before():
    sio = RecordingServer()
    output = SocketIOChannelOutput(sio, "bot_uttered")
    await output.send_response(
        "s1", {"text": "Mã KN-20261123-0001", "custom": {"handoff": {"queue_position": 1}}}
    )
    assert [e["data"] for e in sio.emitted] == [
        {"text": "Mã KN-20261123-0001"},
        {"custom": {"handoff": {"queue_position": 1}}},
    ]
