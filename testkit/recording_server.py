"""What the local API stand-ins share (graph_stand_in.py, zalo_stand_in.py): a threaded HTTP server on a
free 127.0.0.1 port whose POSTs go to `_handle`, and the records of what it received (`sent`)."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, List, Optional


def answer_json(request: BaseHTTPRequestHandler, status: int, data: bytes, **headers: str) -> None:
    """Write a JSON answer (`data`, already encoded) to a request of an http.server handler."""
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(data)))
    for name, value in headers.items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(data)


class RecordingServer(ABC):
    """Subclasses implement `_handle(request)` and append to `sent` under `_lock`, then notify it."""

    def __init__(self) -> None:
        self.sent: List[Any] = []
        self._lock = threading.Condition()
        self._server: Optional[ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:40123."""
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, host: str = "127.0.0.1", port: int = 0):
        """Listen (on a free 127.0.0.1 port by default) in a background thread; returns the stand-in."""
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                stand_in._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(
        self, n: int, timeout: float = 10.0, where: Optional[Callable[[Any], bool]] = None
    ) -> List[Any]:
        """The first `n` records (matching `where`, if given) once they arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                matching = [s for s in self.sent if where is None or where(s)]
                if len(matching) >= n:
                    return matching[:n]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"stand-in got {len(matching)} of {n} expected POSTs: {matching}")
                self._lock.wait(remaining)

    @abstractmethod
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        """Answer one request as the stood-in API does (each stand-in's own routes)."""

    _answer = staticmethod(answer_json)
