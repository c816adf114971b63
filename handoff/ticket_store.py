"""Tickets in Redis: ids, queue, claims with lease, transcripts, SLA, CSAT, deletion, retention, counters.

Every change of state is one Lua script, so several service processes can share one Redis.
Keys (prefix `handoff:`): `ticket:{id}` hash, `transcript:{id}` list of JSON messages,
`seen:{id}` set of message identities (dedup), `open:{sender}` → id of the sender's open ticket,
`sender:{sender}` / `contact:{digest}` zsets of ticket ids by creation time, `queue` zset of waiting
ids (score = -priority·1e10 + created_at: priority desc, then age asc), `leases` zset of claimed ids
by lease expiry, `status:{status}` zsets by creation time, `seq:{YYYYMMDD}` counters, `metrics` and
`http` hashes of counters. Changes are announced on the pub/sub channel `handoff:events`.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Text, Tuple

from common.handoff_reasons import reason_label
from common.text import fold
from handoff.customer_profiles import CustomerProfiles
from handoff.hours import AgentHours
from handoff.ticket_rules import (
    CLAIMED,
    CLOSED,
    OPEN_STATUSES,
    REASONS,
    REPEAT_WINDOW_SECONDS,
    RESOLVED,
    STATUS_LABELS,
    WAITING,
    HandoffRequest,
    base_priority,
    contact_digests,
    first_response_due,
    mask_customer,
    message_dedup_key,
    resolution_due,
    sla_breaches,
    timestamp_key,
)
from handoff.ticket_scripts import (
    AGENT_MESSAGE_SCRIPT,
    APPEND_CUSTOMER_SCRIPT,
    CLAIM_SCRIPT,
    CREATE_SCRIPT,
    CSAT_SCRIPT,
    DELETE_CUSTOMER_SCRIPT,
    FINISH_SCRIPT,
    REASSIGN_SCRIPT,
    REQUEUE_SCRIPT,
)

logger = logging.getLogger(__name__)

STATUSES = (WAITING, CLAIMED, RESOLVED, CLOSED)
CONTACT_TTL_SECONDS = REPEAT_WINDOW_SECONDS + 86400
LIST_LIMIT = 200


class TicketError(Exception):
    """Base of the store's refusals."""


class TicketNotFound(TicketError):
    """No ticket with that id (never existed, deleted or expired)."""


class TicketConflict(TicketError):
    """The ticket is not in a state that allows the change (e.g. claimed by another agent, closed)."""

    def __init__(self, status: Text, claimed_by: Optional[Text] = None) -> None:
        super().__init__(f"ticket is {status}" + (f" by {claimed_by}" if claimed_by else ""))
        self.status = status
        self.claimed_by = claimed_by


class NotTicketOwner(TicketError):
    """Another agent holds the ticket."""

    def __init__(self, claimed_by: Text) -> None:
        super().__init__(f"ticket is claimed by {claimed_by}")
        self.claimed_by = claimed_by


class AgentAtCapacity(TicketError):
    """The agent already holds as many open tickets as their capacity allows."""

    def __init__(self, agent: Text, load: int, capacity: int) -> None:
        super().__init__(f"{agent} holds {load} of {capacity} tickets")
        self.agent = agent
        self.load = load
        self.capacity = capacity


def _dumps(value: Any) -> Text:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _float(value: Optional[Text]) -> Optional[float]:
    return float(value) if value not in (None, "") else None


def system_message(text: Text, timestamp: float) -> Dict[Text, Any]:
    """A `system` transcript entry (status changes the agent should see in the history)."""
    return {
        "role": "system",
        "text": text,
        "timestamp": timestamp,
        "intent": None,
        "confidence": None,
        "agent": None,
    }


