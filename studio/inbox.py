"""The "Bot chưa hiểu" inbox: customer messages the bot did not understand, for content staff.

Filled from the event stream by the staff service's event consumer (`observe`, docs/studio.md):
- every user message the bot was unsure of, with its top-3 guesses:
  intent `nlu_fallback`, or AnswerGuard's decision `clarify` (the `answer_guard` block it adds to each
  parse, bot/nlu/answer_guard.py); a parse without that block (a model trained before AnswerGuard)
  counts when its top confidence is below AnswerGuard's `intent_confidence` threshold of config.yml;
- the ticket-opened events the handoff routes write (`record_handoff`): the opening customer messages
  (first 3 texts) of every conversation handed to a person, once per ticket id.

Texts are masked (phones, e-mails, order ids, ticket ids) before anything is stored and grouped by
their folded form (no diacritics, teencode expanded, spaces collapsed). Every change is one Lua
script, so several service processes can share one Redis.

Keys (prefix `senmart:studio:inbox:`):
- `item:{id}` hash: id, text (masked), key (folded), count, first_seen, last_seen, guesses (JSON),
  sources (JSON list), status, topic, updated_at, updated_by; id = 16 hex of sha256(key);
- `status:{open|assigned|out_of_scope|ignored}` zsets of ids by last_seen (each bounded);
- `seen:{digest}` marks one customer message (sender + timestamp) as counted (7 days), so a
  replayed stream entry or the same message reported by both paths is counted once;
- `ticket:{ticket id}` marks a ticket-opened event as recorded (7 days): a replayed entry counts once.
Per-day figures for the report (prefix `senmart:studio:stats:`, local dates, kept 120 days):
- `inbox:{YYYY-MM-DD}` messages added to the inbox that day;
- `conversations:{YYYY-MM-DD}` HyperLogLog of the sender ids that wrote that day;
- `handoffs:{YYYY-MM-DD}` hash reason → tickets created that day.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Text, Tuple

from bot.nlu.selective import CLARIFY, Thresholds
from common.contracts import TICKET_OPENED_EVENT, VIETNAM
from common.privacy import mask_customer_text
from common.text import TeencodeFile, fold

logger = logging.getLogger(__name__)

PREFIX = "senmart:studio:inbox:"
STATS_PREFIX = "senmart:studio:stats:"
OPEN, ASSIGNED, OUT_OF_SCOPE, IGNORED = "open", "assigned", "out_of_scope", "ignored"
STATUSES = (OPEN, ASSIGNED, OUT_OF_SCOPE, IGNORED)
SOURCE_LOW_CONFIDENCE, SOURCE_HANDOFF = "low_confidence", "handoff"
FALLBACK_INTENT = "nlu_fallback"
# the bot answered no fact: it asked again, or said SenMart has no information for this (a knowledge gap
# content staff may fill with a topic, or mark out of scope)
UNANSWERED_INTENTS = frozenset({FALLBACK_INTENT, "out_of_scope"})
ANSWER_GUARD = "answer_guard"  # the block bot/nlu/answer_guard.py adds to every parse
OPENING_MESSAGES = 3
MAX_ITEMS_PER_STATUS = 5000
MAX_TEXT_CHARS = 1000
DAY_TTL_SECONDS = 120 * 86400
SEEN_TTL_SECONDS = 7 * 86400
# not customer wording: Messenger attachment markers ("[Hình ảnh] https://…", bot/channels/facebook.py),
# the consumer's non-text placeholder, button payloads ("/greet", "/inform{…}")
_NOT_WORDING = re.compile(
    r"^(?:\[(?:Hình ảnh|Nhãn dán|Video|Âm thanh|Tệp|Vị trí|Liên kết|Tệp đính kèm)\]"
    r"|\[Khách gửi nội dung không phải văn bản\]$|/[A-Za-z_][\w/]*(?:\{.*\})?$)",
    re.DOTALL,
)

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad]")
# masked values (`09******78`, `l***@gmail.com`, `SM********`, `KN-********-****`) group together
_MASKED = (
    (re.compile(r"kn-\*{8}-\*{4}"), " <ticket> "),
    (re.compile(r"sm\*{8}"), " <order> "),
    (re.compile(r"\S\*{3}@\S+"), " <email> "),
    (re.compile(r"\d{2}\*{5,}\d{2}"), " <phone> "),
)
_EDGE_PUNCTUATION = " \t?!.,;:…-~"


# -- Lua --------------------------------------------------------------------------------------------
# both scripts keep a status set to its newest `max` ids: the oldest beyond it are dropped with their items
TRIM_LUA = """
local function trim(prefix, zset, max)
  local extra = redis.call('ZCARD', zset) - max
  if extra > 0 then
    for i, old in ipairs(redis.call('ZPOPMIN', zset, extra)) do
      if i % 2 == 1 then redis.call('DEL', prefix .. 'item:' .. old) end
    end
  end
