"""Sticky socket.io sessions over several Rasa processes: session ids that name their process
(bot/channels/process_tag.py) and the nginx configuration that routes on them (bot/proxy.py)."""

import http.server
import re
import subprocess
import threading
from urllib.parse import quote

import engineio
import pytest
import requests
import socketio

from bot.channels.process_tag import TaggedEngineIOServer, process_tag, tag_session_ids
from bot.channels.socketio import SocketIOChannel
from bot.proxy import POOL, Backend, backends_for, nginx_binary, nginx_command, nginx_config
from bot.services import Process, free_port, wait_until

URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def test_session_ids_start_with_the_process_tag_are_url_safe_and_unique():
    sio = socketio.AsyncServer(async_mode="sanic")
    tag_session_ids(sio, "p2")
    assert isinstance(sio.eio, TaggedEngineIOServer)
    ids = [sio.eio.generate_id() for _ in range(5000)]
    assert all(i.startswith("p2-") for i in ids)
    assert all(URL_SAFE.fullmatch(i) and quote(i, safe="") == i for i in ids)
    assert len(set(ids)) == len(ids)
    # what follows the tag is engineio's own id: 20 characters
    assert {len(i) for i in ids} == {len("p2-") + 20}


def test_no_tag_leaves_engineio_alone():
    sio = socketio.AsyncServer(async_mode="sanic")
    tag_session_ids(sio, "")
    assert type(sio.eio) is engineio.AsyncServer


@pytest.mark.parametrize("value", ["p1-", "p 1", "../x", "p1;x", "a" * 17, "~^p1"])
def test_a_tag_is_letters_and_digits_only(value):
    with pytest.raises(ValueError, match="RASA_PROCESS_TAG"):
        process_tag({"RASA_PROCESS_TAG": value})


def test_the_tag_comes_from_the_environment():
    assert process_tag({"RASA_PROCESS_TAG": "p3"}) == "p3"
    assert process_tag({}) == ""


def test_the_channel_tags_its_session_ids_from_the_environment(monkeypatch):
    monkeypatch.setenv("RASA_PROCESS_TAG", "p7")
    channel = SocketIOChannel.from_credentials({"session_persistence": True, "session_secret": "s3cret"})
    channel.blueprint(lambda message: None)
    assert channel.sio.eio.generate_id().startswith("p7-")


def test_without_a_tag_the_channel_keeps_engineio_ids(monkeypatch):
    monkeypatch.delenv("RASA_PROCESS_TAG", raising=False)
    channel = SocketIOChannel.from_credentials({"session_persistence": True, "session_secret": "s3cret"})
    channel.blueprint(lambda message: None)
    assert type(channel.sio.eio) is engineio.AsyncServer


def _config(tmp_path, backends):
    return nginx_config("127.0.0.1", 15005, backends, tmp_path, 1024 * 1024)


def _block(config, head):
    """The body of the `head { … }` block (no nested blocks in the ones we read)."""
    match = re.search(re.escape(head) + r" \{\n(.*?)\n\s*\}", config, re.S)
    assert match, head
    return match.group(1)


def test_the_sid_map_has_exactly_the_backends_and_a_round_robin_default(tmp_path):
    backends = backends_for([20001, 20002, 20003])
    config = _config(tmp_path, backends)
    routes = [line.split() for line in _block(config, "map $arg_sid $rasa_socketio").strip().splitlines()]
    assert routes == [
        ["default", f"{POOL};"],
        ['"~^p1-"', "rasa-p1;"],
        ['"~^p2-"', "rasa-p2;"],
        ['"~^p3-"', "rasa-p3;"],
    ]
    # every name the map can give is an upstream written here, with exactly its process's address
    for backend in backends:
        servers = re.findall(r"server (\S+);", _block(config, f"upstream {backend.name}"))
        assert servers == [f"127.0.0.1:{backend.port}"]
    pool = re.findall(r"server (\S+?)[ ;]", _block(config, f"upstream {POOL}"))
    assert pool == [f"127.0.0.1:{b.port}" for b in backends]


def test_proxy_pass_never_takes_an_address_from_the_request(tmp_path):
    config = _config(tmp_path, backends_for([20001, 20002]))
    targets = re.findall(r"proxy_pass (\S+);", config)
    assert sorted(targets) == sorted([f"http://{POOL}", "http://$rasa_socketio"])
    # the only variable proxied to is the map's output; no resolver (no name is looked up at request time)
    assert "resolver" not in config
    assert config.count("$rasa_socketio") == 2  # the map's output, used once


