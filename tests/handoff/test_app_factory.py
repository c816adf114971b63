"""create_app with an injected store (fake clock) and relay, served in the test's event loop."""

import pytest

from handoff.metrics import parse_samples
from handoff.relay import RasaRelay
from handoff.settings import HandoffSettings
from staff.app import create_app
from tests.serving import serving

from .conftest import WORKDAY_10AM

HOUR = 3600.0


@pytest.fixture()
async def served(store, rasa_stub):
    """The app on a free port, sharing the test's store and clock; no background tasks."""
    rasa_stub.reset()
    settings = HandoffSettings(admin_token="adm", service_token="svc", agent_tokens={"lan": "Lan"})
    relay = RasaRelay(rasa_stub.url, backoff_seconds=0.01)
    app = create_app(
        settings, store, relay, name="handoff_injected", background_tasks=False, configure_logging=False
    )
    async with serving(app) as session:
        yield session


async def test_sla_breaches_follow_the_injected_clock(served, clock):
    clock.now = WORKDAY_10AM + 12.5 * HOUR  # 22:30 local: agents have gone home
    svc = {"Authorization": "Bearer svc"}
    lan = {"Authorization": "Bearer lan"}
    async with served.post("/internal/handoffs", json={"sender_id": "late"}, headers=svc) as response:
        assert response.status == 201
        body = await response.json()
    assert (body["within_hours"], body["agents_return_at"], body["queue_position"]) == (False, "08:00", 1)
    assert body["estimated_wait_minutes"] == 9 * 60 + 30 + 5
    async with served.get(f"/api/tickets/{body['ticket_id'].lower()}", headers=lan) as response:
        ticket = await response.json()
    assert ticket["sla"]["first_response_due"] == WORKDAY_10AM + 23 * HOUR  # 9:00 the next morning
    clock.now = WORKDAY_10AM + 23 * HOUR + 60
    async with served.get("/api/dashboard", headers=lan) as response:
        dashboard = await response.json()
    assert dashboard["breached"] == {"first_response": 1, "resolution": 0}
    assert dashboard["within_hours"] is True
    async with served.get("/metrics") as response:
        values = parse_samples(await response.text())
    assert values['handoff_sla_breached_open_tickets{sla="first_response"}'] == 1
    assert values['handoff_sla_breached_open_tickets{sla="resolution"}'] == 0
    clock.advance(14 * HOUR)  # past 22:30 the next day: resolution late too
    async with served.post(f"/api/tickets/{body['ticket_id']}/resolve", headers=lan) as response:
        assert response.status == 200
    async with served.get("/metrics") as response:
        values = parse_samples(await response.text())
    assert values['handoff_sla_breaches_total{sla="first_response"}'] == 1
    assert values['handoff_sla_breaches_total{sla="resolution"}'] == 1
    assert values['handoff_sla_breached_open_tickets{sla="first_response"}'] == 0
