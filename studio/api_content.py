"""Studio routes for content (docs/studio.md): FAQ topics, preview, promotions and their "thử" box,
history and undo, spreadsheet export and import.

File work runs in the default executor (it is small, but the first validation loads the NLU
normaliser), serialised by `studio.content.WRITE_LOCK`; every change is logged in the history.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from actions import settings as action_settings
from common import http
from studio import spreadsheets
from studio.content import INVALID_MESSAGE, Conflict, FaqContent, NotFound, Problem, ValidationFailed
from studio.history import History, NotUndoable, undo
from studio.promotions import PromotionTable

logger = logging.getLogger(__name__)

PREFIX = "/studio/api"
EXPORTS = {
    "faq.xlsx": ("faq", "xlsx"),
    "faq.csv": ("faq", "csv"),
    "promotions.xlsx": ("promotions", "xlsx"),
    "promotions.csv": ("promotions", "csv"),
}
CONTENT_TYPES = {"xlsx": spreadsheets.XLSX_TYPE, "csv": spreadsheets.CSV_TYPE}
# the history's target of a change: a topic's name, a promotion's code
TARGET_KEYS = {"topic": "name", "promotion": "code"}
MAX_HISTORY = 500


def invalid(problems: Any, message: Text = INVALID_MESSAGE) -> HTTPResponse:
    """422 with the list of problems."""
    return http.error(422, "invalid", message, problems=[p.as_json() for p in problems])


def content_errors(handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable[..., Awaitable[HTTPResponse]]:
    """Turn the studio's content errors into JSON responses (validation 422, conflict 409, 404)."""

    @functools.wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, *args, **kwargs)
        except ValidationFailed as problem:
            return invalid(problem.problems, problem.message)
        except Conflict as problem:
            return http.error(409, "conflict", problem.message, current=problem.current)
        except NotFound as problem:
            return http.error(404, "not_found", problem.message)
        except NotUndoable as problem:
            return http.error(422, "not_undoable", problem.message)

    return wrapped


def required_version(value: Any) -> Text:
    """The `version` a write must carry; ValidationFailed when missing."""
    if not isinstance(value, str) or not value:
        raise ValidationFailed(
            [Problem("version", "Thiếu phiên bản (version) của nội dung đang sửa. Vui lòng tải lại trang.")]
        )
    return value


def versioned_body(request: Request) -> Tuple[Dict[Text, Any], Text]:
    """A write's JSON object and the `version` it must carry (ValidationFailed when missing)."""
    body = http.json_object(request)
    return body, required_version(body.get("version"))


