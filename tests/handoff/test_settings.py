"""Settings from the environment (docs/handoff.md table)."""

import subprocess
import sys

import pytest

from handoff.settings import PROJECT_ROOT, HandoffSettings, SettingsError, parse_agent_tokens

REQUIRED = {"HANDOFF_ADMIN_TOKEN": "adm", "HANDOFF_SERVICE_TOKEN": "svc"}


def test_defaults():
    settings = HandoffSettings.from_env(REQUIRED)
    assert (settings.redis_url, settings.host, settings.port) == (
        "redis://127.0.0.1:16379/0",
        "127.0.0.1",
        8000,
    )
    assert (settings.rasa_url, settings.rasa_auth_token, settings.event_stream) == (
        "http://127.0.0.1:5005",
        "",
        "senmart:events",
    )
    assert (settings.lease_seconds, settings.retention_days, settings.avg_handle_minutes) == (300, 180, 5)
    assert settings.timezone_offset_hours == 7
    assert settings.retention_seconds == 180 * 86400
    assert settings.max_body_bytes == 64 * 1024


def test_tokens_and_agents():
    settings = HandoffSettings.from_env({**REQUIRED, "HANDOFF_AGENT_TOKENS": "Lan:t1, Minh Anh:t2"})
    assert settings.agent_for_token("adm").is_admin
    assert settings.agent_for_token("t2").name == "Minh Anh"
    assert not settings.agent_for_token("t1").is_admin
    assert settings.agent_for_token("") is None and settings.agent_for_token("svc") is None
    assert settings.is_service_token("svc") and not settings.is_service_token("adm")
    assert parse_agent_tokens("") == {}
    with pytest.raises(SettingsError):
        parse_agent_tokens("Lan")


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"HANDOFF_ADMIN_TOKEN": "adm"},
        {**REQUIRED, "HANDOFF_PORT": "eighty"},
        {**REQUIRED, "HANDOFF_LEASE_SECONDS": "-1"},
        {**REQUIRED, "HANDOFF_TIMEZONE_OFFSET": "30"},
    ],
)
def test_bad_environment_is_refused(env):
    with pytest.raises(SettingsError):
        HandoffSettings.from_env(env)


def test_service_refuses_to_start_without_tokens():
    result = subprocess.run(
        [sys.executable, "-m", "staff"],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "HANDOFF_ADMIN_TOKEN is required" in result.stderr
