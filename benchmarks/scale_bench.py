"""Scale figures: stock single-process Rasa vs ours with 1 worker vs ours with N workers, same data.

Each configuration is started with `bot.services.System` (embedded Redis, action server, Rasa) and measured
over the REST webhook with the fixed 10-turn conversation of run.py: messages/s and p50/p95/p99 at 1, 8
and 32 concurrent customers, the Rasa processes' peak RSS, and the latency at turn 10 against turn 100
of 100-turn conversations.
"""

from __future__ import annotations

import concurrent.futures
import os
import time
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

import requests

from benchmarks.run import CONVERSATION, OUT, MemorySampler
from bot.services import System, free_port
from bot.settings import Settings

LONG_TURNS = 100


def _percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _conversation(base: str, turns: int) -> Tuple[List[float], int]:
    """One customer, `turns` messages cycling through CONVERSATION: (latency per turn in ms, errors)."""
    sender = f"scale-{uuid.uuid4().hex[:12]}"
    latencies, errors = [], 0
    with requests.Session() as session:
        for turn in range(turns):
            text = CONVERSATION[turn % len(CONVERSATION)]
            start = time.perf_counter()
            try:
                response = session.post(
                    f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=120
                )
                ok = response.status_code == 200 and bool(response.json())
            except (requests.RequestException, ValueError):
                ok = False
            latencies.append((time.perf_counter() - start) * 1000)
            errors += 0 if ok else 1
    return latencies, errors


def load(base: str, clients: int, conversations_per_client: int) -> Dict[str, float]:
    """`clients` customers at once running 10-turn conversations: throughput, percentiles, errors."""
    latencies: List[float] = []
    errors = 0
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        jobs = [
            pool.submit(_conversation, base, len(CONVERSATION))
            for _ in range(clients * conversations_per_client)
        ]
        for job in jobs:
            values, failed = job.result()
            latencies.extend(values)
            errors += failed
    elapsed = time.perf_counter() - start
    return {
        "clients": clients,
        "messages": len(latencies),
        "msg_per_s": len(latencies) / elapsed,
        "p50": _percentile(latencies, 0.50),
        "p95": _percentile(latencies, 0.95),
        "p99": _percentile(latencies, 0.99),
        "errors": errors,
    }


def long_conversations(base: str, conversations: int = 4) -> Dict[str, float]:
    """One customer at a time, 100-turn conversations: p95 around turn 10 and around turn 100."""
    early: List[float] = []
    late: List[float] = []
    errors = 0
    for _ in range(conversations):
        latencies, failed = _conversation(base, LONG_TURNS)
        early.extend(latencies[5:15])  # turns 6-15
        late.extend(latencies[-10:])  # turns 91-100
        errors += failed
    return {
        "turn10_p95": _percentile(early, 0.95),
        "turn100_p95": _percentile(late, 0.95),
        "turn10_p50": _percentile(early, 0.50),
        "turn100_p50": _percentile(late, 0.50),
        "errors": errors,
    }


def measure(label: str, model: Path, workers: int, stock: bool) -> Dict[str, object]:
    """Start one configuration and measure it."""
    benchmarks = Path(__file__).resolve().parent
    settings = Settings(
        rasa_port=free_port(),
        action_port=free_port(),
        handoff_port=free_port(),
        embedded_redis_port=free_port(),
        var_dir=OUT / f"var-scale-{label}",
        model_path=model,
        rasa_workers=workers,
        endpoints_file=str(benchmarks / "stock_endpoints.yml") if stock else "endpoints.yml",
        credentials_file=str(benchmarks / "stock_credentials.yml") if stock else "credentials.yml",
        extra_env={"SENMART_TODAY": "2026-11-23"},
    )
    print(f"[scale:{label}] starting ({workers} worker(s))...", flush=True)
    with System(settings) as system:
        rasa = next(p for p in system.processes if p.name == "rasa")
        sampler = MemorySampler(rasa.popen.pid)
        sampler.start()
        base = system.rasa_url
        for _ in range(2):
            _conversation(base, len(CONVERSATION))  # warm-up
        result: Dict[str, object] = {"workers": workers}
        for clients, per_client in ((1, 8), (8, 3), (32, 1)):
            result[f"c{clients}"] = load(base, clients, per_client)
            print(f"[scale:{label}] c{clients} {result[f'c{clients}']}", flush=True)
        result["long"] = long_conversations(base)
        print(f"[scale:{label}] long {result['long']}", flush=True)
        sampler.stopped.set()
        sampler.join()
        result["rss_mb"] = sampler.peak / 2**20
    return result


def scale_measure(ours: Path, default: Path) -> Dict[str, object]:
    """Stock (default pipeline, Rasa's stores, 1 process) vs ours with 1 worker vs ours with N workers."""
    cores = os.cpu_count() or 1
    return {
        "cores": cores,
        "stock": measure("stock", default, 1, stock=True),
        "ours_1": measure("ours-1", ours, 1, stock=False),
        "ours_n": measure("ours-n", ours, cores, stock=False),
    }
