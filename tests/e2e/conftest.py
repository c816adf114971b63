"""Starts the real system (Redis, handoff service, action server, Rasa server) once for e2e tests."""

import pytest

from bot.services import System, free_port
from bot.settings import PROJECT_ROOT, Settings

MODEL = PROJECT_ROOT / "models" / "senmart.tar.gz"


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    """The running system; `system.rasa_url`, `.handoff_url`, `.admin_token`, `.service_token`."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}; run `make train` (make test does it)")
    settings = Settings(
        rasa_port=free_port(),
        action_port=free_port(),
        handoff_port=free_port(),
        embedded_redis_port=free_port(),
        redis_url=None,
        var_dir=tmp_path_factory.mktemp("var"),
        model_path=MODEL,
        extra_env={"SENMART_TODAY": "2026-11-23", "HANDOFF_AGENT_TOKENS": "lan:token-lan,minh:token-minh"},
    )
    with System(settings) as running:
        yield running