def ticket_view(
    fields: Mapping[Text, Text],
    queue_position: Optional[int],
    now: float,
    transcript: Optional[List[Dict[Text, Any]]] = None,
) -> Dict[Text, Any]:
    """The ticket as the API returns it (docs/handoff.md), from its stored hash."""
    first_response_at = _float(fields.get("first_response_at"))
    resolved_at = _float(fields.get("resolved_at"))
    closed_at = _float(fields.get("closed_at"))
    first_due = float(fields["first_response_due"])
    resolution_due_at = float(fields["resolution_due"])
    finished_at = resolved_at if resolved_at is not None else closed_at
    rating = fields.get("csat_rating")
    view = {
        "id": fields["id"],
        "status": fields["status"],
        "status_label": STATUS_LABELS.get(fields["status"], fields["status"]),
        "sender_id": fields.get("sender_id"),
        "channel": fields.get("channel"),
        "reason": fields.get("reason"),
        "priority": int(fields.get("priority") or 1),
        "customer": json.loads(fields.get("customer") or "{}"),
        "created_at": float(fields["created_at"]),
        "claimed_by": fields.get("claimed_by") or None,
        "claimed_at": _float(fields.get("claimed_at")),
        "lease_expires_at": _float(fields.get("lease_until")),
        "first_response_at": first_response_at,
        "resolved_at": resolved_at,
        "closed_at": closed_at,
        "sla": {
            "first_response_due": first_due,
            "resolution_due": resolution_due_at,
            **sla_breaches(first_due, resolution_due_at, now, first_response_at, finished_at),
        },
        "queue_position": queue_position,
        "csat": {"rating": int(rating) if rating else None, "comment": fields.get("csat_comment") or None},
    }
    if transcript is not None:
        view["transcript"] = transcript
    return view


@dataclass
class CreateResult:
    """What `create_or_reuse` did."""

    ticket_id: Text
    created: bool
    status: Text
    queue_position: Optional[int]
    added_messages: int


@dataclass
class StoreSnapshot:
    """Figures for the dashboard and /metrics, read at one moment."""

    now: float
    queue_length: int = 0
    oldest_waiting_seconds: float = 0.0
    tickets_by_status: Dict[Text, int] = field(default_factory=dict)
    open_by_reason: Dict[Text, int] = field(default_factory=dict)
    handoffs_by_reason: Dict[Text, int] = field(default_factory=dict)
    first_response_count: int = 0
    first_response_sum: float = 0.0
    resolution_count: int = 0
    resolution_sum: float = 0.0
    csat_count: int = 0
    csat_sum: int = 0
    csat_by_rating: Dict[int, int] = field(default_factory=dict)
    breached_finished: Dict[Text, int] = field(default_factory=dict)
    breached_open: Dict[Text, int] = field(default_factory=dict)
    http_requests: Dict[Tuple[Text, Text, Text], int] = field(default_factory=dict)

    @property
    def breached_total(self) -> Dict[Text, int]:
        """Finished plus still-open tickets past each SLA."""
        return {
            key: self.breached_finished.get(key, 0) + self.breached_open.get(key, 0)
            for key in ("first_response", "resolution")
        }


