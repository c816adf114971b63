"""Customer turns that could not be stored while Redis was down, kept on local disk until it is back.

Rasa's fail-safe tracker store falls back to memory when a save fails, so a turn written during a Redis
outage was lost from the transcript. The tracker store (bot/tracker_store.py) instead appends the turn's
events to a file of this process (`<dir>/<pid>.jsonl`, one JSON line per turn, fsynced), and before its
next Redis operation RPUSHes every spooled turn to its conversation, in the order they were spooled,
then removes the file. Rasa-free.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

logger = logging.getLogger(__name__)

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "var" / "spool"


class TurnSpool:
    """An append-only file of `{"sender_id", "events": [...]}` lines for this process."""

    def __init__(self, directory: Optional[Path] = None) -> None:
        self.directory = Path(directory or os.environ.get("TRACKER_SPOOL_DIR") or DEFAULT_DIR)
        self.path = self.directory / f"{os.getpid()}.jsonl"
        self.pending = self.path.exists()

    def keep(self, sender_id: Text, events: List[Dict[Text, Any]]) -> None:
        """Write one turn durably."""
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"sender_id": sender_id, "events": events}, ensure_ascii=False)
        with open(self.path, "a", encoding="utf-8") as spool:
            spool.write(line + "\n")
            spool.flush()
            os.fsync(spool.fileno())
        self.pending = True
        logger.error("Redis unavailable: %d event(s) of %s kept in %s", len(events), sender_id, self.path)

    def turns(self) -> List[Tuple[Text, List[Dict[Text, Any]]]]:
        """The spooled turns, oldest first (a torn last line is skipped)."""
        if not self.path.exists():
            return []
        turns = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and isinstance(item.get("sender_id"), str):
                turns.append((item["sender_id"], list(item.get("events") or [])))
        return turns

    def clear(self) -> None:
        """Forget the spooled turns (they are stored now)."""
        self.path.unlink(missing_ok=True)
        self.pending = False
