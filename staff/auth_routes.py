"""Signing in and out: the sign-in page, the session (who, CSRF token, home page), changing one's
password (required after a one-time password), sign-out and sign-out everywhere. Failed sign-ins are
answered late and lock the account or address for a while (staff/lockout.py); one message for an unknown
e-mail and a wrong password."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Text

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from common.http import InvalidRequest, error, json_object
from common.staff_roles import ADMIN, CONTENT, VIA_SESSION
from staff import pages
from staff.accounts import Account
from staff.passwords import MAX_LENGTH, check_new_password
from staff.sessions import COOKIE_NAME

logger = logging.getLogger(__name__)

WRONG_CREDENTIALS = "E-mail hoặc mật khẩu không đúng."
DISABLED = "Tài khoản này đã bị tạm ngừng. Vui lòng liên hệ quản trị viên."
HOME = {CONTENT: "/studio", ADMIN: "/admin"}  # agents and supervisors: /console


def home_of(role: Text) -> Text:
    """The page a role lands on after signing in."""
    return HOME.get(role, "/console")


def locked_message(seconds: int) -> Text:
    """The lockout message, in whole minutes."""
    minutes = max(1, -(-seconds // 60))
    return (
        "Bạn đã nhập sai quá nhiều lần nên việc đăng nhập tạm bị khoá. "
        f"Vui lòng thử lại sau {minutes} phút."
    )


def session_view(account: Account, csrf_token: Text) -> Dict[Text, Any]:
    """What the pages learn of the session."""
    return {"user": account.public(), "csrf_token": csrf_token, "home": home_of(account.role)}


def register(app: Sanic) -> None:
    """Mount /signin and /auth/*."""
    cookie_secure = app.ctx.staff_settings.cookie_secure

    def set_cookie(resp: HTTPResponse, token: Text) -> None:
        resp.cookies[COOKIE_NAME] = token
        cookie = resp.cookies[COOKIE_NAME]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"
        cookie["secure"] = cookie_secure

    def clear_cookie(resp: HTTPResponse) -> None:
        set_cookie(resp, "")
        resp.cookies[COOKIE_NAME]["max-age"] = 0

    def session_only(request: Request) -> None:
        if request.ctx.staff.via != VIA_SESSION:
            raise InvalidRequest(
                "not_a_session", "Chức năng này chỉ dành cho người đã đăng nhập bằng tài khoản."
            )

    async def signin_page(request: Request) -> HTTPResponse:
        """E-mail and password; also the change of a one-time password."""
        return await pages.page("signin.html")

    app.add_route(signin_page, "/signin", methods=["GET"], strict_slashes=False, name="signin_page")

    @app.post("/auth/signin")
    async def sign_in(request: Request) -> HTTPResponse:
        """{"email", "password"} → the session cookie and {"user", "csrf_token", "home"}."""
        body = json_object(request)
        email = body.get("email") if isinstance(body.get("email"), str) else ""
        email = email.strip().lower()[:320]
        password = body.get("password") if isinstance(body.get("password"), str) else ""
        address = request.remote_addr or request.ip or "?"
        lockout, audit = app.ctx.lockout, app.ctx.audit
        locked = await lockout.locked_for(email, address)
        if locked:
            await audit.record(None, "signin.locked", details={"address": address}, actor_name=email)
            return error(429, "locked", locked_message(locked), retry_after_seconds=locked)
        account = await app.ctx.accounts.authenticate(email, password[:MAX_LENGTH]) if password else None
        if account is None:
            count = await lockout.failed(email, address)
            await audit.record(None, "signin.failed", details={"address": address}, actor_name=email)
            await asyncio.sleep(lockout.delay(count))
            locked = await lockout.locked_for(email, address)
            if locked:
                return error(429, "locked", locked_message(locked), retry_after_seconds=locked)
            return error(401, "wrong_credentials", WRONG_CREDENTIALS)
        await lockout.succeeded(email)
        if not account.active:
            await audit.record(account.principal(), "signin.refused_disabled", f"user:{account.id}")
            return error(403, "disabled", DISABLED)
        token, session = await app.ctx.sessions.create(account.id)
        await audit.record(account.principal(), "signin.ok", f"user:{account.id}", {"address": address})
        resp = response.json(session_view(account, session.csrf_token), headers={"Cache-Control": "no-store"})
        set_cookie(resp, token)
        return resp

    @app.get("/auth/session")
    async def current_session(request: Request) -> HTTPResponse:
        """Who is signed in, the CSRF token for X-CSRF-Token, and the home page."""
        session_only(request)
        account = await app.ctx.accounts.require(request.ctx.staff.id)
        view = session_view(account, request.ctx.session.csrf_token)
        return response.json(view, headers={"Cache-Control": "no-store"})

    @app.post("/auth/password")
    async def change_password(request: Request) -> HTTPResponse:
        """{"current_password", "new_password"}: the other sessions of the account end."""
        session_only(request)
        body = json_object(request)
        staff = request.ctx.staff
        current = body.get("current_password") if isinstance(body.get("current_password"), str) else ""
        if not await app.ctx.accounts.check_password(staff.id, current[:MAX_LENGTH]):
            return error(400, "wrong_password", "Mật khẩu hiện tại không đúng.")
        new = check_new_password(body.get("new_password"))
        if new == current:
            raise InvalidRequest("same_password", "Mật khẩu mới cần khác mật khẩu hiện tại.")
        await app.ctx.accounts.set_password(staff.id, new)
        await app.ctx.sessions.revoke_all(staff.id, keep=request.ctx.session.digest)
        await app.ctx.audit.record(staff, "password.change", f"user:{staff.id}")
        account = await app.ctx.accounts.require(staff.id)
        return response.json(session_view(account, request.ctx.session.csrf_token))

    async def sign_out(request: Request, everywhere: bool) -> HTTPResponse:
        session_only(request)
        staff = request.ctx.staff
        if everywhere:
            ended = await app.ctx.sessions.revoke_all(staff.id)
        else:
            await app.ctx.sessions.revoke(request.cookies.get(COOKIE_NAME, ""))
            ended = 1
        await app.ctx.presence.clear(staff.id)
        action = "signout.everywhere" if everywhere else "signout"
        await app.ctx.audit.record(staff, action, f"user:{staff.id}", {"sessions": ended})
        resp = response.json({"signed_out": True, "sessions_ended": ended})
        clear_cookie(resp)
        return resp

    @app.post("/auth/signout")
    async def sign_out_here(request: Request) -> HTTPResponse:
        """End this session."""
        return await sign_out(request, everywhere=False)

    @app.post("/auth/signout-everywhere")
    async def sign_out_everywhere(request: Request) -> HTTPResponse:
        """End every session of the account (other browsers and devices too)."""
        return await sign_out(request, everywhere=True)
