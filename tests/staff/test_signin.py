"""Signing in and out: sessions, the cookie, lockout, disabled accounts, one-time passwords, and no
password ever in a log or an answer."""

import asyncio
import logging

import pytest

from staff.sessions import COOKIE_NAME, SessionStore

from .conftest import PASSWORD, serve


async def test_sign_in_sets_a_session_cookie_and_tells_the_home_page(staff):
    account = await staff.account("Quỳnh", "content")
    person = staff.person()
    # the e-mail is found in any case, spaces around it ignored
    async with person.http.post(
        "/auth/signin", json={"email": f" {account.email.upper()} ", "password": PASSWORD}
    ) as r:
        body = await r.json()
        cookie = r.cookies[COOKIE_NAME]
        raw = r.headers["Set-Cookie"]
    assert body["user"]["id"] == account.id and body["home"] == "/studio"
    assert len(body["csrf_token"]) >= 40 and "argon2" not in str(body) and PASSWORD not in str(body)
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    assert "Secure" not in raw  # these tests' settings (STAFF_COOKIE_INSECURE=1)
    status, session = await person.call("GET", "/auth/session", csrf="")
    assert (status, session["user"]["name"], session["csrf_token"]) == (200, "Quỳnh", body["csrf_token"])


async def test_the_cookie_is_secure_by_default(store, rasa_stub, tmp_path):
    async with serve(store, rasa_stub.url, tmp_path / "c", cookie_secure=True) as staff:
        account = await staff.account("An", "agent")
        async with staff.person().http.post(
            "/auth/signin", json={"email": account.email, "password": PASSWORD}
        ) as resp:
            raw = resp.headers["Set-Cookie"]
    assert "Secure" in raw and "HttpOnly" in raw and "SameSite=Strict" in raw and "Path=/" in raw


async def test_one_message_for_unknown_email_and_wrong_password(staff):
    email = (await staff.account("Bảo", "agent")).email
    person = staff.person()
    wrong = await person.sign_in(email, "sai-mật-khẩu-rồi")
    unknown = await person.sign_in("không-có@senmart.test", PASSWORD)
    assert (
        wrong
        == unknown
        == (401, {"error": "wrong_credentials", "message": "E-mail hoặc mật khẩu không đúng."})
    )


async def test_lockout_after_failures_and_unlock_after_expiry(staff):
    email = (await staff.account("Cúc", "agent")).email
    person = staff.person()
    for _ in range(2):
        assert (await person.sign_in(email, "sai-mật-khẩu-rồi"))[0] == 401
    status, body = await person.sign_in(email, "sai-mật-khẩu-rồi")  # the 3rd (TEST_STAFF)
    assert (status, body["error"]) == (429, "locked")
    assert "thử lại sau 1 phút" in body["message"]
    # even the right password is refused while locked
    assert (await person.sign_in(email))[0] == 429
    await asyncio.sleep(2.2)  # lockout_seconds=2
    assert (await person.sign_in(email))[0] == 200


async def test_failures_are_answered_later_and_later(staff):
    lockout = staff.app.ctx.lockout
    assert [lockout.delay(n) for n in (1, 2, 3)] == [0.05, 0.05, 0.05]  # TEST_STAFF's cap
    from staff.lockout import Lockout

    unbounded = Lockout(staff.app.ctx.store.redis, 5, 20, 60, 60, 2.0)
    assert [unbounded.delay(n) for n in (1, 2, 3, 4, 5, 6)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0]


async def test_disabled_account_cannot_sign_in_and_its_sessions_end_at_once(staff):
    admin = await staff.signed_in("Quản trị", "admin")
    agent = await staff.signed_in("Dũng", "agent")
    other_tab = staff.person()
    await other_tab.sign_in(agent.account.email)
    status, _ = await admin.call("PATCH", f"/admin/api/users/{agent.account.id}", json={"active": False})
    assert status == 200
    for browser in (agent, other_tab):
        assert (await browser.call("GET", "/api/tickets"))[0] == 401
    status, body = await staff.person().sign_in(agent.account.email)
    assert (status, body["error"]) == (403, "disabled")
    status, _ = await admin.call("PATCH", f"/admin/api/users/{agent.account.id}", json={"active": True})
    assert (await staff.person().sign_in(agent.account.email))[0] == 200


async def test_sign_out_and_sign_out_everywhere(staff):
    account = await staff.account("Giang", "agent")
    first, second, third = staff.person(), staff.person(), staff.person()
    for browser in (first, second, third):
        assert (await browser.sign_in(account.email))[0] == 200
    status, body = await first.call("POST", "/auth/signout")
    assert (status, body["sessions_ended"]) == (200, 1)
    assert (await first.call("GET", "/api/tickets"))[0] == 401
    assert (await second.call("GET", "/api/tickets"))[0] == 200
    status, body = await second.call("POST", "/auth/signout-everywhere")
    assert (status, body["sessions_ended"]) == (200, 2)
    assert (await third.call("GET", "/api/tickets"))[0] == 401


