"""One bot message from a set of responses, the way Rasa's templated NLG makes it: variation choice
(channel-specific and conditional variations), `{slot}` filling and extra values from `arguments` (an
action's kwargs) are Rasa's own (`TemplatedNaturalLanguageGenerator.generate_from_slots`). The studio's NLG
server (studio/nlg_server.py) and the bot's NLG (bot/nlg.py) both answer through `render`, so an answer is
the same text wherever it is made."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

Responses = Dict[Text, List[Dict[Text, Any]]]
# parameter names of generate_from_slots: an argument of that name cannot be a placeholder value
_RESERVED_ARGUMENTS = frozenset({"utter_action", "filled_slots", "output_channel"})


def render(
    responses: Responses,
    name: Text,
    slots: Dict[Text, Any],
    channel: Text,
    arguments: Optional[Dict[Text, Any]] = None,
    response_id: Optional[Text] = None,
) -> Optional[Dict[Text, Any]]:
    """What Rasa's templated NLG says for `name` on `channel` with these slots; None if nothing fits."""
    if name not in responses:
        return None
    if response_id:
        # the variation Rasa picked by id on its side (response ids), when the content still has it
        same_id = [v for v in responses[name] if v.get("id") == response_id]
        if same_id:
            responses = {name: same_id}
    generator = TemplatedNaturalLanguageGenerator({name: responses[name]})
    extra = {k: v for k, v in (arguments or {}).items() if k not in _RESERVED_ARGUMENTS}
    return generator.generate_from_slots(name, slots, channel, **extra)
