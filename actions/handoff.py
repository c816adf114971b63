"""Actions that hand a conversation to a human agent and report on tickets."""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff_client
from actions.conversation import whole_conversation
from actions.handoff_client import HandoffUnavailable

logger = logging.getLogger(__name__)

REASON_BY_INTENT = {
    "request_human": "request_human",
    "complain": "anger",
    "complain_money": "money_complaint",
    "account_security": "account_security",
    "partnership": "partnership",
    "nlu_fallback": "low_confidence",
    # a second miss in a row: the customer denied an answer or asked twice outside what the bot knows
    "deny": "low_confidence",
    "out_of_scope": "low_confidence",
}
REASON_LEADS = {
    "anger": "SenMart rất xin lỗi vì trải nghiệm chưa tốt của bạn.",
    "money_complaint": "Vấn đề về tiền cần nhân viên kiểm tra trực tiếp nên mình chuyển ngay cho bạn.",
    "account_security": "Việc này cần nhân viên xác minh (có thể cần ảnh CCCD) nên mình chuyển cho bạn.",
    "partnership": "Yêu cầu của bạn sẽ được chuyển tới bộ phận đối tác của SenMart.",
    "low_confidence": "Mình chưa hiểu rõ ý bạn nên sẽ nhờ nhân viên hỗ trợ.",
}
UNAVAILABLE = (
    "Xin lỗi bạn, hiện mình chưa chuyển được cho nhân viên. Bạn vui lòng gọi hotline 1900 6868 (24/7) "
    "hoặc gửi email hotro@senmart.vn để được hỗ trợ ngay nhé."
)
PROFILE_SLOTS = (
    "member_tier",
    "customer_phone",
    "customer_email",
    "order_id",
    "order_amount",
    "payment_method",
    "promo_codes",
)
TICKET_ID = re.compile(r"KN-\d{8}-\d{4,}", re.IGNORECASE)


def transcript(events: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """Every customer and bot message of these events (the whole conversation), in order, with intent
    and confidence."""
    messages: List[Dict[Text, Any]] = []
    for event in events:
        if event.get("event") == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            messages.append(
                {
                    "role": "customer",
                    "text": event.get("text") or "",
                    "timestamp": event.get("timestamp"),
                    "intent": intent.get("name"),
                    "confidence": intent.get("confidence"),
                }
            )
        elif event.get("event") == "bot":
            text = event.get("text")
            custom = (event.get("data") or {}).get("custom")
            if text is None and custom is not None:
                text = str(custom)
            messages.append({"role": "bot", "text": text or "", "timestamp": event.get("timestamp")})
    return messages


def handoff_reason(tracker: Tracker) -> Text:
    """Why the conversation goes to a human, from the latest intent."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return REASON_BY_INTENT.get(intent or "", "other")


def handoff_text(reason: Text, ticket: Dict[Text, Any]) -> Text:
    """What the customer reads right after the handoff."""
    lead = REASON_LEADS.get(reason, "")
    ticket_id, position = ticket["ticket_id"], ticket.get("queue_position")
    if ticket.get("within_hours", True):
        body = (
            f"Mình đã chuyển cuộc trò chuyện cho nhân viên CSKH, mã yêu cầu của bạn là {ticket_id}. "
            f"Bạn đang ở vị trí số {position} trong hàng chờ, thời gian chờ dự kiến khoảng "
            f"{ticket.get('estimated_wait_minutes')} phút. Nhân viên sẽ xem toàn bộ nội dung trò chuyện "
            "nên bạn không cần kể lại ạ."
        )
    else:
        body = (
            "Hiện đã ngoài giờ trực chat của nhân viên CSKH (8:00–22:00 mỗi ngày). Yêu cầu của bạn đã "
            f"được ghi nhận với mã {ticket_id} (vị trí số {position} trong hàng chờ); nhân viên sẽ trả lời "
            f"bạn từ {ticket.get('agents_return_at') or '8:00'}. Việc khẩn cấp (bị trừ tiền sai, tài khoản "
            "bị khóa, nghi lừa đảo) bạn gọi hotline 1900 6868 (24/7) nhé."
        )
    return f"{lead} {body}".strip()


class ActionHandoff(Action):
    """Opens (or reuses) a ticket with the full transcript and pauses the bot."""

    def name(self) -> Text:
        """Action name used in the domain."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Asks the handoff service for a ticket; tells the customer id, position and wait."""
        reason = handoff_reason(tracker)
        payload = {
            "sender_id": tracker.sender_id,
            "channel": tracker.get_latest_input_channel() or "unknown",
            "reason": reason,
            "customer": {s: tracker.get_slot(s) for s in PROFILE_SLOTS if tracker.get_slot(s) is not None},
            "transcript": transcript(await whole_conversation(tracker)),
            "anger": float((tracker.latest_message.get("anger") or {}).get("score") or 0.0),
        }
        try:
            ticket = await handoff_client.open_ticket(payload)
        except HandoffUnavailable:
            logger.exception("Handoff failed for %s", tracker.sender_id)
            dispatcher.utter_message(text=UNAVAILABLE)
            return []
        dispatcher.utter_message(text=handoff_text(reason, ticket))
        dispatcher.utter_message(
            json_message={
                "handoff": {
                    "ticket_id": ticket["ticket_id"],
                    "queue_position": ticket.get("queue_position"),
                    "estimated_wait_minutes": ticket.get("estimated_wait_minutes"),
                }
            }
        )
        return [SlotSet("ticket_id", ticket["ticket_id"]), ConversationPaused()]


class ActionTicketStatus(Action):
    """Answers "kiểm tra khiếu nại KN-…" from the handoff service."""

    def name(self) -> Text:
        """Action name used in the domain."""
        return "action_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Looks the ticket up; asks for the id when there is none."""
        ticket_id = self._ticket_id(tracker)
        if not ticket_id:
            dispatcher.utter_message(
                text="Bạn cho mình xin mã khiếu nại nhé (dạng KN-YYYYMMDD-NNNN, ví dụ KN-20261122-0042)."
            )
            return []
        try:
            ticket = await handoff_client.ticket_status(ticket_id)
        except HandoffUnavailable:
            logger.exception("Ticket lookup failed")
            dispatcher.utter_message(text=UNAVAILABLE)
            return []
        if ticket is None:
            dispatcher.utter_message(
                text=f"Mình không tìm thấy khiếu nại {ticket_id}. Bạn kiểm tra lại mã giúp mình nhé "
                "(dạng KN-YYYYMMDD-NNNN)."
            )
            return []
        dispatcher.utter_message(
            text=f"Khiếu nại {ticket_id} hiện ở trạng thái: {ticket.get('status_label')}. "
            "Thời gian giải quyết tối đa 24 giờ (trường hợp phức tạp tối đa 72 giờ và bạn sẽ được báo trước)."
        )
        return [SlotSet("ticket_id", ticket_id)]

    @staticmethod
    def _ticket_id(tracker: Tracker) -> Optional[Text]:
        for entity in tracker.latest_message.get("entities") or []:
            if entity.get("entity") == "ticket_id":
                return str(entity.get("value")).upper()
        match = TICKET_ID.search(tracker.latest_message.get("text") or "")
        if match:
            return match.group(0).upper()
        return tracker.get_slot("ticket_id")
