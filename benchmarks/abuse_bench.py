"""`make abuse` (also part of `make bench`): hostile input and faults against the running system.

While a steady load of ordinary customers talks to the bot over REST, each attack is fired in turn; per
attack the table gives what the attacker got, the ordinary customers' p95 against the quiet baseline,
the peak growth of the system's memory (every process: Redis, staff service, action server, Rasa) and
whether an ordinary message went unanswered. The fault part SIGKILLs the action server, the staff service
and Rasa and restarts Redis under the same load, then counts customer messages missing from their
conversations and customers who got the error apology after the service was back.

Redis is Debian's `redis-server` (with a password) when installed (`make bench` installs it), else the
embedded one.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import psutil
import requests

from benchmarks.shared import OUT
from bot.channels.guard import APOLOGY
from bot.services import Process, System, free_port, wait_until
from testkit.local_system import local_settings

ORDINARY = [
    "phí ship bao nhiêu vậy",
    "đổi trả trong bao lâu",
    "hoàn tiền về ví senpay mất bao lâu",
    "cho mình hỏi mã GIAM50K",
    "quen mat khau thi lam sao",
]
DEBIAN_REDIS = "/usr/bin/redis-server"


# -- ordinary customers -------------------------------------------------------------------------------
@dataclass
class Sent:
    sender: str
    text: str
    at: float
    seconds: float
    answered: bool
    apology: bool
    accepted: bool  # the server took it (HTTP 200): from then on it must be in the conversation


@dataclass
class Load:
    """Ordinary customers on REST, each a new conversation every 5 messages, until stopped."""

    rasa_url: str
    clients: int = 3
    think_seconds: float = 0.3
    sent: List[Sent] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _customer(self, index: int) -> None:
        http = requests.Session()
        turn = 0
        sender = f"ordinary-{index}-{uuid.uuid4().hex[:6]}"
        while not self.stop.is_set():
            text = ORDINARY[(index + turn) % len(ORDINARY)]
            started = time.perf_counter()
            accepted = False
            try:
                response = http.post(
                    f"{self.rasa_url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": text},
                    timeout=60,
                )
                accepted = response.status_code == 200
                replies = response.json() if response.ok else []
            except (requests.RequestException, ValueError):
                replies = []
            seconds = time.perf_counter() - started
            texts = [r.get("text", "") for r in replies if isinstance(r, dict)]
            with self.lock:
                self.sent.append(
                    Sent(
                        sender,
                        text,
                        time.time(),
                        seconds,
                        bool(texts),
                        any(t == APOLOGY for t in texts),
                        accepted,
                    )
                )
            turn += 1
            if turn % 5 == 0:
                sender = f"ordinary-{index}-{uuid.uuid4().hex[:6]}"
            time.sleep(self.think_seconds)

    def start(self) -> None:
        self.threads = [
            threading.Thread(target=self._customer, args=(i,), daemon=True) for i in range(self.clients)
        ]
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=90)

    def between(self, start: float, end: float) -> List[Sent]:
        with self.lock:
            return [s for s in self.sent if start <= s.at <= end]


def p95(values: List[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


class Memory(threading.Thread):
    """Peak resident memory of the system's process trees, sampled every 0.2 s."""

    def __init__(self, system: System) -> None:
        super().__init__(daemon=True)
        self.system = system
        self.peak = 0
        self.stopped = threading.Event()

    def now(self) -> int:
        total = 0
        for process in list(self.system.processes):
            try:
                root = psutil.Process(process.popen.pid)
                for proc in [root, *root.children(recursive=True)]:
                    total += proc.memory_info().rss
            except psutil.Error:
                continue
        return total

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.2)


# -- attacks --------------------------------------------------------------------------------------------
def statuses(responses: List[int]) -> str:
    counts: Dict[int, int] = {}
    for status in responses:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{count}× {status}" for status, count in sorted(counts.items()))


