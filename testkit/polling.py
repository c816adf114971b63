"""Waiting for something another process does (a reply, a ticket, a log line), in tests and benchmarks."""

import asyncio
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


async def wait_for_async(check, timeout: float = 10.0, interval: float = 0.02):
    """wait_for inside an event loop: `check` may be a coroutine function; the loop keeps running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check() if asyncio.iscoroutinefunction(check) else check()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
