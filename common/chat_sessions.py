"""Chat session ids the server issues and can check: unguessable, and useless unless it issued them.

A socket.io conversation id is the only credential for the conversation's room (the bot's and agents'
replies) and for the chat page's history. A client may no longer name it: Rasa's channel used any id a
client proposed (a Messenger PSID included, which then received that customer's agent replies). Here the
server issues `<32 hex random>.<32 hex HMAC-SHA256 of it>` with CHAT_SESSION_SECRET (shared by every Rasa
worker and the staff service); a proposed id is kept only if its MAC checks, otherwise the client gets a
new one. The id is a bearer secret held by the browser that received it (localStorage); it never appears
in clear in the access logs (common/privacy.py masks `session_id=`). Rasa-free.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any, Text

SESSION_ID = re.compile(r"\A[0-9a-f]{32}\.[0-9a-f]{32}\Z")


def _mac(random_part: Text, secret: Text) -> Text:
    return hmac.new(secret.encode("utf-8"), random_part.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def issue(secret: Text) -> Text:
    """A new session id."""
    if not secret:
        raise ValueError("CHAT_SESSION_SECRET is empty")
    random_part = secrets.token_hex(16)
    return f"{random_part}.{_mac(random_part, secret)}"


def is_valid(session_id: Any, secret: Text) -> bool:
    """Whether the id was issued with this secret."""
    if not secret or not isinstance(session_id, str) or not SESSION_ID.match(session_id):
        return False
    random_part, mac = session_id.split(".")
    return hmac.compare_digest(mac, _mac(random_part, secret))