class TicketStore:
    """All ticket state lives in Redis; this class is its only writer."""

    def __init__(
        self,
        redis,
        hours: AgentHours,
        lease_seconds: float = 300.0,
        retention_seconds: int = 180 * 86400,
        clock: Callable[[], float] = time.time,
        prefix: Text = "handoff:",
    ) -> None:
        self.redis = redis  # redis.asyncio.Redis with decode_responses=True
        self.hours = hours
        self.lease_seconds = lease_seconds
        self.retention_seconds = int(retention_seconds)
        self.clock = clock
        self.prefix = prefix
        self.events_channel = prefix + "events"
        self._create = redis.register_script(CREATE_SCRIPT)
        self._append_customer = redis.register_script(APPEND_CUSTOMER_SCRIPT)
        self._claim = redis.register_script(CLAIM_SCRIPT)
        self._reassign = redis.register_script(REASSIGN_SCRIPT)
        self._agent_message = redis.register_script(AGENT_MESSAGE_SCRIPT)
        self._finish = redis.register_script(FINISH_SCRIPT)
        self._csat = redis.register_script(CSAT_SCRIPT)
        self._requeue = redis.register_script(REQUEUE_SCRIPT)
        self._delete_customer = redis.register_script(DELETE_CUSTOMER_SCRIPT)
        self.profiles = CustomerProfiles(redis, self.contact_secret, self.retention_seconds, prefix)

    # -- keys ---------------------------------------------------------------------------------------
    def key(self, *parts: Text) -> Text:
        """A key under the store's prefix."""
        return self.prefix + ":".join(parts)

    def _ticket_keys(self, ticket_id: Text) -> Tuple[Text, Text, Text]:
        return self.key("ticket", ticket_id), self.key("transcript", ticket_id), self.key("seen", ticket_id)

    # -- creation -----------------------------------------------------------------------------------
    async def create_or_reuse(self, request: HandoffRequest) -> CreateResult:
        """Open a ticket for the conversation, or reuse its open one and append the new messages."""
        now = self.clock()
        date = self.hours.local_date(now).strftime("%Y%m%d")
        contacts = contact_digests(request.customer, await self.contact_secret())
        fields = {
            "sender_id": request.sender_id,
            "channel": request.channel,
            "reason": request.reason,
            "anger": repr(request.anger),
            "customer": _dumps(mask_customer(request.customer)),
            "contacts": _dumps(contacts),
            "first_response_due": repr(first_response_due(self.hours, now)),
            "resolution_due": repr(resolution_due(now)),
        }
        messages = []
        for message in request.transcript:
            messages += [message_dedup_key(message), _dumps(message)]
        creation = system_message(
            f"Khách được chuyển cho nhân viên (lý do: {reason_label(request.reason)}).", now
        )
        keys = [
            self.key("open", request.sender_id),
            self.key("seq", date),
            self.key("queue"),
            self.key("status", WAITING),
            self.key("sender", request.sender_id),
            self.key("metrics"),
            *[self.key("contact", digest) for digest in contacts],
        ]
        args = [
            self.prefix,
            date,
            repr(now),
            base_priority(request.customer, request.reason, request.anger),
            repr(now - REPEAT_WINDOW_SECONDS),
            self.retention_seconds + 86400,
            CONTACT_TTL_SECONDS,
            request.reason,
            len(fields),
            *[item for pair in fields.items() for item in pair],
            len(request.transcript),
            *messages,
            message_dedup_key(creation),
            _dumps(creation),
        ]
        ticket_id, created, added, status = await self._create(keys=keys, args=args)
        position = await self.queue_position(ticket_id) if status == WAITING else None
        await self.publish(ticket_id, status, "created" if created else "updated")
        if created:
            logger.info(
                "Ticket %s opened (reason %s, channel %s).", ticket_id, request.reason, request.channel
            )
        return CreateResult(ticket_id, bool(created), status, position, int(added))

    async def contact_secret(self) -> bytes:
        """This deployment's key for contact digests, created once in Redis (digests are no phone list)."""
        key = self.key("contact_secret")
        await self.redis.set(key, secrets.token_hex(32), nx=True)
        return (await self.redis.get(key)).encode()

    # -- reading ------------------------------------------------------------------------------------
    async def queue_position(self, ticket_id: Text) -> Optional[int]:
        """1-based position in the waiting queue, None when not waiting."""
        rank = await self.redis.zrank(self.key("queue"), ticket_id)
        return None if rank is None else rank + 1

    async def transcript(self, ticket_id: Text) -> List[Dict[Text, Any]]:
        """Every transcript message of the ticket, in order."""
        return [
            json.loads(item) for item in await self.redis.lrange(self.key("transcript", ticket_id), 0, -1)
        ]

    async def get(self, ticket_id: Text, with_transcript: bool = False) -> Optional[Dict[Text, Any]]:
        """The ticket view (with transcript when asked), or None."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self.key("ticket", ticket_id))
            pipe.zrank(self.key("queue"), ticket_id)
            if with_transcript:
                pipe.lrange(self.key("transcript", ticket_id), 0, -1)
            fields, rank, *raw = await pipe.execute()
        if not fields or "id" not in fields:
            return None
        transcript = [json.loads(item) for item in raw[0]] if with_transcript else None
        position = rank + 1 if rank is not None and fields["status"] == WAITING else None
        return ticket_view(fields, position, self.clock(), transcript)

    async def require(self, ticket_id: Text, with_transcript: bool = False) -> Dict[Text, Any]:
        """Like `get`, raising TicketNotFound."""
        ticket = await self.get(ticket_id, with_transcript)
        if ticket is None:
            raise TicketNotFound(ticket_id)
        return ticket

    async def _ids_for(self, status: Text, limit: int) -> List[Text]:
        if status == WAITING:
            return await self.redis.zrange(self.key("queue"), 0, limit - 1)
        if status == CLAIMED:
            return await self.redis.zrange(self.key("status", CLAIMED), 0, limit - 1)
        return await self.redis.zrevrange(self.key("status", status), 0, limit - 1)

    async def list_tickets(
        self, status: Text = "open", query: Optional[Text] = None, limit: int = LIST_LIMIT
    ) -> List[Dict[Text, Any]]:
        """Tickets of one status (open = waiting + claimed), waiting in queue order, others newest first."""
        statuses = OPEN_STATUSES if status == "open" else (status,)
        ids: List[Text] = []
        for one in statuses:
            ids += await self._ids_for(one, limit)
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for ticket_id in ids:
                pipe.hgetall(self.key("ticket", ticket_id))
            rows = await pipe.execute()
        now = self.clock()
        waiting_rank = 0
        needle = fold(query.strip()) if query and query.strip() else None
        tickets = []
        stale = []
        for ticket_id, fields in zip(ids, rows):
            if not fields or fields.get("status") not in statuses:
                if not fields:
                    stale.append(ticket_id)
                continue
            position = None
            if fields["status"] == WAITING:
                waiting_rank += 1
                position = waiting_rank
            view = ticket_view(fields, position, now)
            if needle and not await self._matches(view, needle):
                continue
            tickets.append(view)
        if stale:
            await self._drop_from_indexes(stale)
        return tickets[:limit]

    async def _matches(self, view: Mapping[Text, Any], needle: Text) -> bool:
        haystack = [view["id"], view["sender_id"] or "", view["reason"] or "", view["claimed_by"] or ""]
        haystack += [str(value) for value in view["customer"].values()]
        if any(needle in fold(item) for item in haystack):
            return True
        return any(needle in fold(message["text"]) for message in await self.transcript(view["id"]))

    async def _drop_from_indexes(self, ticket_ids: Sequence[Text]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for ticket_id in ticket_ids:
                pipe.zrem(self.key("queue"), ticket_id)
                pipe.zrem(self.key("leases"), ticket_id)
                for status in STATUSES:
                    pipe.zrem(self.key("status", status), ticket_id)
            await pipe.execute()

    # -- agents -------------------------------------------------------------------------------------
    def _claim_keys(self, ticket_id: Text) -> List[Text]:
        """The KEYS of CLAIM_SCRIPT and REASSIGN_SCRIPT."""
        ticket_key, transcript_key, _ = self._ticket_keys(ticket_id)
        return [
            ticket_key,
            self.key("queue"),
            self.key("leases"),
            self.key("status", WAITING),
            self.key("status", CLAIMED),
            transcript_key,
        ]

    async def _run_claim(
        self, ticket_id: Text, agent: Text, mode: Text, capacity: int = 0
    ) -> Tuple[Text, Text]:
        now = self.clock()
        message = system_message(f"Nhân viên {agent} đã nhận xử lý.", now)
        keys = self._claim_keys(ticket_id)
        args = [
            self.prefix,
            ticket_id,
            agent,
            repr(now),
            repr(now + self.lease_seconds),
            mode,
            _dumps(message),
            int(capacity),
        ]
        outcome, detail = await self._claim(keys=keys, args=args)
        if outcome == "not_found":
            raise TicketNotFound(ticket_id)
        if outcome == "full":
            raise AgentAtCapacity(agent, int(detail), int(capacity))
        if outcome == "claimed":
            await self.publish(ticket_id, CLAIMED, "claimed")
        return outcome, detail

    async def claim(self, ticket_id: Text, agent: Text, capacity: int = 0) -> Dict[Text, Any]:
        """Take a waiting ticket (or renew one's own claim); TicketConflict otherwise, AgentAtCapacity
        when the agent already holds `capacity` open tickets (0: no limit)."""
        outcome, detail = await self._run_claim(ticket_id, agent, "claim", capacity)
        if outcome == "taken":
            raise TicketConflict(CLAIMED, detail)
        if outcome == "finished":
            raise TicketConflict(detail)
        return await self.require(ticket_id)

    async def heartbeat(self, ticket_id: Text, agent: Text) -> Dict[Text, Any]:
        """Renew the agent's lease; NotTicketOwner when someone else holds it, TicketConflict if unclaimed."""
        outcome, detail = await self._run_claim(ticket_id, agent, "heartbeat")
        if outcome == "taken":
            raise NotTicketOwner(detail)
        if outcome in ("finished", "not_claimed"):
            raise TicketConflict(detail)
        return await self.require(ticket_id)

    async def claim_for_reply(self, ticket_id: Text, agent: Text, capacity: int = 0) -> None:
        """Before an agent's message: claim it when waiting (within `capacity`); NotTicketOwner /
        TicketConflict / AgentAtCapacity otherwise."""
        outcome, detail = await self._run_claim(ticket_id, agent, "claim", capacity)
        if outcome == "taken":
            raise NotTicketOwner(detail)
        if outcome == "finished":
            raise TicketConflict(detail)

    async def reassign(self, ticket_id: Text, agent: Text, capacity: int, by: Text) -> Dict[Text, Any]:
        """A supervisor gives a waiting or claimed ticket to `agent` (within the agent's capacity; 0: no
        limit); TicketConflict when finished or already theirs, AgentAtCapacity when they are full."""
        now = self.clock()
        message = system_message(f"{by} đã chuyển phiếu cho nhân viên {agent}.", now)
        args = [self.prefix, ticket_id, agent, repr(now), repr(now + self.lease_seconds), int(capacity)]
        outcome, detail = await self._reassign(
            keys=self._claim_keys(ticket_id), args=[*args, _dumps(message)]
        )
        if outcome == "not_found":
            raise TicketNotFound(ticket_id)
        if outcome == "full":
            raise AgentAtCapacity(agent, int(detail), int(capacity))
        if outcome == "same":
            raise TicketConflict(CLAIMED, detail)
        if outcome == "finished":
            raise TicketConflict(detail)
        await self.publish(ticket_id, CLAIMED, "reassigned")
        return {**await self.require(ticket_id), "previous_agent": detail or None}

    async def agent_loads(self) -> Dict[Text, int]:
        """Open claimed tickets by agent name."""
        ids = await self.redis.zrange(self.key("status", CLAIMED), 0, -1)
        if not ids:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for ticket_id in ids:
                pipe.hget(self.key("ticket", ticket_id), "claimed_by")
            owners = await pipe.execute()
        loads: Dict[Text, int] = {}
        for owner in owners:
            if owner:
                loads[owner] = loads.get(owner, 0) + 1
        return loads

    async def record_agent_message(self, ticket_id: Text, agent: Text, text: Text) -> Dict[Text, Any]:
        """Record a message the customer has received; the first one sets first_response_at."""
        now = self.clock()
        message = {
            "role": "agent",
            "text": text,
            "timestamp": now,
            "intent": None,
            "confidence": None,
            "agent": agent,
        }
        ticket_key, transcript_key, _ = self._ticket_keys(ticket_id)
        keys = [ticket_key, transcript_key, self.key("leases"), self.key("metrics")]
        args = [self.prefix, ticket_id, agent, repr(now), repr(now + self.lease_seconds), _dumps(message)]
        if await self._agent_message(keys=keys, args=args) == "not_found":
            raise TicketNotFound(ticket_id)
        ticket = await self.require(ticket_id)
        await self.publish(ticket_id, ticket["status"], "message")
        return ticket

    async def _run_finish(self, ticket_id: Text, agent: Text, target: Text, check_only: bool) -> Text:
        now = self.clock()
        text = {
            RESOLVED: f"Nhân viên {agent} đã đánh dấu đã giải quyết.",
            CLOSED: f"Nhân viên {agent} đã trả cuộc trò chuyện cho trợ lý ảo.",
        }[target]
        ticket_key, transcript_key, seen_key = self._ticket_keys(ticket_id)
        keys = [
            ticket_key,
            self.key("queue"),
            self.key("leases"),
            self.key("status", WAITING),
            self.key("status", CLAIMED),
            self.key("status", target),
            transcript_key,
            seen_key,
            self.key("metrics"),
        ]
        args = [
            self.prefix,
            ticket_id,
            agent,
            repr(now),
            target,
            self.retention_seconds,
            _dumps(system_message(text, now)),
            "1" if check_only else "0",
        ]
        outcome, detail = await self._finish(keys=keys, args=args)
        if outcome == "not_found":
            raise TicketNotFound(ticket_id)
        if outcome == "taken":
            raise NotTicketOwner(detail)
        if outcome == "finished":
            raise TicketConflict(detail)
        return outcome

    async def check_can_finish(self, ticket_id: Text, agent: Text) -> Dict[Text, Any]:
        """Raise unless the agent may resolve / return this ticket now; returns the ticket."""
        await self._run_finish(ticket_id, agent, RESOLVED, check_only=True)
        return await self.require(ticket_id)

    async def resolve(self, ticket_id: Text, agent: Text) -> Dict[Text, Any]:
        """Mark resolved (waiting or own claim); starts the retention clock."""
        await self._run_finish(ticket_id, agent, RESOLVED, check_only=False)
        await self.publish(ticket_id, RESOLVED, "resolved")
        return await self.require(ticket_id)

    async def return_to_bot(self, ticket_id: Text, agent: Text) -> Dict[Text, Any]:
        """Close the ticket and hand the conversation back to the bot."""
        await self._run_finish(ticket_id, agent, CLOSED, check_only=False)
        await self.publish(ticket_id, CLOSED, "closed")
        return await self.require(ticket_id)

    async def record_csat(self, ticket_id: Text, rating: int, comment: Optional[Text]) -> Dict[Text, Any]:
        """Store the customer's rating of a resolved ticket and close it; TicketConflict otherwise."""
        now = self.clock()
        ticket_key, transcript_key, seen_key = self._ticket_keys(ticket_id)
        keys = [
            ticket_key,
            self.key("status", RESOLVED),
            self.key("status", CLOSED),
            transcript_key,
            seen_key,
            self.key("metrics"),
        ]
        note = system_message(f"Khách đánh giá {rating}/5." + (f" Góp ý: {comment}" if comment else ""), now)
        args = [
            self.prefix,
            ticket_id,
            repr(now),
            rating,
            comment or "",
            self.retention_seconds,
            _dumps(note),
        ]
        outcome, detail = await self._csat(keys=keys, args=args)
        if outcome == "not_found":
            raise TicketNotFound(ticket_id)
        if outcome == "conflict":
            raise TicketConflict(detail)
        await self.publish(ticket_id, CLOSED, "csat")
        return await self.require(ticket_id)

    # -- customer messages from Rasa's event stream -------------------------------------------------
    async def append_customer_event(
        self, sender_id: Text, timestamp: float, message: Dict[Text, Any]
    ) -> Tuple[Optional[Text], Text]:
        """Append a customer message to the sender's open ticket once; returns (ticket id, outcome)."""
        message = {**message, "role": "customer", "timestamp": float(timestamp)}
        keys = [self.key("open", sender_id)]
        args = [self.prefix, timestamp_key(timestamp), message_dedup_key(message), _dumps(message)]
        ticket_id, outcome = await self._append_customer(keys=keys, args=args)
        if outcome == "appended":
            status = await self.redis.hget(self.key("ticket", ticket_id), "status")
            await self.publish(ticket_id, status or WAITING, "message")
        return ticket_id or None, outcome

    # -- background upkeep --------------------------------------------------------------------------
    async def requeue_expired(self, limit: int = 100) -> List[Text]:
        """Claims whose lease ran out go back to the queue with their priority and original age."""
        now = self.clock()
        due = await self.redis.zrangebyscore(self.key("leases"), "-inf", repr(now), start=0, num=limit)
        requeued = []
        note = _dumps(
            system_message("Nhân viên %s không còn giữ phiếu (hết hạn); phiếu trở lại hàng chờ.", now)
        )
        for ticket_id in due:
            ticket_key, transcript_key, _ = self._ticket_keys(ticket_id)
            keys = [
                ticket_key,
                self.key("queue"),
                self.key("leases"),
                self.key("status", CLAIMED),
                self.key("status", WAITING),
                transcript_key,
            ]
            if await self._requeue(keys=keys, args=[self.prefix, ticket_id, repr(now), note]):
                requeued.append(ticket_id)
                logger.warning("Ticket %s: claim lease expired, back in the queue.", ticket_id)
                await self.publish(ticket_id, WAITING, "requeued")
        return requeued

    async def sweep_indexes(self, limit: int = 500) -> int:
        """Drop ids of expired (retention) tickets from the status indexes."""
        removed = 0
        for status in (RESOLVED, CLOSED):
            ids = await self.redis.zrange(self.key("status", status), 0, limit - 1)
            if not ids:
                continue
            async with self.redis.pipeline(transaction=False) as pipe:
                for ticket_id in ids:
                    pipe.exists(self.key("ticket", ticket_id))
                exists = await pipe.execute()
            gone = [ticket_id for ticket_id, alive in zip(ids, exists) if not alive]
            if gone:
                await self._drop_from_indexes(gone)
                removed += len(gone)
        return removed

    async def delete_customer(self, sender_id: Text) -> List[Text]:
        """Delete every ticket and transcript of a conversation (personal data request)."""
        keys = [self.key("sender", sender_id), self.key("open", sender_id)]
        ids = await self._delete_customer(keys=keys, args=[self.prefix])
        await self.profiles.unlink(sender_id)
        for ticket_id in ids:
            await self.publish(ticket_id, "deleted", "deleted")
        logger.info("Deleted %d ticket(s) of a customer on request.", len(ids))
        return list(ids)

    # -- figures ------------------------------------------------------------------------------------
    async def snapshot(self) -> StoreSnapshot:
        """Queue, counters and SLA breaches right now."""
        now = self.clock()
        snap = StoreSnapshot(now=now)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcard(self.key("queue"))
            pipe.zrange(self.key("status", WAITING), 0, 0, withscores=True)
            for status in STATUSES:
                pipe.zcard(self.key("status", status))
            pipe.hgetall(self.key("metrics"))
            pipe.hgetall(self.key("http"))
            queue_length, oldest, *counts, counters, http = await pipe.execute()
        snap.queue_length = queue_length
        snap.oldest_waiting_seconds = max(0.0, now - oldest[0][1]) if oldest else 0.0
        snap.tickets_by_status = dict(zip(STATUSES, counts))
        snap.handoffs_by_reason = {reason: int(counters.get(f"handoffs:{reason}", 0)) for reason in REASONS}
        snap.first_response_count = int(counters.get("first_response_count", 0))
        snap.first_response_sum = float(counters.get("first_response_sum", 0))
        snap.resolution_count = int(counters.get("resolution_count", 0))
        snap.resolution_sum = float(counters.get("resolution_sum", 0))
        snap.csat_count = int(counters.get("csat_count", 0))
        snap.csat_sum = int(counters.get("csat_sum", 0))
        snap.csat_by_rating = {rating: int(counters.get(f"csat:{rating}", 0)) for rating in range(1, 6)}
        snap.breached_finished = {
            "first_response": int(counters.get("breached_first_response", 0)),
            "resolution": int(counters.get("breached_resolution", 0)),
        }
        snap.open_by_reason = {reason: 0 for reason in REASONS}
        snap.breached_open = {"first_response": 0, "resolution": 0}
        for ticket in await self.list_tickets("open", limit=10_000):
            snap.open_by_reason[ticket["reason"]] = snap.open_by_reason.get(ticket["reason"], 0) + 1
            snap.breached_open["first_response"] += ticket["sla"]["first_response_breached"]
            snap.breached_open["resolution"] += ticket["sla"]["resolution_breached"]
        for name, count in http.items():
            method, route, status = name.split("|", 2)
            snap.http_requests[(method, route, status)] = int(count)
        return snap

    async def count_conversation(self, sender_id: Text) -> None:
        """Remember that a conversation exists (HyperLogLog: distinct count in 12 KB)."""
        await self.redis.pfadd(self.key("conversations"), sender_id)

    async def dashboard(self) -> Dict[Text, Any]:
        """The console's dashboard figures."""
        snap = await self.snapshot()
        conversations = await self.redis.pfcount(self.key("conversations"))
        handoffs = sum(snap.handoffs_by_reason.values())
        return {
            "conversations_total": conversations,
            "handoff_rate": round(handoffs / conversations, 4) if conversations else None,
            "queue_length": snap.queue_length,
            "claimed_count": snap.tickets_by_status.get(CLAIMED, 0),
            "oldest_waiting_seconds": round(snap.oldest_waiting_seconds, 1),
            "handoffs_by_reason": snap.handoffs_by_reason,
            "handoffs_total": sum(snap.handoffs_by_reason.values()),
            "avg_first_response_seconds": _average(snap.first_response_sum, snap.first_response_count),
            "avg_resolution_seconds": _average(snap.resolution_sum, snap.resolution_count),
            "csat_average": _average(snap.csat_sum, snap.csat_count, digits=2),
            "csat_count": snap.csat_count,
            "breached": snap.breached_total,
            "within_hours": self.hours.is_open(snap.now),
        }

    async def count_http(self, method: Text, route: Text, status: int) -> None:
        """Count one HTTP request (kept in Redis so every service process adds to the same figures)."""
        await self.redis.hincrby(self.key("http"), f"{method}|{route}|{status}", 1)

    async def publish(self, ticket_id: Text, status: Text, change: Text) -> None:
        """Announce a change to the consoles (SSE)."""
        payload = _dumps({"id": ticket_id, "status": status, "change": change})
        await self.redis.publish(self.events_channel, payload)

    async def ping(self) -> bool:
        """True when Redis answers."""
        return bool(await self.redis.ping())


def _average(total: float, count: int, digits: int = 1) -> Optional[float]:
    return round(total / count, digits) if count else None