end
"""

# KEYS: item, seen marker (or "" when none), day counter
# ARGV: prefix, id, text, key, timestamp, guesses json, source, max items, day ttl, seen ttl
RECORD_SCRIPT = (
    TRIM_LUA
    + """
local prefix, id, ts = ARGV[1], ARGV[2], tonumber(ARGV[5])
local item = KEYS[1]
local counted = 1
if KEYS[2] ~= '' then
  if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[10])) then counted = 0 end
end
local exists = redis.call('EXISTS', item) == 1
if not exists then
  redis.call('HSET', item, 'id', id, 'text', ARGV[3], 'key', ARGV[4], 'count', 1,
    'first_seen', ARGV[5], 'last_seen', ARGV[5], 'guesses', ARGV[6],
    'sources', cjson.encode({ARGV[7]}), 'status', 'open')
  local open = prefix .. 'status:open'
  redis.call('ZADD', open, ts, id)
  trim(prefix, open, tonumber(ARGV[8]))
  if counted == 1 then
    redis.call('INCR', KEYS[3])
    redis.call('EXPIRE', KEYS[3], tonumber(ARGV[9]))
  end
  return 'new'
end
local sources = cjson.decode(redis.call('HGET', item, 'sources') or '[]')
local known = false
for _, source in ipairs(sources) do if source == ARGV[7] then known = true end end
if not known then
  table.insert(sources, ARGV[7])
  redis.call('HSET', item, 'sources', cjson.encode(sources))
end
local last = tonumber(redis.call('HGET', item, 'last_seen') or '0')
local guesses = redis.call('HGET', item, 'guesses') or '[]'
if ARGV[6] ~= '[]' and (guesses == '[]' or ts >= last) then
  redis.call('HSET', item, 'guesses', ARGV[6])
end
if counted == 0 then return 'seen' end
redis.call('HINCRBY', item, 'count', 1)
if ts > last then
  redis.call('HSET', item, 'last_seen', ARGV[5])
  local status = redis.call('HGET', item, 'status') or 'open'
  redis.call('ZADD', prefix .. 'status:' .. status, ts, id)
end
if ts < tonumber(redis.call('HGET', item, 'first_seen') or ARGV[5]) then
  redis.call('HSET', item, 'first_seen', ARGV[5])
end
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[9]))
return 'updated'
"""
)

# KEYS: item. ARGV: prefix, id, new status, allowed statuses (comma-separated), now, editor, topic,
# max items
STATUS_SCRIPT = (
    TRIM_LUA
    + """
local prefix, id, target = ARGV[1], ARGV[2], ARGV[3]
local item = KEYS[1]
if redis.call('EXISTS', item) == 0 then return {'not_found', '', ''} end
local status = redis.call('HGET', item, 'status') or 'open'
local topic = redis.call('HGET', item, 'topic') or ''
local allowed = false
for one in string.gmatch(ARGV[4], '[^,]+') do if one == status then allowed = true end end
if not allowed then return {'conflict', status, topic} end
local last = redis.call('HGET', item, 'last_seen')
redis.call('ZREM', prefix .. 'status:' .. status, id)
local zset = prefix .. 'status:' .. target
redis.call('ZADD', zset, last, id)
redis.call('HSET', item, 'status', target, 'updated_at', ARGV[5], 'updated_by', ARGV[6])
if ARGV[7] ~= '' then redis.call('HSET', item, 'topic', ARGV[7]) else redis.call('HDEL', item, 'topic') end
trim(prefix, zset, tonumber(ARGV[8]))
return {'ok', status, topic}
"""
)


# -- text -------------------------------------------------------------------------------------------
def clean(text: Text) -> Text:
    """NFC, invisible characters dropped, spaces collapsed, at most MAX_TEXT_CHARS characters."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1].rstrip() + "…"


