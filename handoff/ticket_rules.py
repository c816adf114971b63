"""Business rules of tickets (KB §2, §10): statuses, priority, SLA, wait estimate, input checks."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Text

from common.handoff_reasons import REASONS
from common.http import InvalidRequest
from common.privacy import EMAIL_PATTERN, mask_email, mask_personal, mask_phone
from common.text import fold
from handoff.hours import AgentHours

WAITING, CLAIMED, RESOLVED, CLOSED = "waiting", "claimed", "resolved", "closed"
STATUS_LABELS = {
    WAITING: "Đã tiếp nhận",
    CLAIMED: "Đang xử lý",
    RESOLVED: "Đã giải quyết",
    CLOSED: "Đã đóng",
}
OPEN_STATUSES = (WAITING, CLAIMED)
STATUSES_FOR_FILTER = (WAITING, CLAIMED, RESOLVED, CLOSED, "open")
ROLES = ("customer", "bot", "agent", "system")
PRIORITY_TIERS = ("vang", "kim cuong")
ANGER_THRESHOLD = 0.5
REPEAT_WINDOW_SECONDS = 7 * 86400
FIRST_RESPONSE_SECONDS = 3600
RESOLUTION_SECONDS = 24 * 3600
MAX_MESSAGE_CHARS = 20000  # what an agent may send in one message
# a transcript keeps every message a customer could send whole: Rasa accepts request bodies up to
# 1 MB (bot/nlu/inbound.py MAX_REQUEST_BYTES), so no customer message is longer than this
MAX_TRANSCRIPT_MESSAGE_CHARS = 1024 * 1024
PHONE_KEYS = ("phone", "phone_number", "so_dien_thoai")
EMAIL_KEYS = ("email",)


def base_priority(customer: Mapping[Text, Any], reason: Text, anger: float) -> int:
    """Priority before the repeat-escalation bonus: 1, +2 Vàng/Kim Cương, +3 money, +2 anger."""
    priority = 1
    if fold(str(customer.get("member_tier") or "").strip()) in PRIORITY_TIERS:
        priority += 2
    if reason == "money_complaint":
        priority += 3
    if anger >= ANGER_THRESHOLD or reason == "anger":
        priority += 2
    return priority


def first_response_due(hours: AgentHours, created_at: float) -> float:
    """1 hour of agent working time after creation (starts at the next opening when closed)."""
    return hours.add_working_seconds(created_at, FIRST_RESPONSE_SECONDS)


def resolution_due(created_at: float) -> float:
    """24 calendar hours after creation."""
    return created_at + RESOLUTION_SECONDS


def sla_breaches(
    first_due: float,
    resolution_due_at: float,
    now: float,
    first_response_at: Optional[float] = None,
    finished_at: Optional[float] = None,
) -> Dict[Text, bool]:
    """Whether the first response and the resolution came (or are still missing) after their due times."""
    return {
        "first_response_breached": (first_response_at if first_response_at is not None else now) > first_due,
        "resolution_breached": (finished_at if finished_at is not None else now) > resolution_due_at,
    }


def estimate_wait_minutes(
    queue_position: Optional[int], avg_handle_minutes: float, hours: AgentHours, now: float
) -> int:
    """Minutes until an agent answers: position × average handling time, plus the time until opening."""
    if queue_position is None:
        return 0
    closed_seconds = hours.next_opening(now) - now
    return int(math.ceil(queue_position * avg_handle_minutes + closed_seconds / 60))


def contact_digests(customer: Mapping[Text, Any], secret: bytes = b"") -> List[Text]:
    """Keyed digests (HMAC-SHA256) of the customer's phone and e-mail, for repeat detection."""
    values = []
    for key in PHONE_KEYS:
        raw = str(customer.get(key) or "")
        digits = "".join(ch for ch in raw if ch.isdigit())
        if digits.startswith("84") and len(digits) == 11:
            digits = "0" + digits[2:]
        if len(digits) >= 9 and "*" not in raw:
            values.append(("phone", digits))
    for key in EMAIL_KEYS:
        email = str(customer.get(key) or "").strip().lower()
        if EMAIL_PATTERN.fullmatch(email) and "*" not in email:
            values.append(("email", email))
    digests = {
        f"{kind}:{hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]}"
        for kind, value in values
    }
    return sorted(digests)


def _is_phone_key(key: Text) -> bool:
    return key in PHONE_KEYS or "phone" in key.lower()


def _is_email_key(key: Text) -> bool:
    return key in EMAIL_KEYS or "email" in key.lower()


def mask_customer(customer: Mapping[Text, Any]) -> Dict[Text, Any]:
    """The customer's slots with phones, e-mails (any key naming them: `phone`, `customer_phone`, …) and
    numbers in free text masked (agents see `09******78`)."""
    masked = dict(customer)
    for key, value in customer.items():
        if not value or not isinstance(value, str) or "*" in value:
            continue
        if _is_phone_key(key):
            masked[key] = mask_phone(value)
        elif _is_email_key(key):
            masked[key] = mask_email(value)
        else:
            masked[key] = mask_personal(value)
    return masked


