"""Website customers on the chat's socket.io channel, as the e2e tests and the benchmarks drive them: each
sends a message, waits for the answer, pauses and repeats; every message sent is then looked up in the
customer's Rasa conversation."""

from __future__ import annotations

import concurrent.futures
import queue
import random
import threading
import time
from typing import Any, Dict

import requests

from testkit.socket_client import customer_client, start_session

# the website sessions cycle through these (FAQ, promotion, chit-chat: every one gets a reply)
WEB_MESSAGES = [
    "phí ship bao nhiêu vậy",
    "đổi trả trong bao lâu",
    "cho mình hỏi mã GIAM50K",
    "hoàn tiền về ví senpay mất bao lâu",
    "quen mat khau thi lam sao",
    "cảm ơn nhé",
]


def web_customer(
    url: str,
    deadline: float,
    think_seconds: float,
    stats: Dict[str, Any],
    index: int,
    jitter: bool = False,
    transport: str = "websocket",
) -> None:
    """One customer over a WebSocket: send, wait for the reply, pause, repeat until the deadline. With
    `jitter` the customer starts within the first `think_seconds` and pauses 0.5–1.5 × `think_seconds`
    (customers do not all type at the same speed); without it every customer starts at once and pauses
    exactly `think_seconds`, so messages arrive in waves (the worst case).

    Sync clients in threads: python-engineio's asyncio WebSocket client needs aiohttp >= 3.10, Rasa 3.6
    pins 3.9."""
    client = customer_client()
    replies: "queue.Queue[Dict[str, Any]]" = queue.Queue()
    client.on("bot_uttered", replies.put)
    client.connect(url, transports=[transport], socketio_path="socket.io", wait_timeout=30)
    try:
        try:
            session_id = start_session(client, timeout=30)  # the server issues the id
        except queue.Empty:
            raise RuntimeError("no session_confirm within 30 s") from None
        with stats["lock"]:
            stats["sessions"][session_id] = 0
        turn = 0
        rng = random.Random(index)
        if jitter:
            time.sleep(rng.uniform(0, think_seconds))
        while time.monotonic() < deadline:
            text = WEB_MESSAGES[(index + turn) % len(WEB_MESSAGES)]
            turn += 1
            start = time.perf_counter()
            client.emit("user_uttered", {"message": text, "session_id": session_id})
            with stats["lock"]:
                stats["sent"] += 1
                stats["sessions"][session_id] += 1
            try:
                replies.get(timeout=60)
            except queue.Empty:
                with stats["lock"]:
                    stats["lost"] += 1
                continue
            with stats["lock"]:
                stats["latency_ms"].append((time.perf_counter() - start) * 1000)
            # the bot may answer in several messages: drain them before the next question
            time.sleep(think_seconds * (rng.uniform(0.5, 1.5) if jitter else 1.0))
            while not replies.empty():
                replies.get_nowait()
                with stats["lock"]:
                    stats["extra_messages"] += 1
    finally:
        client.disconnect()


def website_customers(
    system,
    clients: int = 100,
    seconds: float = 60.0,
    think_seconds: float = 1.0,
    jitter: bool = False,
    transport: str = "websocket",
) -> Dict[str, Any]:
    """`clients` socket.io customers (`transport`: websocket or polling) for `seconds`: messages sent,
    answered, lost, in the trackers, each answer's latency (ms, sorted)."""
    stats: Dict[str, Any] = {
        "sent": 0,
        "lost": 0,
        "extra_messages": 0,
        "latency_ms": [],
        "sessions": {},
        "lock": threading.Lock(),
    }
    started = time.monotonic()
    deadline = started + seconds
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        jobs = [
            pool.submit(
                web_customer, system.rasa_url, deadline, think_seconds, stats, index, jitter, transport
            )
            for index in range(clients)
        ]
        for job in jobs:
            job.result()
    elapsed = time.monotonic() - started
    answered = len(stats["latency_ms"])
    # every message the customers sent must be in their conversation, once
    in_tracker = 0
    for session_id in stats["sessions"]:
        tracker = requests.get(
            f"{system.rasa_url}/conversations/{session_id}/tracker",
            params={"token": system.rasa_auth_token},
            timeout=30,
        ).json()
        in_tracker += sum(1 for event in tracker.get("events", []) if event.get("event") == "user")
    return {
        "clients": clients,
        "transport": transport,
        "seconds": round(elapsed, 1),
        "think_seconds": think_seconds,
        "jitter": jitter,
        "sent": stats["sent"],
        "answered": answered,
        "lost": stats["lost"],
        "in_tracker": in_tracker,
        "extra_messages": stats["extra_messages"],
        "answered_per_s": answered / elapsed,
        "latency_ms": sorted(stats["latency_ms"]),
    }
