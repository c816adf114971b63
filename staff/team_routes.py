"""The team around the tickets: presence heartbeats of the console (every person who handles tickets),
every agent's presence, load and capacity, and moving a ticket to another agent (supervisors; who may call
what is in staff/access.py)."""

from __future__ import annotations

from typing import Text

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from common.http import InvalidRequest, json_object
from common.staff_roles import ROLE_LABELS, TICKET_ROLES, VIA_SESSION
from handoff.app import ticket_id_from_path
from staff.presence import LABELS, ONLINE, REPORTED


def register(app: Sanic) -> None:
    """Mount /api/presence, /api/agents and /api/tickets/<id>/reassign."""

    async def team(with_load: bool):
        accounts = [a for a in await app.ctx.accounts.all() if a.active and a.role in TICKET_ROLES]
        presence = await app.ctx.presence.of(a.id for a in accounts)
        loads = await app.ctx.store.agent_loads() if with_load else {}
        rows = []
        for account in accounts:
            row = {
                "id": account.id,
                "name": account.name,
                "role": account.role,
                "role_label": ROLE_LABELS[account.role],
                "presence": presence[account.id],
                "presence_label": LABELS[presence[account.id]],
            }
            if with_load:
                row.update(load=loads.get(account.name, 0), capacity=account.capacity)
            rows.append(row)
        return rows

    @app.post("/api/presence")
    async def report_presence(request: Request) -> HTTPResponse:
        """The console's heartbeat: {"status": "online"|"away"} → how many colleagues are online."""
        status = json_object(request).get("status")
        if status not in REPORTED:
            raise InvalidRequest("invalid_status", "Trạng thái phải là online hoặc away.")
        staff = request.ctx.staff
        if staff.via == VIA_SESSION:  # an API token is no person on the team
            await app.ctx.presence.report(staff.id, status)
        rows = await team(with_load=False)
        online = [row["name"] for row in rows if row["presence"] == ONLINE]
        return response.json({"status": status, "agents_online": len(online), "online": online})

    @app.get("/api/agents")
    async def agents(request: Request) -> HTTPResponse:
        """Every person who handles tickets: presence, open tickets held and capacity."""
        return response.json({"agents": await team(with_load=True)})

    @app.post("/api/tickets/<ticket_id>/reassign")
    async def reassign(request: Request, ticket_id: Text) -> HTTPResponse:
        """{"agent_id": …}: give the ticket to that agent, within their capacity."""
        ticket_id = ticket_id_from_path(ticket_id)
        agent_id = json_object(request).get("agent_id")
        target = await app.ctx.accounts.get(agent_id) if isinstance(agent_id, str) else None
        if target is None or not target.active or target.role not in TICKET_ROLES:
            raise InvalidRequest("invalid_agent", "Người nhận phiếu phải là nhân viên đang hoạt động.")
        staff = request.ctx.staff
        ticket = await app.ctx.store.reassign(ticket_id, target.name, target.capacity, staff.name)
        details = {"from": ticket["previous_agent"] or "", "to": target.name}
        await app.ctx.audit.record(staff, "ticket.reassign", f"ticket:{ticket_id}", details)
        return response.json(ticket)
