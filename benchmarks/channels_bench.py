"""Channel figures: Messenger and Zalo webhook → reply latency, webhook acknowledgements under many
concurrent senders, and many website sessions at once (WebSocket or long-polling)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from typing import Any, Dict, List, Tuple

import aiohttp
import requests

from benchmarks.shared import summarize
from testkit.website_customers import WEB_MESSAGES, website_customers


def messenger_request(secret: str, body: Dict[str, Any]) -> Tuple[bytes, Dict[str, str]]:
    """A webhook body and its headers, signed as Meta signs it (X-Hub-Signature-256 over the raw bytes)."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


def signed_post(url: str, secret: str, body: Dict[str, Any]) -> requests.Response:
    """POST a webhook body signed as Meta signs it."""
    raw, headers = messenger_request(secret, body)
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


def zalo_request(zalo: Any, oa_secret_key: str, user: str, text: str) -> Tuple[bytes, Dict[str, str]]:
    """A user_send_text event and its headers, signed as Zalo signs it (sha256 of app id, body, timestamp,
    OA key)."""
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
    signature = hashlib.sha256(material).hexdigest()
    return raw, {"Content-Type": "application/json", "X-ZEvent-Signature": signature}


def zalo_post(url: str, zalo: Any, oa_secret_key: str, user: str, text: str) -> requests.Response:
    """POST a user_send_text event signed as Zalo signs it."""
    raw, headers = zalo_request(zalo, oa_secret_key, user, text)
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
    system, graph, zalo, secret: str, oa_secret_key: str, senders: int = 50, messages: int = 20
) -> Dict[str, Any]:
    """`senders` customers at once on each of Messenger and Zalo, `messages` each as fast as the webhook
    answers: the acknowledgement time (ms), then whether every message got its reply (each once).

    The senders are coroutines on one asyncio loop (aiohttp, one keep-alive connection each, as a platform's
    delivery keeps its connections): 50 threads of `requests` spent about 2 ms of CPU a request behind one
    GIL, more than the ingress's 0.3 ms, so their own queue was most of what they timed."""
    results: Dict[str, Any] = {}
    for channel in ("messenger", "zalo"):
        prefix = "7" if channel == "messenger" else "6"
        run = uuid.uuid4().int % 10**12  # ids unique per run: the bench's Redis keeps earlier runs' trackers
        users = [f"{prefix}{run:012d}{i:06d}" for i in range(senders)]
        stand_in = graph if channel == "messenger" else zalo
        before = len(stand_in.sent)
        path = "facebook" if channel == "messenger" else "zalo"
        url = f"{system.rasa_url}/webhooks/{path}/webhook"
        acks: List[float] = []

        def request(user: str, text: str) -> Tuple[bytes, Dict[str, str]]:
            if channel == "messenger":
                return messenger_request(secret, messenger_event(user, text))
            return zalo_request(zalo, oa_secret_key, user, text)

        async def customer(user: str) -> None:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
                for turn in range(messages):
                    raw, headers = request(user, WEB_MESSAGES[turn % len(WEB_MESSAGES)])
                    start = time.perf_counter()
                    async with http.post(url, data=raw, headers=headers) as response:
                        await response.read()
                        elapsed = (time.perf_counter() - start) * 1000
                        response.raise_for_status()
                    acks.append(elapsed)

        async def customers() -> None:
            await asyncio.gather(*(customer(user) for user in users))

        started = time.monotonic()
        asyncio.run(customers())
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


def website_sessions(system, clients: int = 100, seconds: float = 60.0, **options: Any) -> Dict[str, Any]:
    """testkit's website customers (`options`: think_seconds, jitter, transport) with their latency
    summarised."""
    result = website_customers(system, clients=clients, seconds=seconds, **options)
    return {**result, "latency_ms": summarize(result["latency_ms"])}
