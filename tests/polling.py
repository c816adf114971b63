"""Waiting for something another process does (a reply, a ticket, a log line)."""

import time


def wait_for(check, timeout: float = 10.0, interval: float = 0.05):
    """Poll until check() returns something truthy; return it (AssertionError on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