async def in_thread(function: Callable[..., Any], *args: Any) -> Any:
    """Run file work off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args))


def register(app: Sanic) -> None:
    """Add this part's routes to the staff service's app (app.ctx.studio holds the StudioSettings)."""
    content = FaqContent(app.ctx.studio)
    table = PromotionTable(app.ctx.studio)
    app.ctx.studio_content = content
    app.ctx.studio_promotions = table

    def history() -> History:
        return History(app.ctx.store.redis)

    def editor(request: Request) -> Text:
        return request.ctx.staff.name

    async def log(request: Request, kind: Text, target: Text, action: Text, before: Any, after: Any) -> None:
        await history().record(editor(request), kind, target, action, before, after)

    readers = {"topic": content.get_topic, "promotion": table.get}

    async def logged_write(
        request: Request,
        kind: Text,
        key: Text,
        action: Text,
        write: Callable[[], Dict[Text, Any]],
        only_new_version: bool = False,
    ) -> Dict[Text, Any]:
        """`write()` to the topic or promotion `key`, logged with the record as it was before (both read off
        the event loop) under the written record's name or code; with `only_new_version`, a write that
        changed nothing is not logged."""
        before = await in_thread(readers[kind], key)
        after = await in_thread(write)
        if not only_new_version or after["version"] != before["version"]:
            await log(request, kind, after[TARGET_KEYS[kind]], action, before, after)
        return after

    async def logged_whole(
        request: Request, kind: Text, action: Text, change: Callable[[], Dict[Text, Any]]
    ) -> Dict[Text, Any]:
        """A record created or deleted whole: `change()` off the event loop, logged with the record it
        returns as the history's after (create) or before (delete)."""
        record = await in_thread(change)
        before, after = (None, record) if action == "create" else (record, None)
        await log(request, kind, record[TARGET_KEYS[kind]], action, before, after)
        return record

    # -- FAQ topics ---------------------------------------------------------------------------------
    @app.get(f"{PREFIX}/topics")
    @content_errors
    async def studio_list_topics(request: Request) -> HTTPResponse:
        """Topic summaries, optionally searched (?q=)."""
        topics = await in_thread(content.list_topics, request.args.get("q", ""))
        return response.json({"topics": topics})

    @app.get(f"{PREFIX}/topics/<name>")
    @content_errors
    async def studio_get_topic(request: Request, name: Text) -> HTTPResponse:
        """One topic with its answers, examples and version."""
        return response.json(await in_thread(content.get_topic, name))

    @app.post(f"{PREFIX}/topics")
    @content_errors
    async def studio_create_topic(request: Request) -> HTTPResponse:
        """A new topic."""
        body = http.json_object(request)
        create = functools.partial(
            content.create_topic, body.get("name"), body.get("responses"), body.get("examples")
        )
        return response.json(await logged_whole(request, "topic", "create", create), status=201)

    @app.put(f"{PREFIX}/topics/<name>")
    @content_errors
    async def studio_update_topic(request: Request, name: Text) -> HTTPResponse:
        """New answers and examples for a topic."""
        body, version = versioned_body(request)
        update = functools.partial(
            content.update_topic, name, version, body.get("responses"), body.get("examples")
        )
        return response.json(
            await logged_write(request, "topic", name, "update", update, only_new_version=True)
        )

    @app.post(f"{PREFIX}/topics/<name>/rename")
    @content_errors
    async def studio_rename_topic(request: Request, name: Text) -> HTTPResponse:
        """The topic under a new name."""
        body, version = versioned_body(request)
        rename = functools.partial(content.rename_topic, name, version, body.get("new_name"))
        return response.json(await logged_write(request, "topic", name, "rename", rename))

    @app.delete(f"{PREFIX}/topics/<name>")
    @content_errors
    async def studio_delete_topic(request: Request, name: Text) -> HTTPResponse:
        """Remove a topic."""
        version = required_version(request.args.get("version"))
        await logged_whole(request, "topic", "delete", functools.partial(content.delete_topic, name, version))
        return response.json({"deleted": name})

    @app.post(f"{PREFIX}/topics/<name>/examples")
    @content_errors
    async def studio_add_example(request: Request, name: Text) -> HTTPResponse:
        """One more example for a topic."""
        body, version = versioned_body(request)
        add = functools.partial(content.add_example, name, body.get("text"), version)
        return response.json(await logged_write(request, "topic", name, "add_example", add))

    @app.post(f"{PREFIX}/preview")
    @content_errors
    async def studio_preview(request: Request) -> HTTPResponse:
        """What the chat page shows for these answers."""
        body = http.json_object(request)
        return response.json({"messages": await in_thread(content.preview, body.get("responses"))})

    # -- promotions ---------------------------------------------------------------------------------
    @app.get(f"{PREFIX}/promotions")
    @content_errors
    async def studio_list_promotions(request: Request) -> HTTPResponse:
        """Every promotion and the shipping rules."""
        records = await in_thread(table.records)
        return response.json({"promotions": records, "shipping": await in_thread(table.shipping)})

    @app.post(f"{PREFIX}/promotions/try")
    @content_errors
    async def studio_try_promotion(request: Request) -> HTTPResponse:
        """The bot's answer for an order, as action_check_promotion would send it."""
        body = http.json_object(request)
        messages = await in_thread(table.try_order, body, action_settings.today())
        return response.json({"messages": messages})

    @app.post(f"{PREFIX}/promotions")
    @content_errors
    async def studio_create_promotion(request: Request) -> HTTPResponse:
        """A new promotion."""
        create = functools.partial(table.create, http.json_object(request))
        return response.json(await logged_whole(request, "promotion", "create", create), status=201)

    @app.put(f"{PREFIX}/promotions/<code>")
    @content_errors
    async def studio_update_promotion(request: Request, code: Text) -> HTTPResponse:
        """New values for a promotion."""
        body, version = versioned_body(request)
        update = functools.partial(table.update, code, version, body)
        return response.json(
            await logged_write(request, "promotion", code, "update", update, only_new_version=True)
        )

    @app.delete(f"{PREFIX}/promotions/<code>")
    @content_errors
    async def studio_delete_promotion(request: Request, code: Text) -> HTTPResponse:
        """Remove a promotion."""
        version = required_version(request.args.get("version"))
        before = await logged_whole(
            request, "promotion", "delete", functools.partial(table.delete, code, version)
        )
        return response.json({"deleted": before["code"]})

    # -- history ------------------------------------------------------------------------------------
    @app.get(f"{PREFIX}/history")
    @content_errors
    async def studio_history(request: Request) -> HTTPResponse:
        """Changes, newest first (?limit=, ?target=)."""
        try:
            limit = max(1, min(MAX_HISTORY, int(request.args.get("limit", "50"))))
        except ValueError:
            raise http.InvalidRequest("invalid_request", "Tham số limit phải là một số nguyên.") from None
        target: Optional[Text] = request.args.get("target") or None
        return response.json({"entries": await history().entries(limit=limit, target=target)})

    @app.post(f"{PREFIX}/history/<entry_id>/undo")
    @content_errors
    async def studio_undo(request: Request, entry_id: Text) -> HTTPResponse:
        """Restore what a change replaced (409 when the target changed since)."""

        return response.json(await undo(history(), entry_id, editor(request), content, table))

    # -- spreadsheets -------------------------------------------------------------------------------
    @app.get(f"{PREFIX}/export/<filename>")
    @content_errors
    async def studio_export(request: Request, filename: Text) -> HTTPResponse:
        """faq.xlsx, faq.csv, promotions.xlsx or promotions.csv."""
        if filename not in EXPORTS:
            raise NotFound("Không có tệp xuất này.")
        what, fmt = EXPORTS[filename]
        if what == "faq":
            data = await in_thread(spreadsheets.export_faq, content, fmt)
        else:
            data = await in_thread(spreadsheets.export_promotions, table, fmt)
        headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
        return response.raw(data, content_type=CONTENT_TYPES[fmt], headers=headers)

    @app.post(f"{PREFIX}/import/<what>")
    @content_errors
    async def studio_import(request: Request, what: Text) -> HTTPResponse:
        """A spreadsheet (raw body, ?format=xlsx|csv); nothing is applied if any row is wrong."""
        if what not in ("faq", "promotions"):
            raise NotFound("Chỉ nhập được FAQ hoặc khuyến mãi.")
        fmt = request.args.get("format", "")
        if fmt not in spreadsheets.FORMATS:
            raise http.InvalidRequest("invalid_request", "Định dạng tệp phải là xlsx hoặc csv (?format=…).")
        if not request.body:
            raise http.InvalidRequest("invalid_request", "Thiếu tệp cần nhập.")
        if what == "faq":
            result = await in_thread(spreadsheets.import_faq, content, request.body, fmt)
            kind = "topic"
        else:
            result = await in_thread(spreadsheets.import_promotions, table, request.body, fmt)
            kind = "promotion"
        if result.errors:
            return http.error(
                422,
                "invalid",
                "Tệp có dòng chưa hợp lệ nên chưa có thay đổi nào được áp dụng. Vui lòng sửa rồi nhập lại.",
                **result.as_json(),
            )
        for before, after in result.changes:
            await log(request, kind, after[TARGET_KEYS[kind]], "import", before, after)
        return response.json(result.as_json())
