"""`python -m staff` for the studio's API, page, inbox and report tests: a temporary content dir.

(Sanic 21.12 cannot start two apps in one process, so these tests run the real service.)
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Optional

import requests

from handoff.settings import PROJECT_ROOT
from testkit.polling import wait_for
from tests.handoff.conftest import StaffProcess

INBOX_DB = 5  # apart from the in-process tests (0) and the handoff service tests (1)
ADMIN_TOKEN, SERVICE_TOKEN, AGENT_TOKEN, CONTENT_TOKEN = "adm", "svc", "lan", "content-tok"
EDITOR = "Ngọc"


def fresh_data(content_dir: Path) -> None:
    """A new copy of the project's data/ (fresh mtimes) in the content dir."""
    target = content_dir / "data"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(PROJECT_ROOT / "data", target, copy_function=shutil.copy)


class StudioService(StaffProcess):
    """The handoff service with the studio on a temporary content dir."""

    def __init__(self, redis_url: str, content_dir: Path, log_dir: Path, **env: str) -> None:
        super().__init__(log_dir, "studio")
        self.content_dir = content_dir
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(log_dir),
            **self.service_env(redis_url, ADMIN_TOKEN, SERVICE_TOKEN),
            "HANDOFF_AGENT_TOKENS": f"Lan:{AGENT_TOKEN}",
            "RASA_URL": "http://127.0.0.1:9",
            "STUDIO_CONTENT_DIR": str(content_dir),
            "STUDIO_TOKENS": f"{EDITOR}:{CONTENT_TOKEN}",
            "STUDIO_MODELS_DIR": str(content_dir / "models"),
            **env,
        }
        self.session = requests.Session()

    def stop(self) -> None:
        """Close the client session, then stop the service."""
        self.session.close()
        super().stop()

    def redis(self):
        """A client on the service's database."""
        import redis

        return redis.Redis.from_url(self.env["REDIS_URL"], decode_responses=True)

    def call(self, method: str, path: str, token: Optional[str] = CONTENT_TOKEN, **kwargs: Any):
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def handoff(self, sender: str, transcript, reason: str = "low_confidence"):
        body = {"sender_id": sender, "reason": reason, "transcript": transcript}
        response = self.call("POST", "/internal/handoffs", SERVICE_TOKEN, json=body)
        assert response.status_code in (200, 201), response.text
        created = response.json()
        if not created["reused"]:  # a new ticket reaches the inbox as an event on the stream
            with self.redis() as client:
                wait_for(lambda: client.exists(f"senmart:studio:inbox:ticket:{created['ticket_id']}"))
        return created
