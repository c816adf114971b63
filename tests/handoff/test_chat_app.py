"""The chat page routes of the handoff service (/, /chat/*) and the relay's history read; `python -m staff`
with a stand-in for Rasa's tracker endpoint."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from common.chat_sessions import issue
from handoff.conversation import ConversationNotFound
from handoff.relay import RasaRelay, RelayError
from handoff.settings import HandoffSettings, SettingsError
from testkit.recording_server import answer_json

from .conftest import CHAT_SESSION_SECRET, HandoffService, service_redis_url

SESSION = issue(CHAT_SESSION_SECRET)  # an id Rasa's socket.io channel issued (common/chat_sessions.py)
TRACKER = {
    "sender_id": SESSION,
    "latest_input_channel": "socketio",
    "events": [
        {"event": "user", "text": "phí ship bao nhiêu?", "timestamp": 10.0, "input_channel": "socketio"},
        {"event": "bot", "text": "Phí giao hàng là 25.000đ.", "timestamp": 10.5, "data": {}, "metadata": {}},
    ],
}


class TrackerStub:
    """Answers GET /conversations/<id>/tracker with `tracker` (or `status`), recording the requests."""

    def __init__(self) -> None:
        self.tracker: Dict[str, Any] = TRACKER
        self.status = 200
        self.requests: List[Dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                stub.requests.append({"path": parsed.path, "query": parse_qs(parsed.query)})
                body = stub.tracker if stub.status == 200 else {"error": "down"}
                answer_json(self, stub.status, json.dumps(body).encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def rasa():
    stub = TrackerStub()
    yield stub
    stub.close()


@pytest.fixture()
def tracker(rasa):
    """The stand-in, answering TRACKER with 200 and with no recorded requests."""
    rasa.tracker, rasa.status = TRACKER, 200
    rasa.requests.clear()
    return rasa


@pytest.fixture(scope="module")
def chat_service(redis_server, rasa, tmp_path_factory):
    """`python -m staff` with default chat settings; RASA_URL is the stand-in."""
    service = HandoffService(service_redis_url(redis_server), rasa.url, tmp_path_factory.mktemp("chat-log"))
    for name in ("RASA_PORT", "CHAT_SOCKET_URL"):
        service.env.pop(name, None)
    service.start()
    yield service
    service.stop()


@pytest.fixture()
def chat(chat_service, tracker):
    """GET on the chat service."""

    def get(path, **kwargs):
        return requests.get(chat_service.url + path, timeout=15, **kwargs)

    return get


@pytest.fixture()
async def relay(tracker):
    client = RasaRelay(tracker.url, "rasa-secret", timeout_seconds=2, backoff_seconds=0.01)
    yield client
    await client.close()


def rasa_port(rasa):
    return rasa.server.server_address[1]


def test_the_page_has_a_csp_allowing_only_our_files_and_rasas_socket(chat, rasa):
    response = chat("/", headers={"Host": "localhost:8000"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = response.text
    assert "<title>SenMart – Hỗ trợ khách hàng</title>" in page
    assert 'placeholder="Nhập câu hỏi của bạn…"' in page and 'maxlength="2000"' in page
    assert "<script>" not in page  # no inline script
    assert re.findall(r'(?:src|href)="([^"]+)"', page) == [
        "data:,",  # empty icon: no favicon request
        "/chat/chat.css",
        "/chat/vendor/socket.io.min.js",
        "/chat/chat.js",
    ]  # nothing from a CDN
    port = rasa_port(rasa)
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"connect-src 'self' http://localhost:{port} ws://localhost:{port}; img-src 'self' https: data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


@pytest.mark.parametrize(
    ("host", "socket_host"),
    [
        ("localhost:8000", "localhost"),
        ("127.0.0.1:8000", "127.0.0.1"),
        ("Shop.Example.VN", "shop.example.vn"),
        ("[::1]:8000", "[::1]"),
        ("evil;script-src *", "localhost"),  # not a host name: never copied into the page or its CSP
    ],
)
def test_config_names_rasa_on_the_host_the_page_came_from(chat, rasa, host, socket_host):
    response = chat("/chat/config.json", headers={"Host": host})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == {
        "socket_url": f"http://{socket_host}:{rasa_port(rasa)}",
        "socket_path": "/socket.io/",
    }


def test_chat_socket_url_setting_wins(start_service, rasa):
    service = start_service(RASA_URL=rasa.url, CHAT_SOCKET_URL="https://chat.senmart.vn/")
    config = requests.get(f"{service.url}/chat/config.json", timeout=10).json()
    assert config == {"socket_url": "https://chat.senmart.vn", "socket_path": "/socket.io/"}
    policy = requests.get(f"{service.url}/", timeout=10).headers["Content-Security-Policy"]
    assert "; connect-src 'self' https://chat.senmart.vn wss://chat.senmart.vn;" in policy


def test_assets_are_served_and_paths_cannot_leave_the_chat_folder(chat):
    script = chat("/chat/chat.js")
    assert script.status_code == 200 and "textContent" in script.text
    assert chat("/chat/chat.css").headers["Content-Type"].startswith("text/css")
    for path in (
        "/chat/../console.html",
        "/chat/%2e%2e/console.html",
        "/chat/..%2f..%2fsettings.py",
        "/chat/x.js",
    ):
        response = chat(path)
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"


def test_history_of_a_socketio_session(chat, tracker):
    response = chat(f"/chat/history?session_id={SESSION}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == {
        "messages": [
            {"role": "customer", "text": "phí ship bao nhiêu?", "timestamp": 10.0},
            {"role": "bot", "text": "Phí giao hàng là 25.000đ.", "timestamp": 10.5},
        ]
    }
    assert tracker.requests == [
        {"path": f"/conversations/{SESSION}/tracker", "query": {"token": ["rasa-secret"]}}
    ]


@pytest.mark.parametrize(
    "session_id",
    [
        "",
        "abc",
        SESSION.upper(),
        SESSION + "0",
        SESSION.split(".")[0],  # the random part alone
        issue("another-secret"),  # issued by someone else
        "../../conversations/x",
        "1234567890123456",  # a Messenger PSID
    ],
    ids=["empty", "short", "upper-case", "extra-character", "random-part", "other-secret", "path", "psid"],
)
def test_history_refuses_ids_the_page_never_makes_without_asking_rasa(chat, tracker, session_id):
    response = chat("/chat/history", params={"session_id": session_id})
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Không tìm thấy cuộc trò chuyện này."}
    assert tracker.requests == []


@pytest.mark.parametrize("channel", ["rest", "facebook", None])
def test_history_of_other_channels_is_not_served(chat, tracker, channel):
    tracker.tracker = {**TRACKER, "latest_input_channel": channel}
    response = chat(f"/chat/history?session_id={SESSION}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_rasa_down_is_a_502_with_a_vietnamese_message(chat, tracker):
    tracker.status = 503
    response = chat(f"/chat/history?session_id={SESSION}")
    assert response.status_code == 502
    assert response.json() == {
        "error": "history_unavailable",
        "message": "Chưa tải được các tin nhắn trước đó. Bạn vẫn có thể tiếp tục trò chuyện với SenMart nhé.",
    }
    assert len(tracker.requests) == 3  # retried like the other relay calls


async def test_relay_reads_any_channel_unless_asked_for_one(relay, tracker):
    tracker.tracker = {**TRACKER, "latest_input_channel": "facebook"}
    messages = await relay.conversation_messages("1234567890123456")
    assert [m["text"] for m in messages] == ["phí ship bao nhiêu?", "Phí giao hàng là 25.000đ."]
    assert tracker.requests[0]["path"] == "/conversations/1234567890123456/tracker"
    with pytest.raises(ConversationNotFound):
        await relay.conversation_messages("1234567890123456", channel="socketio")


async def test_relay_gives_up_on_a_4xx_at_once(relay, tracker):
    tracker.status = 401
    with pytest.raises(RelayError, match="401"):
        await relay.conversation_messages(SESSION)
    assert len(tracker.requests) == 1


@pytest.mark.parametrize(
    ("env", "url", "port"),
    [
        ({}, "", 5005),
        ({"RASA_URL": "http://127.0.0.1:41234"}, "", 41234),  # what `python -m bot run` sets
        ({"RASA_PORT": "5010"}, "", 5010),
        ({"RASA_URL": "http://rasa.internal", "RASA_PORT": "5011"}, "", 5011),
        ({"CHAT_SOCKET_URL": "https://chat.senmart.vn/"}, "https://chat.senmart.vn", 5005),
    ],
)
def test_chat_settings_from_env(env, url, port):
    settings = HandoffSettings.from_env({"HANDOFF_ADMIN_TOKEN": "a", "HANDOFF_SERVICE_TOKEN": "s", **env})
    assert (settings.chat_socket_url, settings.chat_socket_port) == (url, port)


@pytest.mark.parametrize("value", ["javascript:alert(1)", "chat.senmart.vn", "ws://chat.senmart.vn"])
def test_chat_socket_url_must_be_http(value):
    env = {"HANDOFF_ADMIN_TOKEN": "a", "HANDOFF_SERVICE_TOKEN": "s", "CHAT_SOCKET_URL": value}
    with pytest.raises(SettingsError, match="CHAT_SOCKET_URL"):
        HandoffSettings.from_env(env)
