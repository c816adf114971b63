"""Fixtures for the handoff service: a stand-in for Rasa's HTTP API, the real service as a subprocess."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qs, urlparse

import pytest
import redis
import requests

from bot.services import Process, free_port, wait_until
from handoff.hours import AgentHours, load_holidays
from handoff.settings import PROJECT_ROOT
from handoff.ticket_store import TicketStore
from testkit.recording_server import answer_json

ADMIN_TOKEN = "admin-token"
SERVICE_TOKEN = "service-token"
LAN_TOKEN = "lan-token"
MINH_TOKEN = "minh-token"
RASA_TOKEN = "rasa-secret"
CHAT_SESSION_SECRET = "chat-session-secret-for-tests"


class RasaStub:
    """A recording HTTP server in place of Rasa's API; can be told to fail."""

    def __init__(self) -> None:
        self.requests: List[Dict[str, Any]] = []
        self.failures: List[int] = []  # statuses to answer, one per coming request
        self.always_fail: Optional[int] = None
        self.delay_seconds = 0.0  # answer this late (a slow Rasa: the client times out)
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parsed = urlparse(self.path)
                with stub.lock:
                    stub.requests.append(
                        {
                            "path": parsed.path,
                            "query": {k: v[0] for k, v in parse_qs(parsed.query).items()},
                            "body": json.loads(raw) if raw else None,
                        }
                    )
                    status = stub.failures.pop(0) if stub.failures else (stub.always_fail or 200)
                    delay = stub.delay_seconds
                time.sleep(delay)
                answer_json(self, status, b'{"ok": true}' if status < 400 else b'{"error": "stub failure"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self) -> None:
        """Forget recorded requests and failure plans."""
        with self.lock:
            self.requests.clear()
            self.failures.clear()
            self.always_fail = None
            self.delay_seconds = 0.0

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


class StaffProcess:
    """`python -m staff` on a free port with the environment a subclass sets, logging to a file."""

    def __init__(self, log_dir: Path, log_name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{log_name}-{self.port}.log"
        self.env: Dict[str, str] = {}
        self.process: Optional[Process] = None

    def service_env(self, redis_url: str, admin_token: str, service_token: str) -> Dict[str, str]:
        """What every test's service is told: the project on PYTHONPATH, its Redis, port and tokens."""
        return {
            "PYTHONPATH": str(PROJECT_ROOT),
            "PYTHONUNBUFFERED": "1",
            "REDIS_URL": redis_url,
            "HANDOFF_PORT": str(self.port),
            "HANDOFF_ADMIN_TOKEN": admin_token,
            "HANDOFF_SERVICE_TOKEN": service_token,
        }

    def start(self):
        """Start and wait until /health answers; returns the service."""
        self.process = Process("handoff", [sys.executable, "-m", "staff"], self.log_path, self.env)
        wait_until(
            lambda: requests.get(f"{self.url}/health", timeout=1).status_code == 200,
            "handoff service",
            self.process,
            timeout=30,
        )
        return self

    def stop(self) -> None:
        """SIGTERM (SIGKILL after a while)."""
        if self.process:
            self.process.stop(timeout=10)

    def kill(self) -> None:
        """SIGKILL at once, as a crash."""
        if self.process:
            self.process.kill()

    def log(self) -> str:
        """Everything the service logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class HandoffService(StaffProcess):
    """`python -m staff` as production runs it, on a free port, logging to a file."""

    def __init__(self, redis_url: str, rasa_url: str, log_dir: Path, **env: str) -> None:
        super().__init__(log_dir, "handoff")
        self.env = {
            **os.environ,
            **self.service_env(redis_url, ADMIN_TOKEN, SERVICE_TOKEN),
            "HANDOFF_AGENT_TOKENS": f"Lan:{LAN_TOKEN},Minh:{MINH_TOKEN}",
            "RASA_URL": rasa_url,
            "RASA_AUTH_TOKEN": RASA_TOKEN,
            "HANDOFF_REAPER_INTERVAL_SECONDS": "0.2",
            "HANDOFF_RECLAIM_IDLE_SECONDS": "1",
            "CHAT_SESSION_SECRET": CHAT_SESSION_SECRET,
            **env,
        }


class Api:
    """Small requests wrapper: base URL + bearer token per call."""

    def __init__(self, service: HandoffService, rasa: RasaStub) -> None:
        self.service = service
        self.rasa = rasa
        self.url = service.url
        self.session = requests.Session()

    def call(self, method: str, path: str, token: Optional[str] = None, **kwargs: Any) -> requests.Response:
        """Any request; `token` becomes an Authorization header."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.url + path, headers=headers, timeout=15, **kwargs)

    def handoff(self, sender_id: str, **body: Any) -> requests.Response:
        """POST /internal/handoffs as the action server does."""
        return self.call("POST", "/internal/handoffs", SERVICE_TOKEN, json={"sender_id": sender_id, **body})

    def agent(self, method: str, path: str, token: str = LAN_TOKEN, **kwargs: Any) -> requests.Response:
        """A call on the agent API (Lan by default)."""
        return self.call(method, path, token, **kwargs)


@pytest.fixture(scope="session")
def rasa_stub():
    stub = RasaStub()
    yield stub
    stub.close()


# The running services get their own database: their background tasks (event consumer, lease reaper
# on the real clock) must not touch the data of the in-process store tests.
SERVICE_DB = 1


def service_redis_url(redis_server) -> str:
    return f"redis://{redis_server.host}:{redis_server.port}/{SERVICE_DB}"


@pytest.fixture(scope="session")
def handoff_service(redis_server, rasa_stub, tmp_path_factory):
    """One service for the HTTP tests (they flush its database between them)."""
    service = HandoffService(service_redis_url(redis_server), rasa_stub.url, tmp_path_factory.mktemp("log"))
    service.start()
    yield service
    service.stop()


@pytest.fixture()
def service_redis(redis_server):
    """A client on the services' database, emptied."""
    client = redis.Redis.from_url(service_redis_url(redis_server), decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture()
def api(handoff_service, rasa_stub, service_redis):
    """A client of the running service, on an emptied database and a fresh Rasa stub."""
    rasa_stub.reset()
    client = Api(handoff_service, rasa_stub)
    yield client
    client.session.close()


@pytest.fixture()
def start_service(redis_server, rasa_stub, tmp_path):
    """Start extra services with their own settings; all are stopped after the test."""
    started: List[HandoffService] = []

    def start(redis_url: Optional[str] = None, **env: str) -> HandoffService:
        url = redis_url or service_redis_url(redis_server)
        service = HandoffService(url, rasa_stub.url, tmp_path, **env)
        started.append(service)
        return service.start()

    yield start
    for service in started:
        service.stop()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


# 2026-11-24 10:00 in Vietnam (UTC+7), a Tuesday and an ordinary working day
WORKDAY_10AM = 1795489200.0


@pytest.fixture()
def hours() -> AgentHours:
    return AgentHours.with_holidays(load_holidays(PROJECT_ROOT / "data" / "holidays.yml"))


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock(WORKDAY_10AM)


@pytest.fixture()
async def store(aredis, hours, clock) -> TicketStore:
    return TicketStore(aredis, hours, lease_seconds=300, retention_seconds=180 * 86400, clock=clock)
