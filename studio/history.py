"""The studio's change log in Redis (`senmart:studio:history`) and undo of topic and promotion changes.

Entries live in a Redis stream, newest last; the stream id is the entry id, so ids are unique and
ordered. Each entry keeps the whole object before and after the change, which is what undo restores.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Text

from studio.content import Conflict, ContentError, FaqContent, NotFound
from studio.promotions import PromotionTable

HISTORY_KEY = "senmart:studio:history"
ENTRY_ID = re.compile(r"\A\d{1,20}-\d{1,20}\Z")
MAX_ENTRIES = 10_000
KINDS = ("topic", "promotion", "inbox", "model")
UNDO_CONFLICT = "Nội dung đã thay đổi sau lần sửa này nên không hoàn tác được. Vui lòng xem bản hiện tại."


class NotUndoable(ContentError):
    """A change undo cannot revert here (inbox, model: they have their own actions)."""


def utc_now() -> Text:
    """Now as ISO 8601 UTC."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class History:
    """Records and lists changes; `redis` is an asyncio client with decode_responses=True."""

    def __init__(self, redis: Any, key: Text = HISTORY_KEY, max_entries: int = MAX_ENTRIES) -> None:
        self.redis = redis
        self.key = key
        self.max_entries = max_entries

    async def record(
        self,
        editor: Text,
        kind: Text,
        target: Text,
        action: Text,
        before: Optional[Mapping[Text, Any]],
        after: Optional[Mapping[Text, Any]],
        **extra: Any,
    ) -> Dict[Text, Any]:
        """Append one change; returns the entry with its id."""
        entry: Dict[Text, Any] = {
            "at": utc_now(),
            "editor": editor,
            "kind": kind,
            "target": target,
            "action": action,
            "before": before,
            "after": after,
            **extra,
        }
        body = json.dumps(entry, ensure_ascii=False)
        entry_id = await self.redis.xadd(self.key, {"entry": body}, maxlen=self.max_entries, approximate=True)
        return {"id": entry_id, **entry}

    @staticmethod
    def _entry(entry_id: Text, fields: Mapping[Text, Text]) -> Dict[Text, Any]:
        return {"id": entry_id, **json.loads(fields["entry"])}

    async def get(self, entry_id: Text) -> Optional[Dict[Text, Any]]:
        """One entry, or None."""
        if not isinstance(entry_id, str) or not ENTRY_ID.match(entry_id):
            return None
        found = await self.redis.xrange(self.key, min=entry_id, max=entry_id, count=1)
        return self._entry(*found[0]) if found else None

    async def entries(
        self, limit: int = 50, target: Optional[Text] = None, kind: Optional[Text] = None
    ) -> List[Dict[Text, Any]]:
        """The newest entries first, optionally only those of one target (and kind)."""
        found: List[Dict[Text, Any]] = []
        upper = "+"
        while len(found) < limit:
            page = await self.redis.xrevrange(self.key, max=upper, min="-", count=200)
            if not page:
                break
            for entry_id, fields in page:
                entry = self._entry(entry_id, fields)
                if target is not None and target not in _targets(entry):
                    continue
                if kind is not None and entry["kind"] != kind:
                    continue
                found.append(entry)
                if len(found) >= limit:
                    break
            last_id = page[-1][0]
            upper = f"({last_id}"
            if len(page) < 200:
                break
        return found


def _targets(entry: Mapping[Text, Any]) -> List[Text]:
    """The names an entry concerns (a rename concerns the old and the new name)."""
    names = [entry.get("target")]
    for side in ("before", "after"):
        state = entry.get(side)
        if isinstance(state, Mapping):
            names += [state.get("name"), state.get("code")]
    return [n for n in names if n]


def _same_content(first: Mapping[Text, Any], second: Mapping[Text, Any]) -> bool:
    return first.get("version") == second.get("version")


def undo_topic(content: FaqContent, entry: Mapping[Text, Any]) -> Dict[Text, Any]:
    """Put a topic back as it was before the change; Conflict when it changed since."""
    before, after = entry.get("before"), entry.get("after")
    if after is None:  # deleted: recreate, unless a topic of that name exists again
        current = content.find(before["name"])
        if current is not None:
            raise Conflict(current, UNDO_CONFLICT)
        return {
            "before": None,
            "after": content.create_topic(before["name"], before["responses"], before["examples"]),
        }
    current = content.find(after["name"])
    if current is None or not _same_content(current, after):
        raise Conflict(current, UNDO_CONFLICT)
    if before is None:  # created: remove it
        content.delete_topic(after["name"], after["version"])
        return {"before": current, "after": None}
    topic = current
    if before["name"] != after["name"]:
        if content.exists(before["name"]):
            raise Conflict(content.find(before["name"]), UNDO_CONFLICT)
        topic = content.rename_topic(after["name"], after["version"], before["name"])
    if topic["version"] != before["version"]:
        topic = content.update_topic(topic["name"], topic["version"], before["responses"], before["examples"])
    return {"before": current, "after": topic}


def undo_promotion(table: PromotionTable, entry: Mapping[Text, Any]) -> Dict[Text, Any]:
    """Put a promotion back as it was before the change; Conflict when it changed since."""
    before, after = entry.get("before"), entry.get("after")
    if after is None:
        current = table.find(before["code"])
        if current is not None:
            raise Conflict(current, UNDO_CONFLICT)
        return {"before": None, "after": table.create(before)}
    current = table.find(after["code"])
    if current is None or not _same_content(current, after):
        raise Conflict(current, UNDO_CONFLICT)
    if before is None:
        table.delete(after["code"], after["version"])
        return {"before": current, "after": None}
    if before["code"] != after["code"] and table.find(before["code"]) is not None:
        raise Conflict(table.find(before["code"]), UNDO_CONFLICT)
    return {"before": current, "after": table.update(after["code"], after["version"], before)}


def revert(entry: Mapping[Text, Any], content: FaqContent, table: PromotionTable) -> Dict[Text, Any]:
    """Undo one logged change in the files: {"target", "before", "after"} of the undo itself."""
    if entry["kind"] == "topic":
        result = undo_topic(content, entry)
        key = "name"
    elif entry["kind"] == "promotion":
        result = undo_promotion(table, entry)
        key = "code"
    else:
        raise NotUndoable("Thay đổi loại này không hoàn tác được ở đây.")
    state = result["after"] or result["before"]
    return {"target": state[key], **result}


async def undo(
    history: History, entry_id: Text, editor: Text, content: FaqContent, table: PromotionTable
) -> Dict[Text, Any]:
    """Undo one change (file work off the event loop) and log the undo; NotFound, NotUndoable, Conflict."""
    entry = await history.get(entry_id)
    if entry is None:
        raise NotFound("Không tìm thấy thay đổi này trong lịch sử.")
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(None, revert, entry, content, table)
    return await history.record(
        editor, entry["kind"], result["target"], "undo", result["before"], result["after"], undo_of=entry_id
    )
