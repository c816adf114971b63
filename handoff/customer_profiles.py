"""One customer across channels: conversations that gave the same phone or e-mail share a profile.

Keys (prefix `handoff:`): `profile_of:{sender}` → profile id, `profile_contact:{digest}` → profile id,
`profile:{id}:conversations` hash sender → JSON `{"channel", "linked_at"}`, `profile:{id}:contacts`
set of contact digests. Digests are keyed HMACs (`ticket_rules.contact_digests`): Redis never holds a
phone number or an address. Linking and merging is one Lua script, so several service processes can
link at once.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Text

from handoff.ticket_rules import EMAIL_KEYS, PHONE_KEYS, contact_digests

logger = logging.getLogger(__name__)

# entity and slot names that carry a contact (bot/nlu/entities.py, domain.yml)
CONTACT_NAMES = {"phone": "phone", "customer_phone": "phone", "email": "email", "customer_email": "email"}

# ARGV: prefix, sender, channel, now, ttl, digest...
# The profile that wins a merge is the oldest (smallest zero-padded id); the others are folded into it.
LINK_SCRIPT = """
local prefix, sender, channel, now, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local candidates = {}
local own = redis.call('GET', prefix .. 'profile_of:' .. sender)
if own then candidates[#candidates + 1] = own end
for i = 6, #ARGV do
  local found = redis.call('GET', prefix .. 'profile_contact:' .. ARGV[i])
  if found then candidates[#candidates + 1] = found end
end
local target = nil
for _, id in ipairs(candidates) do
  if target == nil or id < target then target = id end
end
if target == nil then
  target = string.format('CP-%010d', redis.call('INCR', prefix .. 'profile_seq'))
end
local conversations = prefix .. 'profile:' .. target .. ':conversations'
local contacts = prefix .. 'profile:' .. target .. ':contacts'
for _, id in ipairs(candidates) do
  if id ~= target then
    local old_conversations = prefix .. 'profile:' .. id .. ':conversations'
    local old_contacts = prefix .. 'profile:' .. id .. ':contacts'
    local pairs_ = redis.call('HGETALL', old_conversations)
    for j = 1, #pairs_, 2 do
      redis.call('HSETNX', conversations, pairs_[j], pairs_[j + 1])
      redis.call('SET', prefix .. 'profile_of:' .. pairs_[j], target, 'EX', ttl)
    end
    for _, digest in ipairs(redis.call('SMEMBERS', old_contacts)) do
      redis.call('SADD', contacts, digest)
      redis.call('SET', prefix .. 'profile_contact:' .. digest, target, 'EX', ttl)
    end
    redis.call('DEL', old_conversations, old_contacts)
  end
end
local entry = cjson.encode({channel = channel, linked_at = tonumber(now)})
redis.call('HSETNX', conversations, sender, entry)
redis.call('SET', prefix .. 'profile_of:' .. sender, target, 'EX', ttl)
for i = 6, #ARGV do
  redis.call('SADD', contacts, ARGV[i])
  redis.call('SET', prefix .. 'profile_contact:' .. ARGV[i], target, 'EX', ttl)
end
redis.call('EXPIRE', conversations, ttl)
redis.call('EXPIRE', contacts, ttl)
return target
"""

# ARGV: prefix, sender
UNLINK_SCRIPT = """
local prefix, sender = ARGV[1], ARGV[2]
local id = redis.call('GET', prefix .. 'profile_of:' .. sender)
if not id then return 0 end
redis.call('HDEL', prefix .. 'profile:' .. id .. ':conversations', sender)
redis.call('DEL', prefix .. 'profile_of:' .. sender)
return 1
"""


def contacts_in_event(event: Mapping[Text, Any]) -> Dict[Text, Text]:
    """Phone and e-mail a Rasa event carries: entities of a `user` event, or a contact `slot` event."""
    found: Dict[Text, Text] = {}
    if event.get("event") == "slot":
        kind = CONTACT_NAMES.get(str(event.get("name")))
        if kind and isinstance(event.get("value"), str) and event["value"]:
            found[kind] = event["value"]
        return found
    if event.get("event") != "user":
        return found
    parse_data = event.get("parse_data")
    entities = parse_data.get("entities") if isinstance(parse_data, dict) else None
    for entity in entities if isinstance(entities, list) else []:
        if not isinstance(entity, dict):
            continue
        kind = CONTACT_NAMES.get(str(entity.get("entity")))
        value = entity.get("value")
        if kind and isinstance(value, str) and value and kind not in found:
            found[kind] = value
    return found


class CustomerProfiles:
    """Links conversations of one customer (by phone/e-mail digest) and lists them."""

    def __init__(
        self,
        redis: Any,
        contact_secret: Callable[[], Awaitable[bytes]],
        ttl_seconds: int,
        prefix: Text = "handoff:",
    ) -> None:
        self.redis = redis
        self.contact_secret = contact_secret
        self.ttl_seconds = int(ttl_seconds)
        self.prefix = prefix
        self._link = redis.register_script(LINK_SCRIPT)
        self._unlink = redis.register_script(UNLINK_SCRIPT)

    async def link(
        self, sender_id: Text, channel: Text, contacts: Mapping[Text, Text], now: float
    ) -> Optional[Text]:
        """Attach the conversation to the profile of these contacts (merging profiles); its id."""
        customer = {PHONE_KEYS[0]: contacts.get("phone"), EMAIL_KEYS[0]: contacts.get("email")}
        digests = contact_digests(customer, await self.contact_secret())
        if not digests:
            return None
        args = [self.prefix, sender_id, channel or "unknown", repr(now), self.ttl_seconds, *digests]
        profile_id = await self._link(args=args)
        logger.info("Conversation linked to customer profile %s (channel %s).", profile_id, channel)
        return profile_id

    async def link_from_event(self, event: Mapping[Text, Any]) -> Optional[Text]:
        """Link the event's conversation when the event carries a phone or an e-mail."""
        contacts = contacts_in_event(event)
        sender_id = event.get("sender_id")
        if not contacts or not isinstance(sender_id, str):
            return None
        channel = event.get("input_channel") or await self._known_channel(sender_id)
        timestamp = event.get("timestamp")
        now = float(timestamp) if isinstance(timestamp, (int, float)) else 0.0
        return await self.link(sender_id, str(channel or "unknown"), contacts, now)

    async def _known_channel(self, sender_id: Text) -> Optional[Text]:
        # slot events carry no input channel; reuse what an earlier link recorded
        profile_id = await self.redis.get(self.key("profile_of", sender_id))
        if not profile_id:
            return None
        raw = await self.redis.hget(self.key("profile", profile_id, "conversations"), sender_id)
        return json.loads(raw).get("channel") if raw else None

    def key(self, *parts: Text) -> Text:
        """A Redis key of this store."""
        return self.prefix + ":".join(parts)

    async def profile_of(self, sender_id: Text) -> Optional[Dict[Text, Any]]:
        """`{"id", "conversations": [{"sender_id", "channel", "linked_at"}]}` oldest first, or None."""
        profile_id = await self.redis.get(self.key("profile_of", sender_id))
        if not profile_id:
            return None
        raw = await self.redis.hgetall(self.key("profile", profile_id, "conversations"))
        conversations: List[Dict[Text, Any]] = []
        for sender, value in raw.items():
            entry = json.loads(value)
            conversations.append(
                {"sender_id": sender, "channel": entry.get("channel"), "linked_at": entry.get("linked_at")}
            )
        conversations.sort(key=lambda item: (item["linked_at"] or 0, item["sender_id"]))
        return {"id": profile_id, "conversations": conversations}

    async def unlink(self, sender_id: Text) -> bool:
        """Remove a conversation from its profile (personal data deletion)."""
        return bool(await self._unlink(args=[self.prefix, sender_id]))
