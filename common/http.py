"""HTTP helpers of the staff service (handoff and studio routes alike): JSON errors, JSON bodies, bearer
tokens, files served with security headers."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any, Dict, Optional, Text

from sanic import Request, response
from sanic.response import HTTPResponse


class InvalidRequest(ValueError):
    """Input the service cannot accept; `message` is Vietnamese, shown to the caller."""

    def __init__(self, error: Text, message: Text) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


def error(http_status: int, code: Text, message: Text, **extra: Any) -> HTTPResponse:
    """A JSON error: machine code in `error`, Vietnamese explanation in `message`."""
    return response.json({"error": code, "message": message, **extra}, status=http_status)


_REQUIRED = object()


def json_body(request: Request, empty: Any = _REQUIRED) -> Any:
    """The parsed JSON body; InvalidRequest when not JSON, or when absent and no `empty` value is given
    (the actions without fields take `empty={}`)."""
    if not request.body:
        if empty is not _REQUIRED:
            return empty
        raise InvalidRequest("invalid_json", "Thiếu dữ liệu JSON trong yêu cầu.")
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError) as problem:
        raise InvalidRequest("invalid_json", "Dữ liệu gửi lên không phải JSON hợp lệ.") from problem


def json_object(request: Request) -> Dict[Text, Any]:
    """The JSON object {…} of a request; InvalidRequest when absent, broken or not an object."""
    body = json_body(request)
    if not isinstance(body, dict):
        raise InvalidRequest("invalid_json", "Dữ liệu JSON phải là một đối tượng {…}.")
    return body


def bearer_token(request: Request) -> Text:
    """The token of an `Authorization: Bearer …` header, or empty."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def static_file(
    base_dir: Path, filename: Text, headers: Optional[Dict[Text, Text]] = None, utf8: bool = False
) -> HTTPResponse:
    """A file under base_dir (never outside it), or a 404 JSON error, with `headers` (a page's security
    headers) either way; `utf8` names the charset of text files."""
    headers = {"Cache-Control": "no-cache", **(headers or {})}
    base = Path(base_dir).resolve()
    path = (base / filename).resolve()
    if base not in path.parents or not path.is_file():
        missing = error(404, "not_found", "Không tìm thấy tệp giao diện.")
        missing.headers.update(headers)
        return missing
    mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if utf8 and (mime_type.startswith("text/") or mime_type.endswith(("javascript", "json", "svg+xml"))):
        mime_type += "; charset=utf-8"
    return await response.file(path, mime_type=mime_type, headers=headers)
