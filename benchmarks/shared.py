"""What every benchmark part uses: where results go, the fixed conversation, percentiles, the peak memory
and the CPU of the services' processes. Imported by run.py (the entry script) and the parts; it imports
none of them."""

from __future__ import annotations

import threading
import time
from typing import Dict, List

import psutil

from bot.services import System
from bot.settings import PROJECT_ROOT

OUT = PROJECT_ROOT / "var" / "bench"
RESULTS = PROJECT_ROOT / "benchmarks" / "RESULTS.md"
# one fixed 10-turn conversation: FAQ, promotion, chit-chat (the length is part of the result)
CONVERSATION = [
    "chào shop",
    "phí ship bao nhiêu vậy",
    "giao hang ra da nang mat may ngay",
    "cho mình hỏi mã GIAM50K",
    "đơn 450 nghìn thì sao?",
    "thế 600k thì sao",
    "đổi trả trong bao lâu",
    "hoàn tiền về ví senpay mất bao lâu",
    "quen mat khau thi lam sao",
    "cảm ơn nhé",
]


def percentile(values: List[float], q: float) -> float:
    """The nearest-rank `q` quantile of `values` (0.0 when there are none)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def summarize(values: List[float]) -> Dict[str, float]:
    """p50, p95, max and count of latencies."""
    return {
        "p50": percentile(values, 0.50),
        "p95": percentile(values, 0.95),
        "max": max(values) if values else 0.0,
        "n": len(values),
    }


class MemorySampler(threading.Thread):
    """Samples the RSS of a process tree every 100 ms; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                procs = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.1)


def cpu_seconds(system: System) -> Dict[str, float]:
    """CPU seconds (user + system) so far of each service's process tree, Rasa instances summed."""
    totals: Dict[str, float] = {}
    for process in system.processes:
        name = "rasa" if process.name.startswith("rasa") else process.name
        try:
            root = psutil.Process(process.popen.pid)
            tree = [root, *root.children(recursive=True)]
            used = sum(sum(p.cpu_times()[:2]) for p in tree)
        except psutil.Error:
            continue
        totals[name] = totals.get(name, 0.0) + used
    return totals