def masked_text(text: Text) -> Text:
    """What the inbox stores and shows: the cleaned text with personal data masked."""
    return mask_customer_text(clean(text))


def dedupe_key(masked: Text, teencode: Mapping[Text, Text]) -> Text:
    """The grouping key of a masked text: teencode expanded, diacritics removed, spaces collapsed."""
    lowered = html.unescape(unicodedata.normalize("NFC", masked)).lower()
    expanded = _WORD.sub(lambda m: teencode.get(m.group(0), m.group(0)), lowered)
    key = fold(expanded)
    for pattern, placeholder in _MASKED:
        key = pattern.sub(placeholder, key)
    key = _SPACES.sub(" ", key).strip(_EDGE_PUNCTUATION)
    return key or _SPACES.sub(" ", fold(lowered)).strip()


def item_id(key: Text) -> Text:
    """The id of the group of texts with this key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def config_thresholds(config_file: Optional[Path] = None) -> Thresholds:
    """AnswerGuard's thresholds in config.yml (default: the studio's content directory's)."""
    import yaml

    from evaluation.selective import model_thresholds

    if config_file is None:
        from studio.settings import StudioSettings

        config_file = StudioSettings.from_env().config_file
    try:
        return model_thresholds(Path(config_file))
    except (OSError, ValueError, TypeError, AttributeError, yaml.YAMLError) as problem:
        logger.warning(
            "Inbox: no AnswerGuard thresholds from %s (%s); using the defaults.", config_file, problem
        )
        return Thresholds()


def is_unclear(parse_data: Any, thresholds: Optional[Thresholds] = None) -> bool:
    """The bot was unsure: `nlu_fallback` or `out_of_scope` (no fact answered), or AnswerGuard decided to
    ask again (`answer_guard.decision`
    is `clarify`, whatever its `reasons`: unknown words, low confidence, a topic whose examples do not
    cover the message).

    A parse without the `answer_guard` block (a model trained before AnswerGuard) keeps the old rule:
    the top intent's confidence — for `faq`, times the chosen topic's (faq 1.0 × topic 0.17 answers a
    question with a guess) — below AnswerGuard's `intent_confidence` threshold.
    """
    if not isinstance(parse_data, Mapping):
        return False
    intent = parse_data.get("intent")
    if not isinstance(intent, Mapping) or not isinstance(intent.get("name"), str):
        return False
    if intent["name"] in UNANSWERED_INTENTS:
        return True
    guard = parse_data.get(ANSWER_GUARD)
    if isinstance(guard, Mapping) and isinstance(guard.get("decision"), str):
        return guard["decision"] == CLARIFY
    confidence = _number(intent.get("confidence"))
    if confidence is None:
        return False
    if intent["name"] == "faq":
        topic = _selected_topic_confidence(parse_data)
        confidence = confidence * topic if topic is not None else confidence
    return confidence < (thresholds or Thresholds()).intent_confidence


def _selected_topic_confidence(parse_data: Mapping) -> Optional[float]:
    """The response selector's confidence in the FAQ topic it chose, if it said."""
    selectors = parse_data.get("response_selector")
    selector = (selectors.get("faq") or selectors.get("default")) if isinstance(selectors, Mapping) else None
    chosen = selector.get("response") if isinstance(selector, Mapping) else None
    return _number(chosen.get("confidence")) if isinstance(chosen, Mapping) else None