async def test_one_time_password_must_be_changed_first(staff):
    admin = await staff.signed_in("Quản trị", "admin")
    status, invited = await admin.call(
        "POST", "/admin/api/users", json={"name": "Hạnh", "email": "hanh@senmart.test", "role": "agent"}
    )
    assert status == 201 and invited["user"]["must_change_password"] is True
    once = invited["one_time_password"]
    hanh = staff.person()
    status, body = await hanh.sign_in("hanh@senmart.test", once)
    assert status == 200 and body["user"]["must_change_password"] is True
    status, body = await hanh.call("GET", "/api/tickets")
    assert (status, body["error"]) == (403, "password_change_required")
    async with hanh.http.get("/console", allow_redirects=False) as resp:
        assert (resp.status, resp.headers["Location"]) == (302, "/signin?change=1")
    change = {"current_password": once, "new_password": "ngắn"}
    status, body = await hanh.call("POST", "/auth/password", json=change)
    assert (status, body["error"]) == (400, "weak_password")
    status, body = await hanh.call("POST", "/auth/password", json={**change, "current_password": "sai"})
    assert (status, body["error"]) == (400, "wrong_password")
    status, body = await hanh.call(
        "POST", "/auth/password", json={**change, "new_password": "mật khẩu mới của Hạnh"}
    )
    assert status == 200 and body["user"]["must_change_password"] is False
    assert (await hanh.call("GET", "/api/tickets"))[0] == 200
    # the one-time password is gone
    assert (await staff.person().sign_in("hanh@senmart.test", once))[0] == 401


async def test_reset_password_ends_sessions_and_gives_a_new_one_time_password(staff):
    admin = await staff.signed_in("Quản trị", "admin")
    agent = await staff.signed_in("Khoa", "agent")
    status, body = await admin.call("POST", f"/admin/api/users/{agent.account.id}/reset-password")
    assert status == 200 and len(body["one_time_password"]) >= 16
    assert (await agent.call("GET", "/api/tickets"))[0] == 401
    assert (await staff.person().sign_in(agent.account.email, PASSWORD))[0] == 401
    status, session = await staff.person().sign_in(agent.account.email, body["one_time_password"])
    assert status == 200 and session["user"]["must_change_password"] is True


async def test_passwords_are_never_logged_nor_answered(staff, caplog):
    caplog.set_level(logging.DEBUG)
    admin = await staff.signed_in("Quản trị", "admin")
    status, invited = await admin.call(
        "POST", "/admin/api/users", json={"name": "Long", "email": "long@senmart.test", "role": "agent"}
    )
    once = invited["one_time_password"]
    long_ = staff.person()
    answers = [await long_.sign_in("long@senmart.test", once)]
    new = "mật khẩu mới của Long 2026"
    answers.append(
        await long_.call("POST", "/auth/password", json={"current_password": once, "new_password": new})
    )
    answers.append(await staff.person().sign_in("long@senmart.test", "mật khẩu sai của Long"))
    answers.append(await long_.call("GET", "/auth/session"))
    answers.append(await admin.call("GET", "/admin/api/users"))
    status, reset = await admin.call("POST", f"/admin/api/users/{invited['user']['id']}/reset-password")
    answers.append(await admin.call("GET", "/admin/api/audit?limit=100"))
    answers.append(await admin.call("GET", "/admin/api/audit.csv"))
    secrets_used = (once, new, "mật khẩu sai của Long", reset["one_time_password"], "mật-khẩu-đủ-dài-1")
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for secret in secrets_used:
        assert secret not in logged
        assert all(secret not in str(answer) for answer in answers)
    stored = await staff.app.ctx.store.redis.hgetall(f"senmart:staff:user:{invited['user']['id']}")
    assert stored["password"].startswith("$argon2id$")
    assert all(secret not in str(stored) for secret in secrets_used)


@pytest.fixture()
def sessions(aredis, clock):
    return SessionStore(aredis, idle_seconds=60, max_seconds=600, clock=clock)


async def test_idle_timeout(sessions, clock):
    token, _ = await sessions.create("u1")
    clock.advance(59)
    assert await sessions.resolve(token) is not None  # used: the idle clock starts again
    clock.advance(59)
    assert await sessions.resolve(token) is not None
    clock.advance(60)
    assert await sessions.resolve(token) is None
    assert await sessions.resolve(token) is None  # and it is gone


async def test_absolute_timeout(sessions, clock):
    token, _ = await sessions.create("u1")
    for _ in range(10):
        clock.advance(50)
        assert await sessions.resolve(token) is not None
    clock.advance(50)  # 550 s
    assert await sessions.resolve(token) is not None
    clock.advance(50)  # 600 s after sign-in, used every 50 s
    assert await sessions.resolve(token) is None


async def test_only_the_digest_of_the_token_is_stored(sessions, aredis):
    token, session = await sessions.create("u1")
    keys = await aredis.keys("senmart:staff:session:*")
    assert keys == [f"senmart:staff:session:{session.digest}"] and token not in str(
        await aredis.hgetall(keys[0])
    )


async def test_idle_session_expires_over_http(store, rasa_stub, tmp_path):
    async with serve(store, rasa_stub.url, tmp_path / "c", session_idle_seconds=0.6) as staff:
        agent = await staff.signed_in("Nga", "agent")
        assert (await agent.call("GET", "/api/tickets"))[0] == 200
        await asyncio.sleep(0.8)
        assert (await agent.call("GET", "/api/tickets"))[0] == 401
