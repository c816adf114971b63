"""Settings of the whole system as the e2e tests and the benchmarks start it (bot/services.System): every
service on a free 127.0.0.1 port, and the bot's clock on the day their conversations are written for."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional

from bot.services import free_port
from bot.settings import Settings

TODAY = "2026-11-23"  # SENMART_TODAY: the promotions the conversations ask about are running then


def local_settings(
    var_dir: Path, model_path: Path, extra_env: Optional[Mapping[str, str]] = None, **options: Any
) -> Settings:
    """Settings with Rasa, the ingress, the action server, the staff service and Redis on free ports;
    `extra_env` is added to SENMART_TODAY, `options` are other Settings fields (rasa_workers, …)."""
    return Settings(
        rasa_port=free_port(),
        ingress_port=free_port(),
        action_port=free_port(),
        handoff_port=free_port(),
        embedded_redis_port=free_port(),
        var_dir=var_dir,
        model_path=model_path,
        extra_env={"SENMART_TODAY": TODAY, **(extra_env or {})},
        **options,
    )
