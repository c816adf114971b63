"""Settings of the handoff service, read once from the environment."""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Mapping, Optional, Text
from urllib.parse import urlparse

from common.contracts import DEFAULT_REDIS_URL, EVENT_STREAM, VIETNAM_UTC_OFFSET_HOURS
from common.name_tokens import parse_name_tokens

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = Path(__file__).resolve().parent

ROLE_ADMIN = "admin"
ROLE_AGENT = "agent"


class SettingsError(ValueError):
    """A required variable is missing or a value cannot be read."""


@dataclass(frozen=True)
class Agent:
    """A person on the console: name shown to the customer and role."""

    name: Text
    role: Text = ROLE_AGENT

    @property
    def is_admin(self) -> bool:
        """True for the admin agent."""
        return self.role == ROLE_ADMIN


@dataclass(frozen=True)
class HandoffSettings:
    """Everything the handoff service reads from its environment (see docs/handoff.md)."""

    admin_token: Text
    service_token: Text
    agent_tokens: Dict[Text, Text] = field(default_factory=dict)  # token -> agent name
    redis_url: Text = DEFAULT_REDIS_URL
    host: Text = "127.0.0.1"
    port: int = 8000
    rasa_url: Text = "http://127.0.0.1:5005"
    rasa_auth_token: Text = ""
    event_stream: Text = EVENT_STREAM
    # endpoints.yml tracker_store.key_prefix: whose keys a personal-data deletion removes
    tracker_key_prefix: Text = "senmart"
    lease_seconds: float = 300.0
    retention_days: float = 180.0
    avg_handle_minutes: float = 5.0
    timezone_offset_hours: float = VIETNAM_UTC_OFFSET_HOURS
    reaper_interval_seconds: float = 5.0
    reclaim_idle_seconds: float = 30.0
    relay_timeout_seconds: float = 5.0
    max_body_bytes: int = 64 * 1024
    holidays_file: Path = PROJECT_ROOT / "data" / "holidays.yml"
    canned_replies_file: Path = PROJECT_ROOT / "data" / "canned_replies.yml"
    static_dir: Path = PACKAGE_DIR / "static"
    # socket.io URL the chat page connects to; empty: http://<host the page came from>:<chat_socket_port>
    chat_socket_url: Text = ""
    chat_socket_port: int = 5005
    # the secret the chat's session ids are signed with (common/chat_sessions.py), shared with Rasa
    chat_session_secret: Text = ""

    @classmethod
    def from_env(cls, env: Optional[Mapping[Text, Text]] = None) -> "HandoffSettings":
        """Read the settings; raise SettingsError when a required token is missing or a number is bad."""
        env = os.environ if env is None else env
        admin_token = env.get("HANDOFF_ADMIN_TOKEN", "").strip()
        service_token = env.get("HANDOFF_SERVICE_TOKEN", "").strip()
        if not admin_token:
            raise SettingsError("HANDOFF_ADMIN_TOKEN is required (make run generates one).")
        if not service_token:
            raise SettingsError("HANDOFF_SERVICE_TOKEN is required (make run generates one).")
        return cls(
            admin_token=admin_token,
            service_token=service_token,
            agent_tokens=parse_agent_tokens(env.get("HANDOFF_AGENT_TOKENS", "")),
            redis_url=env.get("REDIS_URL") or cls.redis_url,
            host=env.get("HANDOFF_HOST") or cls.host,
            port=_number(env, "HANDOFF_PORT", cls.port, int, maximum=65535),
            rasa_url=(env.get("RASA_URL") or cls.rasa_url).rstrip("/"),
            rasa_auth_token=env.get("RASA_AUTH_TOKEN", ""),
            event_stream=env.get("EVENT_STREAM") or cls.event_stream,
            tracker_key_prefix=env.get("TRACKER_KEY_PREFIX") or cls.tracker_key_prefix,
            lease_seconds=_number(env, "HANDOFF_LEASE_SECONDS", cls.lease_seconds, float),
            retention_days=_number(env, "HANDOFF_RETENTION_DAYS", cls.retention_days, float),
            avg_handle_minutes=_number(env, "HANDOFF_AVG_HANDLE_MINUTES", cls.avg_handle_minutes, float),
            timezone_offset_hours=_number(
                env,
                "HANDOFF_TIMEZONE_OFFSET",
                cls.timezone_offset_hours,
                float,
                minimum=-23.99,
                maximum=23.99,
            ),
            reaper_interval_seconds=_number(
                env, "HANDOFF_REAPER_INTERVAL_SECONDS", cls.reaper_interval_seconds, float
            ),
            reclaim_idle_seconds=_number(
                env, "HANDOFF_RECLAIM_IDLE_SECONDS", cls.reclaim_idle_seconds, float
            ),
            holidays_file=Path(env.get("HANDOFF_HOLIDAYS_FILE") or cls.holidays_file),
            canned_replies_file=Path(env.get("HANDOFF_CANNED_REPLIES_FILE") or cls.canned_replies_file),
            chat_socket_url=_chat_socket_url(env),
            chat_socket_port=_chat_socket_port(env),
            chat_session_secret=env.get("CHAT_SESSION_SECRET") or "",
        )

    @property
    def retention_seconds(self) -> int:
        """HANDOFF_RETENTION_DAYS in seconds."""
        return int(self.retention_days * 86400)

    def agent_for_token(self, token: Text) -> Optional[Agent]:
        """The agent (or admin) a bearer token belongs to, or None."""
        if token and hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return Agent("admin", ROLE_ADMIN)
        found = None
        for known, name in self.agent_tokens.items():
            if token and hmac.compare_digest(token.encode(), known.encode()):
                found = Agent(name, ROLE_AGENT)
        return found

    def is_service_token(self, token: Text) -> bool:
        """True when the token is the action server's."""
        return bool(token) and hmac.compare_digest(token.encode(), self.service_token.encode())


def parse_agent_tokens(value: Text) -> Dict[Text, Text]:
    """HANDOFF_AGENT_TOKENS: `name:token,name2:token2` → {token: name}."""
    return parse_name_tokens(value, "HANDOFF_AGENT_TOKENS", SettingsError)


def _chat_socket_url(env: Mapping[Text, Text]) -> Text:
    """CHAT_SOCKET_URL without a trailing slash; an http(s) URL or empty."""
    value = (env.get("CHAT_SOCKET_URL") or "").strip().rstrip("/")
    if value and (urlparse(value).scheme not in ("http", "https") or not urlparse(value).netloc):
        raise SettingsError(f"CHAT_SOCKET_URL must be an http:// or https:// URL, got {value!r}")
    return value


def _chat_socket_port(env: Mapping[Text, Text]) -> int:
    """Rasa's port for the chat page: the port of RASA_URL (`python -m bot run` sets it), else RASA_PORT."""
    rasa_url = env.get("RASA_URL")
    try:
        port = urlparse(rasa_url).port if rasa_url else None
    except ValueError as error:
        raise SettingsError(f"RASA_URL has a bad port: {rasa_url!r}") from error
    return port or _number(env, "RASA_PORT", HandoffSettings.chat_socket_port, int, minimum=1, maximum=65535)


def _number(env: Mapping[Text, Text], name: Text, default, kind, minimum: float = 0, maximum: float = 1e12):
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from error
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name} must be between {minimum:g} and {maximum:g}, got {raw!r}")
    return value
