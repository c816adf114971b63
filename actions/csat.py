"""After an agent resolves a ticket: 1–5 star rating and an optional comment, stored on the ticket."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff_client
from actions.handoff_client import HandoffUnavailable
from common.text import fold

logger = logging.getLogger(__name__)
NO_COMMENT = {"khong", "ko", "k", "khong co", "bo qua", "thoi", "khong a", "no", "skip", "-"}


class ValidateCsatForm(FormValidationAction):
    """Checks the rating (1–5) and turns "không" into no comment."""

    def name(self) -> Text:
        """Form validation action name."""
        return "validate_csat_form"

    def validate_csat_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        """A whole number of stars from 1 to 5."""
        try:
            stars = int(float(value))
        except (TypeError, ValueError):
            stars = 0
        if 1 <= stars <= 5:
            return {"csat_rating": float(stars)}
        dispatcher.utter_message(text="Bạn chọn giúp mình từ 1 đến 5 sao nhé.")
        return {"csat_rating": None}

    def validate_csat_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        """Free text; "không"/"bỏ qua" means no comment."""
        text = str(value or "").strip()
        if not text or fold(text).strip(" .!") in NO_COMMENT:
            return {"csat_comment": "-"}
        return {"csat_comment": text[:2000]}


class ActionSubmitCsat(Action):
    """Sends the rating to the handoff service and thanks the customer."""

    def name(self) -> Text:
        """Action name used in the domain."""
        return "action_submit_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Stores rating + comment on the ticket; clears the form slots."""
        ticket_id: Optional[Text] = tracker.get_slot("ticket_id")
        rating = int(tracker.get_slot("csat_rating") or 0)
        comment = tracker.get_slot("csat_comment")
        comment = None if comment in (None, "-") else comment
        if ticket_id and rating:
            try:
                await handoff_client.submit_csat(ticket_id, rating, comment)
            except HandoffUnavailable:
                logger.exception("Could not store CSAT for %s", ticket_id)
        dispatcher.utter_message(
            text=f"Cảm ơn bạn đã đánh giá {rating} sao. SenMart luôn sẵn sàng hỗ trợ bạn, "
            "bạn cần gì thêm cứ nhắn cho mình nhé."
        )
        return [SlotSet("csat_rating", None), SlotSet("csat_comment", None)]
