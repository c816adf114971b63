"""The policy table against every route of the app: 401 without credentials, 403 for a wrong role, the
allowed roles let through; CSRF refused on cookie requests without the token or from another origin."""

import asyncio
import re

import pytest

from staff import access
from staff.access import POLICY, route_key

from .conftest import ADMIN_TOKEN, AGENT_TOKEN, CONTENT_TOKEN, SERVICE_TOKEN

# allowed calls are made with dummy values; these would start a training, stream forever or end the session
NOT_CALLED_WHEN_ALLOWED = {
    "/studio/api/train",
    "/studio/api/import/<what>",
    "/studio/api/models/<model_id>/rollback",
    "/api/events",
    "/auth/signout",
    "/auth/signout-everywhere",
}
DUMMY = {"ticket_id": "KN-20990101-0001", "filename": "missing.txt"}
PEOPLE = ("agent", "supervisor", "content", "admin")


def concrete(key: str) -> str:
    return re.sub(r"<(\w+)(?::[^>]*)?>", lambda m: DUMMY.get(m.group(1), "x"), key) or "/"


def routes(app):
    """(method, route key) of every route of the app."""
    found = set()
    for route in app.router.routes:
        for method in route.methods:
            if method not in ("HEAD", "OPTIONS"):
                found.add((method, route_key(route)))
    return sorted(found)


async def test_every_route_is_classified(staff):
    keys = {key for _, key in routes(staff.app)}
    assert sorted(keys - set(POLICY)) == []  # a new route must be added to staff/access.py
    assert sorted(set(POLICY) - keys) == []  # and the table names no route that is gone
    assert access.decide(None, None) == access.UNAUTHENTICATED  # unclassified: refused


async def test_every_route_refuses_the_wrong_role_and_admits_the_right_one(staff):
    people = {role: await staff.signed_in(f"Người {role}", role) for role in PEOPLE}
    nobody = staff.person()
    checked = 0
    for method, key in routes(staff.app):
        rule = POLICY[key]
        path = concrete(key)
        body = {} if method in ("POST", "PUT", "PATCH") else None
        if rule.public:
            if key not in ("/auth/signin",):
                status, _ = await nobody.call(method, path, json=body)
                assert status not in (401, 403), (method, key)
            continue
        status, _ = await nobody.call(method, path, json=body)
        assert status == (302 if rule.page else 401), (method, key, status)
        for role, person in people.items():
            if role not in rule.roles:
                status, answer = await person.call(method, path, json=body)
                assert status == 403, (method, key, role, status)
                if not rule.page:
                    assert answer["error"] == "forbidden"
            elif key not in NOT_CALLED_WHEN_ALLOWED:
                status, _ = await person.call(method, path, json=body)
                assert status not in (401, 403), (method, key, role, status)
            checked += 1
    assert checked > 200


@pytest.mark.parametrize(
    "token, role", [(ADMIN_TOKEN, "admin"), (AGENT_TOKEN, "agent"), (CONTENT_TOKEN, "content")]
)
async def test_api_tokens_have_their_role(staff, token, role):
    expected = {
        "/api/tickets": role in ("agent", "admin"),
        "/studio/api/topics": role in ("content", "admin"),
        "/admin/api/users": role == "admin",
        "/api/agents": role == "admin",
    }
    for path, allowed in expected.items():
        status, _ = await staff.token_call("GET", path, token)
        assert (status == 200) == allowed and status in (200, 403), (path, role, status)
    status, _ = await staff.token_call("POST", "/internal/handoffs", token, json={"sender_id": "x"})
    assert status == 403
    status, _ = await staff.token_call("GET", "/api/tickets", "not-a-token")
    assert status == 401
    status, _ = await staff.token_call("POST", "/internal/handoffs", SERVICE_TOKEN, json={"sender_id": "x"})
    assert status == 201


async def test_csrf_is_required_on_cookie_requests_that_change_state(staff):
    agent = await staff.signed_in("Lan Anh", "agent")
    status, body = await agent.call("POST", "/api/presence", csrf="", json={"status": "online"})
    assert (status, body["error"]) == (403, "csrf")
    assert "CSRF" in body["message"]
    status, body = await agent.call("POST", "/api/presence", csrf="wrong" * 8, json={"status": "online"})
    assert (status, body["error"]) == (403, "csrf")
    foreign = {"Origin": "https://evil.example"}
    status, body = await agent.call("POST", "/api/presence", headers=foreign, json={"status": "online"})
    assert (status, body["error"]) == (403, "csrf")
    cross_site = {"Sec-Fetch-Site": "cross-site"}
    status, body = await agent.call("POST", "/api/presence", headers=cross_site, json={"status": "online"})
    assert (status, body["error"]) == (403, "csrf")
    # the right token from the same origin passes; a read needs none
    same = {"Origin": staff.url, "Sec-Fetch-Site": "same-origin"}
    status, _ = await agent.call("POST", "/api/presence", headers=same, json={"status": "online"})
    assert status == 200
    status, _ = await agent.call("GET", "/api/tickets", csrf="")
    assert status == 200
    # a sign-in posted from another site is refused too (login CSRF)
    status, body = await staff.person().call(
        "POST", "/auth/signin", headers=foreign, json={"email": "a@b.vn", "password": "x"}
    )
    assert (status, body["error"]) == (403, "csrf")


async def test_pages_send_strangers_to_sign_in_and_wrong_roles_to_no_permission(staff):
    agent = await staff.signed_in("Minh", "agent")
    for page in ("/studio", "/admin", "/studio/report"):
        status, html = await agent.call("GET", page)
        assert status == 403 and "không có quyền" in html, page
    status, html = await agent.call("GET", "/console")
    assert status == 200
    nobody = staff.person()
    async with nobody.http.get("/admin", allow_redirects=False) as resp:
        assert (resp.status, resp.headers["Location"]) == (302, "/signin?next=/admin")
    await asyncio.sleep(0)
