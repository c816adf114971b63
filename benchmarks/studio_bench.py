"""Content studio figures on the running system (2 Rasa workers, embedded Redis, a copy of the content):

- answer edit → live: seconds from the studio's PUT to the first REST reply with the new text;
- examples added → trained, gated and live: minutes from "Huấn luyện" to every Rasa worker answering
  with the new model (phases: training, evaluation, publish → loaded), next to a full retrain without
  Rasa's cache (the pipelines part's training of the same config);
- customer-facing latency: one customer every 0.3 s; p50/p95/max in steady state, while the studio
  trains and evaluates (same 2 cores), and in the swap window (publish → every worker on the new model).
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import requests

from benchmarks.shared import OUT, summarize
from bot.services import System
from studio.settings import copy_content
from testkit.local_system import local_settings

TOKEN = "bench-content-token"
STUDIO = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLE = "cty mình cần giấy đỏ để quyết toán"


class Customer(threading.Thread):
    """One customer every 0.3 s over REST: (time sent, latency ms, ok) of every message."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base, self.stopped = base, threading.Event()
        self.samples: List[Tuple[float, float, bool]] = []

    def run(self) -> None:
        sender = f"bench-studio-{uuid.uuid4().hex[:8]}"
        with requests.Session() as session:
            while not self.stopped.is_set():
                sent = time.monotonic()
                try:
                    reply = session.post(
                        f"{self.base}/webhooks/rest/webhook",
                        json={"sender": sender, "message": "phí ship bao nhiêu vậy"},
                        timeout=120,
                    )
                    ok = reply.status_code == 200 and bool(reply.json())
                except (requests.RequestException, ValueError):
                    ok = False
                self.samples.append((sent, (time.monotonic() - sent) * 1000, ok))
                time.sleep(0.3)

    def between(self, start: float, end: float) -> List[float]:
        return [ms for sent, ms, _ in self.samples if start <= sent < end]


def _studio(system: System, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(
        method, f"{system.handoff_url}/studio/api{path}", headers=STUDIO, timeout=30, **kwargs
    )


def _every_worker_on(system: System, fingerprint: str, probes: int = 12) -> bool:
    url = f"{system.rasa_url}/webhooks/model_updates/status"
    return all(requests.get(url, timeout=10).json()["fingerprint"] == fingerprint for _ in range(probes))


def _served(system: System) -> str:
    headers = {"Authorization": f"Bearer {system.service_token}"}
    url = f"{system.handoff_url}/internal/models/current"
    return requests.get(url, headers=headers, timeout=60).headers["ETag"]


def _answer_edit_live(system: System) -> float:
    topic = _studio(system, "GET", "/topics/hotline").json()
    text = topic["responses"][0]["text"] + " SenMart luôn sẵn lòng hỗ trợ bạn."
    body = {"version": topic["version"], "responses": [{"text": text}], "examples": topic["examples"]}
    started = time.monotonic()
    assert _studio(system, "PUT", "/topics/hotline", json=body).status_code == 200
    sender = f"bench-edit-{uuid.uuid4().hex[:6]}"
    while time.monotonic() - started < 60:
        reply = requests.post(
            f"{system.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": "số tổng đài là gì"},
            timeout=60,
        ).json()
        if any(m.get("text") == text for m in reply):
            return time.monotonic() - started
        time.sleep(0.1)
    raise RuntimeError("the edited answer did not go live within 60 s")


def studio_measure(model: Path, full_retrain_s: Optional[float]) -> Dict[str, object]:
    """Start the system on a content copy and measure the studio's figures."""
    shutil.rmtree(OUT / "studio-content", ignore_errors=True)
    content = copy_content(OUT / "studio-content")
    settings = local_settings(
        var_dir=OUT / "var-studio",
        model_path=model,
        rasa_workers=2,
        extra_env={
            "STUDIO_CONTENT_DIR": str(content),
            "STUDIO_TOKENS": f"bench:{TOKEN}",
            "PROMOTIONS_FILE": str(content / "data" / "promotions.yml"),
        },
    )
    shutil.rmtree(settings.var_dir / "studio-models", ignore_errors=True)
    with System(settings) as system:
        customer = Customer(system.rasa_url)
        customer.start()
        try:
            time.sleep(30)
            edit_live_s = _answer_edit_live(system)
            version = _studio(system, "GET", "/topics/vat_invoice").json()["version"]
            body = {"text": EXAMPLE, "version": version}
            added = _studio(system, "POST", "/topics/vat_invoice/examples", json=body)
            assert added.status_code == 200, added.text
            base = _served(system)
            started = time.monotonic()
            job_id = _studio(system, "POST", "/train").json()["job_id"]
            phases: Dict[str, float] = {}
            while True:
                state = _studio(system, "GET", f"/train/{job_id}").json()
                phases.setdefault(state["state"], time.monotonic() - started)
                if state["state"] in ("published", "refused", "failed"):
                    break
                time.sleep(1)
            published_at = time.monotonic()
            if state["state"] != "published":
                raise RuntimeError(f"studio job ended {state['state']}: {state.get('result')}")
            new = _served(system)
            assert new != base
            while not _every_worker_on(system, new):
                time.sleep(0.5)
            live_at = time.monotonic()
            time.sleep(10)
        finally:
            customer.stopped.set()
            customer.join(timeout=150)
    steady = customer.between(0, started)
    return {
        "answer_edit_live_s": edit_live_s,
        "examples_live_min": (live_at - started) / 60,
        "evaluating_from_s": phases.get("evaluating"),
        "published_s": published_at - started,
        "swap_s": live_at - published_at,
        "full_retrain_min": full_retrain_s / 60 if full_retrain_s else None,
        "accuracy_before": state["result"]["before"]["accuracy"],
        "accuracy_after": state["result"]["after"]["accuracy"],
        "steady": summarize(steady),
        "during_training": summarize(customer.between(started, published_at)),
        "swap": summarize(customer.between(published_at, live_at + 10)),
        "errors": sum(1 for _, _, ok in customer.samples if not ok),
        "messages": len(customer.samples),
    }
