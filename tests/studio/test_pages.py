"""The studio pages (/studio, /studio/report, /studio/static/…) as the handoff app serves them."""

import http.client
import json
import re
from email.message import Message
from html.parser import HTMLParser
from typing import Tuple

import pytest

from studio.pages import STATIC_DIR, STUDIO_CSP
from tests.studio.inbox_service import AGENT_TOKEN, CONTENT_TOKEN, StudioService

PAGES = {"/studio": "studio.html", "/studio/": "studio.html", "/studio/report": "report.html"}
ASSETS = {
    "studio.js": "text/javascript; charset=utf-8",
    "report.js": "text/javascript; charset=utf-8",
    "studio.css": "text/css; charset=utf-8",
    "studio.html": "text/html; charset=utf-8",
    "report.html": "text/html; charset=utf-8",
}


@pytest.fixture(scope="module")
def served(redis_server, tmp_path_factory):
    """The whole handoff app (the studio mounted as in production): `python -m staff` on a free port."""
    root = tmp_path_factory.mktemp("pages")
    service = StudioService(redis_server.url, root, root, STUDIO_TOKENS=f"content:{CONTENT_TOKEN}").start()
    try:
        yield Client(f"127.0.0.1:{service.port}")
    finally:
        service.stop()


class Client:
    """GET with the path sent exactly as written (no dot-segment clean-up by a client library)."""

    def __init__(self, netloc: str) -> None:
        self.netloc = netloc

    def get(self, path: str, token: str = "") -> Tuple[int, Message, bytes]:
        connection = http.client.HTTPConnection(self.netloc, timeout=10)
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
            response = connection.getresponse()
            return response.status, response.msg, response.read()  # headers: case-insensitive
        finally:
            connection.close()


def assert_security_headers(headers) -> None:
    assert headers["Content-Security-Policy"] == STUDIO_CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_the_csp_allows_only_our_own_files():
    directives = dict(part.strip().split(" ", 1) for part in STUDIO_CSP.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no CDN
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in STUDIO_CSP


@pytest.mark.parametrize("path", sorted(PAGES))
def test_pages_are_served_with_the_csp(served, path):
    status, headers, raw = served.get(path, CONTENT_TOKEN)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert_security_headers(headers)
    body = raw.decode("utf-8")
    assert body == (STATIC_DIR / PAGES[path]).read_text(encoding="utf-8")
    assert '<html lang="vi">' in body


@pytest.mark.parametrize("filename", sorted(ASSETS))
def test_static_files_are_served_with_their_type_and_the_csp(served, filename):
    status, headers, body = served.get(f"/studio/static/{filename}")
    assert status == 200
    assert headers["Content-Type"] == ASSETS[filename]
    assert_security_headers(headers)
    assert body == (STATIC_DIR / filename).read_bytes()


@pytest.mark.parametrize(
    "raw_path",
    [
        "/studio/static/missing.js",
        "/studio/static/",
        "/studio/static/../pages.py",
        "/studio/static/%2e%2e/pages.py",
        "/studio/static/..%2fpages.py",
        "/studio/static/%2e%2e%2f%2e%2e%2fhandoff/app.py",
        "/studio/static/..%2f..%2fREADME.md",
    ],
)
def test_nothing_outside_the_static_directory(served, raw_path):
    status, _headers, body = served.get(raw_path)
    assert status == 404
    assert json.loads(body)["error"] == "not_found"


def test_pages_and_the_api_need_a_sign_in(served):
    status, headers, _ = served.get("/studio")
    assert (status, headers["Location"]) == (302, "/signin?next=/studio")
    assert served.get("/studio/report")[0] == 302
    assert served.get("/studio/api/topics")[0] == 401
    assert served.get("/studio", AGENT_TOKEN)[0] == 403  # the 'no permission' page
    assert served.get("/studio/static/studio.js")[0] == 200  # the files are public


class Tags(HTMLParser):
    """Scripts, stylesheets, inline styles and event-handler attributes of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts, self.styles, self.inline = [], [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes.get("src"))
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.styles.append(attributes.get("href"))
        if tag == "style":
            self.inline.append("<style>")
        for name in attributes:
            if name == "style" or name.startswith("on"):
                self.inline.append(f"{tag}[{name}]")


@pytest.mark.parametrize("page", ["studio.html", "report.html"])
def test_pages_load_only_our_files_without_inline_code(page):
    tags = Tags()
    tags.feed((STATIC_DIR / page).read_text(encoding="utf-8"))
    assert tags.inline == []
    assert tags.scripts and all(src and src.startswith("/studio/static/") for src in tags.scripts)
    assert tags.styles and all(href.startswith("/studio/static/") for href in tags.styles)
    for url in tags.scripts + tags.styles:
        assert (STATIC_DIR / url.removeprefix("/studio/static/")).is_file(), url
    assert not re.search(r"(src|href)=\"(https?:)?//", (STATIC_DIR / page).read_text(encoding="utf-8"))


@pytest.mark.parametrize("script", ["studio.js", "report.js"])
def test_scripts_never_insert_markup(script):
    code = (STATIC_DIR / script).read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in code, sink
    assert "textContent" in code