def guesses_from_parse(parse_data: Any, limit: int = 3) -> List[Dict[Text, Any]]:
    """The bot's top guesses: `intent_ranking` without `nlu_fallback`; `faq` is named by topic
    (`faq/<topic>`, confidence = faq confidence × the response selector's confidence)."""
    if not isinstance(parse_data, Mapping):
        return []
    ranking = parse_data.get("intent_ranking")
    if not isinstance(ranking, list) or not ranking:
        intent = parse_data.get("intent")
        ranking = [intent] if isinstance(intent, Mapping) else []
    selectors = parse_data.get("response_selector")
    selectors = selectors if isinstance(selectors, Mapping) else {}
    selector = selectors.get("faq") or selectors.get("default") or {}
    faq_ranking = selector.get("ranking") if isinstance(selector, Mapping) else None
    faq_ranking = faq_ranking if isinstance(faq_ranking, list) else []
    guesses: List[Dict[Text, Any]] = []
    for candidate in ranking:
        if not isinstance(candidate, Mapping):
            continue
        name = candidate.get("name")
        confidence = _number(candidate.get("confidence"))
        if not isinstance(name, str) or not name or name == FALLBACK_INTENT or confidence is None:
            continue
        topics = []
        if name == "faq":
            for option in faq_ranking:
                key = option.get("intent_response_key") if isinstance(option, Mapping) else None
                option_confidence = _number(option.get("confidence")) if isinstance(option, Mapping) else None
                if isinstance(key, str) and key.startswith("faq/") and option_confidence is not None:
                    topics.append((key, confidence * option_confidence))
        for label, value in topics or [(name, confidence)]:
            if all(guess["intent"] != label for guess in guesses):
                guesses.append({"intent": label, "confidence": round(value, 4)})
    guesses.sort(key=lambda guess: -guess["confidence"])
    return guesses[:limit]


def iso(ts: Optional[float]) -> Optional[Text]:
    """A Unix timestamp as ISO 8601 UTC (seconds)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def item_view(fields: Mapping[Text, Text]) -> Dict[Text, Any]:
    """An inbox item as the API returns it (docs/studio.md)."""
    view = {
        "id": fields["id"],
        "text": fields.get("text", ""),
        "count": int(fields.get("count") or 0),
        "first_seen": iso(float(fields["first_seen"])),
        "last_seen": iso(float(fields["last_seen"])),
        "guesses": json.loads(fields.get("guesses") or "[]"),
        "sources": json.loads(fields.get("sources") or "[]"),
        "status": fields.get("status") or OPEN,
    }
    if fields.get("topic"):
        view["topic"] = fields["topic"]
    if fields.get("updated_by"):
        view["updated_by"] = fields["updated_by"]
        view["updated_at"] = iso(float(fields["updated_at"]))
    return view


# -- the store ----------------------------------------------------------------------------------------
class InboxItemNotFound(LookupError):
    """No inbox item with that id (never existed, or dropped when the inbox was full)."""


class InboxConflict(Exception):
    """The item's status does not allow the change (e.g. already assigned)."""

    def __init__(self, status: Text, item: Optional[Dict[Text, Any]] = None) -> None:
        super().__init__(f"inbox item is {status}")
        self.status = status
        self.item = item


@dataclass
class StatusChange:
    """What `set_status` did: the item before and after."""

    before: Dict[Text, Any]
    after: Dict[Text, Any]


