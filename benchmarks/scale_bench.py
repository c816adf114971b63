"""Scale figures: stock single-process Rasa vs ours with 1 process vs ours with N processes behind nginx
(`make run`'s topology) vs ours with N Sanic workers in one process, same data.

Each configuration is started with `bot.services.System` (embedded Redis, action server, Rasa) and measured
over the REST webhook with the fixed 10-turn conversation of run.py: messages/s and p50/p95/p99 at 1, 8
and 32 concurrent customers, the Rasa processes' peak RSS, and the latency at turn 10 against turn 100
of 100-turn conversations; the CPU each service spends per customer message, on the fixed conversation
and on varied conversations (every customer different everyday questions, see `varied_conversations`).
"""

from __future__ import annotations

import concurrent.futures
import os
import random
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import requests

from benchmarks.shared import CONVERSATION, OUT, MemorySampler, cpu_seconds, percentile
from bot.services import System
from evaluation.sets import CUSTOMER_QUESTIONS_FILE, record_items
from testkit.local_system import local_settings

LONG_TURNS = 100


def varied_conversations(count: int, turns: int = 10, seed: int = 7) -> List[List[str]]:
    """`count` conversations of `turns` different everyday questions each, in every customer style (no
    diacritics, teencode, long, English mixed in), drawn from evaluation/customer_questions.yml: every
    message text differs from the last conversation's, so nothing is answered from repetition alone."""
    questions = [item.text for item in record_items(CUSTOMER_QUESTIONS_FILE) if item.label.startswith("faq/")]
    rng = random.Random(seed)
    conversations = []
    for _ in range(count):
        rng.shuffle(questions)
        conversations.append(questions[:turns])
    return conversations


def _conversation(
    base: str, turns: int, texts: Optional[Sequence[str]] = None, need_reply: bool = True
) -> Tuple[List[float], int]:
    """One customer, `turns` messages cycling through `texts` (the fixed CONVERSATION by default):
    (latency per turn in ms, errors). Without `need_reply` an empty answer is not an error (a varied
    conversation may reach a person after two questions the bot declines, and the bot then stays silent)."""
    texts = texts or CONVERSATION
    sender = f"scale-{uuid.uuid4().hex[:12]}"
    latencies, errors = [], 0
    with requests.Session() as session:
        for turn in range(turns):
            text = texts[turn % len(texts)]
            start = time.perf_counter()
            try:
                response = session.post(
                    f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=120
                )
                ok = response.status_code == 200 and (bool(response.json()) or not need_reply)
            except (requests.RequestException, ValueError):
                ok = False
            latencies.append((time.perf_counter() - start) * 1000)
            errors += 0 if ok else 1
    return latencies, errors


def load(base: str, clients: int, conversations_per_client: int, varied: bool = False) -> Dict[str, float]:
    """`clients` customers at once running 10-turn conversations (the fixed one, or `varied`: each
    customer its own questions): throughput, percentiles, errors."""
    latencies: List[float] = []
    errors = 0
    count = clients * conversations_per_client
    scripts = varied_conversations(count) if varied else [CONVERSATION] * count
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        jobs = [pool.submit(_conversation, base, len(script), script, not varied) for script in scripts]
        for job in jobs:
            values, failed = job.result()
            latencies.extend(values)
            errors += failed
    elapsed = time.perf_counter() - start
    return {
        "clients": clients,
        "messages": len(latencies),
        "msg_per_s": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
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
        "turn10_p95": percentile(early, 0.95),
        "turn100_p95": percentile(late, 0.95),
        "turn10_p50": percentile(early, 0.50),
        "turn100_p50": percentile(late, 0.50),
        "errors": errors,
    }


def measure(
    label: str, model: Path, processes: int, stock: bool, sanic_workers: int = 1
) -> Dict[str, object]:
    """Start one configuration and measure it: `processes` single-worker Rasa processes (several: behind
    nginx, `make run`'s topology), or one Rasa process with `sanic_workers` Sanic workers on one port."""
    benchmarks = Path(__file__).resolve().parent
    settings = local_settings(
        var_dir=OUT / f"var-scale-{label}",
        model_path=model,
        rasa_workers=processes,
        sanic_workers=sanic_workers,
        endpoints_file=str(benchmarks / "stock_endpoints.yml") if stock else "endpoints.yml",
        credentials_file=str(benchmarks / "stock_credentials.yml") if stock else "credentials.yml",
    )
    print(
        f"[scale:{label}] starting ({processes} process(es), {sanic_workers} Sanic worker(s) each)...",
        flush=True,
    )
    with System(settings) as system:
        base = system.rasa_url
        samplers = [MemorySampler(p.popen.pid) for p in system.processes if p.name.startswith("rasa")]
        for sampler in samplers:
            sampler.start()
        # warm-up: 8 customers at once so that every worker and process has answered (a worker's first
        # message builds its graphs, which is not what a running service spends per message)
        load(base, 8, 1)
        result: Dict[str, object] = {"workers": processes * sanic_workers, "processes": processes}
        for key, clients, per_client, varied in (
            ("c1", 1, 8, False),
            ("c8", 8, 3, False),
            ("c32", 32, 1, False),
            ("varied_c8", 8, 3, True),
        ):
            before, started = cpu_seconds(system), time.perf_counter()
            result[key] = load(base, clients, per_client, varied=varied)
            elapsed, after = time.perf_counter() - started, cpu_seconds(system)
            spent = {name: after[name] - before.get(name, 0.0) for name in after}
            # cores each service kept busy: is the action server or the handoff service the bottleneck?
            result[key]["cores_used"] = {name: round(used / elapsed, 2) for name, used in spent.items()}
            # CPU of each service per customer message (steadier than wall time on a shared machine)
            result[key]["cpu_ms_per_msg"] = {
                name: round(1000 * used / result[key]["messages"], 2) for name, used in spent.items()
            }
            print(f"[scale:{label}] {key} {result[key]}", flush=True)
        result["long"] = long_conversations(base)
        print(f"[scale:{label}] long {result['long']}", flush=True)
        for sampler in samplers:
            sampler.stopped.set()
            sampler.join()
        result["rss_mb"] = sum(sampler.peak for sampler in samplers) / 2**20
    return result


def scale_measure(ours: Path, default: Path) -> Dict[str, object]:
    """Stock (default pipeline, Rasa's stores, 1 process) vs ours with 1 process vs ours with N processes
    behind nginx (`make run`'s topology) vs ours with N Sanic workers in one process."""
    cores = os.cpu_count() or 1
    return {
        "cores": cores,
        "stock": measure("stock", default, 1, stock=True),
        "ours_1": measure("ours-1", ours, 1, stock=False),
        "ours_n": measure("ours-n", ours, cores, stock=False),
        # the same cores as Sanic workers on one port (no proxy hop; long-polling sessions break there)
        "ours_sanic": measure("ours-sanic", ours, 1, stock=False, sanic_workers=cores),
    }
