"""The action server answers Rasa only: its token on every route but /health, bound to 127.0.0.1."""

import os
import sys

import pytest
import requests

from bot.services import Process, free_port, wait_until
from bot.settings import PROJECT_ROOT

TOKEN = "action-token-for-tests"


def listening_addresses(port):
    """Local addresses with a listening TCP socket on the port (from /proc/net/tcp)."""
    found = []
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if int(hex_port, 16) == port and state == "0A":
            found.append(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "ACTION_SERVER_TOKEN": TOKEN, "PYTHONPATH": str(PROJECT_ROOT)}
    log = tmp_path_factory.mktemp("actions") / "actions.log"
    command = [sys.executable, "-m", "bot.action_server", "--port", str(port)]
    process = Process("actions", command, log, env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(url + "/health", timeout=2).ok, "action server", process, timeout=90)
        yield url, port
    finally:
        process.stop()


CALL = {
    "next_action": "action_handle_fallback",
    "sender_id": "someone-else",
    "tracker": {
        "sender_id": "someone-else",
        "slots": {},
        "latest_message": {"text": "xqzw", "intent": {"name": "nlu_fallback"}},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    },
    "domain": {},
    "version": "3.6.21",
}


@pytest.mark.parametrize(
    "headers", [{}, {"X-Action-Token": "wrong"}, {"Authorization": f"Bearer {TOKEN}"}, {"X-Action-Token": ""}]
)
def test_calls_without_the_token_are_refused(action_server, headers):
    url, _ = action_server
    response = requests.post(url + "/webhook", json=CALL, headers=headers, timeout=10)
    assert response.status_code == 401 and response.json() == {"error": "unauthorized"}
    assert requests.get(url + "/actions", headers=headers, timeout=10).status_code == 401


def test_rasa_with_the_token_runs_actions(action_server):
    url, _ = action_server
    response = requests.post(url + "/webhook", json=CALL, headers={"X-Action-Token": TOKEN}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["events"] == [
        {"event": "slot", "timestamp": None, "name": "fallback_reason", "value": "clarify"}
    ]


def test_it_listens_on_loopback_only(action_server):
    _, port = action_server
    assert listening_addresses(port) == ["127.0.0.1"]


def test_an_empty_token_refuses_to_start():
    from sanic import Sanic

    from bot.action_server import protect

    with pytest.raises(ValueError, match="ACTION_SERVER_TOKEN is empty"):
        protect(Sanic("empty_token_test"), "")
