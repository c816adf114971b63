"""Prometheus text exposition written by hand."""

import re

from handoff.metrics import escape_label, parse_samples, render
from handoff.ticket_store import StoreSnapshot

SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? -?[0-9.e+]+$'
)


def check_exposition(text: str) -> None:
    """Every sample is well formed and belongs to a family declared with # TYPE."""
    assert text.endswith("\n")
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "summary", "histogram", "untyped")
            types[name] = kind
        elif line.startswith("#"):
            assert line.startswith("# HELP ")
        else:
            match = SAMPLE.match(line)
            assert match, line
            name = match.group(1)
            family = re.sub(r"_(sum|count)$", "", name) if name not in types else name
            assert family in types, line


def test_render_snapshot():
    snap = StoreSnapshot(
        now=0,
        queue_length=3,
        oldest_waiting_seconds=120.5,
        tickets_by_status={"waiting": 3, "claimed": 1, "resolved": 2, "closed": 4},
        open_by_reason={"anger": 1, "other": 3},
        handoffs_by_reason={"anger": 2, "other": 8},
        first_response_count=2,
        first_response_sum=300.0,
        resolution_count=2,
        resolution_sum=7200.0,
        csat_count=2,
        csat_sum=9,
        csat_by_rating={4: 1, 5: 1},
        breached_finished={"first_response": 1, "resolution": 0},
        breached_open={"first_response": 2, "resolution": 1},
        http_requests={("GET", "/api/tickets", "200"): 7, ("POST", '/odd"route', "404"): 1},
    )
    text = render(snap, {"facebook": (2, 1), "zalo": (0, 5)})
    check_exposition(text)
    values = parse_samples(text)
    assert values['senmart_webhook_queue_events{channel="facebook"}'] == 2
    assert values['senmart_webhook_dead_letters{channel="zalo"}'] == 5
    assert values["handoff_queue_length"] == 3
    assert values["handoff_oldest_waiting_seconds"] == 120.5
    assert values['handoff_tickets{status="closed"}'] == 4
    assert values['handoff_handoffs_total{reason="anger"}'] == 2
    assert values["handoff_first_response_seconds_sum"] == 300
    assert values["handoff_first_response_seconds_count"] == 2
    assert values["handoff_csat_rating_sum"] == 9
    assert values['handoff_sla_breaches_total{sla="first_response"}'] == 1
    assert values['handoff_sla_breached_open_tickets{sla="resolution"}'] == 1
    assert values['handoff_http_requests_total{route="/api/tickets",method="GET",status="200"}'] == 7
    assert "# TYPE handoff_handoffs_total counter" in text
    assert "# TYPE handoff_queue_length gauge" in text
    assert "# TYPE handoff_first_response_seconds summary" in text


def test_label_escaping():
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
