"""Who may call which route: the one policy table of the staff service, read by the authentication
middleware (staff/app.py) for every request. Every route of the app is listed (tests/staff enumerate
`app.router.routes` and fail on one that is not), public ones too.

Audiences: PUBLIC (no credentials), SERVICE (the action server's token), SIGNED_IN (any signed-in person,
also before the one-time password is changed), and the role sets below. Roles nest: admins may do
everything, supervisors what agents do; content staff use the studio only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, FrozenSet, Optional, Text

from common.staff_roles import ADMIN, AGENT, CONTENT, SERVICE, SUPERVISOR, Principal

PUBLIC = frozenset({"public"})
SIGNED_IN = frozenset({AGENT, SUPERVISOR, CONTENT, ADMIN})
AGENTS = frozenset({AGENT, SUPERVISOR, ADMIN})
SUPERVISORS = frozenset({SUPERVISOR, ADMIN})
CONTENT_STAFF = frozenset({CONTENT, ADMIN})
ADMINS = frozenset({ADMIN})
SERVICES = frozenset({SERVICE})


@dataclass(frozen=True)
class Rule:
    """The roles a route admits; `page`: an HTML page (no session → the sign-in page, wrong role → the
    'no permission' page); `first_sign_in`: reachable before the one-time password is changed."""

    roles: FrozenSet[Text]
    page: bool = False
    first_sign_in: bool = False

    @property
    def public(self) -> bool:
        """No credentials needed."""
        return self.roles is PUBLIC


_PUBLIC = Rule(PUBLIC)
_SERVICE = Rule(SERVICES)
_AGENT = Rule(AGENTS)

# route path as Sanic names it ("/" + route.path) → rule
POLICY: Dict[Text, Rule] = {
    # public: the customer chat page and its files, health, metrics (scraped by Prometheus, as before),
    # the sign-in page and the pages' static files
    "/": _PUBLIC,
    "/chat/config.json": _PUBLIC,
    "/chat/history": _PUBLIC,  # answers only for a signed chat session id (common/chat_sessions.py)
    "/chat/<filename:path>": _PUBLIC,
    "/health": _PUBLIC,
    "/metrics": _PUBLIC,
    "/static/<filename:path>": _PUBLIC,
    "/console/<filename:path>": _PUBLIC,
    "/studio/static/<filename:path>": _PUBLIC,
    "/staff/static/<filename:path>": _PUBLIC,
    "/signin": Rule(PUBLIC, page=True),
    "/auth/signin": _PUBLIC,
    # a signed-in person, also before the one-time password is changed
    "/auth/session": Rule(SIGNED_IN, first_sign_in=True),
    "/auth/password": Rule(SIGNED_IN, first_sign_in=True),
    "/auth/signout": Rule(SIGNED_IN, first_sign_in=True),
    "/auth/signout-everywhere": Rule(SIGNED_IN, first_sign_in=True),
    # the action server (service token)
    "/internal/handoffs": _SERVICE,
    "/internal/tickets/<ticket_id>": _SERVICE,
    "/internal/tickets/<ticket_id>/csat": _SERVICE,
    "/internal/nlg": _SERVICE,
    "/internal/nlg/responses": _SERVICE,
    "/internal/models/current": _SERVICE,
    # agents (and supervisors, admins): the console and the ticket API
    "/console": Rule(AGENTS, page=True),
    "/api/tickets": _AGENT,
    "/api/tickets/<ticket_id>": _AGENT,
    "/api/tickets/<ticket_id>/customer-history": _AGENT,
    "/api/tickets/<ticket_id>/claim": _AGENT,
    "/api/tickets/<ticket_id>/heartbeat": _AGENT,
    "/api/tickets/<ticket_id>/messages": _AGENT,
    "/api/tickets/<ticket_id>/resolve": _AGENT,
    "/api/tickets/<ticket_id>/return-to-bot": _AGENT,
    "/api/tickets/<ticket_id>/export": _AGENT,
    "/api/canned-replies": _AGENT,
    "/api/me": _AGENT,
    "/api/dashboard": _AGENT,
    "/api/events": _AGENT,
    "/api/presence": _AGENT,
    # supervisors: every agent's load, and moving a ticket to another agent
    "/api/agents": Rule(SUPERVISORS),
    "/api/tickets/<ticket_id>/reassign": Rule(SUPERVISORS),
    # content staff: the studio, its report and API
    "/studio": Rule(CONTENT_STAFF, page=True),
    "/studio/report": Rule(CONTENT_STAFF, page=True),
    "/studio/api/topics": Rule(CONTENT_STAFF),
    "/studio/api/topics/<name>": Rule(CONTENT_STAFF),
    "/studio/api/topics/<name>/rename": Rule(CONTENT_STAFF),
    "/studio/api/topics/<name>/examples": Rule(CONTENT_STAFF),
    "/studio/api/preview": Rule(CONTENT_STAFF),
    "/studio/api/promotions": Rule(CONTENT_STAFF),
    "/studio/api/promotions/try": Rule(CONTENT_STAFF),
    "/studio/api/promotions/<code>": Rule(CONTENT_STAFF),
    "/studio/api/history": Rule(CONTENT_STAFF),
    "/studio/api/history/<entry_id>/undo": Rule(CONTENT_STAFF),
    "/studio/api/export/<filename>": Rule(CONTENT_STAFF),
    "/studio/api/import/<what>": Rule(CONTENT_STAFF),
    "/studio/api/report": Rule(CONTENT_STAFF),
    "/studio/api/inbox": Rule(CONTENT_STAFF),
    "/studio/api/inbox/<item_id>/assign": Rule(CONTENT_STAFF),
    "/studio/api/inbox/<item_id>/out-of-scope": Rule(CONTENT_STAFF),
    "/studio/api/inbox/<item_id>/ignore": Rule(CONTENT_STAFF),
    "/studio/api/train": Rule(CONTENT_STAFF),
    "/studio/api/train/<job_id>": Rule(CONTENT_STAFF),
    "/studio/api/models": Rule(CONTENT_STAFF),
    "/studio/api/models/<model_id>/rollback": Rule(CONTENT_STAFF),
    # admins: users, the audit log, deleting a customer's data
    "/admin": Rule(ADMINS, page=True),
    "/admin/api/users": Rule(ADMINS),
    "/admin/api/users/<user_id>": Rule(ADMINS),
    "/admin/api/users/<user_id>/reset-password": Rule(ADMINS),
    "/admin/api/audit": Rule(ADMINS),
    "/admin/api/audit.csv": Rule(ADMINS),
    "/api/customers/<sender_id>": Rule(ADMINS),
}

ALLOW = "allow"
UNAUTHENTICATED = "unauthenticated"  # 401 (a page: to the sign-in page)
FORBIDDEN = "forbidden"  # 403 (a page: the 'no permission' page)
CHANGE_PASSWORD = "change_password"  # 403 until the one-time password is changed


_STR_PARAMETER = re.compile(r"<(\w+):str>")


def route_key(route) -> Text:
    """How the table names a Sanic route: "/" + its path, `<name:str>` written `<name>` ("" for none)."""
    return _STR_PARAMETER.sub(r"<\1>", "/" + route.path) if route is not None else ""


def rule_for(key: Text) -> Optional[Rule]:
    """The rule of a route (by `route_key`), None when unclassified (refused)."""
    return POLICY.get(key)


def decide(rule: Optional[Rule], principal: Optional[Principal]) -> Text:
    """ALLOW, UNAUTHENTICATED, FORBIDDEN or CHANGE_PASSWORD for a principal (None: no credentials)."""
    if rule is None:
        return FORBIDDEN if principal else UNAUTHENTICATED
    if rule.public:
        return ALLOW
    if principal is None:
        return UNAUTHENTICATED
    if principal.role not in rule.roles:
        return FORBIDDEN
    if principal.must_change_password and not rule.first_sign_in:
        return CHANGE_PASSWORD
    return ALLOW
