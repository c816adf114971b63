"""The studio's NLG server for Rasa (`POST /internal/nlg`, Rasa's NLG-server protocol).

Answers from the response texts of the content files: `domain.yml` `responses` plus every `responses:`
of `data/**/*.yml` (the FAQ answers `utter_faq/<topic>` live next to their examples), re-read when a
file's mtime or size changes: an answer edited in the studio is what the bot says at the next message,
without retraining (a studio write re-checks the files at once); a file changed outside the studio is
seen within `recheck_seconds` (1 s: listing and stat-ing every content file at each bot message was a
sixth of the staff service's CPU per customer message).

Two ways to ask: `GET /internal/nlg/responses` gives every response at once with a version (ETag; 304
while unchanged), which the bot's NLG (bot/nlg.py) re-checks at most once a second and answers from itself;
`POST /internal/nlg` answers one message in Rasa's NLG-server protocol, for any other Rasa. Both make the
message with `bot.responses.render` (Rasa's own variation choice and `{slot}` filling): the same text as the
model's templated NLG would produce from the same files. Slots come from the request's `tracker.slots`,
extra values from `arguments` (as Rasa passes an action's kwargs).

Unknown response, or no variation for the channel/slots → 404 `{"error": "no_response"}`: Rasa's
callback NLG turns an HTTP error into an exception, `bot.nlg` then answers from the model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import yaml

from bot.responses import Responses
from studio.content import content_writes

logger = logging.getLogger(__name__)

_Stamp = Tuple[int, int]  # (mtime_ns, size)

try:  # libyaml when available: the FAQ files are re-read on every edit
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


class NLGRequestError(ValueError):
    """The request is not Rasa's NLG protocol."""

    def __init__(self, field: Text, message: Text) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _responses_of(path: Path) -> Responses:
    """The top-level `responses:` of one YAML file ({} when absent or unreadable)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as problem:
        logger.warning("NLG server: cannot read %s (%s); its responses are skipped.", path, problem)
        return {}
    responses = data.get("responses") if isinstance(data, dict) else None
    if not isinstance(responses, dict):
        return {}
    result: Responses = {}
    for name, variations in responses.items():
        if not isinstance(name, str) or not isinstance(variations, list):
            continue
        # Rasa accepts a bare string as a text variation in old formats; keep dicts, wrap strings
        kept = [v if isinstance(v, dict) else {"text": v} for v in variations if isinstance(v, (dict, str))]
        if kept:
            result[name] = kept
    return result


class ResponseBook:
    """All responses of a content directory, cached per file by (mtime, size)."""

    def __init__(self, content_dir: Path, recheck_seconds: float = 1.0) -> None:
        self.content_dir = Path(content_dir)
        self.recheck_seconds = recheck_seconds
        self._checked: Tuple[float, int] = (float("-inf"), -1)  # (monotonic time, content_writes())
        self._files: Dict[Path, Tuple[_Stamp, Responses]] = {}
        self._merged: Responses = {}
        self._merged_key: Optional[Tuple[Tuple[Text, _Stamp], ...]] = None
        self._version = ""
        self._lock = threading.Lock()
        self.reloads = 0  # how many times the merged book was rebuilt (tests)

    def _paths(self) -> List[Path]:
        paths = [self.content_dir / "domain.yml"]
        data = self.content_dir / "data"
        if data.is_dir():
            paths += sorted(p for p in data.rglob("*.yml") if p.is_file())
        return paths

    def responses(self) -> Responses:
        """The current responses; files whose mtime/size changed (or that appeared) are re-read. The
        files are looked at again after `recheck_seconds` or as soon as the studio wrote one."""
        now, writes = time.monotonic(), content_writes()
        checked_at, writes_then = self._checked
        if writes == writes_then and now - checked_at < self.recheck_seconds:
            return self._merged
        self._checked = (now, writes)
        stamps: List[Tuple[Path, _Stamp]] = []
        for path in self._paths():
            try:
                stat = path.stat()
            except OSError:
                continue
            stamps.append((path, (stat.st_mtime_ns, stat.st_size)))
        key = tuple((str(path), stamp) for path, stamp in stamps)
        with self._lock:
            if key == self._merged_key:
                return self._merged
            merged: Responses = {}
            files: Dict[Path, Tuple[_Stamp, Responses]] = {}
            for path, stamp in stamps:
                cached = self._files.get(path)
                if cached is None or cached[0] != stamp:
                    cached = (stamp, _responses_of(path))
                files[path] = cached
                for name, variations in cached[1].items():
                    merged.setdefault(name, variations)  # domain.yml first, then data/ in path order
            self._files = files
            self._merged = merged
            self._merged_key = key
            self._version = hashlib.sha256(
                json.dumps(merged, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
            ).hexdigest()[:32]
            self.reloads += 1
            return merged

    def snapshot(self) -> Tuple[Text, Responses]:
        """(version, responses): the version is a hash of the responses, the same until one changes."""
        self.responses()
        with self._lock:  # set together under the lock by a rebuild
            return self._version, self._merged


def parse_request(body: Any) -> Tuple[Text, Optional[Text], Dict[Text, Any], Dict[Text, Any], Text]:
    """(response name, response id, slots, arguments, channel) of an NLG request body."""
    if not isinstance(body, dict):
        raise NLGRequestError("body", "Yêu cầu NLG phải là một đối tượng JSON.")
    name = body.get("response") or body.get("template")  # `template`: Rasa 2's name of the field
    if not isinstance(name, str) or not name:
        raise NLGRequestError("response", "Thiếu tên câu trả lời (response).")
    response_id = body.get("id")
    if response_id is not None and not isinstance(response_id, str):
        raise NLGRequestError("id", "Mã biến thể (id) phải là chuỗi.")
    tracker = body.get("tracker") or {}
    if not isinstance(tracker, dict):
        raise NLGRequestError("tracker", "tracker phải là một đối tượng JSON.")
    slots = tracker.get("slots") or {}
    if not isinstance(slots, dict):
        raise NLGRequestError("tracker.slots", "tracker.slots phải là một đối tượng JSON.")
    arguments = body.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise NLGRequestError("arguments", "arguments phải là một đối tượng JSON.")
    channel = body.get("channel") or {}
    channel_name = channel.get("name") if isinstance(channel, dict) else channel
    return name, response_id, slots, arguments, channel_name if isinstance(channel_name, str) else ""
