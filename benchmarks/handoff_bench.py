"""Handoff figures for `make bench`: handoff latency, relay latency, queue throughput."""

from __future__ import annotations

import queue
import time
import uuid
from typing import Dict

import requests

from benchmarks.shared import summarize
from testkit.polling import wait_for
from testkit.socket_client import customer_client, start_session


def _wait(predicate, timeout: float = 10.0):
    """Poll every 2 ms (the latency measured is the time until it is true)."""
    return wait_for(predicate, timeout, interval=0.002)


def handoff_latency(system, agent_headers: Dict[str, str], n: int = 20) -> Dict[str, Dict[str, float]]:
    """(a) handoff request → ticket visible in the API; (b) customer message during the handoff →
    in the ticket transcript (through the Redis event stream)."""
    api = system.handoff_url
    opened, appended = [], []
    with requests.Session() as http:
        for _ in range(n):
            sender = f"bench-h-{uuid.uuid4().hex[:8]}"
            start = time.perf_counter()
            reply = http.post(
                f"{system.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": "cho mình gặp nhân viên"},
                timeout=30,
            ).json()
            ticket_id = next(m["custom"]["handoff"]["ticket_id"] for m in reply if "custom" in m)
            _wait(lambda: http.get(f"{api}/api/tickets/{ticket_id}", headers=agent_headers, timeout=5).ok)
            opened.append((time.perf_counter() - start) * 1000)

            text = f"thêm thông tin {uuid.uuid4().hex[:6]}"
            start = time.perf_counter()
            http.post(
                f"{system.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                timeout=30,
            )
            _wait(
                lambda: any(
                    m["text"] == text
                    for m in http.get(
                        f"{api}/api/tickets/{ticket_id}", headers=agent_headers, timeout=5
                    ).json()["transcript"]
                )
            )
            appended.append((time.perf_counter() - start) * 1000)
            http.post(f"{api}/api/tickets/{ticket_id}/return-to-bot", headers=agent_headers, timeout=10)
    return {"handoff_visible_ms": summarize(opened), "message_in_transcript_ms": summarize(appended)}


def relay_latency(system, agent_headers: Dict[str, str], n: int = 30) -> Dict[str, float]:
    """Agent reply through the API → text on the customer's socket.io session."""
    inbox: "queue.Queue[dict]" = queue.Queue()
    client = customer_client()
    client.on("bot_uttered", lambda data: inbox.put(data))
    client.connect(system.rasa_url, transports=["websocket"])
    session = start_session(client)
    client.emit("user_uttered", {"message": "cho mình gặp nhân viên", "session_id": session})
    ticket_id = None
    while ticket_id is None:
        message = inbox.get(timeout=30)
        ticket_id = ((message.get("custom") or {}).get("handoff") or {}).get("ticket_id")
    api = system.handoff_url
    requests.post(f"{api}/api/tickets/{ticket_id}/claim", headers=agent_headers, timeout=10)
    times = []
    try:
        for i in range(n):
            text = f"Tin nhắn thử số {i}"
            start = time.perf_counter()
            requests.post(
                f"{api}/api/tickets/{ticket_id}/messages",
                headers=agent_headers,
                json={"text": text},
                timeout=10,
            ).raise_for_status()
            while True:
                if inbox.get(timeout=10).get("text") == text:
                    break
            times.append((time.perf_counter() - start) * 1000)
    finally:
        client.disconnect()
    return summarize(times)


def queue_throughput(redis_url: str, seconds: float = 5.0, concurrency: int = 16) -> Dict[str, float]:
    """Ticket operations per second on the Redis ticket store: create, claim, agent message, resolve."""
    import asyncio

    import redis.asyncio as aioredis

    from handoff.hours import AgentHours
    from handoff.ticket_rules import HandoffRequest
    from handoff.ticket_store import TicketStore

    async def run() -> int:
        client = aioredis.from_url(redis_url, decode_responses=True)
        store = TicketStore(client, AgentHours(), prefix=f"bench{uuid.uuid4().hex[:6]}:")
        stop = time.perf_counter() + seconds
        done = 0

        async def worker(index: int) -> None:
            nonlocal done
            while time.perf_counter() < stop:
                request = HandoffRequest(
                    sender_id=f"q-{index}-{uuid.uuid4().hex[:8]}",
                    reason="request_human",
                    transcript=[{"role": "customer", "text": "gặp nhân viên", "timestamp": time.time()}],
                )
                created = await store.create_or_reuse(request)
                ticket_id = created.ticket_id
                await store.claim(ticket_id, f"agent{index}")
                await store.record_agent_message(ticket_id, f"agent{index}", "Chào bạn")
                await store.resolve(ticket_id, f"agent{index}")
                done += 4

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        await client.close()
        return done

    operations = asyncio.run(run())
    return {"ops_per_s": operations / seconds, "concurrency": concurrency}
