"""`make bench`: our pipeline vs Rasa's default pipeline on the same data, in one run.

Measures training time, held-out accuracy (all / no-diacritic-or-teencode / FAQ selection),
REST latency p50/p95 at 1 and 8 concurrent clients, messages per second and the Rasa server's
peak RSS, then writes benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Dict, List

import psutil
import requests

from benchmarks.shared import CONVERSATION, OUT, RESULTS, MemorySampler, cpu_seconds, percentile
from bot.services import System
from bot.settings import PROJECT_ROOT
from testkit.local_system import local_settings


def train(config: str, name: str) -> float:
    """Train a model from scratch (empty component cache); seconds taken."""
    cache = OUT / f"cache-{name}"
    shutil.rmtree(cache, ignore_errors=True)
    start = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "train",
            "--config",
            config,
            "--fixed-model-name",
            name,
            "--out",
            str(OUT),
            "--force",
            "--quiet",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "RASA_CACHE_DIRECTORY": str(cache)},
    )
    return time.monotonic() - start


def accuracy(model: Path) -> Dict[str, float]:
    """Held-out scores of a model (in a child process: fresh TensorFlow state)."""
    code = (
        "import json,sys; from evaluation.heldout import *; p=load_heldout();"
        "s=evaluate(parse_all(sys.argv[1],[t for t,_ in p]),p);"
        "print(json.dumps({k:[v.correct,v.total] for k,v in s.items()}))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code, str(model)], cwd=PROJECT_ROOT, check=True, capture_output=True, text=True
    ).stdout
    scores = json.loads(output.strip().splitlines()[-1])
    return {k: correct / total for k, (correct, total) in scores.items()} | {
        k + "_n": total for k, (_, total) in scores.items()
    }


def conversation(base: str) -> List[float]:
    """One customer sends the fixed conversation; latency of each turn in ms."""
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    latencies = []
    with requests.Session() as session:
        for text in CONVERSATION:
            start = time.perf_counter()
            response = session.post(
                f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
            )
            latencies.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
            if not response.json():
                raise RuntimeError(f"no reply to {text!r}")
    return latencies


def load(base: str, clients: int, conversations_per_client: int) -> Dict[str, float]:
    """`clients` customers at once, each running whole conversations; latency and throughput."""
    latencies: List[float] = []
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        jobs = [pool.submit(conversation, base) for _ in range(clients * conversations_per_client)]
        for job in jobs:
            latencies.extend(job.result())
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "msg_per_s": len(latencies) / elapsed,
        "messages": len(latencies),
    }


def serve_and_measure(model: Path, conversations: int) -> Dict[str, object]:
    """Start the real system with a model; measure start-up, latency, throughput and peak RSS."""
    settings = local_settings(
        var_dir=OUT / f"var-{model.stem}",
        model_path=model,
        rasa_workers=1,  # the pipelines are compared in one process; workers are the scale part
    )
    system = System(settings)
    start = time.monotonic()
    system.start()
    try:
        startup = time.monotonic() - start
        rasa = next(p for p in system.processes if p.name == "rasa")
        sampler = MemorySampler(rasa.popen.pid)
        sampler.start()
        base = f"http://127.0.0.1:{settings.rasa_port}"
        conversation(base)  # warm-up
        one = load(base, 1, conversations)
        eight = load(base, 8, max(1, conversations // 2))
        sampler.stopped.set()
        sampler.join()
        return {"startup_s": startup, "c1": one, "c8": eight, "peak_rss_mb": sampler.peak / 2**20}
    finally:
        system.stop()


def handoff_measure(model: Path) -> Dict[str, object]:
    """Handoff latency, relay latency and queue throughput on the running system."""
    from benchmarks.handoff_bench import handoff_latency, queue_throughput, relay_latency

    settings = local_settings(
        var_dir=OUT / "var-handoff",
        model_path=model,
    )
    with System(settings) as system:
        headers = {"Authorization": f"Bearer {system.admin_token}"}
        return {
            **handoff_latency(system, headers),
            "relay_ms": relay_latency(system, headers),
            "queue": queue_throughput(system.redis.url),
        }


def channels_measure(model: Path) -> Dict[str, object]:
    """Messenger and Zalo webhook → reply latency, acknowledgements under 50 concurrent senders per channel,
    polling and WebSocket socket.io clients, and 100 website sessions, on the running system."""
    from benchmarks.channels_bench import (
        messenger_latency,
        webhook_acks,
        website_sessions,
        zalo_latency,
    )
    from testkit.graph_stand_in import GraphStandIn
    from testkit.zalo_stand_in import ZaloStandIn

    secret = uuid.uuid4().hex
    oa_secret_key = uuid.uuid4().hex
    graph = GraphStandIn().start()
    zalo = ZaloStandIn().start()
    settings = local_settings(
        var_dir=OUT / "var-channels",
        model_path=model,
        extra_env={
            "FB_APP_SECRET": secret,
            "FB_VERIFY_TOKEN": uuid.uuid4().hex,
            "FB_PAGE_ACCESS_TOKEN": "bench-page-token",
            "FB_GRAPH_URL": graph.url,
            "ZALO_APP_ID": zalo.app_id,
            "ZALO_APP_SECRET": zalo.app_secret,
            "ZALO_OA_SECRET_KEY": oa_secret_key,
            "ZALO_ACCESS_TOKEN": zalo.access_token,
            "ZALO_REFRESH_TOKEN": zalo.refresh_token,
            "ZALO_API_URL": zalo.url,
            "ZALO_OAUTH_URL": zalo.url,
        },
    )

    def with_cpu(system: System, **kwargs) -> Dict[str, object]:
        """website_sessions(**kwargs) and the CPU ms per answered message of each service and of the
        load generator (this process: 100 socket.io clients share the 2 cores with the services)."""
        me = psutil.Process()
        before, mine = cpu_seconds(system), sum(me.cpu_times()[:2])
        result = website_sessions(system, clients=100, seconds=60.0, **kwargs)
        after, spent_mine = cpu_seconds(system), sum(me.cpu_times()[:2]) - mine
        answered = max(1, result["answered"])
        result["cpu_ms_per_answer"] = {
            name: round(1000 * (after[name] - before.get(name, 0.0)) / answered, 2) for name in after
        }
        result["cpu_ms_per_answer"]["load generator"] = round(1000 * spent_mine / answered, 2)
        return result

    try:
        with System(settings) as system:
            website_sessions(system, clients=8, seconds=5.0)  # warm-up: every worker has answered
            return {
                "rasa_workers": settings.rasa_workers,
                "messenger_ms": messenger_latency(system, graph, secret),
                "zalo_ms": zalo_latency(system, zalo, oa_secret_key),
                "webhook_acks": webhook_acks(system, graph, zalo, secret, oa_secret_key),
                "transports": {
                    transport: website_sessions(system, clients=20, seconds=20.0, transport=transport)
                    for transport in ("websocket", "polling")
                },
                "web": with_cpu(system),
                "web_jitter": with_cpu(system, jitter=True),
            }
    finally:
        graph.stop()
        zalo.stop()


def machine() -> str:
    """CPU model, cores and memory of this machine."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, Python {platform.python_version()}"


