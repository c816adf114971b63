"""Action server settings, read from the environment when first needed (never at import)."""

from __future__ import annotations

import os
from datetime import date
from typing import Optional

from actions.promotion_engine import today_vn

CLOCK_ENV = "SENMART_TODAY"


def today() -> date:
    """The business date: SENMART_TODAY=YYYY-MM-DD when set (tests, demos), else today in Vietnam."""
    fixed: Optional[str] = os.environ.get(CLOCK_ENV)
    if fixed:
        return date.fromisoformat(fixed)
    return today_vn()


def handoff_url() -> str:
    """Base URL of the handoff service."""
    return os.environ.get("HANDOFF_URL", "http://127.0.0.1:8000").rstrip("/")


def handoff_token() -> str:
    """Bearer token of the action server on the handoff service's /internal API."""
    return os.environ.get("HANDOFF_SERVICE_TOKEN", "")


def rasa_url() -> str:
    """Base URL of the Rasa server's HTTP API (the whole conversation, see actions/conversation.py)."""
    return os.environ.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/")


def rasa_token() -> str:
    """Token of Rasa's HTTP API (`--auth-token`)."""
    return os.environ.get("RASA_AUTH_TOKEN", "")
