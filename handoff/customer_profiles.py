"""One customer across conversations: linked only on identifiers a channel verified.

A conversation joins a profile when a channel vouched for who the customer is (`metadata.verified_ids` of
a user event, set by bot/channels/identity.py): a Messenger user id, a Zalo user id, or a customer signed
in on the website (an id the shop's server signed). A phone number or an e-mail someone typed proves
nothing (anyone can type anyone's number): it is never linked or merged on; the console shows it as typed
by the customer, unverified.

Keys (prefix `handoff:`): `profile_of:{sender}` → profile id, `profile_contact:{digest}` → profile id,
`profile:{id}:conversations` hash sender → JSON `{"channel", "linked_at"}`, `profile:{id}:contacts`
set of identifier digests. Digests are keyed HMACs: Redis never holds the identifier itself. Linking
and merging is one Lua script, so several service processes can link at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Text

logger = logging.getLogger(__name__)

# the identifiers a channel can verify (bot/channels/identity.py `verified_ids`)
VERIFIED_KINDS = ("customer", "messenger", "zalo")
MAX_ID_CHARS = 128

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
local conversations = prefix .. 'profile:' .. id .. ':conversations'
local contacts = prefix .. 'profile:' .. id .. ':contacts'
redis.call('HDEL', conversations, sender)
redis.call('DEL', prefix .. 'profile_of:' .. sender)
if redis.call('HLEN', conversations) == 0 then
  -- the last conversation of the profile: its identifier digests go too
  for _, digest in ipairs(redis.call('SMEMBERS', contacts)) do
    redis.call('DEL', prefix .. 'profile_contact:' .. digest)
  end
  redis.call('DEL', contacts, conversations)
end
return 1
"""


def verified_ids_in_event(event: Mapping[Text, Any]) -> Dict[Text, Text]:
    """The identifiers a channel verified for a `user` event (`metadata.verified_ids`)."""
    if event.get("event") != "user":
        return {}
    metadata = event.get("metadata")
    ids = metadata.get("verified_ids") if isinstance(metadata, Mapping) else None
    if not isinstance(ids, Mapping):
        return {}
    return {
        kind: value
        for kind, value in ids.items()
        if kind in VERIFIED_KINDS and isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS
    }


def identity_digests(ids: Mapping[Text, Text], secret: bytes) -> List[Text]:
    """Keyed digests (HMAC-SHA256) of verified identifiers, e.g. `customer:3f2a…`."""
    return sorted(
        f"{kind}:{hmac.new(secret, value.encode('utf-8'), hashlib.sha256).hexdigest()[:32]}"
        for kind, value in ids.items()
        if kind in VERIFIED_KINDS and value
    )


class CustomerProfiles:
    """Links conversations of one customer (by verified identifier) and lists them."""

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
        self, sender_id: Text, channel: Text, verified_ids: Mapping[Text, Text], now: float
    ) -> Optional[Text]:
        """Attach the conversation to the profile of these verified identifiers (merging profiles); its id."""
        digests = identity_digests(verified_ids, await self.contact_secret())
        if not digests:
            return None
        args = [self.prefix, sender_id, channel or "unknown", repr(now), self.ttl_seconds, *digests]
        profile_id = await self._link(args=args)
        logger.info("Conversation linked to customer profile %s (channel %s).", profile_id, channel)
        return profile_id

    async def link_from_event(self, event: Mapping[Text, Any]) -> Optional[Text]:
        """Link the event's conversation when a channel verified who the customer is."""
        ids = verified_ids_in_event(event)
        sender_id = event.get("sender_id")
        if not ids or not isinstance(sender_id, str):
            return None
        channel = event.get("input_channel") or await self._known_channel(sender_id)
        timestamp = event.get("timestamp")
        now = float(timestamp) if isinstance(timestamp, (int, float)) else 0.0
        return await self.link(sender_id, str(channel or "unknown"), ids, now)

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
