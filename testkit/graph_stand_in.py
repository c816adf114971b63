"""A local stand-in for Meta's Graph API Send endpoint: records every POST and can answer errors.

    graph = GraphStandIn().start()        # listens on a free 127.0.0.1 port
    client = MessengerSendClient("token", graph.url)
    graph.fail_next(429, 500)             # the next two POSTs fail, then 200 again
    ...
    graph.wait_for(3, timeout=10)         # the first 3 records (all statuses), or AssertionError
    graph.sent[-1].body["message"]["text"]
    graph.stop()

`sent` holds a `Sent` record per POST to /me/messages, in arrival order, failed ones included
(`.status` tells which). Errors use Graph's JSON error shape; successes answer
`{"recipient_id": ..., "message_id": "m_..."}`.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qsl, urlsplit

from testkit.recording_server import RecordingServer

# Graph error code per HTTP status (4 = rate limit, 2 = temporary service error, 100 = bad parameter)
ERROR_CODES = {429: 4, 500: 2, 502: 2, 503: 2, 400: 100}


@dataclass
class Sent:
    """One POST the stand-in received."""

    path: str
    query: Dict[str, str]
    body: Any
    status: int
    time: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        """The stand-in answered 2xx."""
        return self.status < 300

    @property
    def recipient(self) -> Optional[str]:
        """The PSID the message was for."""
        return ((self.body or {}).get("recipient") or {}).get("id") if isinstance(self.body, dict) else None

    @property
    def text(self) -> Optional[str]:
        """The text of the message (text messages, quick replies, button templates)."""
        message = (self.body or {}).get("message") or {} if isinstance(self.body, dict) else {}
        if "text" in message:
            return message["text"]
        return ((message.get("attachment") or {}).get("payload") or {}).get("text")


class GraphStandIn(RecordingServer):
    """Threaded HTTP server answering POST /me/messages like the Send API (base URL: FB_GRAPH_URL)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: List[Sent] = []
        self._statuses: List[int] = []
        self._retry_after: Optional[str] = None

    def fail_next(self, *statuses: int, retry_after: Optional[str] = None) -> None:
        """Answer the next POSTs with these statuses (200 means success), in order; optional Retry-After."""
        with self._lock:
            self._statuses.extend(statuses)
            self._retry_after = retry_after

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length)
        try:
            body: Any = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = raw.decode("utf-8", "replace")
        parts = urlsplit(request.path)
        with self._lock:
            status = self._statuses.pop(0) if self._statuses else 200
            if parts.path != "/me/messages":
                status = 404
            self.sent.append(Sent(parts.path, dict(parse_qsl(parts.query)), body, status))
            retry_after = self._retry_after
            self._lock.notify_all()
        if status < 300:
            recipient = ((body if isinstance(body, dict) else {}).get("recipient") or {}).get("id")
            answer: Dict[str, Any] = {"recipient_id": recipient, "message_id": f"m_{uuid.uuid4().hex}"}
        else:
            answer = {
                "error": {
                    "message": f"(#{ERROR_CODES.get(status, 1)}) stand-in error {status}",
                    "type": "OAuthException",
                    "code": ERROR_CODES.get(status, 1),
                    "fbtrace_id": uuid.uuid4().hex[:11],
                }
            }
        data = json.dumps(answer).encode("utf-8")
        headers = {"Retry-After": retry_after} if status == 429 and retry_after is not None else {}
        self._answer(request, status, data, **headers)
