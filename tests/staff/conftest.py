"""The staff service in this process (create_app on a free port, a real Redis), people with accounts
signed in by cookie, and API tokens."""

from __future__ import annotations

import dataclasses
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, Optional, Tuple

import aiohttp
import pytest

from bot.services import free_port
from common.text import fold
from handoff.relay import RasaRelay
from handoff.settings import HandoffSettings
from staff.accounts import AccountStore
from staff.app import create_app
from staff.settings import StaffSettings
from studio.settings import StudioSettings, copy_content
from tests.handoff.conftest import clock, hours, rasa_stub, store  # noqa: F401 (fixtures)

ADMIN_TOKEN, SERVICE_TOKEN, AGENT_TOKEN, CONTENT_TOKEN = "adm-tok", "svc-tok", "lan-tok", "hoa-tok"
PASSWORD = "mật-khẩu-đủ-dài-1"
# the tests' lockout and timeouts are short: no test waits for minutes
TEST_STAFF = StaffSettings(
    cookie_secure=False,  # aiohttp sends Secure cookies over https only; the flag has its own test
    lockout_failures=3,
    lockout_address_failures=50,
    lockout_window_seconds=60,
    lockout_seconds=2,
    failure_delay_cap_seconds=0.05,
    agent_capacity=2,
)


class Person:
    """A signed-in browser: its own cookie jar and CSRF token."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = aiohttp.ClientSession(base_url, cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""
        self.session: Dict[str, Any] = {}

    async def call(
        self, method: str, path: str, csrf: Optional[str] = None, headers: Optional[dict] = None, **kwargs
    ) -> Tuple[int, Any]:
        """Any request with the session cookie and the CSRF header (`csrf=""`: none)."""
        sent = {"X-CSRF-Token": self.csrf if csrf is None else csrf, **(headers or {})}
        if not sent["X-CSRF-Token"]:
            del sent["X-CSRF-Token"]
        async with self.http.request(method, path, headers=sent, allow_redirects=False, **kwargs) as resp:
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, await resp.text()

    async def sign_in(self, email: str, password: str = PASSWORD) -> Tuple[int, Any]:
        status, body = await self.call("POST", "/auth/signin", json={"email": email, "password": password})
        if status == 200:
            self.csrf, self.session = body["csrf_token"], body
        return status, body

    async def close(self) -> None:
        await self.http.close()


class Staff:
    """The served app, its stores and helpers to make people."""

    def __init__(self, app, url: str) -> None:
        self.app = app
        self.url = url
        self.people = []

    @property
    def accounts(self) -> AccountStore:
        return self.app.ctx.accounts

    async def account(self, name: str, role: str, capacity: Optional[int] = None, email: str = ""):
        """An account whose password is PASSWORD (already changed from the one-time one)."""
        email = email or f"{fold(name).replace(' ', '.')}@senmart.test"
        account, _ = await self.accounts.create(name, email, role, capacity)
        await self.accounts.set_password(account.id, PASSWORD)
        return await self.accounts.require(account.id)

    def person(self) -> Person:
        person = Person(self.url)
        self.people.append(person)
        return person

    async def signed_in(self, name: str, role: str, capacity: Optional[int] = None) -> Person:
        """A new account, signed in."""
        account = await self.account(name, role, capacity)
        person = self.person()
        status, _ = await person.sign_in(account.email)
        assert status == 200
        person.account = account
        return person

    async def token_call(self, method: str, path: str, token: str, **kwargs) -> Tuple[int, Any]:
        """A request with an API token (no cookie)."""
        async with aiohttp.ClientSession(self.url) as http:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with http.request(method, path, headers=headers, allow_redirects=False, **kwargs) as resp:
                body = await resp.json() if resp.content_type == "application/json" else await resp.text()
                return resp.status, body


@asynccontextmanager
async def serve(ticket_store, rasa_url: str, content_dir, **staff_changes) -> AsyncIterator["Staff"]:
    """The app on a free port with TEST_STAFF changed by `staff_changes`; its people are closed after."""
    settings = HandoffSettings(
        admin_token=ADMIN_TOKEN, service_token=SERVICE_TOKEN, agent_tokens={AGENT_TOKEN: "Lan"}
    )
    studio = dataclasses.replace(
        StudioSettings.from_env({}),
        content_dir=copy_content(content_dir),
        editor_tokens={CONTENT_TOKEN: "Hoa"},
    )
    app = create_app(
        settings,
        ticket_store,
        RasaRelay(rasa_url, backoff_seconds=0.01),
        name=f"staff_{free_port()}",
        background_tasks=False,
        configure_logging=False,
        studio_settings=studio,
        staff_settings=dataclasses.replace(TEST_STAFF, **staff_changes),
    )
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.before_start()
    await server.after_start()
    served = Staff(app, f"http://127.0.0.1:{port}")
    try:
        yield served
    finally:
        for person in served.people:
            await person.close()
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


@pytest.fixture()
def staff_settings_changes() -> Dict[str, Any]:
    """Override in a test module to serve with other staff settings."""
    return {}


@pytest.fixture()
async def staff(store, rasa_stub, tmp_path, staff_settings_changes):  # noqa: F811
    """The app on a free port sharing the test's store (fake clock for tickets); no background tasks."""
    rasa_stub.reset()
    async with serve(store, rasa_stub.url, tmp_path / "content", **staff_settings_changes) as served:
        yield served
