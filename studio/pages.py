"""The studio's pages: /studio, /studio/report and their files under /studio/static/ (studio/static/)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Text

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from common import http

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Our own files only: no inline script or style, no CDN; the API is same-origin (fetch), and the
# spreadsheet downloads are blob: URLs made by studio.js; https images as on the chat page (preview).
STUDIO_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' https: data: blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS: Dict[Text, Text] = {
    "Content-Security-Policy": STUDIO_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def static_file(filename: Text) -> HTTPResponse:
    """A file of studio/static/ (never outside it) with the studio's headers, or a JSON 404."""
    return await http.static_file(STATIC_DIR, filename, SECURITY_HEADERS, utf8=True)


def register(app: Sanic) -> None:
    """Add this part's routes to the staff service's app (app.ctx.studio holds the StudioSettings)."""

    async def studio_page(request: Request) -> HTTPResponse:
        """The studio: log in, then the tabs (FAQ, promotions, inbox, training, history, sheets)."""
        return await static_file("studio.html")

    async def report_page(request: Request) -> HTTPResponse:
        """The report page (charts drawn by report.js)."""
        return await static_file("report.html")

    async def studio_static(request: Request, filename: Text) -> HTTPResponse:
        """studio.js, studio.css, report.js, …"""
        return await static_file(filename)

    app.add_route(studio_page, "/studio", methods=["GET"], strict_slashes=False, name="studio_page")
    app.add_route(report_page, "/studio/report", methods=["GET"], strict_slashes=False, name="studio_report")
    app.add_route(studio_static, "/studio/static/<filename:path>", methods=["GET"], name="studio_static")
