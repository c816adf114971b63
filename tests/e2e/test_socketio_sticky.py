"""Every standard socket.io client works with several Rasa processes behind nginx (`python -m bot run`):
HTTP long-polling only, polling then the WebSocket upgrade, WebSocket only. An Engine.IO session lives in
one process; its id names that process (`p1-…`) and nginx sends the session's requests there
(bot/proxy.py). Checked with python-socketio's client and with the chat page's socket.io client in
headless Chromium."""

import queue

import pytest
import requests

from testkit.socket_client import customer_client, start_session

from .test_chat_browser import open_chat

QUESTION = "phí ship bao nhiêu?"
FEE = "25.000đ"  # data/nlu/faq/shipping_fee.yml
CONNECTIONS = 10
BROWSER_SESSIONS = 5


def prefixes(system):
    return {f"{backend.tag}-" for backend in system.rasa_backends}


def ask_over_socketio(system, transports):
    """A fresh python-socketio client: connect, session, one FAQ question; (engine sid, transport, text)."""
    client = customer_client()
    inbox: "queue.Queue[dict]" = queue.Queue()
    client.on("bot_uttered", inbox.put)
    client.connect(system.rasa_url, transports=transports, socketio_path="socket.io", wait_timeout=10)
    try:
        session = start_session(client)
        client.emit("user_uttered", {"message": QUESTION, "session_id": session})
        text = ""
        while not text:
            text = inbox.get(timeout=30).get("text") or ""
        return client.eio.sid, client.transport(), text
    finally:
        client.disconnect()


def test_the_system_has_several_tagged_processes(system):
    assert len(system.rasa_backends) == system.settings.rasa_workers >= 2
    assert len(prefixes(system)) == len(system.rasa_backends)


def test_without_stickiness_a_polling_session_fails_on_the_other_process(system):
    """What nginx's routing avoids: the session's next poll on the process that does not hold it is refused,
    through nginx it reaches the holder every time."""
    handshake = requests.get(
        f"{system.rasa_url}/socket.io/", params={"EIO": 4, "transport": "polling"}, timeout=10
    )
    assert handshake.status_code == 200, handshake.text
    sid = handshake.text.split('"sid":"', 1)[1].split('"', 1)[0]
    owner = next(b for b in system.rasa_backends if sid.startswith(f"{b.tag}-"))
    other = next(b for b in system.rasa_backends if b is not owner)
    params = {"EIO": 4, "transport": "polling", "sid": sid}
    # a socket.io CONNECT packet to the default namespace, then read the answer, both through nginx
    assert requests.post(f"{system.rasa_url}/socket.io/", params=params, data="40", timeout=10).ok
    wrong = requests.get(f"http://127.0.0.1:{other.port}/socket.io/", params=params, timeout=10)
    assert wrong.status_code == 400
    for _ in range(4):
        reply = requests.post(f"{system.rasa_url}/socket.io/", params=params, data="3", timeout=10)
        assert reply.status_code == 200, reply.text  # a pong from the client: accepted by the holder
    closed = requests.post(f"{system.rasa_url}/socket.io/", params=params, data="1", timeout=10)
    assert closed.ok


@pytest.mark.parametrize(
    ("transports", "expected_transport"),
    [(["polling"], "polling"), (None, "websocket")],
    ids=["polling", "upgrade"],
)
def test_python_socketio_clients_are_answered_on_every_process(system, transports, expected_transport):
    """Ten fresh connections: polling only, or polling then upgrade (python-socketio's default; a failed
    upgrade would leave the client on polling, so the transport is checked)."""
    results = [ask_over_socketio(system, transports) for _ in range(CONNECTIONS)]
    for sid, transport, text in results:
        assert FEE in text, text
        assert transport == expected_transport, (sid, transport)
    seen = {prefix for prefix in prefixes(system) for sid, _, _ in results if sid.startswith(prefix)}
    assert seen == prefixes(system), [sid for sid, _, _ in results]


# In the chat page: the vendored socket.io client (handoff/static/chat/vendor/socket.io.min.js), the page's
# socket URL and path, the chat page's events (handoff/static/chat/chat.js). Resolves with the first
# bot_uttered text, the engine's session id and its transport at that moment.
ASK_IN_PAGE = """
const [transports, question, done] = arguments;
const fail = (error) => done({error: String(error)});
fetch("/chat/config.json").then((r) => r.json()).then((config) => {
  const socket = window.io(config.socket_url, {
    path: config.socket_path || "/socket.io/", transports, forceNew: true, reconnection: false,
  });
  const timer = setTimeout(() => { socket.close(); fail("no answer in 40 s"); }, 40000);
  const engine = () => socket.io.engine;
  socket.on("connect_error", (error) => { clearTimeout(timer); socket.close(); fail(error); });
  socket.on("connect", () => socket.emit("session_request", {}));
  socket.on("session_confirm", (session) => {
    const ask = () => socket.emit("user_uttered", {message: question, session_id: session});
    // polling then upgrade: ask once the upgrade is done, so the answer shows the transport it came on
    if (transports.includes("websocket") && engine().transport.name !== "websocket") {
      engine().once("upgrade", ask);
      engine().once("upgradeError", (error) => { clearTimeout(timer); socket.close(); fail(error); });
    } else ask();
  });
  socket.on("bot_uttered", (message) => {
    if (!message || !message.text) return;
    clearTimeout(timer);
    const result = {text: message.text, sid: engine().id, transport: engine().transport.name};
    socket.close();
    done(result);
  });
}).catch(fail);
"""


@pytest.mark.browser
@pytest.mark.parametrize(
    ("transports", "expected_transport"),
    [(["polling"], "polling"), (["polling", "websocket"], "websocket")],
    ids=["polling", "upgrade"],
)
def test_the_browsers_socketio_client_is_answered(system, driver, transports, expected_transport):
    open_chat(driver, system)
    driver.set_script_timeout(60)
    results = [
        driver.execute_async_script(ASK_IN_PAGE, transports, QUESTION) for _ in range(BROWSER_SESSIONS)
    ]
    for result in results:
        assert "error" not in result, result
        assert FEE in result["text"], result
        assert result["transport"] == expected_transport, result
    sids = [result["sid"] for result in results]
    assert all(any(sid.startswith(prefix) for prefix in prefixes(system)) for sid in sids), sids
    assert len(set(sids)) == BROWSER_SESSIONS
