"""The staff pages of this package (sign-in, admin, 'no permission'), their files under /staff/static/
(staff/static/), and the answers of the authentication middleware for pages: to the sign-in page, or
the 'no permission' page."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Text
from urllib.parse import quote

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from common import http

STATIC_DIR = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS: Dict[Text, Text] = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


async def page(filename: Text, status: int = 200) -> HTTPResponse:
    """A file of staff/static/ with the pages' security headers."""
    served = await http.static_file(STATIC_DIR, filename, SECURITY_HEADERS, utf8=True)
    served.status = status if served.status == 200 else served.status
    return served


def to_sign_in(request: Request, change_password: bool = False) -> HTTPResponse:
    """A redirect to the sign-in page, coming back to this page afterwards."""
    target = "/signin?change=1" if change_password else "/signin?next=" + quote(request.path, safe="/")
    return response.redirect(target, status=302, headers={"Cache-Control": "no-store"})


async def forbidden_page() -> HTTPResponse:
    """403: the 'no permission' page."""
    return await page("forbidden.html", status=403)


def register(app: Sanic) -> None:
    """/staff/static/<filename> (public: the pages' CSS and scripts)."""

    async def staff_static(request: Request, filename: Text) -> HTTPResponse:
        """signin.js, admin.js, staff.css."""
        return await page(filename)

    app.add_route(staff_static, "/staff/static/<filename:path>", methods=["GET"], name="staff_static")
