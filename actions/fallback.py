"""Low-confidence path: one clarification turn with suggestions, then a human (never a loop)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

FAQ_DIR = Path(__file__).resolve().parents[1] / "data" / "nlu" / "faq"
_TAG = re.compile(r"<[^<>]*>")
_WORD = re.compile(r"\w", re.UNICODE)
_EXAMPLE = re.compile(r"^\s*-\s(.*)$")
# suggestion buttons for non-FAQ intents (title, payload); other intents are not suggested
INTENT_SUGGESTIONS = {
    "ask_promotion": ("Hỏi về mã khuyến mãi", "/ask_promotion"),
    "check_ticket_status": ("Tra cứu khiếu nại", "/check_ticket_status"),
    "complain_money": ("Báo lỗi về tiền (bị trừ tiền, hoàn tiền chậm)", "/complain_money"),
    "account_security": ("Đổi số điện thoại / mở khóa tài khoản", "/account_security"),
    "partnership": ("Hợp tác kinh doanh, báo chí", "/partnership"),
}
HUMAN_BUTTON = {"title": "Gặp nhân viên", "payload": "/request_human"}


def fallback_reason(latest_message: Dict[Text, Any]) -> Text:
    """empty (nothing readable), too_long, or not_understood.

    `too_long` is the NLU's verdict (the `inbound` block of the parse, bot/nlu/inbound.py: the message
    was longer than the classifiers read), so the length rule lives in one place."""
    text = latest_message.get("text") or ""
    if not _WORD.search(_TAG.sub(" ", text)):
        return "empty"
    if (latest_message.get("inbound") or {}).get("clipped"):
        return "too_long"
    return "not_understood"


# intents after which the bot did not answer: a clarification, an apology or a refusal followed
MISS_INTENTS = frozenset({"nlu_fallback", "deny", "out_of_scope"})
# the first miss of each kind -> fallback_reason (the rules in data/stories/fallback.yml reply)
FIRST_MISS_REASON = {"nlu_fallback": "clarify", "deny": "repair", "out_of_scope": "out_of_scope"}


def previous_user_intent(tracker: Tracker) -> Optional[Text]:
    """Intent of the customer message before the latest one."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2:
        return None
    return ((users[-2].get("parse_data") or {}).get("intent") or {}).get("name")


def miss_reason(latest_intent: Optional[Text], previous_intent: Optional[Text]) -> Text:
    """clarify / repair / out_of_scope the first time; handoff when the previous message was a miss too."""
    if previous_intent in MISS_INTENTS:
        return "handoff"
    return FIRST_MISS_REASON.get(latest_intent or "", "clarify")


class ActionHandleFallback(Action):
    """Decides what follows a miss (unsure, denied, out of scope); the rules act on `fallback_reason`."""

    def name(self) -> Text:
        """Action name used in the domain and in config.yml (core fallback)."""
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """empty / too_long / the first miss's reply / handoff (second miss in a row)."""
        reason = fallback_reason(tracker.latest_message)
        if reason == "not_understood":
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            reason = miss_reason(intent, previous_user_intent(tracker))
        return [SlotSet("fallback_reason", reason)]


@lru_cache(maxsize=None)
def faq_question(topic: Text) -> Optional[Text]:
    """The first example question of a FAQ topic (used as a suggestion button)."""
    path = FAQ_DIR / f"{topic}.yml"
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for block in data.get("nlu") or []:
        for line in (block.get("examples") or "").splitlines():
            match = _EXAMPLE.match(line)
            if match:
                text = match.group(1).strip()
                return text[:1].upper() + text[1:]
    return None


def suggestions(latest_message: Dict[Text, Any], limit: int = 2) -> List[Dict[Text, Text]]:
    """Buttons for the most likely meanings of the latest message."""
    buttons: List[Dict[Text, Text]] = []
    faq_ranking = ((latest_message.get("response_selector") or {}).get("faq") or {}).get("ranking") or []
    for candidate in latest_message.get("intent_ranking") or []:
        name = candidate.get("name")
        if name == "faq":
            for option in faq_ranking[:limit]:
                topic = (option.get("intent_response_key") or "").split("/")[-1]
                question = faq_question(topic)
                if question and all(b["payload"] != question for b in buttons):
                    buttons.append({"title": question, "payload": question})
        elif name in INTENT_SUGGESTIONS:
            title, payload = INTENT_SUGGESTIONS[name]
            buttons.append({"title": title, "payload": payload})
        if len(buttons) >= limit:
            break
    return buttons[:limit]


class ActionClarify(Action):
    """Asks "Ý bạn là…?" with the likely topics and a button to reach a person."""

    def name(self) -> Text:
        """Action name used in the domain."""
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """One clarification message with buttons; the next fallback goes to a human."""
        buttons = suggestions(tracker.latest_message)
        if buttons:
            text = "Xin lỗi, mình chưa chắc đã hiểu đúng ý bạn. Ý bạn là:"
        else:
            text = (
                "Xin lỗi, mình chưa hiểu rõ ý bạn. Bạn có thể diễn đạt lại ngắn gọn hơn, "
                "hoặc chọn gặp nhân viên nhé."
            )
        dispatcher.utter_message(text=text, buttons=[*buttons, HUMAN_BUTTON])
        return []
