"""The audit log: an entry for each kind of action, filters, CSV, retention."""

import asyncio
import csv
import io
import time

from common.staff_keys import AUDIT_STREAM
from staff.audit import AuditLog, csv_text

from .conftest import CONTENT_TOKEN, SERVICE_TOKEN


async def test_actions_are_audited_with_who_and_what(staff, rasa_stub):
    admin = await staff.signed_in("Quản trị", "admin")
    supervisor = await staff.signed_in("Trưởng ca", "supervisor")
    await staff.person().sign_in(admin.account.email, "sai mật khẩu rồi")
    status, invited = await admin.call(
        "POST", "/admin/api/users", json={"name": "Mai", "email": "mai@senmart.test", "role": "agent"}
    )
    mai_id = invited["user"]["id"]
    await admin.call("PATCH", f"/admin/api/users/{mai_id}", json={"role": "supervisor", "capacity": 7})
    await admin.call("PATCH", f"/admin/api/users/{mai_id}", json={"active": False})
    await admin.call("PATCH", f"/admin/api/users/{mai_id}", json={"active": True})
    await admin.call("POST", f"/admin/api/users/{mai_id}/reset-password")
    agent = await staff.signed_in("Ngân", "agent")
    ids = []
    for sender in ("0912345678", "s2"):
        _, body = await staff.token_call(
            "POST", "/internal/handoffs", SERVICE_TOKEN, json={"sender_id": sender}
        )
        ids.append(body["ticket_id"])
    await agent.call("POST", f"/api/tickets/{ids[0]}/claim")
    await agent.call("POST", f"/api/tickets/{ids[0]}/messages", json={"text": "Dạ em chào chị, số thẻ 4111"})
    await agent.call("POST", f"/api/tickets/{ids[0]}/resolve")
    await agent.call("POST", f"/api/tickets/{ids[1]}/return-to-bot")
    await supervisor.call("GET", "/api/agents")
    await admin.call("DELETE", "/api/customers/0912345678")
    await staff.token_call(
        "PUT", "/studio/api/promotions/NOPE", CONTENT_TOKEN, json={}
    )  # refused: not audited
    await agent.call("POST", "/auth/signout")

    status, body = await admin.call("GET", "/admin/api/audit?limit=100")
    entries = body["entries"]
    actions = [entry["action"] for entry in entries]
    for expected in (
        "signin.ok",
        "signin.failed",
        "user.invite",
        "user.role",
        "user.capacity",
        "user.disable",
        "user.enable",
        "password.reset",
        "ticket.claim",
        "ticket.reply",
        "ticket.resolve",
        "ticket.return_to_bot",
        "customer.delete",
        "signout",
    ):
        assert expected in actions, expected
    assert "content.promotion_update" not in actions
    assert entries[0]["ts"] >= entries[-1]["ts"]  # newest first
    claim = next(e for e in entries if e["action"] == "ticket.claim")
    assert (claim["actor_name"], claim["actor_role"], claim["target"]) == (
        "Ngân",
        "agent",
        f"ticket:{ids[0]}",
    )
    deletion = next(e for e in entries if e["action"] == "customer.delete")
    assert "0912345678" not in str(deletion) and deletion["actor_name"] == "Quản trị"
    assert "Dạ em chào chị" not in str(entries)  # no customer conversation in the log
    failed = next(e for e in entries if e["action"] == "signin.failed")
    assert failed["actor_id"] == "" and admin.account.email not in str(failed)  # the e-mail typed is masked
    role = next(e for e in entries if e["action"] == "user.role")
    assert role["details"] == {"name": "Mai", "before": "agent", "after": "supervisor"}

    status, body = await admin.call("GET", "/admin/api/audit?action=ticket.&actor=Ngân")
    assert {e["action"] for e in body["entries"]} == {
        "ticket.claim",
        "ticket.reply",
        "ticket.resolve",
        "ticket.return_to_bot",
    }
    status, body = await admin.call("GET", "/admin/api/audit?since=2001-01-01&until=2001-12-31")
    assert (status, body["count"]) == (200, 0)
    status, body = await admin.call("GET", "/admin/api/audit?since=hôm-qua")
    assert (status, body["error"]) == (400, "invalid_date")
    status, text = await admin.call("GET", "/admin/api/audit.csv?action=user.")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["time", "actor_id", "actor_name", "actor_role", "action", "target", "details"]
    assert {row[4] for row in rows[1:]} == {
        "user.invite",
        "user.role",
        "user.capacity",
        "user.disable",
        "user.enable",
    }
    assert (await supervisor.call("GET", "/admin/api/audit"))[0] == 403


async def test_api_tokens_are_named_by_role_in_the_log(staff):
    await staff.token_call("POST", "/internal/handoffs", SERVICE_TOKEN, json={"sender_id": "t1"})
    admin = await staff.signed_in("Quản trị", "admin")
    from .conftest import AGENT_TOKEN

    _, tickets = await staff.token_call("GET", "/api/tickets", AGENT_TOKEN)
    await staff.token_call("POST", f"/api/tickets/{tickets['tickets'][0]['id']}/claim", AGENT_TOKEN)
    _, body = await admin.call("GET", "/admin/api/audit?action=ticket.claim")
    assert body["entries"][0]["actor_id"] == "api-token:agent" and body["entries"][0]["actor_name"] == "Lan"


async def test_retention_trims_old_entries(aredis):
    now = time.time()
    log = AuditLog(aredis, retention_days=30, clock=lambda: now)
    await aredis.xadd(AUDIT_STREAM, {"action": "old"}, id=f"{int((now - 31 * 86400) * 1000)}-0")
    await aredis.xadd(AUDIT_STREAM, {"action": "recent"}, id=f"{int((now - 29 * 86400) * 1000)}-0")
    await log.record(None, "new", actor_name="x")
    assert await log.trim() == 1
    assert [e["action"] for e in await log.query()] == ["new", "recent"]


def test_csv_cells_cannot_be_formulas():
    text = csv_text(
        [
            {
                "ts": 0,
                "actor_id": "=cmd()",
                "actor_name": "@x",
                "actor_role": "",
                "action": "a",
                "target": "",
                "details": {},
            }
        ]
    )
    row = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1]
    assert row[1:3] == ["'=cmd()", "'@x"]


async def test_a_training_is_audited_when_it_starts_and_when_it_publishes(staff):
    """The job's end (not the request) records the publish, by the person who started the training."""
    editor = await staff.signed_in("Hoa Nội Dung", "content")
    trainer = staff.app.ctx.studio_training
    release = asyncio.Event()

    async def job(state, work):  # the real job trains for minutes: its end is what matters here
        await release.wait()
        state.update(state="published", progress=100, model_id="20261205-0001", result={"reason": "ok"})
        await trainer._save(state)

    trainer._job = job
    status, body = await editor.call("POST", "/studio/api/train")
    assert status == 202
    admin = await staff.signed_in("Quản trị", "admin")

    async def actions():
        _, audit = await admin.call("GET", "/admin/api/audit?limit=50")
        return [(e["action"], e["actor_name"], e["target"]) for e in audit["entries"]]

    assert ("model.train", "Hoa Nội Dung", "") in await actions()
    assert not [a for a in await actions() if a[0] == "model.publish"]  # not yet: still training
    release.set()
    for _ in range(100):
        if any(a[0] == "model.publish" for a in await actions()):
            break
        await asyncio.sleep(0.05)
    publishes = [a for a in await actions() if a[0] == "model.publish"]
    assert publishes == [("model.publish", "Hoa Nội Dung", "model:20261205-0001")]
