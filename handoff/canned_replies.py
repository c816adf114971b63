"""Canned agent replies, edited by staff in data/canned_replies.yml and re-read when the file changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Text

import yaml

from common.last_good_file import LastGoodFile


class CannedRepliesError(ValueError):
    """The canned replies file is missing or malformed."""


def load_canned_replies(path: Path) -> List[Dict[Text, Text]]:
    """The `canned_replies:` list: each item has `id`, `title` and `text`."""
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CannedRepliesError(f"cannot read {path}: {error}") from error
    items = content.get("canned_replies") if isinstance(content, dict) else None
    if not isinstance(items, list):
        raise CannedRepliesError(f"{path}: expected a `canned_replies:` list")
    replies = []
    for index, item in enumerate(items, 1):
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("id", "title", "text")
        ):
            raise CannedRepliesError(f"{path}: item {index} needs id, title and text")
        replies.append({"id": item["id"], "title": item["title"], "text": item["text"].strip()})
    return replies


class CannedReplies:
    """Cached by file modification time; a broken edit (or a file gone) keeps the last good list."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = LastGoodFile(load_canned_replies, CannedRepliesError, "Canned replies file")

    def get(self) -> List[Dict[Text, Any]]:
        """The current replies."""
        return self._file.get(
            self.path, unreadable=lambda error: CannedRepliesError(f"cannot read {self.path}: {error}")
        )
