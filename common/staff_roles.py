"""Who a staff request comes from (the principal) and the roles, shared by the staff service's parts:
staff/ resolves the principal and enforces the policy, handoff/ and studio/ read `request.ctx.staff`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Text

AGENT = "agent"
SUPERVISOR = "supervisor"
CONTENT = "content"
ADMIN = "admin"
SERVICE = "service"  # the action server's token (/internal/*), never a person
ROLES = (AGENT, SUPERVISOR, CONTENT, ADMIN)
ROLE_LABELS: Dict[Text, Text] = {
    AGENT: "Nhân viên hỗ trợ",
    SUPERVISOR: "Trưởng ca",
    CONTENT: "Biên tập nội dung",
    ADMIN: "Quản trị viên",
}
# roles that handle tickets (and so have a capacity and a presence)
TICKET_ROLES = (AGENT, SUPERVISOR, ADMIN)

VIA_SESSION = "session"
VIA_TOKEN = "token"


@dataclass(frozen=True)
class Principal:
    """The person (or script) behind a request: an account signed in by cookie, or an API token."""

    id: Text
    name: Text
    role: Text
    via: Text = VIA_SESSION
    capacity: int = 0  # open claimed tickets allowed at once; 0 = no limit
    must_change_password: bool = False

    @property
    def is_admin(self) -> bool:
        """True for admins."""
        return self.role == ADMIN

    @property
    def audit_name(self) -> Text:
        """How the audit log names the actor: the account id, or `api-token:<role>` for a token."""
        return self.id if self.via == VIA_SESSION else f"api-token:{self.role}"
