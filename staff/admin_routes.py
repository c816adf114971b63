"""The admin page and its API: invite people (a one-time password to hand over, shown once), change a
role or a capacity, disable or enable an account, reset a password; read and export the audit log."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Optional, Text

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from common.contracts import VIETNAM
from common.http import InvalidRequest, json_object
from staff import pages
from staff.audit import csv_text

DATE_PATTERN = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})\Z")
ACTION_PATTERN = re.compile(r"\A[a-z_.]{0,40}\Z")


def day_bound(value: Optional[Text], end: bool) -> Optional[float]:
    """A YYYY-MM-DD day in Vietnam time → its first (or, with `end`, last) second; None when empty."""
    if not value:
        return None
    match = DATE_PATTERN.match(value.strip())
    try:
        day = datetime(*(int(part) for part in match.groups()), tzinfo=VIETNAM) if match else None
    except ValueError:
        day = None
    if day is None:
        raise InvalidRequest("invalid_date", "Ngày phải có dạng YYYY-MM-DD.")
    return (day + timedelta(days=1) if end else day).timestamp() - (0.001 if end else 0)


def register(app: Sanic) -> None:
    """Mount /admin and /admin/api/*."""

    async def admin_page(request: Request) -> HTTPResponse:
        """Users and the audit log."""
        return await pages.page("admin.html")

    app.add_route(admin_page, "/admin", methods=["GET"], strict_slashes=False, name="admin_page")

    async def audit(request: Request, action: Text, user_id: Text, **details) -> None:
        await app.ctx.audit.record(request.ctx.staff, action, f"user:{user_id}", details)

    @app.get("/admin/api/users")
    async def list_users(request: Request) -> HTTPResponse:
        """Every account with its presence."""
        accounts = await app.ctx.accounts.all()
        presence = await app.ctx.presence.of(a.id for a in accounts)
        users = [{**a.public(), "presence": presence[a.id]} for a in accounts]
        return response.json({"users": users})

    @app.post("/admin/api/users")
    async def invite(request: Request) -> HTTPResponse:
        """{"name", "email", "role", "capacity"?} → the account and its one-time password (shown once)."""
        body = json_object(request)
        account, password = await app.ctx.accounts.create(
            body.get("name"), body.get("email"), body.get("role"), body.get("capacity")
        )
        await audit(request, "user.invite", account.id, name=account.name, role=account.role)
        return response.json(
            {"user": account.public(), "one_time_password": password},
            status=201,
            headers={"Cache-Control": "no-store"},
        )

    @app.patch("/admin/api/users/<user_id>")
    async def change_user(request: Request, user_id: Text) -> HTTPResponse:
        """{"role"?, "capacity"?, "active"?}; disabling ends the account's sessions at once."""
        body = json_object(request)
        before = await app.ctx.accounts.require(user_id)
        if user_id == request.ctx.staff.id and (
            body.get("active") is False or body.get("role", before.role) != before.role
        ):
            raise InvalidRequest(
                "own_account", "Bạn không thể tự khoá hoặc đổi vai trò tài khoản của chính mình."
            )
        after = await app.ctx.accounts.update(
            user_id, role=body.get("role"), capacity=body.get("capacity"), active=body.get("active")
        )
        if after.role != before.role:
            await audit(request, "user.role", user_id, name=after.name, before=before.role, after=after.role)
        if after.capacity != before.capacity:
            await audit(
                request,
                "user.capacity",
                user_id,
                name=after.name,
                before=before.capacity,
                after=after.capacity,
            )
        if after.active != before.active:
            await audit(request, "user.enable" if after.active else "user.disable", user_id, name=after.name)
        if not after.active or after.role != before.role:  # a new role starts with a new sign-in
            await app.ctx.sessions.revoke_all(user_id)
            await app.ctx.presence.clear(user_id)
        return response.json({"user": after.public()})

    @app.post("/admin/api/users/<user_id>/reset-password")
    async def reset_password(request: Request, user_id: Text) -> HTTPResponse:
        """A new one-time password (shown once); the account's sessions end."""
        password = await app.ctx.accounts.reset_password(user_id)
        await app.ctx.sessions.revoke_all(user_id)
        account = await app.ctx.accounts.require(user_id)
        await audit(request, "password.reset", user_id, name=account.name)
        return response.json(
            {"user": account.public(), "one_time_password": password}, headers={"Cache-Control": "no-store"}
        )

    def audit_query(request: Request, default_limit: int) -> dict:
        action = (request.args.get("action") or "").strip()
        if not ACTION_PATTERN.match(action):
            raise InvalidRequest("invalid_action", "Tên thao tác chỉ gồm chữ thường, dấu chấm và gạch dưới.")
        try:
            limit = int(request.args.get("limit") or default_limit)
        except ValueError:
            raise InvalidRequest("invalid_limit", "Số dòng phải là một số nguyên.") from None
        return {
            "actor": (request.args.get("actor") or "")[:100],
            "action": action,
            "since": day_bound(request.args.get("since"), end=False),
            "until": day_bound(request.args.get("until"), end=True),
            "limit": limit,
        }

    @app.get("/admin/api/audit")
    async def audit_log(request: Request) -> HTTPResponse:
        """?actor=&action=&since=YYYY-MM-DD&until=YYYY-MM-DD&limit= → newest first."""
        entries = await app.ctx.audit.query(**audit_query(request, 200))
        return response.json({"entries": entries, "count": len(entries)})

    @app.get("/admin/api/audit.csv")
    async def audit_csv(request: Request) -> HTTPResponse:
        """The same, as a CSV file."""
        entries = await app.ctx.audit.query(**audit_query(request, 5000))
        stamp = datetime.now(VIETNAM).strftime("%Y%m%d-%H%M")
        headers = {"Content-Disposition": f'attachment; filename="senmart-audit-{stamp}.csv"'}
        return response.text(csv_text(entries), content_type="text/csv; charset=utf-8", headers=headers)
