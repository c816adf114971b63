"""Who the customer verifiably is: identifiers a channel can vouch for (every channel).

Conversations are linked into one customer profile (handoff/customer_profiles.py) only on these, never on a
phone or e-mail someone typed (anyone can type anyone's number). The channel sets
`metadata["verified_ids"]`, always dropping what the client sent under that key:

- Messenger: the page-scoped user id (the sender of a signed webhook delivery) → `{"messenger": psid}`;
- the website: a signed-in customer, as Intercom's and Zendesk's identity verification do — the shop's own
  server puts `customer: {"id": …, "hash": hex HMAC-SHA256(CUSTOMER_IDENTITY_SECRET, id)}` into the chat
  widget's message metadata; a wrong or missing hash verifies nothing → `{"customer": id}`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any, Dict, Mapping, Optional, Text

from rasa.core.channels.channel import UserMessage

VERIFIED_IDS = "verified_ids"
SECRET_VARIABLE = "CUSTOMER_IDENTITY_SECRET"
MAX_ID_CHARS = 128


def customer_hash(customer_id: Text, secret: Text) -> Text:
    """What the shop's server signs a signed-in customer's id with."""
    return hmac.new(secret.encode("utf-8"), customer_id.encode("utf-8"), hashlib.sha256).hexdigest()


def verified_customer(claim: Any, secret: Text) -> Optional[Text]:
    """The customer id of a `{"id", "hash"}` claim when its hash checks, else None."""
    if not secret or not isinstance(claim, Mapping):
        return None
    customer_id, given = claim.get("id"), claim.get("hash")
    if (
        not isinstance(customer_id, str)
        or not isinstance(given, str)
        or not 0 < len(customer_id) <= MAX_ID_CHARS
    ):
        return None
    return customer_id if hmac.compare_digest(given.lower(), customer_hash(customer_id, secret)) else None


def identify(message: UserMessage, channel_ids: Optional[Dict[Text, Text]] = None) -> None:
    """Set `metadata["verified_ids"]` from what the channel knows and a valid customer claim."""
    metadata = dict(message.metadata) if isinstance(message.metadata, Mapping) else {}
    metadata.pop(VERIFIED_IDS, None)
    ids = dict(channel_ids or {})
    customer = verified_customer(metadata.get("customer"), os.environ.get(SECRET_VARIABLE, ""))
    if customer:
        ids["customer"] = customer
    if ids:
        metadata[VERIFIED_IDS] = ids
    message.metadata = metadata