def _number_or_none(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if math.isnan(value) or math.isinf(value):
        return None
    return float(value)


def timestamp_key(timestamp: float) -> Text:
    """The canonical text of a timestamp, shared by the transcript and the event stream for dedup."""
    return repr(float(timestamp))


def normalize_message(raw: Any, default_role: Text = "customer") -> Dict[Text, Any]:
    """A transcript entry with the contract's fields; text kept exactly as sent."""
    if not isinstance(raw, Mapping):
        raise InvalidRequest("invalid_request", "Mỗi tin nhắn trong lịch sử phải là một đối tượng JSON.")
    role = raw.get("role") or default_role
    role = {"user": "customer"}.get(role, role)
    if role not in ROLES:
        raise InvalidRequest("invalid_request", f"Vai trò tin nhắn không hợp lệ: {str(role)[:20]}.")
    text = raw.get("text")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InvalidRequest("invalid_request", "Nội dung tin nhắn phải là chuỗi ký tự.")
    if len(text) > MAX_TRANSCRIPT_MESSAGE_CHARS:
        raise InvalidRequest("invalid_request", f"Tin nhắn dài quá {MAX_TRANSCRIPT_MESSAGE_CHARS} ký tự.")
    intent = raw.get("intent")
    agent = raw.get("agent")
    return {
        "role": role,
        "text": text,
        "timestamp": _number_or_none(raw.get("timestamp")),
        "intent": intent if isinstance(intent, str) else None,
        "confidence": _number_or_none(raw.get("confidence")),
        "agent": agent if isinstance(agent, str) else None,
    }


def message_dedup_key(message: Mapping[Text, Any]) -> Text:
    """Identity of a transcript entry: customer messages by timestamp (like Rasa events), others by text."""
    digest = hashlib.sha1(message["text"].encode("utf-8")).hexdigest()[:16]
    timestamp = message.get("timestamp")
    stamp = timestamp_key(timestamp) if timestamp is not None else "-"
    if message["role"] == "customer" and timestamp is not None:
        return f"customer:{stamp}"
    return f"{message['role']}:{stamp}:{digest}"


@dataclass
class HandoffRequest:
    """A checked `POST /internal/handoffs` body."""

    sender_id: Text
    channel: Text = "unknown"
    reason: Text = "other"
    customer: Dict[Text, Any] = field(default_factory=dict)
    transcript: List[Dict[Text, Any]] = field(default_factory=list)
    anger: float = 0.0

    @classmethod
    def from_json(cls, body: Any) -> "HandoffRequest":
        """Validate the body; unknown reasons become `other` (a handoff is never refused for that)."""
        if not isinstance(body, Mapping):
            raise InvalidRequest("invalid_request", "Dữ liệu phải là một đối tượng JSON.")
        sender_id = body.get("sender_id")
        if not isinstance(sender_id, str) or not sender_id.strip() or len(sender_id) > 256:
            raise InvalidRequest("invalid_request", "Thiếu mã cuộc trò chuyện (sender_id).")
        customer = body.get("customer")
        customer = {} if customer is None else customer
        if not isinstance(customer, Mapping):
            raise InvalidRequest("invalid_request", "Thông tin khách hàng (customer) phải là đối tượng JSON.")
        transcript = body.get("transcript")
        transcript = [] if transcript is None else transcript
        if not isinstance(transcript, list):
            raise InvalidRequest("invalid_request", "Lịch sử trò chuyện (transcript) phải là một danh sách.")
        anger = _number_or_none(body.get("anger", 0.0))
        if anger is None and body.get("anger") is not None:
            raise InvalidRequest("invalid_request", "Mức độ bực tức (anger) phải là số từ 0 đến 1.")
        reason = body.get("reason")
        channel = body.get("channel")
        return cls(
            sender_id=sender_id,
            channel=channel if isinstance(channel, str) and channel else "unknown",
            reason=reason if reason in REASONS else "other",
            customer=dict(customer),
            transcript=[normalize_message(item) for item in transcript],
            anger=min(max(anger or 0.0, 0.0), 1.0),
        )


def agent_text(body: Any) -> Text:
    """The `text` of an agent's message body; raises InvalidRequest when missing or empty."""
    if not isinstance(body, Mapping):
        raise InvalidRequest("invalid_request", "Dữ liệu phải là một đối tượng JSON.")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest("missing_text", "Thiếu nội dung tin nhắn (text).")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidRequest("invalid_request", f"Tin nhắn dài quá {MAX_MESSAGE_CHARS} ký tự.")
    return text


def csat_input(body: Any) -> tuple[int, Optional[Text]]:
    """Rating 1..5 and optional comment of a CSAT body; raises InvalidRequest otherwise."""
    if not isinstance(body, Mapping):
        raise InvalidRequest("invalid_request", "Dữ liệu phải là một đối tượng JSON.")
    rating = body.get("rating")
    if isinstance(rating, float) and rating.is_integer():
        rating = int(rating)  # Rasa slots hold numbers as floats
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidRequest("invalid_rating", "Điểm đánh giá phải là số nguyên từ 1 đến 5.")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise InvalidRequest("invalid_request", "Góp ý (comment) phải là chuỗi ký tự.")
    if comment is not None and len(comment) > MAX_MESSAGE_CHARS:
        raise InvalidRequest("invalid_request", f"Góp ý dài quá {MAX_MESSAGE_CHARS} ký tự.")
    return rating, comment


def now() -> float:
    """The real clock (the store takes any callable instead, for tests)."""
    return time.time()
