"""The audit log: who did what, when, to what — in one Redis stream (`senmart:staff:audit`), trimmed to
AUDIT_RETENTION_DAYS. Entries never hold a password or a customer's words; identifiers of customers and
contact data in details are masked (common/privacy.py)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import time
from datetime import datetime
from typing import Any, Callable, Dict, List, Mapping, Optional, Text

from common.contracts import VIETNAM
from common.privacy import mask_digits, mask_personal
from common.staff_keys import AUDIT_STREAM
from common.staff_roles import Principal

logger = logging.getLogger(__name__)

SCAN_BATCH = 500
SCAN_MAX = 50_000  # entries looked at for one filtered query
LIMIT_MAX = 5000
CSV_COLUMNS = ("time", "actor_id", "actor_name", "actor_role", "action", "target", "details")
# customer identifiers (sender ids: phone numbers on Zalo, PSIDs on Messenger) are masked
CUSTOMER_TARGET_PREFIX = "customer:"


def masked_target(target: Text) -> Text:
    """A target as the log keeps it: a customer's sender id masked, others as they are."""
    if target.startswith(CUSTOMER_TARGET_PREFIX):
        return CUSTOMER_TARGET_PREFIX + mask_digits(target[len(CUSTOMER_TARGET_PREFIX) :])
    return target


def _masked(details: Mapping[Text, Any]) -> Dict[Text, Any]:
    return {key: mask_personal(value) if isinstance(value, str) else value for key, value in details.items()}


def _entry(entry_id: Text, fields: Mapping[Text, Text]) -> Dict[Text, Any]:
    try:
        details = json.loads(fields.get("details") or "{}")
    except ValueError:
        details = {}
    return {
        "id": entry_id,
        "ts": float(fields.get("ts") or int(entry_id.split("-")[0]) / 1000),
        "actor_id": fields.get("actor_id", ""),
        "actor_name": fields.get("actor_name", ""),
        "actor_role": fields.get("actor_role", ""),
        "action": fields.get("action", ""),
        "target": fields.get("target", ""),
        "details": details,
    }


