"""What the NLU reads of a customer message: one policy for every channel (Rasa-free).

- Length: the classifiers read at most MAX_UNDERSTOOD_CHARS characters. DIET's attention grows with the
  square of the token count (one 62,000-character message took 12.5 s and 2.6 GB); the full text still
  reaches the tracker and the transcript (Rasa stores `UserMessage.text`, not what the pipeline read).
  AnswerGuard then asks for a short summary unless the clipped text is a complaint or a request for a
  person (those go to a person).
- Typed payloads: a message starting with `/` is Rasa's `/intent{"entity": …}` syntax, which Rasa's
  RegexMessageHandler obeys after the pipeline. A customer may send only the payloads of the buttons the
  bot itself offered (and `/get_started`, which widgets send on opening and which only greets); the
  channel marks those in the message metadata (bot/channels/payloads.py), always overwriting what the
  client sent. Any other `/…` text is read as words, without the slash, so it can
  never become an `EXTERNAL_` intent or set slots through typed entities.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Text, Tuple

MAX_UNDERSTOOD_CHARS = 1000
# the transport bounds: a request body to Rasa (REST, Messenger: Meta delivers batches of up to 1 MB)
# and a socket.io frame (a chat message is a few KB; the chat page sends at most 2000 characters)
MAX_REQUEST_BYTES = 1024 * 1024
MAX_FRAME_BYTES = 64 * 1024
PAYLOAD_PREFIX = "/"
# metadata key only the channels set (bot/channels/payloads.py); its one accepted value
PAYLOAD_FLAG = "senmart_payload"
OFFERED = "offered"
# payloads any client may send: what web-chat widgets (rasa-webchat's initPayload) and Messenger's Get
# Started send on opening; it only greets
ENTRY_PAYLOADS = frozenset({"/get_started"})
# what the normaliser adds to the parse: {"chars": n, "clipped": bool, "typed_payload": bool}
INBOUND = "inbound"


def is_payload(text: Optional[Text]) -> bool:
    """Whether Rasa would read the text as an `/intent{…}` payload."""
    return bool(text) and text.strip().startswith(PAYLOAD_PREFIX)


def is_offered(metadata: Any) -> bool:
    """Whether the channel vouched for the payload (a button the bot offered)."""
    return isinstance(metadata, Mapping) and metadata.get(PAYLOAD_FLAG) == OFFERED


def bounded(text: Text, metadata: Any = None) -> Tuple[Text, Dict[Text, Any]]:
    """(the text the classifiers read, the `inbound` facts for the parse)."""
    typed = is_payload(text) and not is_offered(metadata) and text.strip() not in ENTRY_PAYLOADS
    if typed:
        text = text.strip()[len(PAYLOAD_PREFIX) :].strip()
    chars = len(text)
    clipped = chars > MAX_UNDERSTOOD_CHARS
    if clipped:
        text = text[:MAX_UNDERSTOOD_CHARS]
    return text, {"chars": chars, "clipped": clipped, "typed_payload": typed}
