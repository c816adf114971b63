"""Who a request comes from: an API token (Authorization: Bearer …, or ?token= on the SSE route, which
EventSource cannot give headers) or the session cookie; and the CSRF checks of cookie requests.

API tokens stay for scripts and the action server: the service token (/internal/*), the admin token
(role admin), the agents' tokens (HANDOFF_AGENT_TOKENS, role agent) and the content tokens (STUDIO_TOKENS,
role content). A request with a bearer token is never read as a cookie request, and needs no CSRF token."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Optional, Text
from urllib.parse import urlsplit

from sanic import Request

from common.http import bearer_token
from common.staff_roles import ADMIN, AGENT, CONTENT, SERVICE, VIA_TOKEN, Principal
from handoff.settings import HandoffSettings
from staff.accounts import AccountStore
from staff.sessions import COOKIE_NAME, Session, SessionStore
from studio.settings import StudioSettings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "x-csrf-token"
SSE_PATH = "/api/events"


@dataclass(frozen=True)
class Identity:
    """The principal of a request (None: no credentials, or wrong ones) and its session, if by cookie;
    `bad_token`: a bearer token was given and is nobody's."""

    principal: Optional[Principal] = None
    session: Optional[Session] = None
    bad_token: bool = False


class Identifier:
    """Resolves requests to principals."""

    def __init__(
        self,
        handoff: HandoffSettings,
        studio: StudioSettings,
        accounts: AccountStore,
        sessions: SessionStore,
        token_capacity: int,
    ) -> None:
        self.handoff = handoff
        self.studio = studio
        self.accounts = accounts
        self.sessions = sessions
        self.token_capacity = token_capacity

    def token_principal(self, token: Text) -> Optional[Principal]:
        """The principal of an API token, or None."""
        if self.handoff.is_service_token(token):
            return Principal("service", "service", SERVICE, VIA_TOKEN)
        agent = self.handoff.agent_for_token(token)
        if agent is not None:
            role = ADMIN if agent.is_admin else AGENT
            return Principal(f"token:{agent.name}", agent.name, role, VIA_TOKEN, self.token_capacity)
        editor = self.studio.editor_for_token(token)
        if editor is not None:
            return Principal(f"token:{editor.name}", editor.name, CONTENT, VIA_TOKEN)
        return None

    async def identify(self, request: Request) -> Identity:
        """Bearer token first, else the session cookie."""
        token = bearer_token(request)
        if not token and request.path == SSE_PATH:
            token = request.args.get("token", "")
        if token:
            principal = self.token_principal(token)
            return Identity(principal, bad_token=principal is None)
        cookie = request.cookies.get(COOKIE_NAME, "")
        session = await self.sessions.resolve(cookie) if cookie else None
        if session is None:
            return Identity()
        account = await self.accounts.get(session.user_id)
        if account is None or not account.active:
            await self.sessions.revoke_all(session.user_id)
            return Identity()
        return Identity(account.principal(), session)


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site: an Origin naming another host,
    or Sec-Fetch-Site other than same-origin / none (typed in the address bar)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is not None:
        if origin == "null":
            return False
        return urlsplit(origin).netloc.lower() == (request.host or "").lower()
    return True


def csrf_ok(request: Request, session: Session) -> bool:
    """A cookie request that changes state: same origin, and the session's CSRF token in X-CSRF-Token."""
    if request.method not in UNSAFE_METHODS:
        return True
    sent = request.headers.get(CSRF_HEADER, "")
    return same_origin(request) and bool(sent) and hmac.compare_digest(sent, session.csrf_token)
