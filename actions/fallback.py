"""Action for messages the bot cannot answer: says why and gives the hotline, never loops."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

LONG_MESSAGE_CHARS = 1000
_TAG = re.compile(r"<[^<>]*>")
_WORD = re.compile(r"\w", re.UNICODE)


def fallback_reason(text: Text) -> Text:
    """empty (nothing readable), too_long, or not_understood."""
    if not _WORD.search(_TAG.sub(" ", text or "")):
        return "empty"
    if len(text) > LONG_MESSAGE_CHARS:
        return "too_long"
    return "not_understood"


class ActionHandleFallback(Action):
    """Sets `fallback_reason` for the rules; on a core fallback it answers itself."""

    def name(self) -> Text:
        """Action name used in the domain and in config.yml (core fallback)."""
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """NLU fallback: the rules reply from the slot. Core fallback: reply here, forget the turn."""
        reason = fallback_reason(tracker.latest_message.get("text") or "")
        events: List[Dict[Text, Any]] = [SlotSet("fallback_reason", reason)]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent != "nlu_fallback":
            # core fallback (no rule follows it): answer now and drop the turn from the
            # dialogue state so the next message starts clean, as Rasa's default fallback does
            dispatcher.utter_message(response="utter_fallback")
            events.append(UserUtteranceReverted())
        return events
