"""Settings of the Rasa-side processes, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Text
from urllib.parse import urlparse

from common.contracts import EMBEDDED_REDIS_PORT, WEBHOOK_INGRESS_PORT

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class RedisTarget:
    """Where Redis is: host, port, db and password (empty = none)."""

    host: Text
    port: int
    db: int = 0
    password: Text = ""

    @classmethod
    def from_url(cls, url: Text) -> "RedisTarget":
        """Parse redis://[:password@]host[:port][/db]."""
        parsed = urlparse(url)
        if parsed.scheme not in ("redis", "rediss"):
            raise ValueError(f"REDIS_URL must start with redis:// (got {parsed.scheme}://)")
        db = (parsed.path or "/0").lstrip("/") or "0"
        return cls(parsed.hostname or "localhost", parsed.port or 6379, int(db), parsed.password or "")

    @property
    def url(self) -> Text:
        """The redis:// URL of this target."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"

    @property
    def safe_url(self) -> Text:
        """The URL to show or log: the password replaced by `***`."""
        auth = ":***@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"

    def env(self) -> Dict[Text, Text]:
        """Variables endpoints.yml expands for Rasa's Redis tracker and lock stores."""
        return {
            "REDIS_HOST": self.host,
            "REDIS_PORT": str(self.port),
            "REDIS_DB": str(self.db),
            "REDIS_PASSWORD": self.password,
            "REDIS_URL": self.url,
        }


@dataclass(frozen=True)
class Settings:
    """Ports, paths and Redis location for `python -m bot run` and the tests."""

    rasa_port: int = 5005
    action_port: int = 5055
    handoff_port: int = 8000
    # the webhook ingress (bot/webhook_ingress.py) on 127.0.0.1, behind nginx when RASA_WORKERS > 1
    ingress_port: int = WEBHOOK_INGRESS_PORT
    embedded_redis_port: int = EMBEDDED_REDIS_PORT
    redis_url: Optional[Text] = None
    var_dir: Path = PROJECT_ROOT / "var"
    model_path: Path = PROJECT_ROOT / "models" / "senmart.tar.gz"
    rasa_auth_token: Optional[Text] = None
    handoff_admin_token: Optional[Text] = None
    handoff_service_token: Optional[Text] = None
    studio_token: Optional[Text] = None
    # Rasa's bearer token on the action server (bot/action_server.py)
    action_server_token: Optional[Text] = None
    # the interface Rasa listens on: 127.0.0.1 (only this machine; put nginx or the like in front to
    # publish the channels), 0.0.0.0 to listen on every interface. The action server is always local.
    rasa_host: Text = "127.0.0.1"
    # Rasa processes (default: one per core). Several: single-worker Rasa processes on 127.0.0.1 behind
    # nginx on rasa_host:rasa_port, each socket.io session kept on its process (bot/proxy.py); 1: one
    # Rasa process on that port, no proxy
    rasa_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    # Sanic workers in one Rasa process (`start_rasa`): 1; more only where benchmarks compare them with
    # processes (long-polling socket.io clients need processes: bot/proxy.py)
    sanic_workers: int = 1
    # the Rasa processes' niceness: when the cores are saturated by turns, the light services on a
    # customer's path (webhook ingress, nginx, Redis, action server, staff service) run first (0: off)
    rasa_nice: int = 5
    lock_ttl_seconds: float = 30.0
    # Rasa's endpoint and channel files (benchmarks point them at stock Rasa's)
    endpoints_file: Text = "endpoints.yml"
    credentials_file: Text = "credentials.yml"
    extra_env: Dict[Text, Text] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "Settings":
        """Read the settings from environment variables (all optional)."""
        env = os.environ
        return cls(
            rasa_port=int(env.get("RASA_PORT", 5005)),
            action_port=int(env.get("ACTION_PORT", 5055)),
            handoff_port=int(env.get("HANDOFF_PORT", 8000)),
            ingress_port=int(env.get("WEBHOOK_INGRESS_PORT") or WEBHOOK_INGRESS_PORT),
            embedded_redis_port=int(env.get("EMBEDDED_REDIS_PORT", EMBEDDED_REDIS_PORT)),
            redis_url=env.get("REDIS_URL") or None,
            var_dir=Path(env.get("SENMART_VAR_DIR", PROJECT_ROOT / "var")),
            model_path=Path(env.get("RASA_MODEL", PROJECT_ROOT / "models" / "senmart.tar.gz")),
            rasa_auth_token=env.get("RASA_AUTH_TOKEN") or None,
            handoff_admin_token=env.get("HANDOFF_ADMIN_TOKEN") or None,
            handoff_service_token=env.get("HANDOFF_SERVICE_TOKEN") or None,
            studio_token=env.get("STUDIO_TOKEN") or None,
            action_server_token=env.get("ACTION_SERVER_TOKEN") or None,
            rasa_host=env.get("RASA_HOST") or "127.0.0.1",
            rasa_workers=max(1, int(env.get("RASA_WORKERS") or os.cpu_count() or 1)),
            lock_ttl_seconds=float(env.get("LOCK_TTL_SECONDS") or 30),
            rasa_nice=max(0, min(19, int(env.get("RASA_NICE") or 5))),
        )