class Inbox:
    """The inbox and the per-day figures in Redis (redis.asyncio client with decode_responses=True)."""

    def __init__(
        self,
        redis,
        teencode_file: Optional[Path] = None,
        tz: timezone = VIETNAM,
        clock: Callable[[], float] = time.time,
        max_items: int = MAX_ITEMS_PER_STATUS,
        prefix: Text = PREFIX,
        stats_prefix: Text = STATS_PREFIX,
        thresholds: Optional[Thresholds] = None,
    ) -> None:
        self.redis = redis
        self.teencode = TeencodeFile(teencode_file)
        self.tz = tz
        self.clock = clock
        self.max_items = int(max_items)
        self.prefix = prefix
        self.stats_prefix = stats_prefix
        # for parses without AnswerGuard's decision (is_unclear); read once, from config.yml
        self.thresholds = thresholds or config_thresholds()
        self._record = redis.register_script(RECORD_SCRIPT)
        self._status = redis.register_script(STATUS_SCRIPT)

    # -- keys ---------------------------------------------------------------------------------------
    def key(self, *parts: Text) -> Text:
        """An inbox key."""
        return self.prefix + ":".join(parts)

    def stats_key(self, kind: Text, day: date) -> Text:
        """A per-day figure's key."""
        return f"{self.stats_prefix}{kind}:{day.isoformat()}"

    def day(self, ts: float) -> date:
        """The local date of a timestamp."""
        return datetime.fromtimestamp(ts, self.tz).date()

    def seen_key(self, sender_id: Text, timestamp: float) -> Text:
        """The marker of one customer message (a Rasa user event: sender + timestamp)."""
        digest = hashlib.sha1(f"{sender_id}|{float(timestamp)!r}".encode()).hexdigest()[:24]
        return self.key("seen", digest)

    # -- writing ------------------------------------------------------------------------------------
    async def record(
        self,
        text: Text,
        source: Text,
        timestamp: Optional[float] = None,
        guesses: Sequence[Mapping[Text, Any]] = (),
        sender_id: Optional[Text] = None,
    ) -> Tuple[Optional[Text], Text]:
        """Add one customer message; returns (item id, "new"|"updated"|"seen"|"skipped").

        With `sender_id` and `timestamp` the message is counted once, however often it is reported.
        """
        if not isinstance(text, str) or not text.strip() or _NOT_WORDING.match(text.strip()):
            return None, "skipped"
        masked = masked_text(text)
        key = dedupe_key(masked, self.teencode.normalizer().teencode)
        if not key:
            return None, "skipped"
        ts = float(timestamp) if timestamp is not None else self.clock()
        identity = item_id(key)
        marker = self.seen_key(sender_id, ts) if sender_id is not None and timestamp is not None else ""
        if sender_id is not None:  # which conversations fed the item: a deletion request removes it
            sender_key = self.sender_key(sender_id)
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.sadd(sender_key, identity)
                pipe.expire(sender_key, DAY_TTL_SECONDS)
                await pipe.execute()
        outcome = await self._record(
            keys=[self.key("item", identity), marker, self.stats_key("inbox", self.day(ts))],
            args=[
                self.prefix,
                identity,
                masked,
                key,
                repr(ts),
                json.dumps(list(guesses), ensure_ascii=False, separators=(",", ":")),
                source,
                self.max_items,
                DAY_TTL_SECONDS,
                SEEN_TTL_SECONDS,
            ],
        )
        return identity, outcome

    def sender_key(self, sender_id: Text) -> Text:
        """The set of items a conversation's messages fed (keyed by a digest of the sender id)."""
        return self.key("sender", hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:32])

    async def forget_sender(self, sender_id: Text) -> int:
        """Delete the items a conversation's messages fed (a personal-data deletion); how many.

        An item is one wording, shared by every customer who wrote it: it goes whole, which forgets
        other customers' counts of that wording too, never the deleted customer's words."""
        sender_key = self.sender_key(sender_id)
        identities = list(await self.redis.smembers(sender_key))
        async with self.redis.pipeline(transaction=True) as pipe:
            for identity in identities:
                pipe.delete(self.key("item", identity))
                for status in STATUSES:
                    pipe.zrem(self.key("status", status), identity)
            pipe.delete(sender_key)
            results = await pipe.execute()
        return sum(int(r) for r in results[:: len(STATUSES) + 1][: len(identities)])

    async def count_conversation(self, sender_id: Text, timestamp: float) -> None:
        """Remember that this conversation wrote on that (local) day."""
        key = self.stats_key("conversations", self.day(timestamp))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.pfadd(key, sender_id)
            pipe.expire(key, DAY_TTL_SECONDS)
            await pipe.execute()

    async def observe(self, event: Any, ticket_outcome: Optional[Text] = None) -> Optional[Text]:
        """One event of Rasa's stream: counts the conversation and records an unclear user message.

        Messages the consumer appended to an open ticket (`appended`/`duplicate`) are written to an
        agent, not to the bot, and are left out. Returns the record outcome, or None.
        """
        if isinstance(event, Mapping) and event.get("event") == TICKET_OPENED_EVENT:
            return await self.record_ticket_opened(event)
        if not isinstance(event, Mapping) or event.get("event") != "user":
            return None
        sender_id = event.get("sender_id")
        timestamp = _number(event.get("timestamp"))
        if not isinstance(sender_id, str) or timestamp is None:
            return None
        await self.count_conversation(sender_id, timestamp)
        if ticket_outcome in ("appended", "duplicate"):
            return None
        parse_data = event.get("parse_data")
        if not is_unclear(parse_data, self.thresholds):
            return None
        text = event.get("text")
        if not isinstance(text, str):
            return None
        _, outcome = await self.record(
            text, SOURCE_LOW_CONFIDENCE, timestamp, guesses_from_parse(parse_data), sender_id
        )
        return outcome

    async def record_ticket_opened(self, event: Mapping[Text, Any]) -> Optional[Text]:
        """A ticket-opened event (handoff/ticket_events.py), recorded once per ticket id."""
        ticket_id, sender_id = event.get("ticket_id"), event.get("sender_id")
        opening = event.get("opening")
        if not isinstance(ticket_id, str) or not isinstance(sender_id, str) or not isinstance(opening, list):
            return None
        marker = self.key("ticket", ticket_id)
        if await self.redis.exists(marker):
            return "duplicate"
        reason = event.get("reason") if isinstance(event.get("reason"), str) else "other"
        messages = [message for message in opening if isinstance(message, Mapping)]
        # messages are de-duplicated by `seen:`; the marker, set once all is recorded, keeps a replayed
        # entry from counting the handoff twice
        await self.record_handoff(sender_id, reason, messages, _number(event.get("timestamp")))
        await self.redis.set(marker, 1, ex=SEEN_TTL_SECONDS)
        return "ticket_recorded"

    async def record_handoff(
        self,
        sender_id: Text,
        reason: Text,
        transcript: Iterable[Mapping[Text, Any]],
        created_at: Optional[float] = None,
    ) -> List[Text]:
        """A ticket was created: count it for its day and reason, record the opening customer texts."""
        now = float(created_at) if created_at is not None else self.clock()
        key = self.stats_key("handoffs", self.day(now))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, reason or "other", 1)
            pipe.expire(key, DAY_TTL_SECONDS)
            await pipe.execute()
        outcomes = []
        opening = 0
        for message in transcript:
            if opening >= OPENING_MESSAGES:
                break
            text = message.get("text")
            if message.get("role") != "customer" or not isinstance(text, str) or not text.strip():
                continue
            if _NOT_WORDING.match(text.strip()):
                continue
            opening += 1
            timestamp = _number(message.get("timestamp"))
            guesses = []
            intent, confidence = message.get("intent"), _number(message.get("confidence"))
            if isinstance(intent, str) and intent and intent != FALLBACK_INTENT and confidence is not None:
                guesses = [{"intent": intent, "confidence": round(confidence, 4)}]
            _, outcome = await self.record(text, SOURCE_HANDOFF, timestamp, guesses, sender_id)
            outcomes.append(outcome)
        return outcomes

    async def set_status(
        self,
        identity: Text,
        status: Text,
        editor: Text,
        topic: Optional[Text] = None,
        allowed_from: Sequence[Text] = (OPEN, IGNORED),
    ) -> StatusChange:
        """Move an item to `status` (InboxItemNotFound, or InboxConflict from another status)."""
        if status not in STATUSES:
            raise ValueError(status)
        before = await self.get(identity)
        if before is None:
            raise InboxItemNotFound(identity)
        outcome, previous, _ = await self._status(
            keys=[self.key("item", identity)],
            args=[
                self.prefix,
                identity,
                status,
                ",".join(allowed_from),
                repr(self.clock()),
                editor,
                topic or "",
                self.max_items,
            ],
        )
        if outcome == "not_found":
            raise InboxItemNotFound(identity)
        if outcome == "conflict":
            raise InboxConflict(previous, await self.get(identity))
        after = await self.get(identity)
        return StatusChange(before, after or {**before, "status": status})

    async def restore(self, before: Mapping[Text, Any], editor: Text) -> None:
        """Put an item back as it was (after a failed file write)."""
        await self._status(
            keys=[self.key("item", before["id"])],
            args=[
                self.prefix,
                before["id"],
                before["status"],
                ",".join(STATUSES),
                repr(self.clock()),
                before.get("updated_by") or editor,
                before.get("topic") or "",
                self.max_items,
            ],
        )

    # -- reading ------------------------------------------------------------------------------------
    async def get(self, identity: Text) -> Optional[Dict[Text, Any]]:
        """One item, or None."""
        if not re.fullmatch(r"[0-9a-f]{16}", identity or ""):
            return None
        fields = await self.redis.hgetall(self.key("item", identity))
        return item_view(fields) if fields and "id" in fields else None

    async def list(self, status: Optional[Text] = OPEN, limit: int = 100) -> List[Dict[Text, Any]]:
        """Items of one status (None: every status), newest (last seen) first."""
        statuses = STATUSES if status is None else (status,)
        ranked: List[Tuple[float, Text]] = []
        for one in statuses:
            for identity, score in await self.redis.zrevrange(
                self.key("status", one), 0, limit - 1, withscores=True
            ):
                ranked.append((score, identity))
        ranked.sort(key=lambda pair: (-pair[0], pair[1]))
        ids = [identity for _, identity in ranked[:limit]]
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for identity in ids:
                pipe.hgetall(self.key("item", identity))
            rows = await pipe.execute()
        return [item_view(fields) for fields in rows if fields and "id" in fields]

    async def counts(self) -> Dict[Text, int]:
        """How many items each status holds."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for status in STATUSES:
                pipe.zcard(self.key("status", status))
            values = await pipe.execute()
        return dict(zip(STATUSES, (int(v) for v in values)))

    def last_days(self, days: int, today: Optional[date] = None) -> List[date]:
        """The `days` local dates ending today, oldest first."""
        end = today or self.day(self.clock())
        return [end - timedelta(days=offset) for offset in range(days - 1, -1, -1)]

    async def daily(self, days: int = 14, today: Optional[date] = None) -> List[Dict[Text, Any]]:
        """Per day: inbox volume, conversations (distinct senders) and tickets created by reason."""
        dates = self.last_days(days, today)
        async with self.redis.pipeline(transaction=False) as pipe:
            for day in dates:
                pipe.get(self.stats_key("inbox", day))
                pipe.pfcount(self.stats_key("conversations", day))
                pipe.hgetall(self.stats_key("handoffs", day))
            values = await pipe.execute()
        rows = []
        for index, day in enumerate(dates):
            inbox, conversations, handoffs = values[3 * index : 3 * index + 3]
            rows.append(
                {
                    "day": day.isoformat(),
                    "inbox": int(inbox or 0),
                    "conversations": int(conversations or 0),
                    "handoffs": {reason: int(count) for reason, count in sorted((handoffs or {}).items())},
                }
            )
        return rows


# -- wiring in the handoff service -------------------------------------------------------------------
def inbox_for(app) -> Inbox:
    """The app's inbox (created on first use, on the ticket store's Redis client and clock)."""
    inbox = getattr(app.ctx, "studio_inbox", None)
    store = app.ctx.store
    if inbox is None or inbox.redis is not store.redis:
        settings = getattr(app.ctx, "studio", None)
        teencode = settings.data_dir / "teencode.yml" if settings is not None else None
        thresholds = config_thresholds(settings.config_file) if settings is not None else None
        inbox = Inbox(
            store.redis, teencode_file=teencode, tz=store.hours.tz, clock=store.clock, thresholds=thresholds
        )
        app.ctx.studio_inbox = inbox
    return inbox
