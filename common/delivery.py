"""A customer channel that refuses to deliver an agent's message for a rule of its platform, and how the
reason reaches the agent console (Rasa-free: the channels raise it, the staff service reads it).

Agent replies go through Rasa's `POST /conversations/{id}/tracker/events?execute_side_effects=true`; when
the channel raises `NotDelivered`, Rasa answers 500 with the exception's text in its error message. The
staff service's relay finds the marker `[senmart-not-delivered:<reason>]` in that answer, does not retry
(the rule will not change in a second) and shows the agent `explanation(reason)`.
"""

from __future__ import annotations

import re
from typing import Optional, Text

MARKER = "senmart-not-delivered"
ZALO_WINDOW = "zalo_window"
# what the agent reads after "Không gửi được: "
REASONS = {
    ZALO_WINDOW: "khách chưa nhắn lại trong 48 giờ qua (quy định của Zalo)",
}
UNKNOWN_REASON = "kênh của khách từ chối tin nhắn"
_MARKED = re.compile(r"\[" + MARKER + r":([a-z0-9_]{1,40})\]")


class NotDelivered(RuntimeError):
    """The channel did not send the agent's message and will not for now (`reason`: a key of REASONS)."""

    def __init__(self, reason: Text) -> None:
        self.reason = reason
        super().__init__(f"[{MARKER}:{reason}] {explanation(reason)}")


def explanation(reason: Text) -> Text:
    """The Vietnamese sentence the agent sees."""
    return f"Không gửi được: {REASONS.get(reason, UNKNOWN_REASON)}"


def not_delivered_reason(text: Text) -> Optional[Text]:
    """The reason marked in an error text (Rasa's answer), or None."""
    found = _MARKED.search(text or "")
    return found.group(1) if found else None
