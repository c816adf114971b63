"""Studio routes of the "Bot chưa hiểu" inbox (docs/studio.md), logic in `studio/inbox.py`.

- `GET /studio/api/inbox?status=open&limit=100` → `{"items": [...], "counts": {status: n}}` newest first;
- `POST /studio/api/inbox/<id>/assign` `{"topic"}` → the masked text becomes an example of `faq/<topic>`;
- `POST /studio/api/inbox/<id>/out-of-scope` → an example of `out_of_scope` (data/nlu/out_of_scope.yml);
- `POST /studio/api/inbox/<id>/ignore`.

The item is moved first (one Lua script: two editors cannot both add the same text), then the example
is written by `studio.content.FaqContent`; when the write is refused, the item goes back as it was.
Every action is logged in the studio's history (kind "inbox"); an assignment also logs the topic's
change (kind "topic", action "update"), which the history's undo can revert.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Optional, Text

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from common import http
from studio.inbox import (
    ASSIGNED,
    IGNORED,
    OPEN,
    OUT_OF_SCOPE,
    STATUSES,
    InboxConflict,
    InboxItemNotFound,
    inbox_for,
)

logger = logging.getLogger(__name__)

TOPIC_NAME = re.compile(r"\A[a-z][a-z0-9_]{1,49}\Z")
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
STATUS_LABELS = {
    OPEN: "chưa xử lý",
    ASSIGNED: "đã gán vào chủ đề",
    OUT_OF_SCOPE: "đã đánh dấu ngoài phạm vi",
    IGNORED: "đã bỏ qua",
}
NOT_FOUND_MESSAGE = "Không tìm thấy câu này trong hộp “Bot chưa hiểu” (có thể đã bị xoá bớt khi hộp đầy)."
INVALID_MESSAGE = "Nội dung chưa hợp lệ, vui lòng sửa các mục được đánh dấu."


def _invalid(field: Text, message: Text) -> HTTPResponse:
    return http.error(422, "invalid", INVALID_MESSAGE, problems=[{"field": field, "message": message}])


def _conflict(error: InboxConflict) -> HTTPResponse:
    label = STATUS_LABELS.get(error.status, error.status)
    return http.error(
        409, "conflict", f"Câu này {label}, không thể thực hiện thao tác này nữa.", current=error.item
    )


def _content(app: Sanic):
    """The studio's content files (FAQ topics, other intents), one per app."""
    faq = getattr(app.ctx, "studio_content", None)  # set by studio/api_content.py
    if faq is None:
        from studio.content import FaqContent

        faq = app.ctx.studio_content = FaqContent(app.ctx.studio)
    return faq


async def record_history(
    request: Request, kind: Text, target: Text, action: Text, before: Any, after: Any, **extra: Any
) -> None:
    """One entry of the studio's history (`studio.history.History`); the change itself is already made,
    so a failure to log it is logged here and not shown to the editor as an error."""
    try:
        from studio.history import History

        await History(request.app.ctx.store.redis).record(
            request.ctx.staff.name, kind, target, action, before, after, **extra
        )
    except Exception:
        logger.exception("Inbox: history entry (%s %s) not written.", kind, target)


def register(app: Sanic) -> None:
    """Add the inbox routes (app.ctx.studio holds the StudioSettings)."""

    @app.get("/studio/api/inbox")
    async def list_inbox(request: Request) -> HTTPResponse:
        status = request.args.get("status", OPEN) or OPEN
        if status != "all" and status not in STATUSES:
            return _invalid("status", "Trạng thái phải là open, assigned, out_of_scope, ignored hoặc all.")
        raw_limit = request.args.get("limit", str(DEFAULT_LIMIT))
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            return _invalid("limit", f"Số dòng phải là số nguyên từ 1 đến {MAX_LIMIT}.")
        inbox = inbox_for(request.app)
        items = await inbox.list(None if status == "all" else status, int(raw_limit))
        return response.json({"items": items, "counts": await inbox.counts()})

    async def add_example(
        request: Request, item_id: Text, status: Text, topic: Optional[Text]
    ) -> HTTPResponse:
        from studio.content import Conflict, ContentError, NotFound, ValidationFailed

        inbox = inbox_for(request.app)
        editor = request.ctx.staff.name
        try:
            change = await inbox.set_status(item_id, status, editor, topic, allowed_from=(OPEN, IGNORED))
        except InboxItemNotFound:
            return http.error(404, "not_found", NOT_FOUND_MESSAGE)
        except InboxConflict as error:
            return _conflict(error)
        faq = _content(request.app)
        text = change.before["text"]
        topic_before = topic_after = None
        try:
            if topic is not None:
                topic_before = await asyncio.to_thread(faq.find, topic)
                topic_after = await asyncio.to_thread(faq.add_example, topic, text)
            else:
                await asyncio.to_thread(faq.add_out_of_scope_example, text)
        except Exception as error:
            await inbox.restore(change.before, editor)
            if isinstance(error, ValidationFailed):
                problems = [problem.as_json() for problem in error.problems]
                return http.error(422, "invalid", error.message, problems=problems)
            if isinstance(error, NotFound):
                return http.error(404, "not_found", error.message)
            if isinstance(error, Conflict):
                return http.error(409, "conflict", error.message, current=error.current)
            if isinstance(error, ContentError):
                return http.error(422, "invalid", error.message, problems=[])
            raise
        intent = f"faq/{topic}" if topic else "out_of_scope"
        action = "assign" if topic else "out_of_scope"
        await record_history(
            request, "inbox", item_id, action, change.before, change.after, intent=intent, example=text
        )
        if topic is not None:  # the topic file changed too: this entry can be undone like any edit
            await record_history(
                request, "topic", topic, "update", topic_before, topic_after, inbox_item=item_id
            )
        logger.info("Inbox item %s → %s%s by %s.", item_id, status, f" ({topic})" if topic else "", editor)
        return response.json({"item": change.after, "example": text, "intent": intent})

    @app.post("/studio/api/inbox/<item_id>/assign")
    async def assign(request: Request, item_id: Text) -> HTTPResponse:
        body = http.json_body(request, empty={})
        topic = body.get("topic") if isinstance(body, dict) else None
        if not isinstance(topic, str) or not topic.strip():
            return _invalid("topic", "Vui lòng chọn chủ đề FAQ cho câu này.")
        topic = topic.strip()
        if not TOPIC_NAME.match(topic):
            return _invalid("topic", "Tên chủ đề chỉ gồm chữ thường không dấu, số và dấu gạch dưới.")
        return await add_example(request, item_id, ASSIGNED, topic)

    @app.post("/studio/api/inbox/<item_id>/out-of-scope")
    async def out_of_scope(request: Request, item_id: Text) -> HTTPResponse:
        http.json_body(request, empty={})
        return await add_example(request, item_id, OUT_OF_SCOPE, None)

    @app.post("/studio/api/inbox/<item_id>/ignore")
    async def ignore(request: Request, item_id: Text) -> HTTPResponse:
        http.json_body(request, empty={})
        inbox = inbox_for(request.app)
        try:
            change = await inbox.set_status(item_id, IGNORED, request.ctx.staff.name, allowed_from=(OPEN,))
        except InboxItemNotFound:
            return http.error(404, "not_found", NOT_FOUND_MESSAGE)
        except InboxConflict as error:
            return _conflict(error)
        await record_history(request, "inbox", item_id, "ignore", change.before, change.after)
        return response.json({"item": change.after})
