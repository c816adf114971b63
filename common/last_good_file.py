"""A data file staff edit while the services run (promotions, canned replies): its parsed content, read
again when the file's modification time changes; an edit that does not parse keeps the last good version
(logged), so only a file never read well raises."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable, Generic, Optional, Tuple, Type, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class LastGoodFile(Generic[T]):
    """`load(path)` cached by modification time; `invalid` is the error `load` raises for a bad file."""

    def __init__(self, load: Callable[[Path], T], invalid: Type[Exception], what: str) -> None:
        self._load = load
        self._invalid = invalid
        self._what = what  # for the log, e.g. "Promotions file"
        self._lock = threading.Lock()
        self._loaded: Optional[Tuple[float, T]] = None

    def get(self, path: Path, unreadable: Optional[Callable[[OSError], Exception]] = None) -> T:
        """The content of `path` now. A file that cannot be stat'ed raises its OSError, or with
        `unreadable` keeps the last good version (the error `unreadable` makes when there is none)."""
        with self._lock:
            try:
                mtime = path.stat().st_mtime
            except OSError as error:
                if unreadable is None:
                    raise
                if self._loaded:
                    return self._loaded[1]
                raise unreadable(error) from error
            if self._loaded and self._loaded[0] == mtime:
                return self._loaded[1]
            try:
                content = self._load(path)
            except self._invalid:
                if self._loaded is None:
                    raise
                logger.exception("%s %s is invalid; keeping the previous version.", self._what, path)
                return self._loaded[1]
            self._loaded = (mtime, content)
            return content
