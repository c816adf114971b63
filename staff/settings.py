"""Settings of the staff accounts (sessions, sign-in lockout, capacity, audit), read once from the
environment (docs/staff-accounts.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional, Text

from handoff.settings import SettingsError


@dataclass(frozen=True)
class StaffSettings:
    """Session timeouts, cookie, lockout, default capacity and audit retention."""

    session_idle_seconds: float = 30 * 60.0
    session_max_seconds: float = 12 * 3600.0
    cookie_secure: bool = True
    agent_capacity: int = 5
    lockout_failures: int = 5  # failed sign-ins of one account within the window …
    lockout_address_failures: int = 20  # … or of one client address
    lockout_window_seconds: float = 15 * 60.0
    lockout_seconds: float = 15 * 60.0  # … lock it this long
    failure_delay_cap_seconds: float = 2.0  # a failed sign-in is answered this late at most
    audit_retention_days: float = 365.0
    audit_trim_every_seconds: float = 3600.0
    presence_ttl_seconds: float = 60.0  # no heartbeat for this long: offline

    @classmethod
    def from_env(cls, env: Optional[Mapping[Text, Text]] = None) -> "StaffSettings":
        """STAFF_SESSION_IDLE_MINUTES, STAFF_SESSION_MAX_HOURS, STAFF_COOKIE_INSECURE, STAFF_AGENT_CAPACITY,
        STAFF_LOCKOUT_FAILURES, STAFF_LOCKOUT_ADDRESS_FAILURES, STAFF_LOCKOUT_WINDOW_MINUTES,
        STAFF_LOCKOUT_MINUTES, STAFF_FAILURE_DELAY_CAP_SECONDS, AUDIT_RETENTION_DAYS."""
        env = os.environ if env is None else env

        def number(name: Text, default: float, minimum: float = 0.0) -> float:
            raw = (env.get(name) or "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise SettingsError(f"{name} must be a number, got {raw!r}") from None
            if not minimum <= value <= 1e9:
                raise SettingsError(f"{name} must be at least {minimum:g}, got {raw!r}")
            return value

        return cls(
            session_idle_seconds=number("STAFF_SESSION_IDLE_MINUTES", 30, 0.01) * 60,
            session_max_seconds=number("STAFF_SESSION_MAX_HOURS", 12, 0.001) * 3600,
            cookie_secure=(env.get("STAFF_COOKIE_INSECURE") or "").strip() != "1",
            agent_capacity=int(number("STAFF_AGENT_CAPACITY", 5, 1)),
            lockout_failures=int(number("STAFF_LOCKOUT_FAILURES", 5, 1)),
            lockout_address_failures=int(number("STAFF_LOCKOUT_ADDRESS_FAILURES", 20, 1)),
            lockout_window_seconds=number("STAFF_LOCKOUT_WINDOW_MINUTES", 15, 0.01) * 60,
            lockout_seconds=number("STAFF_LOCKOUT_MINUTES", 15, 0.01) * 60,
            failure_delay_cap_seconds=number("STAFF_FAILURE_DELAY_CAP_SECONDS", 2.0),
            audit_retention_days=number("AUDIT_RETENTION_DAYS", 365, 0.001),
        )
