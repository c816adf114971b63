"""Studio routes: train/check/publish, the model registry, the model server and the NLG server.

- POST /studio/api/train → 202 {"job_id"} (409 when a job runs)
- GET /studio/api/train/<job_id> → the job's state (studio/training.py)
- GET /studio/api/models → {"current", "models": [{"id", "created_at", "accuracy", "editor"}]} newest first
- POST /studio/api/models/<id>/rollback → that model becomes current
- GET /internal/models/current → the current model's tar.gz with an ETag; If-None-Match equal → 304
  (what Rasa's `models:` endpoint pulls every few seconds)
- GET /internal/nlg/responses → every response of the content files with a version (ETag; 304 while
  unchanged): what the bot's NLG keeps and re-checks (bot/nlg.py)
- POST /internal/nlg → Rasa's NLG-server protocol, answered from the content files (studio/nlg_server.py)

/internal/* needs the service token (staff/app.py's authentication hook), /studio/api/* a content token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Text

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from bot.responses import render
from common import http
from studio import nlg_server
from studio.models import ModelFileHasher, ModelNotFound, ModelRegistry, etag_matches, public_entry
from studio.settings import StudioSettings
from studio.training import TrainingBusy, TrainingManager, record_model_history

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20


def register(app: Sanic) -> None:
    """Add this part's routes to the staff service's app (app.ctx.studio holds the StudioSettings)."""
    settings: StudioSettings = app.ctx.studio
    registry = ModelRegistry(settings)
    hasher = ModelFileHasher()
    book = nlg_server.ResponseBook(settings.content_dir)
    trainer = TrainingManager(settings, lambda: app.ctx.store.redis, registry)
    app.ctx.studio_models = registry
    app.ctx.studio_training = trainer
    app.ctx.studio_nlg = book
    app.ctx.studio_hasher = hasher

    @app.before_server_stop
    async def stop_training(app: Sanic, _loop) -> None:
        await trainer.stop()

    # -- train, check, publish ---------------------------------------------------------------------
    @app.post("/studio/api/train")
    async def start_training(request: Request) -> HTTPResponse:
        try:
            job_id = await trainer.start(request.ctx.staff.name, request.ctx.staff)
        except TrainingBusy as busy:
            current = await trainer.get(busy.job_id) if busy.job_id else None
            return http.error(
                409,
                "conflict",
                "Đang có một lượt huấn luyện chạy; vui lòng chờ lượt đó xong.",
                current=current,
            )
        return response.json({"job_id": job_id}, status=202)

    @app.get("/studio/api/train/<job_id>")
    async def training_state(request: Request, job_id: Text) -> HTTPResponse:
        state = await trainer.get(job_id)
        if state is None:
            return http.error(404, "not_found", "Không tìm thấy lượt huấn luyện này.")
        return response.json(state)

    @app.get("/studio/api/models")
    async def list_models(request: Request) -> HTTPResponse:
        data = await asyncio.to_thread(registry.read)
        models = [public_entry(m) for m in reversed(data["models"])][: settings.keep_models]
        return response.json({"current": data.get("current"), "models": models})

    @app.post("/studio/api/models/<model_id>/rollback")
    async def rollback(request: Request, model_id: Text) -> HTTPResponse:
        try:
            previous, entry = await asyncio.to_thread(registry.set_current, model_id)
        except ModelNotFound:
            return http.error(404, "not_found", "Không tìm thấy mô hình này (hoặc tệp mô hình đã bị xóa).")
        if previous != model_id:
            before = None
            with contextlib.suppress(ModelNotFound):
                before = public_entry(await asyncio.to_thread(registry.get, previous))
            await record_model_history(
                app.ctx.store.redis, request.ctx.staff.name, "rollback", before, public_entry(entry)
            )
        return response.json({"current": model_id, "previous": previous, "model": public_entry(entry)})

    # -- model server for Rasa ---------------------------------------------------------------------
    @app.get("/internal/models/current")
    async def current_model(request: Request) -> HTTPResponse:
        entry = await asyncio.to_thread(registry.current)
        path = Path(entry["path"]) if entry else None
        if path is None or not path.is_file():
            return http.error(404, "not_found", "Chưa có mô hình nào để phục vụ.")
        etag = hasher.cached_etag(path) or await asyncio.to_thread(hasher.etag, path)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag_matches(request.headers.get("if-none-match"), etag):
            return response.empty(status=304, headers=headers)
        headers["filename"] = f"{entry['id']}.tar.gz"  # Rasa names the downloaded file after it
        headers["Content-Disposition"] = f'attachment; filename="{entry["id"]}.tar.gz"'
        headers["X-Model-Id"] = entry["id"]
        return await response.file_stream(
            path, chunk_size=CHUNK_BYTES, mime_type="application/gzip", headers=headers
        )

    # -- NLG server for Rasa -----------------------------------------------------------------------
    @app.get("/internal/nlg/responses")
    async def nlg_responses(request: Request) -> HTTPResponse:
        """Every response and its version (bot/nlg.py keeps them and re-checks with If-None-Match)."""
        version, responses = book.snapshot()
        headers = {"ETag": f'"{version}"', "Cache-Control": "no-cache"}
        if etag_matches(request.headers.get("if-none-match"), version):
            return response.empty(status=304, headers=headers)
        return response.json({"version": version, "responses": responses}, headers=headers)

    @app.post("/internal/nlg")
    async def nlg(request: Request) -> HTTPResponse:
        try:
            name, response_id, slots, arguments, channel = nlg_server.parse_request(http.json_body(request))
        except nlg_server.NLGRequestError as problem:
            return http.error(
                422,
                "invalid",
                "Yêu cầu NLG không hợp lệ.",
                problems=[{"field": problem.field, "message": problem.message}],
            )
        message = render(book.responses(), name, slots, channel, arguments, response_id)
        if message is None:
            return http.error(
                404, "no_response", f"Không có câu trả lời '{name}' cho kênh này.", response=name
            )
        return response.json(message)