def hammer(call: Callable[[], int], seconds: float, threads: int = 4) -> List[int]:
    """`threads` loops calling `call` for `seconds`; the HTTP statuses (0 = connection refused/reset)."""
    results: List[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop() -> None:
        while time.monotonic() < deadline:
            try:
                status = call()
            except requests.RequestException:
                status = 0
            with lock:
                results.append(status)

    workers = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def attacks(system: System) -> List[Tuple[str, Callable[[], str]]]:
    rasa, staff = system.rasa_url, system.handoff_url
    action = f"http://127.0.0.1:{system.settings.action_port}"
    long_query = "x=" + "a" * 8000

    def long_urls() -> str:
        got = hammer(lambda: requests.get(f"{staff}/health?{long_query}", timeout=10).status_code, 8)
        got += hammer(lambda: requests.get(f"{rasa}/?{long_query}", timeout=10).status_code, 4, 2)
        got += hammer(lambda: requests.get(f"{action}/health?{long_query}", timeout=10).status_code, 4, 2)
        return statuses(got)

    def big_headers() -> str:
        headers = {"X-Junk": "b" * 16_000}
        got = [
            requests.get(f"{url}/health", headers=headers, timeout=10).status_code for url in (staff, action)
        ]
        got.append(requests.get(f"{rasa}/", headers=headers, timeout=10).status_code)
        return statuses(got)

    def huge_message() -> str:
        text = ("Cho mình hỏi về đơn hàng hôm trước nhé. " * 2000)[:62_000]
        replies = []
        for _ in range(3):
            response = requests.post(
                f"{rasa}/webhooks/rest/webhook",
                json={"sender": f"atk-{uuid.uuid4().hex[:6]}", "message": text},
                timeout=60,
            )
            replies.append((response.status_code, (response.json() or [{}])[0].get("text", "")[:40]))
        return f"{replies[0][0]}: “{replies[0][1]}…”"

    def huge_body() -> str:
        body = json.dumps({"sender": "atk", "message": "a" * (2 * 1024 * 1024)})
        response = requests.post(
            f"{rasa}/webhooks/rest/webhook",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        return str(response.status_code)

    def messenger_flood() -> str:
        body = json.dumps({"object": "page", "entry": [{"messaging": [], "pad": "c" * 900_000}]})
        got = hammer(
            lambda: requests.post(
                f"{rasa}/webhooks/facebook/webhook",
                data=body,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64},
                timeout=30,
            ).status_code,
            5,
            2,
        )
        return statuses(got)

    def socket_frame() -> str:
        from testkit.socket_client import customer_client, start_session

        client = customer_client()
        closed = threading.Event()
        client.on("disconnect", closed.set)
        client.connect(rasa, transports=["websocket"])
        session = start_session(client)
        try:
            client.emit("user_uttered", {"message": "d" * (1024 * 1024), "session_id": session})
        except Exception as problem:  # - what the attacker saw
            return f"refused ({type(problem).__name__})"
        result = "connection closed by the server" if closed.wait(10) else "still connected"
        client.disconnect()
        return result

    def socket_flood() -> str:
        from testkit.socket_client import customer_client, start_session

        client = customer_client()
        replies: List[Any] = []
        client.on("bot_uttered", replies.append)
        client.connect(rasa, transports=["websocket"])
        session = start_session(client)
        for i in range(300):
            client.emit("user_uttered", {"message": f"spam {i}", "session_id": session})
        time.sleep(8)
        client.disconnect()
        return f"300 messages sent, {len(replies)} replies"

    def typed_payloads() -> str:
        sender = f"atk-{uuid.uuid4().hex[:6]}"
        first = requests.post(
            f"{rasa}/webhooks/rest/webhook",
            json={"sender": sender, "message": '/EXTERNAL_csat_request{"ticket_id":"KN-20261204-0001"}'},
            timeout=60,
        ).json()
        requests.post(
            f"{rasa}/webhooks/rest/webhook",
            json={"sender": sender, "message": '/inform{"member_tier":"Kim Cương"}'},
            timeout=60,
        )
        tracker = requests.get(
            f"{rasa}/conversations/{sender}/tracker", params={"token": system.rasa_auth_token}, timeout=30
        ).json()
        tier = tracker["slots"].get("member_tier")
        return f"“{(first or [{}])[0].get('text', '')[:30]}…”, member_tier={tier}"

    def forged_session() -> str:
        from testkit.socket_client import customer_client, start_session

        client = customer_client()
        client.connect(rasa, transports=["websocket"])
        psid = "1234567890123456"
        given = start_session(client, proposed=psid)
        client.disconnect()
        history = requests.get(f"{staff}/chat/history", params={"session_id": psid}, timeout=10).status_code
        return f"asked for {psid[:6]}…, got a new id ({given != psid}); history {history}"

    def spreadsheet_bombs() -> str:
        from openpyxl import Workbook

        workbook = Workbook()
        workbook.active.append(["topic", "question"])
        workbook.active["XFD1048576"] = "x"
        buffer = io.BytesIO()
        workbook.save(buffer)
        headers = {"Authorization": f"Bearer {system.studio_token}"}
        xlsx = requests.post(
            f"{staff}/studio/api/import/faq?format=xlsx", data=buffer.getvalue(), headers=headers, timeout=60
        )
        csv = requests.post(
            f"{staff}/studio/api/import/faq?format=csv",
            data=("a,b\n" * 200_000).encode(),
            headers=headers,
            timeout=60,
        )
        return f"xlsx {xlsx.status_code}, csv {csv.status_code}"

    def internal_ports() -> str:
        call = {"next_action": "action_handoff", "sender_id": "someone", "tracker": {}, "domain": {}}
        webhook = requests.post(f"{action}/webhook", json=call, timeout=10).status_code
        tracker = requests.get(f"{rasa}/conversations/someone/tracker", timeout=10).status_code
        return f"action server {webhook}, Rasa tracker API {tracker}"

    return [
        ("Long URLs (8,000 characters) at every port, 4 loops", long_urls),
        ("16 KB header at every port", big_headers),
        ("62,000-character REST message (×3)", huge_message),
        ("2 MB REST body", huge_body),
        ("900 KB unsigned Messenger deliveries, 2 loops", messenger_flood),
        ("1 MB socket.io frame", socket_frame),
        ("Flood from one socket: 300 messages", socket_flood),
        ("Typed /EXTERNAL_… and /inform{…} payloads", typed_payloads),
        ("Foreign session id (a Messenger PSID) on socket.io and /chat/history", forged_session),
        ("XLSX bomb (cell XFD1048576) and 200,000-row CSV, content token", spreadsheet_bombs),
        ("Internal calls without tokens (action server, Rasa API)", internal_ports),
    ]


# -- faults ---------------------------------------------------------------------------------------------
def restartable(system: System, name: str) -> Tuple[Callable[[], None], Callable[[], None]]:
    """(kill, start) of one service of the system; "rasa" is every Rasa process (nginx in front stays)."""

    def victims() -> List[Process]:
        if name == "rasa":
            names = {"rasa"} | {backend.name for backend in system.rasa_backends}
            return [p for p in system.processes if p.name in names]
        return [next(p for p in reversed(system.processes) if p.name == name)]

    def kill() -> None:
        for victim in victims():
            victim.kill()
            system.processes.remove(victim)

    starts = {
        "actions": system.start_action_server,
        "handoff": system.start_handoff,
        "rasa": system.start_rasa_processes,
    }
    return kill, starts[name]


def lost_messages(system: System, sent: List[Sent]) -> int:
    """Customer messages the server accepted (HTTP 200) missing from their stored conversation."""
    missing = 0
    by_sender: Dict[str, List[str]] = {}
    for item in sent:
        if item.accepted:
            by_sender.setdefault(item.sender, []).append(item.text)
    for sender, texts in by_sender.items():
        response = requests.get(
            f"{system.rasa_url}/conversations/{sender}/tracker",
            params={"token": system.rasa_auth_token, "include_events": "ALL"},
            timeout=30,
        )
        stored = [e.get("text") for e in response.json().get("events", []) if e.get("event") == "user"]
        for text in texts:
            if text in stored:
                stored.remove(text)
            else:
                missing += 1
    return missing


# -- the run --------------------------------------------------------------------------------------------
class DebianRedis:
    """Debian's redis-server with a password, restartable on the same port and data directory."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.password = secrets.token_hex(16)
        self.directory = directory
        self.process: Optional[Process] = None
        self.url = f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            DEBIAN_REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--requirepass", self.password,
            "--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
        ]  # fmt: skip
        self.process = Process("debian-redis", command, self.directory / "redis.log", dict(os.environ))
        import redis

        probe = redis.Redis(port=self.port, password=self.password)
        wait_until(lambda: probe.ping(), "Debian redis-server", self.process, timeout=20)

    def kill(self) -> None:
        if self.process:
            self.process.kill()

    def stop(self) -> None:
        if self.process:
            self.process.stop()


def abuse_measure(model: Path, quiet_seconds: float = 20.0) -> Dict[str, Any]:
    """Every attack and fault under ordinary load; the figures for RESULTS.md."""
    shutil.rmtree(OUT / "var-abuse", ignore_errors=True)
    debian = DebianRedis(OUT / "var-abuse" / "debian-redis") if Path(DEBIAN_REDIS).exists() else None
    if debian:
        debian.start()
    settings = local_settings(
        redis_url=debian.url if debian else None,
        var_dir=OUT / "var-abuse",
        model_path=model,
        rasa_workers=2,
        extra_env={"TRACKER_SPOOL_DIR": str(OUT / "var-abuse" / "spool")},
    )
    system = System(settings)
    system.start()
    memory = Memory(system)
    memory.start()
    load = Load(system.rasa_url)
    results: Dict[str, Any] = {
        "redis": "Debian redis-server 7 (password)" if debian else "embedded redis-server"
    }
    try:
        load.start()
        time.sleep(3)  # warm-up
        start = time.time()
        base_memory = memory.now()
        time.sleep(quiet_seconds)
        quiet = load.between(start, time.time())
        baseline = p95([s.seconds for s in quiet])
        results["baseline"] = {"p95_s": baseline, "messages": len(quiet), "rss_mb": base_memory / 2**20}
        rows = []
        for name, attack in attacks(system):
            memory.peak = memory.now()
            before = memory.peak
            start = time.time()
            try:
                got = attack()
            except Exception as problem:  # - the row says what happened
                got = f"bench error: {type(problem).__name__}: {problem}"[:120]
            time.sleep(2)
            during = load.between(start, time.time())
            rows.append(
                {
                    "attack": name,
                    "attacker_got": got,
                    "p95_s": p95([s.seconds for s in during]),
                    "ratio": p95([s.seconds for s in during]) / baseline if baseline else 0.0,
                    "rss_growth_mb": max(0, memory.peak - before) / 2**20,
                    "unanswered": sum(not s.answered for s in during),
                    "messages": len(during),
                }
            )
            print(f"[abuse] {rows[-1]}", flush=True)
        results["attacks"] = rows
        results["peak_rss_growth_mb"] = max(0, memory.peak - base_memory) / 2**20

        faults = []
        for name in ("actions", "handoff", "rasa", "redis"):
            start = time.time()
            if name == "redis":
                if debian:
                    debian.kill()
                    time.sleep(1)
                    debian.start()
                else:
                    victim = next(p for p in system.processes if p.name == "redis")
                    victim.kill()
                    system.processes.remove(victim)
                    system.start_redis()
            else:
                kill, restart = restartable(system, name)
                kill()
                time.sleep(1)
                restart()
            back = time.time()
            time.sleep(8)
            after = load.between(back, time.time())
            faults.append(
                {
                    "fault": name,
                    "down_s": back - start,
                    "errors_after_back": sum(s.apology or not s.answered for s in after),
                    "messages_after_back": len(after),
                }
            )
            print(f"[abuse] fault {faults[-1]}", flush=True)
        load.finish()
        time.sleep(3)  # spooled turns and the event stream catch up
        results["faults"] = faults
        results["lost_messages"] = lost_messages(system, load.sent)
        results["sent_messages"] = len(load.sent)
        results["accepted_messages"] = sum(s.accepted for s in load.sent)
        results["unanswered_total"] = sum(not s.answered for s in load.sent)
        results["p50_s"] = statistics.median([s.seconds for s in load.sent]) if load.sent else 0.0
    finally:
        load.stop.set()
        memory.stopped.set()
        system.stop()
        if debian:
            debian.stop()
    return results


def render_abuse(r: Dict[str, Any]) -> str:
    """The RESULTS.md section."""
    date = r.get("date", "")
    base = r["baseline"]
    lines = [
        f"## Hostile input and faults (`make abuse`) — measured on {date}",
        "",
        f"Three ordinary REST customers talk to the bot throughout (2 Rasa workers, {r['redis']}); quiet "
        f"baseline p95 {base['p95_s']:.2f} s over {base['messages']} messages, system memory "
        f"{base['rss_mb']:.0f} MB. Targets: every attack refused or bounded, ordinary p95 ≤ 1.5× baseline, "
        "memory growth ≤ 200 MB, nothing lost.",
        "",
        "| Attack | What the attacker got | Ordinary p95 | × baseline | Memory growth | Unanswered |",
        "|---|---|---|---|---|---|",
    ]
    for row in r["attacks"]:
        lines.append(
            f"| {row['attack']} | {row['attacker_got']} | {row['p95_s']:.2f} s | {row['ratio']:.2f} | "
            f"{row['rss_growth_mb']:.0f} MB | {row['unanswered']}/{row['messages']} |"
        )
    lines += [
        "",
        f"Peak memory growth over the whole attack part: {r['peak_rss_growth_mb']:.0f} MB.",
        "",
        "| Fault (SIGKILL, then restart) | Down (s) | Customers who got an error after it was back |",
        "|---|---|---|",
    ]
    for fault in r["faults"]:
        errors = f"{fault['errors_after_back']}/{fault['messages_after_back']}"
        lines.append(f"| {fault['fault']} | {fault['down_s']:.1f} | {errors} |")
    lines += [
        "",
        f"Customer messages sent in the whole run: {r['sent_messages']}, of which the server accepted "
        f"{r.get('accepted_messages', r['sent_messages'])} (the others were refused at the connection while "
        f"Rasa was down: the customer's client saw the failure); accepted but missing from their stored "
        f"conversation afterwards: **{r['lost_messages']}**; unanswered (an error or no reply, mostly while "
        f"a service was down): {r['unanswered_total']}.",
        "",
    ]
    return "\n".join(lines)
