"""Studio route of the report: `GET /studio/api/report?days=14` (logic in `studio/report.py`).

From the live model's stored evaluation and the per-day figures in Redis; the API never runs an
evaluation itself (`message` says "chưa có đánh giá" until the studio has published one).
"""

from __future__ import annotations

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from studio.inbox import inbox_for
from studio.report import DEFAULT_DAYS, build_report

MAX_DAYS = 90


def register(app: Sanic) -> None:
    """Add the report route (app.ctx.studio holds the StudioSettings)."""

    @app.get("/studio/api/report")
    async def report(request: Request) -> HTTPResponse:
        raw = request.args.get("days", str(DEFAULT_DAYS))
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
            problem = {"field": "days", "message": f"Số ngày phải là số nguyên từ 1 đến {MAX_DAYS}."}
            return response.json(
                {"error": "invalid", "message": "Yêu cầu chưa hợp lệ.", "problems": [problem]}, status=422
            )
        body = await build_report(inbox_for(request.app), request.app.ctx.studio, int(raw))
        return response.json(body)