class AuditLog:
    """Appends and reads the audit stream."""

    def __init__(self, redis, retention_days: float, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.retention_seconds = retention_days * 86400
        self.clock = clock

    async def record(
        self,
        actor: Optional[Principal],
        action: Text,
        target: Text = "",
        details: Optional[Mapping[Text, Any]] = None,
        actor_name: Text = "",
    ) -> None:
        """Append one entry; `actor` None is someone not signed in (a failed sign-in: `actor_name` is
        the e-mail typed, masked). An audit failure is logged, never raised into the action."""
        fields = {
            "ts": repr(self.clock()),
            "actor_id": actor.audit_name if actor else "",
            "actor_name": actor.name if actor else mask_personal(actor_name),
            "actor_role": actor.role if actor else "",
            "action": action,
            "target": masked_target(target),
            "details": json.dumps(_masked(details or {}), ensure_ascii=False, separators=(",", ":")),
        }
        try:
            await self.redis.xadd(AUDIT_STREAM, fields)
        except Exception:
            logger.exception("Could not write the audit entry %s.", action)

    async def trim(self) -> int:
        """Drop entries older than the retention; returns how many."""
        cutoff_ms = int((self.clock() - self.retention_seconds) * 1000)
        return int(await self.redis.xtrim(AUDIT_STREAM, minid=f"{max(0, cutoff_ms)}-0", approximate=False))

    async def query(
        self,
        actor: Text = "",
        action: Text = "",
        since: Optional[float] = None,
        until: Optional[float] = None,
        limit: int = 200,
    ) -> List[Dict[Text, Any]]:
        """Newest first: entries whose actor id or name contains `actor` and whose action starts with
        `action`, between `since` and `until` (epoch seconds)."""
        limit = max(1, min(LIMIT_MAX, limit))
        high = f"{int(until * 1000)}-99999999" if until is not None else "+"
        low = f"{int(since * 1000)}-0" if since is not None else "-"
        needle = actor.strip().casefold()
        found: List[Dict[Text, Any]] = []
        seen = 0
        while len(found) < limit and seen < SCAN_MAX:
            batch = await self.redis.xrevrange(AUDIT_STREAM, max=high, min=low, count=SCAN_BATCH)
            if not batch:
                break
            for entry_id, fields in batch:
                entry = _entry(entry_id, fields)
                if action and not entry["action"].startswith(action):
                    continue
                if needle and needle not in (entry["actor_id"] + " " + entry["actor_name"]).casefold():
                    continue
                found.append(entry)
                if len(found) >= limit:
                    break
            seen += len(batch)
            last_ms, last_seq = batch[-1][0].split("-")
            high = f"{last_ms}-{int(last_seq) - 1}" if int(last_seq) > 0 else f"{int(last_ms) - 1}-99999999"
            if len(batch) < SCAN_BATCH:
                break
        return found

    async def run_trimmer(self, every_seconds: float) -> None:
        """Trim now and then every `every_seconds` (a background task of the staff service)."""
        while True:
            try:
                removed = await self.trim()
                if removed:
                    logger.info("Audit log: %d entries past the retention removed.", removed)
            except asyncio.CancelledError:
                raise
            except Exception as problem:
                logger.warning("Audit log trim failed: %s", problem)
            await asyncio.sleep(every_seconds)


def csv_text(entries: List[Dict[Text, Any]]) -> Text:
    """The entries as CSV (UTF-8 with BOM for spreadsheet programs); a cell that a spreadsheet would
    read as a formula is prefixed with an apostrophe."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        row = [
            datetime.fromtimestamp(entry["ts"], VIETNAM).isoformat(timespec="seconds"),
            entry["actor_id"],
            entry["actor_name"],
            entry["actor_role"],
            entry["action"],
            entry["target"],
            json.dumps(entry["details"], ensure_ascii=False),
        ]
        writer.writerow(["'" + cell if cell[:1] in ("=", "+", "-", "@") else cell for cell in row])
    return out.getvalue()


# The routes of the other parts (handoff/, studio/) whose successful calls are audited by the staff
# service's response middleware: (method, route path) → action. The first path parameter names the target.
ROUTE_ACTIONS: Dict[tuple, Text] = {
    ("POST", "/api/tickets/<ticket_id>/claim"): "ticket.claim",
    ("POST", "/api/tickets/<ticket_id>/messages"): "ticket.reply",
    ("POST", "/api/tickets/<ticket_id>/resolve"): "ticket.resolve",
    ("POST", "/api/tickets/<ticket_id>/return-to-bot"): "ticket.return_to_bot",
    ("DELETE", "/api/customers/<sender_id>"): "customer.delete",
    ("POST", "/studio/api/topics"): "content.topic_create",
    ("PUT", "/studio/api/topics/<name>"): "content.topic_update",
    ("POST", "/studio/api/topics/<name>/rename"): "content.topic_rename",
    ("DELETE", "/studio/api/topics/<name>"): "content.topic_delete",
    ("POST", "/studio/api/topics/<name>/examples"): "content.examples_add",
    ("POST", "/studio/api/promotions"): "content.promotion_create",
    ("PUT", "/studio/api/promotions/<code>"): "content.promotion_update",
    ("DELETE", "/studio/api/promotions/<code>"): "content.promotion_delete",
    ("POST", "/studio/api/history/<entry_id>/undo"): "content.undo",
    ("POST", "/studio/api/import/<what>"): "content.import",
    ("POST", "/studio/api/inbox/<item_id>/assign"): "content.inbox_assign",
    ("POST", "/studio/api/inbox/<item_id>/out-of-scope"): "content.inbox_out_of_scope",
    ("POST", "/studio/api/inbox/<item_id>/ignore"): "content.inbox_ignore",
    # a training job started; its end (model.publish, model.refused, model.train_failed) is recorded when
    # the job ends (training_outcome, registered by staff/app.py)
    ("POST", "/studio/api/train"): "model.train",
    ("POST", "/studio/api/models/<model_id>/rollback"): "model.rollback",
}
TRAINING_OUTCOMES = {"published": "model.publish", "refused": "model.refused", "failed": "model.train_failed"}


def training_outcome(state: Mapping[Text, Any]) -> tuple:
    """(action, target, details) of the audit entry for a training job's final state."""
    result = state.get("result") or {}
    details = {"job_id": state.get("job_id", ""), "reason": result.get("reason", "")}
    model_id = state.get("model_id") or ""
    return TRAINING_OUTCOMES.get(state.get("state", ""), "model.train_failed"), f"model:{model_id}", details


TARGET_KINDS = {
    "ticket_id": "ticket",
    "sender_id": "customer",
    "name": "topic",
    "code": "promotion",
    "entry_id": "history",
    "what": "import",
    "item_id": "inbox",
    "model_id": "model",
}


def route_action(method: Text, route_path: Text, params: Mapping[Text, Any]) -> Optional[tuple]:
    """(action, target) of an audited route call, or None."""
    action = ROUTE_ACTIONS.get((method, route_path))
    if action is None:
        return None
    for name, value in params.items():
        return action, f"{TARGET_KINDS.get(name, name)}:{value}"
    return action, ""