def test_the_proxy_keeps_rasas_body_limit_upgrades_websockets_and_listens_where_told(tmp_path):
    config = nginx_config("0.0.0.0", 5005, backends_for([20001, 20002]), tmp_path, 1048576)
    assert "listen 0.0.0.0:5005;" in config
    assert "client_max_body_size 1048576;" in config
    assert "proxy_http_version 1.1;" in config
    assert "proxy_set_header Upgrade $http_upgrade;" in config
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in config
    assert "listen 127.0.0.1:5005;" in nginx_config("127.0.0.1", 5005, backends_for([1, 2]), tmp_path, 1)
    # every file nginx writes is under the prefix (no root-owned default path)
    for path in re.findall(r"(?:pid|error_log|_temp_path) (\S+?)[ ;]", config):
        assert path.startswith(str(tmp_path)), path


@pytest.mark.parametrize(
    "backends", [[], [Backend("p1", 1), Backend("p1", 2)], [Backend("p1;", 1)], [Backend("~^", 1)]]
)
def test_bad_backends_are_refused(tmp_path, backends):
    with pytest.raises(ValueError):
        _config(tmp_path, backends)


def test_nginx_accepts_the_configuration(tmp_path):
    binary = nginx_binary()
    if not binary:
        pytest.fail("nginx is not installed: `make test` installs Debian's nginx-light")
    conf = tmp_path / "nginx.conf"
    conf.write_text(_config(tmp_path, backends_for([20001, 20002])), encoding="utf-8")
    command = nginx_command(binary, tmp_path, conf)[:-2] + ["-t"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


class _Answer(http.server.BaseHTTPRequestHandler):
    """A stand-in Rasa process: answers every request with its own port."""

    protocol_version = "HTTP/1.1"

    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = str(self.server.server_address[1]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture()
def routed(tmp_path):
    """nginx with this configuration in front of two stand-in Rasa processes and a stand-in webhook ingress:
    (base URL, {tag: port}, ingress port)."""
    binary = nginx_binary()
    if not binary:
        pytest.fail("nginx is not installed: `make test` installs Debian's nginx-light")
    # two Rasa processes and the webhook ingress
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer) for _ in range(3)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    backends = backends_for([server.server_address[1] for server in servers[:2]])
    ingress = servers[2].server_address[1]
    port = free_port()
    conf = tmp_path / "nginx.conf"
    config = nginx_config("127.0.0.1", port, backends, tmp_path, 1024 * 1024, ingress_port=ingress)
    conf.write_text(config, encoding="utf-8")
    process = Process("nginx", nginx_command(binary, tmp_path, conf), tmp_path / "nginx.log", {})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(base + "/", timeout=2).ok, "nginx", process, timeout=20)
        yield base, {backend.tag: str(backend.port) for backend in backends}, str(ingress)
    finally:
        process.stop()
        for server in servers:
            server.shutdown()


def test_nginx_routes_a_session_to_its_process_and_spreads_the_rest(routed):
    base, ports, _ingress = routed

    def poll(sid):
        return requests.get(f"{base}/socket.io/", params={"EIO": 4, "transport": "polling", "sid": sid}).text

    for tag, port in ports.items():
        assert {poll(f"{tag}-AbC_d-123") for _ in range(6)} == {port}
    # no sid (the handshake), an unknown or a look-alike prefix: round robin over both
    for sid in (None, "p9-x", "zz-p1-x", "p1x", "127.0.0.1:80"):
        assert {poll(sid) for _ in range(6)} == set(ports.values()), sid
    # everything else round robin: every process's model-update status is reachable, webhooks spread
    answers = {requests.get(f"{base}/webhooks/model_updates/status").text for _ in range(6)}
    assert answers == set(ports.values())
    rest = f"{base}/webhooks/rest/webhook"
    answers = {requests.post(rest, json={"sender": "a", "message": m}).text for m in "abcd"}
    assert answers == set(ports.values())


def test_nginx_sends_the_messenger_and_zalo_webhooks_to_the_ingress(routed):
    base, ports, ingress = routed
    for path in ("/webhooks/facebook/webhook", "/webhooks/zalo/webhook"):
        assert {requests.post(base + path, data=b"{}").text for _ in range(4)} == {ingress}, path
    assert {requests.get(base + "/webhooks/facebook/webhook", params={"hub.mode": "x"}).text} == {ingress}
    # the REST webhook still goes to the Rasa processes
    answers = {requests.post(f"{base}/webhooks/rest/webhook", json={"message": m}).text for m in "abcd"}
    assert answers == set(ports.values())


def test_a_body_up_to_rasas_limit_passes_whole_and_a_bigger_one_is_413(routed):
    """Started as root, nginx's workers cannot write the temp folders: a body buffered there was a 500."""
    base, ports, _ingress = routed
    limit = 1024 * 1024
    answer = requests.post(f"{base}/webhooks/rest/webhook", data=b"x" * limit, timeout=30)
    assert (answer.status_code, answer.text in ports.values()) == (200, True)
    bigger = requests.post(f"{base}/webhooks/rest/webhook", data=b"x" * (limit + 1), timeout=30)
    assert bigger.status_code == 413