# the two pipelines compared: ours and Rasa's default, trained into OUT/<name>.tar.gz
PIPELINES = (("ours", "config.yml"), ("default", "benchmarks/default_config.yml"))


def trained_pipelines(part: str) -> Dict[str, Path]:
    """Both pipelines' models, trained first where a model is missing (`part` names the log lines)."""
    models = {}
    for name, config in PIPELINES:
        models[name] = OUT / f"{name}.tar.gz"
        if not models[name].exists():
            print(f"[{part}] training {name}...", flush=True)
            train(config, name)
    return models


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=12, help="conversations per client at 1 client")
    parser.add_argument(
        "--parts",
        default="pipelines,selective,handoff,channels,scale,studio,abuse",
        help="comma-separated parts to measure; the others are kept from the last var/bench/results.json",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    OUT.mkdir(parents=True, exist_ok=True)
    saved = OUT / "results.json"
    results: Dict[str, Dict[str, object]] = json.loads(saved.read_text()) if saved.exists() else {}

    def checkpoint() -> None:
        """Keep what is measured so far (a later part that fails loses nothing; --parts resumes)."""
        saved.write_text(json.dumps(results, indent=2, default=float))

    if "pipelines" in parts:
        for label, config in PIPELINES:
            print(f"[{label}] training...", flush=True)
            seconds = train(config, label)
            model = OUT / f"{label}.tar.gz"
            print(f"[{label}] trained in {seconds:.0f}s; evaluating held-out set...", flush=True)
            scores = accuracy(model)
            print(f"[{label}] {scores}; serving...", flush=True)
            serving = serve_and_measure(model, args.conversations)
            results[label] = {"train_s": seconds, **scores, **serving, "date": dt.date.today().isoformat()}
            checkpoint()
            print(f"[{label}] {json.dumps(results[label], default=float)}", flush=True)
    if "selective" in parts:
        from benchmarks.selective_bench import selective_measure, write_svg

        models = trained_pipelines("selective")
        print("[selective] parsing the evaluation sets with both models...", flush=True)
        results["selective"] = {**selective_measure(models, OUT), "date": dt.date.today().isoformat()}
        write_svg(results["selective"])
        checkpoint()
    # the later parts serve our model: the one just trained, else the project's own
    model = (
        OUT / "ours.tar.gz" if (OUT / "ours.tar.gz").exists() else PROJECT_ROOT / "models" / "senmart.tar.gz"
    )
    for part, measure in (("handoff", handoff_measure), ("channels", channels_measure)):
        if part in parts:
            print(f"[{part}] measuring...", flush=True)
            results[part] = {**measure(model), "date": dt.date.today().isoformat()}
            checkpoint()
            print(f"[{part}] {json.dumps(results[part], default=float)}", flush=True)
    if "scale" in parts:
        from benchmarks.scale_bench import scale_measure

        models = trained_pipelines("scale")
        results["scale"] = {
            **scale_measure(models["ours"], models["default"]),
            "date": dt.date.today().isoformat(),
        }
        checkpoint()
    if "studio" in parts:
        from benchmarks.studio_bench import studio_measure

        print("[studio] measuring (one real train → gate → publish)...", flush=True)
        full = (results.get("ours") or {}).get("train_s")
        results["studio"] = {**studio_measure(model, full), "date": dt.date.today().isoformat()}
        checkpoint()
        print(f"[studio] {json.dumps(results['studio'], default=float)}", flush=True)
    if "abuse" in parts:
        from benchmarks.abuse_bench import abuse_measure

        print("[abuse] attacks and faults under ordinary load...", flush=True)
        results["abuse"] = {**abuse_measure(model), "date": dt.date.today().isoformat()}
    checkpoint()
    previous = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    RESULTS.write_text(render(results, previous), encoding="utf-8")
    print(f"Written {RESULTS}")
    return 0


def previous_sections(text: str) -> Dict[str, str]:
    """The `## …` sections of an earlier RESULTS.md by heading, so parts not measured in this run keep
    their figures (each section says when it was measured)."""
    sections: Dict[str, str] = {}
    current = None
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = ""
        if current is not None:
            sections[current] += line
    return sections


def render(r: Dict[str, Dict], previous: str = "") -> str:
    """RESULTS.md text: every part measured so far (each with the date it was measured)."""
    from benchmarks.abuse_bench import render_abuse
    from benchmarks.selective_bench import render_selective

    parts = [
        ("Pipelines", "ours" in r and "default" in r, lambda: render_pipelines(r["ours"], r["default"])),
        (
            "Selective answering",
            "selective" in r,
            lambda: render_selective(r["selective"], r["selective"].get("date", "")),
        ),
        ("Handoff", "handoff" in r, lambda: render_handoff(r["handoff"])),
        ("Channels", "channels" in r, lambda: render_channels(r["channels"])),
        ("Scale", "scale" in r, lambda: render_scale(r["scale"])),
        ("Content studio", "studio" in r, lambda: render_studio(r["studio"])),
        ("Hostile input and faults", "abuse" in r, lambda: render_abuse(r["abuse"])),
    ]
    earlier = previous_sections(previous)
    sections = [
        f"# Benchmarks\n\nWritten by `make bench` ({Path(__file__).name}) on {dt.date.today().isoformat()}.\n"
        f"Machine: {machine()}.\n"
    ]
    for title, measured, draw in parts:
        if measured:
            sections.append(draw())
        else:
            sections += [text for heading, text in earlier.items() if heading.startswith(title)]
    return "\n".join(section.rstrip("\n") + "\n" for section in sections)


def measured_on(part: Dict) -> str:
    """' — measured on YYYY-MM-DD' when the part records its date."""
    return f" — measured on {part['date']}" if part.get("date") else ""


def render_pipelines(ours: Dict, base: Dict) -> str:
    """Our pipeline against Rasa's default pipeline."""
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    ms = lambda v: f"{v:.0f} ms"  # noqa: E731
    rows = [
        ("Held-out intent accuracy, all", pct(ours["intent_all"]), pct(base["intent_all"]), "≥ 95%"),
        (
            "… without diacritics / teencode",
            pct(ours["intent_informal"]),
            pct(base["intent_informal"]),
            "≥ 92%, ≥ default + 5 pts",
        ),
        (
            "… without any diacritics",
            pct(ours["intent_no_diacritics"]),
            pct(base["intent_no_diacritics"]),
            "≥ default + 5 pts",
        ),
        ("FAQ response selection", pct(ours["faq_selection"]), pct(base["faq_selection"]), "≥ 92%"),
        ("Training time (full)", f"{ours['train_s']:.0f} s", f"{base['train_s']:.0f} s", "≤ 360 s"),
        ("REST p50, 1 client", ms(ours["c1"]["p50"]), ms(base["c1"]["p50"]), ""),
        ("REST p95, 1 client", ms(ours["c1"]["p95"]), ms(base["c1"]["p95"]), "≤ 150 ms"),
        ("REST p50, 8 clients", ms(ours["c8"]["p50"]), ms(base["c8"]["p50"]), ""),
        ("REST p95, 8 clients", ms(ours["c8"]["p95"]), ms(base["c8"]["p95"]), ""),
        ("Messages/s, 1 client", f"{ours['c1']['msg_per_s']:.1f}", f"{base['c1']['msg_per_s']:.1f}", ""),
        ("Messages/s, 8 clients", f"{ours['c8']['msg_per_s']:.1f}", f"{base['c8']['msg_per_s']:.1f}", "≥ 30"),
        (
            "Rasa server peak RSS",
            f"{ours['peak_rss_mb']:.0f} MB",
            f"{base['peak_rss_mb']:.0f} MB",
            "≤ 1.5 GB",
        ),
        ("Rasa server start-up", f"{ours['startup_s']:.0f} s", f"{base['startup_s']:.0f} s", ""),
    ]
    table = "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows)
    informal_gain = 100 * (ours["intent_informal"] - base["intent_informal"])
    plain_gain = 100 * (ours["intent_no_diacritics"] - base["intent_no_diacritics"])
    throughput_note = (
        "Throughput target: met."
        if ours["c8"]["msg_per_s"] >= 30
        else "Throughput target (≥ 30 msg/s at 8 clients): **not met**. One Rasa process handles one message "
        "at a time on its event loop (NLU, policies and tracker I/O are not parallel), so 8 clients only "
        "queue behind each other: p50 grows about 8× and messages/s stay at the 1-client rate. Using "
        "both cores needs several Rasa workers on an atomic lock store (issue 7). Per-turn cost also grows "
        "with the conversation (whole-tracker featurisation and Redis rewrite), which issue 7 addresses."
    )
    return f"""## Pipelines{measured_on(ours)}

Same training data, same held-out set (`evaluation/heldout.yml`, {ours['intent_all_n']} messages,
{ours['intent_informal_n']} without diacritics or with teencode), same epochs; both served by the real
Rasa server + action server + embedded Redis over the REST webhook. Each customer sends the same
{len(CONVERSATION)}-turn conversation (FAQ, promotion with follow-ups, chit-chat); latency is per message.

| Measure | Ours (`config.yml`) | Rasa default pipeline (`benchmarks/default_config.yml`) | Target |
|---|---|---|---|
{table}

Ratios (ours / default): p95 at 1 client {ours['c1']['p95'] / base['c1']['p95']:.2f}×,
messages/s at 8 clients {ours['c8']['msg_per_s'] / base['c8']['msg_per_s']:.2f}×,
training time {ours['train_s'] / base['train_s']:.2f}×;
accuracy without diacritics or with teencode {informal_gain:+.1f} points,
without any diacritics ({ours['intent_no_diacritics_n']} messages) {plain_gain:+.1f} points.

{throughput_note}
"""


def render_handoff(h: Dict) -> str:
    """Handoff latencies and queue throughput."""

    def row(label: str, key: str, target: str) -> str:
        values = h[key]
        return f"| {label} | {values['p50']:.0f} ms | {values['p95']:.0f} ms | {target} |"

    handoff_rows = "\n".join(
        [
            row("Handoff request → ticket visible in the agent API", "handoff_visible_ms", "≤ 100 ms (p95)"),
            row(
                "Customer message during handoff → in the transcript", "message_in_transcript_ms", "≤ 100 ms"
            ),
            row("Agent reply (API) → customer's socket.io", "relay_ms", "≤ 300 ms (p95)"),
        ]
    )
    queue_ops = h["queue"]["ops_per_s"]
    concurrency = h["queue"]["concurrency"]
    return f"""## Handoff (ours){measured_on(h)}

The handoff request latency includes the whole bot turn (NLU, policies, action server, ticket creation);
the ticket exists when the REST reply returns. Transcript latency goes Rasa → Redis stream → handoff
service consumer → ticket.

| Measure | p50 | p95 | Target |
|---|---|---|---|
{handoff_rows}

Queue throughput (create + claim + agent message + resolve on the Redis ticket store, {concurrency}
concurrent coroutines, one process): **{queue_ops:.0f} ticket operations/s** (target ≥ 1,000).
"""


def render_channels(c: Dict) -> str:
    """Messenger and website channel figures."""
    m, web = c["messenger_ms"], c["web"]
    lat = web["latency_ms"]
    lost = web["lost"] + max(0, web["sent"] - web["in_tracker"])
    verdict = "**zero lost**" if lost == 0 else f"**{lost} lost**"
    return f"""## Channels (ours){measured_on(c)}

Messenger: a webhook POST signed like Meta's (`X-Hub-Signature-256`), through Rasa's webhook, NLU,
policies and our Send API client, until the local Graph API stand-in records the reply.

| Measure | p50 | p95 | max |
|---|---|---|---|
| Messenger webhook → Send API reply | {m['p50']:.0f} ms | {m['p95']:.0f} ms | {m['max']:.0f} ms |
| Website (socket.io) message → first reply, {web['clients']} sessions | {lat['p50']:.0f} ms \
| {lat['p95']:.0f} ms | {lat['max']:.0f} ms |

{web['clients']} website sessions at once over socket.io (websocket transport) for {web['seconds']:.0f} s,
each customer asking again {web['think_seconds']:.0f} s after each answer: {web['sent']} messages sent,
{web['answered']} answered, {web['in_tracker']} in the trackers, {verdict}
({web['answered_per_s']:.1f} answers/s on {c.get('rasa_workers', 1)} Rasa worker(s): the latency is mostly
queueing behind the two cores).
{render_webhooks(c)}{render_transports(c)}{render_web_jitter(c)}"""


def render_webhooks(c: Dict) -> str:
    """Zalo webhook → reply, and the acknowledgement times of both webhooks under concurrent senders."""
    z, acks = c.get("zalo_ms"), c.get("webhook_acks")
    if not z or not acks:
        return ""
    rows = "\n".join(
        f"| {name.capitalize()} | {a['senders']} × {a['messages'] // a['senders']} "
        f"| {a['ack_ms']['p50']:.0f} ms | {a['ack_ms']['p95']:.0f} ms | {a['ack_ms']['max']:.0f} ms "
        f"| {a['messages'] / max(a['acknowledged_in_s'], 0.001):.0f} | {a['all_answered_in_s']:.1f} s "
        f"| {a['messages_in_trackers']} of {a['messages']} "
        f"| {a['replies']} of {a['bot_messages_in_trackers']} |"
        for name, a in acks.items()
    )
    met = all(a["ack_ms"]["p95"] < 100 for a in acks.values())
    whole = all(
        a["messages_in_trackers"] == a["messages"] and a["replies"] == a["bot_messages_in_trackers"]
        for a in acks.values()
    )
    return f"""
Zalo: a signed `user_send_text` event (`X-ZEvent-Signature`) until the OA API stand-in records the reply:
p50 {z['p50']:.0f} ms, p95 {z['p95']:.0f} ms, max {z['max']:.0f} ms (one customer at a time; the webhook
answers at once and the queue's consumer runs the turn).

Acknowledge, then process: concurrent senders on each webhook, each posting its next message as soon as
the previous one is acknowledged (asyncio senders, one keep-alive connection each); the acknowledgement
(verify, de-duplicate, append to the Redis stream: the webhook ingress behind nginx, bot/webhook_ingress.py)
while the Rasa processes' consumers work through the backlog on the same 2 cores, against the whole backlog
answered (messages in the trackers: each once; replies sent against the bot messages the trackers hold):

| Channel | senders × messages | ack p50 | ack p95 | ack max | acks/s | all answered after | in trackers \
| replies |
|---|---|---|---|---|---|---|---|---|
{rows}

Target (ack p95 < 100 ms under load): {"met" if met else "**not met**"}; every message once and every
reply sent once: {"yes" if whole else "**no**"}.
"""


def render_transports(c: Dict) -> str:
    """socket.io clients that stay on WebSocket against clients that stay on long-polling."""
    t = c.get("transports")
    if not t:
        return ""
    rows = "\n".join(
        f"| {name} | {r['clients']} | {r['sent']} | {r['answered']} | {r['lost']} "
        f"| {r['answered_per_s']:.1f} | {r['latency_ms']['p50']:.0f} ms | {r['latency_ms']['p95']:.0f} ms |"
        for name, r in t.items()
    )
    return f"""
socket.io transports on {c.get('rasa_workers', 1)} Rasa processes behind nginx (sticky by the session id's
process tag), python-socketio clients that use only one transport, 20 s, 1 s between answer and question:

| Transport | clients | sent | answered | lost | answers/s | p50 | p95 |
|---|---|---|---|---|---|---|---|
{rows}
"""


def render_web_jitter(c: Dict) -> str:
    """The same 100 sessions with customers who do not all start and type in step, and the target."""
    web, other = c["web"], c.get("web_jitter")
    if not other:
        return ""
    lost = other["lost"] + max(0, other["sent"] - other["in_tracker"])
    lost_all = lost + web["lost"] + max(0, web["sent"] - web["in_tracker"])
    p95, p95_jitter = web["latency_ms"]["p95"], other["latency_ms"]["p95"]
    return f"""
In the run above every customer starts at the same moment and pauses exactly 1 s, so messages arrive in
waves of 100 that each worker drains one by one (the worst case). The same run with customers starting
within the first second and pausing 0.5–1.5 s (mean 1 s): p50 {other['latency_ms']['p50']:.0f} ms,
p95 {p95_jitter:.0f} ms, max {other['latency_ms']['max']:.0f} ms; {other['sent']} sent,
{other['answered']} answered, {other['in_tracker']} in the trackers, {lost} lost
({other['answered_per_s']:.1f} answers/s).

{render_web_cpu(web)}

Target (100 website sessions p95 ≤ 1 s, 0 lost): waves {p95:.0f} ms,
{"met" if p95 <= 1000 else "**not met**"};
customers out of step {p95_jitter:.0f} ms, {"met" if p95_jitter <= 1000 else "**not met**"}; lost
{lost_all}, {"met" if lost_all == 0 else "**not met**"}.
"""


def render_web_cpu(web: Dict) -> str:
    """CPU per answered message on the website path, and what a wave of 100 messages costs the cores."""
    cpu = web.get("cpu_ms_per_answer")
    if not cpu:
        return ""
    total = sum(cpu.values())
    parts = ", ".join(f"{name} {value:.1f} ms" for name, value in cpu.items())
    cores = os.cpu_count() or 1
    drain = web["clients"] * total / 1000 / cores
    return (
        f"CPU per answered message in the waves run: {parts} (total {total:.1f} ms). A wave of "
        f"{web['clients']} messages sent in the same instant needs {web['clients']} × {total:.1f} ms of CPU, "
        f"{drain:.2f} s on {cores} cores, before its last message is answered: below 1 s for the "
        f"95th message only when the whole path costs less than about {1000 * cores / 95:.0f} ms per message."
    )


LONG_NOTE = """
The per-turn growth left is not the window's: Rasa sees 3–6 customer turns (`history_turns: 3`) whatever the
conversation's length, so what grows is outside the tracker (see the turn-by-turn figures of this run).
"""


def scale_label(c: Dict) -> str:
    """A scale configuration's name: N processes behind nginx, or N Sanic workers in one process."""
    if c.get("processes", 1) > 1:
        return f"Ours, {c['processes']} processes behind nginx"
    return f"Ours, {c['workers']} Sanic workers"


def scale_choice(processes_rate: float, workers_rate: float) -> str:
    """What this run says about the proxy hop, and why `make run` uses processes behind nginx."""
    if processes_rate >= 0.95 * workers_rate:
        cost = "No throughput cost measured for the proxy hop"
    else:
        share = 1 - processes_rate / workers_rate
        cost = f"The proxy hop and extra processes cost {share:.0%} of the messages/s"
    return (
        f"{cost}. `make run` runs processes behind nginx whatever the figures: Sanic workers share one "
        "listening socket, so the requests of a long-polling socket.io session land on any worker (400 on "
        "all but one); nginx keeps each session on its process (session ids carry the process's tag)."
    )


def render_scale(s: Dict) -> str:
    """Stock Rasa vs ours with 1 process, N processes behind nginx and N Sanic workers."""
    configs = [
        ("stock", "Stock Rasa (default pipeline, Rasa's Redis stores, 1 process)"),
        ("ours_1", "Ours, 1 worker"),
        ("ours_n", scale_label(s["ours_n"])),
    ]
    # the same cores used the other way (older results: `ours_nginx`)
    other_key = next((key for key in ("ours_sanic", "ours_nginx") if key in s), None)
    if other_key:
        configs.append((other_key, scale_label(s[other_key])))
    rows = []
    for key, label in configs:
        c = s[key]
        for clients in (1, 8, 32):
            m = c[f"c{clients}"]
            rows.append(
                f"| {label} | {clients} | {m['msg_per_s']:.1f} | {m['p50']:.0f} | {m['p95']:.0f} | "
                f"{m['p99']:.0f} | {m['errors']} |"
            )
    table = "\n".join(rows)
    long_rows = "\n".join(
        f"| {label} | {s[key]['long']['turn10_p95']:.0f} ms | {s[key]['long']['turn100_p95']:.0f} ms | "
        f"{s[key]['long']['turn100_p95'] / s[key]['long']['turn10_p95']:.2f}× | {s[key]['rss_mb']:.0f} MB |"
        for key, label in configs
    )
    stock, one, many = s["stock"], s["ours_1"], s["ours_n"]
    ratio_8 = many["c8"]["msg_per_s"] / stock["c8"]["msg_per_s"]
    ratio_p95 = one["c1"]["p95"] / stock["c1"]["p95"]
    ratio_long = many["long"]["turn100_p95"] / many["long"]["turn10_p95"]
    workers_vs_nginx = ""
    if other_key:
        other = s[other_key]
        proxied, workers = (many, other) if many.get("processes", 1) > 1 else (other, many)
        workers_vs_nginx = (
            f"\nProcesses behind nginx against the same number of Sanic workers: "
            f"{proxied['c8']['msg_per_s']:.1f} vs {workers['c8']['msg_per_s']:.1f} messages/s at 8 "
            f"customers, {proxied['c32']['msg_per_s']:.1f} vs {workers['c32']['msg_per_s']:.1f} at 32; "
            "p95 at 1 customer "
            f"{proxied['c1']['p95']:.0f} vs {workers['c1']['p95']:.0f} ms. "
            + scale_choice(proxied["c8"]["msg_per_s"], workers["c8"]["msg_per_s"])
        )
    services = ("rasa", "actions", "handoff", "redis", "nginx")
    cores_rows = "\n".join(
        f"| {label} | "
        + " | ".join(f"{s[key]['c32'].get('cores_used', {}).get(name, 0):.2f}" for name in services)
        + " |"
        for key, label in configs
    )
    cpu_rows = "\n".join(
        f"| {label} | {workload} | "
        + " | ".join(
            f"{s[key][run]['cpu_ms_per_msg'].get(name, 0):.1f}"
            for name in ("rasa", "actions", "handoff", "redis")
        )
        + f" | {s[key][run]['msg_per_s']:.1f} | {s[key][run]['p95']:.0f} |"
        for key, label in configs
        for run, workload in (("c8", "fixed"), ("varied_c8", "varied"))
        if "cpu_ms_per_msg" in s[key].get(run, {})
    )
    errors = sum(s[k][f"c{c}"]["errors"] for k, _ in configs for c in (1, 8, 32))
    errors += sum(s[k]["long"]["errors"] for k, _ in configs)

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    return f"""## Scale (REST, one run){measured_on(s)}

Same machine ({s['cores']} cores), same data, the same 10-turn conversation per customer; the load
generator runs on the same cores. Stock = Rasa's default pipeline with Rasa's own `RedisTrackerStore`
and `RedisLockStore` in one process; ours = `config.yml`, `bot.tracker_store.AppendOnlyRedisTrackerStore`,
`bot.lock_store.AtomicRedisLockStore`, socket.io over Redis pub/sub, N single-worker Rasa processes behind
nginx (`make run`'s topology) with TensorFlow threads capped per process.

| Configuration | Customers | Messages/s | p50 ms | p95 ms | p99 ms | Errors |
|---|---|---|---|---|---|---|
{table}

Per-turn cost along 100-turn conversations (one customer; p95 of turns 6–15 vs turns 91–100) and the
Rasa processes' peak RSS (all workers):

| Configuration | p95 at turn 10 | p95 at turn 100 | ratio | Peak RSS |
|---|---|---|---|---|
{long_rows}

Targets: ours with N workers ≥ 1.8× stock messages/s at 8 customers: {ratio_8:.2f}×,
{verdict(ratio_8 >= 1.8)};
ours at 1 customer p95 ≤ 1.2× stock's: {ratio_p95:.2f}×, {verdict(ratio_p95 <= 1.2)};
p95 at turn 100 within 1.2× of turn 10 (ours, N workers): {ratio_long:.2f}×, {verdict(ratio_long <= 1.2)};
zero errors: {errors} errors, {verdict(errors == 0)}.
{workers_vs_nginx}

Where the cores go at 32 customers (CPU seconds per wall second of each service's processes; the load
generator takes the rest of the {s['cores']} cores) — a service near its share of the cores while Rasa is not
would be the bottleneck:

| Configuration | Rasa | Action server | Handoff service | Redis | nginx |
|---|---|---|---|---|---|
{cores_rows}
{render_cpu(s, configs, cpu_rows) if cpu_rows else ""}
{"" if ratio_long <= 1.2 else LONG_NOTE}"""


def render_cpu(s: Dict, configs: List, cpu_rows: str) -> str:
    """CPU per customer message of each service (scale part), with the targets of the CPU issue."""
    stock, many = s["stock"], s["ours_n"]
    rasa_ms = [
        s[key][run]["cpu_ms_per_msg"]["rasa"] for key in ("ours_1", "ours_n") for run in ("c8", "varied_c8")
    ]
    ratio_8 = many["c8"]["msg_per_s"] / stock["c8"]["msg_per_s"]
    ratio_varied = many["varied_c8"]["msg_per_s"] / stock["varied_c8"]["msg_per_s"]
    worst = max(rasa_ms)
    sanic = s.get("ours_sanic")
    sanic_note = (
        " (Sanic workers on one port, which `make run` does not use: "
        f"{max(sanic[run]['cpu_ms_per_msg']['rasa'] for run in ('c8', 'varied_c8')):.1f} ms)"
        if sanic
        else ""
    )
    return f"""
CPU per customer message at 8 customers, in ms (CPU seconds of each service's processes ÷ messages;
steadier than wall time on a machine shared with the load generator). *Fixed* = the 10-turn conversation
above for every customer; *varied* = every customer 10 different everyday questions from
`evaluation/customer_questions.yml` (all styles), so no answer comes from repetition alone:

| Configuration | Conversations | Rasa | Action server | Handoff | Redis | Messages/s | p95 ms |
|---|---|---|---|---|---|---|---|
{cpu_rows}

Targets: Rasa ≤ 20 ms of CPU per message (ours as `make run` runs it: 1 worker, and processes behind
nginx): worst {worst:.1f} ms, {"met" if worst <= 20 else "**not met**"}{sanic_note};
≥ 2.5× stock messages/s at 8 customers ({many['workers']} workers):
{ratio_8:.2f}× on the fixed conversation, {ratio_varied:.2f}× on varied ones,
{"met" if min(ratio_8, ratio_varied) >= 2.5 else "**not met**"}.
"""


def render_studio(s: Dict) -> str:
    """The content studio's figures."""

    def row(label: str, m: Dict) -> str:
        return f"| {label} | {m['n']} | {m['p50']:.0f} | {m['p95']:.0f} | {m['max']:.0f} |"

    full = f"{s['full_retrain_min']:.1f} min" if s.get("full_retrain_min") else "not measured in this run"
    ratio = s["swap"]["p95"] / s["steady"]["p95"] if s["steady"]["p95"] else 0
    return f"""## Content studio (one run){measured_on(s)}

2 Rasa workers, one customer every 0.3 s over REST, the studio on the same 2 cores.

| Measure | Value |
|---|---|
| Answer edit → live (first REST reply with the new text) | {s['answer_edit_live_s']:.1f} s |
| Example added → trained, gated and live on every worker | {s['examples_live_min']:.1f} min (target ≤ 5) |
| of which: training until evaluation starts | {(s['evaluating_from_s'] or 0) / 60:.1f} min |
| of which: until published | {s['published_s'] / 60:.1f} min |
| of which: published → every worker on the new model | {s['swap_s']:.0f} s |
| Full retrain of the same config without Rasa's cache (pipelines part) | {full} |
| Held-out accuracy before → after | {s['accuracy_before'] * 100:.1f}% → {s['accuracy_after'] * 100:.1f}% |
| Customer messages / errors | {s['messages']} / {s['errors']} |

Customer-facing latency (ms):

| Window | Messages | p50 | p95 | max |
|---|---|---|---|---|
{row("Steady state", s["steady"])}
{row("While the studio trains and evaluates", s["during_training"])}
{row("Model swap (publish → every worker on it, +10 s)", s["swap"])}

p95 during the swap is {ratio:.2f}× steady state. The new model is loaded in a thread of each worker
(`bot/channels/model_updates.py`); Rasa's own scheduled pull loads it in the event loop and froze each
worker for about 50 s (measured while building this).
"""


if __name__ == "__main__":
    sys.exit(main())
