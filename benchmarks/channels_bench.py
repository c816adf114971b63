"""Channel figures: Messenger and Zalo webhook → reply latency, webhook acknowledgements under many
concurrent senders, and many website sessions at once (WebSocket or long-polling)."""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import json
import queue
import random
import threading
import time
import uuid
from typing import Any, Dict, List

import requests

from benchmarks.shared import summarize
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


def signed_post(url: str, secret: str, body: Dict[str, Any]) -> requests.Response:
    """POST a webhook body signed as Meta signs it (X-Hub-Signature-256 over the raw bytes)."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    return requests.post(url, data=raw, headers=headers, timeout=30)


def messenger_event(psid: str, text: str, page_id: str = "1234567890") -> Dict[str, Any]:
    """One text message in the format of Meta's webhook reference."""
    now = int(time.time() * 1000)
    return {
        "object": "page",
        "entry": [
            {
                "id": page_id,
                "time": now,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": page_id},
                        "timestamp": now,
                        "message": {"mid": f"m_{uuid.uuid4().hex}", "text": text},
                    }
                ],
            }
        ],
    }


def messenger_latency(system, graph, secret: str, n: int = 30) -> Dict[str, float]:
    """Signed webhook POST → the bot's reply recorded by the Send API stand-in (ms)."""
    url = f"{system.rasa_url}/webhooks/facebook/webhook"
    times: List[float] = []
    for i in range(n):
        psid = f"9{i:015d}"
        before = len(graph.sent)
        start = time.perf_counter()
        signed_post(
            url, secret, messenger_event(psid, WEB_MESSAGES[i % len(WEB_MESSAGES)])
        ).raise_for_status()
        deadline = time.monotonic() + 30
        while not any(m.recipient == psid and m.ok for m in list(graph.sent)[before:]):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no Send API call for {psid} within 30 s")
            time.sleep(0.002)
        times.append((time.perf_counter() - start) * 1000)
    return summarize(times)


def zalo_post(url: str, zalo: Any, oa_secret_key: str, user: str, text: str) -> requests.Response:
    """POST a user_send_text event signed as Zalo signs it (sha256 of app id, body, timestamp, OA key)."""
    body = {
        "app_id": zalo.app_id,
        "event_name": "user_send_text",
        "sender": {"id": user},
        "recipient": {"id": "579745863508352884"},
        "message": {"msg_id": uuid.uuid4().hex, "text": text},
        "timestamp": str(int(time.time() * 1000)),
    }
    raw = json.dumps(body, ensure_ascii=False).encode()
    material = zalo.app_id.encode() + raw + body["timestamp"].encode() + oa_secret_key.encode()
    headers = {"Content-Type": "application/json", "X-ZEvent-Signature": hashlib.sha256(material).hexdigest()}
    return requests.post(url, data=raw, headers=headers, timeout=30)


def zalo_latency(system, zalo, oa_secret_key: str, n: int = 30) -> Dict[str, float]:
    """Signed Zalo event → the bot's reply recorded by the OA API stand-in (ms)."""
    url = f"{system.rasa_url}/webhooks/zalo/webhook"
    times: List[float] = []
    for i in range(n):
        user = f"8{i:018d}"
        start = time.perf_counter()
        zalo_post(url, zalo, oa_secret_key, user, WEB_MESSAGES[i % len(WEB_MESSAGES)]).raise_for_status()
        deadline = time.monotonic() + 30
        while not any(s.recipient == user and s.ok for s in list(zalo.sent)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no Zalo send for {user} within 30 s")
            time.sleep(0.002)
        times.append((time.perf_counter() - start) * 1000)
    return summarize(times)


def webhook_acks(
    system, graph, zalo, secret: str, oa_secret_key: str, senders: int = 50, messages: int = 4
) -> Dict[str, Any]:
    """`senders` customers at once on each of Messenger and Zalo, `messages` each as fast as the webhook
    answers: the acknowledgement time (ms), then whether every message got its reply (each once)."""
    results: Dict[str, Any] = {}
    for channel in ("messenger", "zalo"):
        prefix = "7" if channel == "messenger" else "6"
        run = uuid.uuid4().int % 10**12  # ids unique per run: the bench's Redis keeps earlier runs' trackers
        users = [f"{prefix}{run:012d}{i:06d}" for i in range(senders)]
        stand_in = graph if channel == "messenger" else zalo
        before = len(stand_in.sent)
        acks: List[float] = []
        lock = threading.Lock()

        def customer(user: str) -> None:
            for turn in range(messages):
                text = WEB_MESSAGES[turn % len(WEB_MESSAGES)]
                start = time.perf_counter()
                if channel == "messenger":
                    response = signed_post(
                        f"{system.rasa_url}/webhooks/facebook/webhook", secret, messenger_event(user, text)
                    )
                else:
                    response = zalo_post(
                        f"{system.rasa_url}/webhooks/zalo/webhook", zalo, oa_secret_key, user, text
                    )
                elapsed = (time.perf_counter() - start) * 1000
                response.raise_for_status()
                with lock:
                    acks.append(elapsed)

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(senders) as pool:
            for job in [pool.submit(customer, user) for user in users]:
                job.result()
        acknowledged_s = time.monotonic() - started
        wanted = set(users)
        deadline = time.monotonic() + 180
        answered: Dict[str, int] = {}
        while time.monotonic() < deadline:
            answered = {}
            for sent in list(stand_in.sent)[before:]:
                if sent.ok and sent.recipient in wanted:
                    answered[sent.recipient] = answered.get(sent.recipient, 0) + 1
            if sum(answered.values()) >= senders * messages:
                break
            time.sleep(0.2)
        user_events = bot_events = 0
        for user in users:
            events = (
                requests.get(
                    f"{system.rasa_url}/conversations/{user}/tracker",
                    params={"token": system.rasa_auth_token},
                    timeout=30,
                )
                .json()
                .get("events", [])
            )
            user_events += sum(1 for event in events if event.get("event") == "user")
            bot_events += sum(1 for event in events if event.get("event") == "bot")
        results[channel] = {
            "senders": senders,
            "messages": senders * messages,
            "ack_ms": summarize(acks),
            "acknowledged_in_s": round(acknowledged_s, 2),
            "all_answered_in_s": round(time.monotonic() - started, 2),
            "replies": sum(answered.values()),
            "messages_in_trackers": user_events,  # each message once
            "bot_messages_in_trackers": bot_events,  # what the customers should have received
        }
    return results


def _web_session(
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


def website_sessions(
    system,
    clients: int = 100,
    seconds: float = 60.0,
    think_seconds: float = 1.0,
    jitter: bool = False,
    transport: str = "websocket",
) -> Dict[str, Any]:
    """`clients` socket.io customers (`transport`: websocket or polling) for `seconds`: messages sent,
    answered, lost, latency."""
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
                _web_session, system.rasa_url, deadline, think_seconds, stats, index, jitter, transport
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
        "latency_ms": summarize(stats["latency_ms"]),
    }
