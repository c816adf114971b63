"""A local stand-in for Zalo's OA APIs: the CS message send API and the OAuth token refresh.

    zalo = ZaloStandIn().start()           # listens on a free 127.0.0.1 port; zalo.url is the base URL
    # ZALO_API_URL = ZALO_OAUTH_URL = zalo.url; ZALO_ACCESS_TOKEN = zalo.access_token, ZALO_REFRESH_TOKEN …
    zalo.fail_next(500, -216, -230, -32)   # the next sends: HTTP 500, then Zalo error codes; 0 = success
    zalo.delay_next(3.0)                   # the next send answers after 3 s
    zalo.expire_access_tokens()            # every access token issued so far is invalid (-216)
    zalo.wait_for(2, timeout=10)           # the first 2 send records, or AssertionError
    zalo.sent[-1].text, zalo.refreshes[-1].ok
    zalo.stop()

Sends (`POST /v3.0/oa/message/cs`) need a valid `access_token` header, else `{"error": -216}`; successes
answer `{"error": 0, "message": "Success", "data": {"message_id", "user_id"}}`. The refresh (`POST
/v4/oa/access_token`, form `app_id`, `grant_type=refresh_token`, `refresh_token`) needs the header
`secret_key` = the app secret; each refresh token works once and is replaced by a new one (reusing a spent
one fails as on Zalo), the answer is `{"access_token", "refresh_token", "expires_in"}` (`expires_in` a
string, as Zalo sends it).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Dict, List, Optional, Set, Union
from urllib.parse import parse_qsl, urlsplit

from testkit.recording_server import RecordingServer

SEND_PATH = "/v3.0/oa/message/cs"
TOKEN_PATH = "/v4/oa/access_token"
ERROR_MESSAGES = {
    -216: "Access token is invalid",
    -230: "User has not interacted with the OA in the last 7 days",
    -32: "Request rate exceeds the limit",
    -201: "Parameters are invalid",
}
INVALID_REFRESH_TOKEN = -14014
INVALID_SECRET_KEY = -14002


@dataclass
class Sent:
    """One POST to the send API."""

    access_token: Optional[str]
    body: Any
    status: int
    error: int
    time: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        """Zalo accepted the message."""
        return self.status < 300 and self.error == 0

    @property
    def recipient(self) -> Optional[str]:
        """The Zalo user id the message was for."""
        return (
            ((self.body or {}).get("recipient") or {}).get("user_id") if isinstance(self.body, dict) else None
        )

    @property
    def message(self) -> Dict[str, Any]:
        """The `message` object sent."""
        return (self.body or {}).get("message") or {} if isinstance(self.body, dict) else {}

    @property
    def text(self) -> Optional[str]:
        """The text of a text message."""
        return self.message.get("text")


@dataclass
class Refresh:
    """One POST to the OAuth endpoint."""

    secret_key: Optional[str]
    form: Dict[str, str]
    answer: Dict[str, Any]
    time: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        """A new token pair was issued."""
        return "access_token" in self.answer


class ZaloStandIn(RecordingServer):
    """Threaded HTTP server answering like Zalo's OpenAPI and OAuth hosts (one base URL for both)."""

    def __init__(
        self,
        app_id: str = "1234567890123456789",
        app_secret: str = "stand-in-app-secret",
        access_token: str = "zalo-access-0",
        refresh_token: str = "zalo-refresh-0",
        expires_in: int = 90_000,
    ) -> None:
        super().__init__()
        self.app_id = app_id
        self.app_secret = app_secret
        self.access_token = access_token  # the latest issued
        self.refresh_token = refresh_token  # the one that works now
        self.expires_in = expires_in
        self.valid_access: Set[str] = {access_token}
        self.spent_refresh: Set[str] = set()
        self.sent: List[Sent] = []
        self.refreshes: List[Refresh] = []
        self.oauth_delay = 0.0
        self._outcomes: List[int] = []
        self._delays: List[float] = []

    def fail_next(self, *outcomes: int) -> None:
        """Answer the next sends with these outcomes, in order: an HTTP status (≥ 100), a Zalo error
        code (< 0, with HTTP 200) or 0 (success)."""
        with self._lock:
            self._outcomes.extend(outcomes)

    def delay_next(self, *seconds: float) -> None:
        """Wait this long before answering the next sends."""
        with self._lock:
            self._delays.extend(seconds)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (sends answer -216)."""
        with self._lock:
            self.valid_access.clear()

    def reset(self) -> None:
        """Forget what was sent and queued (tokens stay as they are)."""
        with self._lock:
            self.sent.clear()
            self.refreshes.clear()
            self._outcomes.clear()
            self._delays.clear()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        path = urlsplit(request.path).path
        if path == SEND_PATH:
            status, answer = self._send(request, raw)
        elif path == TOKEN_PATH:
            status, answer = self._refresh(request, raw)
        else:
            status, answer = 404, {"error": 404, "message": "not found"}
        self._answer(request, status, json.dumps(answer).encode("utf-8"))

    def _send(self, request: BaseHTTPRequestHandler, raw: bytes) -> "tuple[int, Dict[str, Any]]":
        try:
            body: Any = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = raw.decode("utf-8", "replace")
        token = request.headers.get("access_token")
        with self._lock:
            delay = self._delays.pop(0) if self._delays else 0.0
        if delay:
            time.sleep(delay)
        with self._lock:
            outcome: Union[int, None] = None
            if token not in self.valid_access:
                outcome = -216  # not a queued outcome: the queue waits for a send with a valid token
            elif self._outcomes:
                outcome = self._outcomes.pop(0)
            status, error = (outcome, 0) if outcome and outcome >= 100 else (200, outcome or 0)
            self.sent.append(Sent(token, body, status, error))
            self._lock.notify_all()
        if status >= 300:
            return status, {"error": -1, "message": f"stand-in HTTP {status}"}
        if error:
            return 200, {"error": error, "message": ERROR_MESSAGES.get(error, "stand-in error")}
        user_id = ((body if isinstance(body, dict) else {}).get("recipient") or {}).get("user_id")
        return 200, {
            "error": 0,
            "message": "Success",
            "data": {"message_id": uuid.uuid4().hex, "user_id": user_id},
        }

    def _refresh(self, request: BaseHTTPRequestHandler, raw: bytes) -> "tuple[int, Dict[str, Any]]":
        form = dict(parse_qsl(raw.decode("utf-8", "replace")))
        secret = request.headers.get("secret_key")
        if self.oauth_delay:
            time.sleep(self.oauth_delay)
        with self._lock:
            if secret != self.app_secret:
                answer: Dict[str, Any] = {"error": INVALID_SECRET_KEY, "error_name": "Invalid secret key"}
            elif form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
                answer = {"error": -14003, "error_name": "Invalid app id or grant type"}
            elif form.get("refresh_token") != self.refresh_token:
                answer = {
                    "error": INVALID_REFRESH_TOKEN,
                    "error_name": "Invalid refresh token",
                    "error_description": "Refresh token is invalid"
                    + (" (already used)" if form.get("refresh_token") in self.spent_refresh else ""),
                }
            else:
                self.spent_refresh.add(self.refresh_token)
                serial = len(self.spent_refresh)
                self.access_token = f"zalo-access-{serial}-{uuid.uuid4().hex[:8]}"
                self.refresh_token = f"zalo-refresh-{serial}-{uuid.uuid4().hex[:8]}"
                self.valid_access.add(self.access_token)
                answer = {
                    "access_token": self.access_token,
                    "refresh_token": self.refresh_token,
                    "expires_in": str(self.expires_in),
                }
            self.refreshes.append(Refresh(secret, form, answer))
            self._lock.notify_all()
        return 200, answer
