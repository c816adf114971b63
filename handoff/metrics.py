"""Prometheus text exposition (format 0.0.4) of the handoff figures, written by hand."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Text, Tuple

from common.webhook_keys import WEBHOOK_CHANNELS, dead_letter_key, stream_key
from handoff.ticket_store import StoreSnapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Sample = Tuple[Text, Mapping[Text, Text], float]


def escape_label(value: Text) -> Text:
    """Escape a label value (backslash, double quote, newline)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _format_value(value: float) -> Text:
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _sample_line(name: Text, labels: Mapping[Text, Text], value: float) -> Text:
    if labels:
        inner = ",".join(f'{key}="{escape_label(str(val))}"' for key, val in labels.items())
        return f"{name}{{{inner}}} {_format_value(value)}"
    return f"{name} {_format_value(value)}"


def family(name: Text, kind: Text, help_text: Text, samples: Iterable[Sample]) -> List[Text]:
    """One metric family: HELP, TYPE and its samples."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [_sample_line(sample_name, labels, value) for sample_name, labels, value in samples]
    return lines


async def webhook_queue_figures(redis: Any) -> Dict[Text, Tuple[int, int]]:
    """Per webhook channel: events waiting for their turn or reply, and dead letters kept."""
    async with redis.pipeline(transaction=False) as pipe:
        for channel in WEBHOOK_CHANNELS:
            pipe.xlen(stream_key(channel))
            pipe.llen(dead_letter_key(channel))
        values = await pipe.execute()
    return {
        channel: (int(values[2 * i]), int(values[2 * i + 1])) for i, channel in enumerate(WEBHOOK_CHANNELS)
    }


def render(snap: StoreSnapshot, webhooks: Optional[Mapping[Text, Tuple[int, int]]] = None) -> Text:
    """All handoff metrics (and the webhook queues') as Prometheus text."""
    lines: List[Text] = []
    lines += family(
        "handoff_queue_length",
        "gauge",
        "Tickets waiting for an agent.",
        [("handoff_queue_length", {}, snap.queue_length)],
    )
    lines += family(
        "handoff_oldest_waiting_seconds",
        "gauge",
        "Age of the oldest waiting ticket.",
        [("handoff_oldest_waiting_seconds", {}, round(snap.oldest_waiting_seconds, 3))],
    )
    lines += family(
        "handoff_tickets",
        "gauge",
        "Tickets kept (within retention) by status.",
        [("handoff_tickets", {"status": status}, count) for status, count in snap.tickets_by_status.items()],
    )
    lines += family(
        "handoff_open_tickets",
        "gauge",
        "Open (waiting or claimed) tickets by reason.",
        [
            ("handoff_open_tickets", {"reason": reason}, count)
            for reason, count in snap.open_by_reason.items()
        ],
    )
    lines += family(
        "handoff_handoffs_total",
        "counter",
        "Handoffs to a human (tickets opened) by reason.",
        [
            ("handoff_handoffs_total", {"reason": reason}, count)
            for reason, count in snap.handoffs_by_reason.items()
        ],
    )
    lines += _summary(
        "handoff_first_response_seconds",
        "Time from handoff to the first agent message.",
        snap.first_response_sum,
        snap.first_response_count,
    )
    lines += _summary(
        "handoff_resolution_seconds",
        "Time from handoff to resolution.",
        snap.resolution_sum,
        snap.resolution_count,
    )
    lines += _summary(
        "handoff_csat_rating", "Customer satisfaction ratings (1-5).", snap.csat_sum, snap.csat_count
    )
    lines += family(
        "handoff_csat_ratings_total",
        "counter",
        "Customer satisfaction ratings by value.",
        [("handoff_csat_ratings_total", {"rating": str(r)}, n) for r, n in snap.csat_by_rating.items()],
    )
    lines += family(
        "handoff_sla_breaches_total",
        "counter",
        "Finished tickets that missed an SLA (first_response: 1 working hour, resolution: 24 h).",
        [("handoff_sla_breaches_total", {"sla": sla}, n) for sla, n in snap.breached_finished.items()],
    )
    lines += family(
        "handoff_sla_breached_open_tickets",
        "gauge",
        "Open tickets already past an SLA.",
        [("handoff_sla_breached_open_tickets", {"sla": sla}, n) for sla, n in snap.breached_open.items()],
    )
    lines += family(
        "handoff_http_requests_total",
        "counter",
        "HTTP requests served, by route, method and status.",
        [
            ("handoff_http_requests_total", {"route": route, "method": method, "status": status}, count)
            for (method, route, status), count in sorted(snap.http_requests.items())
        ],
    )
    webhooks = webhooks or {}
    lines += family(
        "senmart_webhook_queue_events",
        "gauge",
        "Messenger/Zalo events acknowledged and not yet answered (turn or reply pending, or retrying).",
        [("senmart_webhook_queue_events", {"channel": c}, pending) for c, (pending, _) in webhooks.items()],
    )
    lines += family(
        "senmart_webhook_dead_letters",
        "gauge",
        "Messenger/Zalo events whose turn or reply kept failing (newest 1000 kept; python -m bot webhooks).",
        [("senmart_webhook_dead_letters", {"channel": c}, dead) for c, (_, dead) in webhooks.items()],
    )
    return "\n".join(lines) + "\n"


def _summary(name: Text, help_text: Text, total: float, count: int) -> List[Text]:
    samples: List[Sample] = [(f"{name}_sum", {}, round(total, 3)), (f"{name}_count", {}, count)]
    return family(name, "summary", help_text, samples)


def parse_samples(text: Text) -> Dict[Text, float]:
    """`name{labels}` → value for every sample line (for tests and quick checks)."""
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            values[key] = float(value)
    return values
