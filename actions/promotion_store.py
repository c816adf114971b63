"""The promotion book the actions use, reloaded when content staff edit the data file."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Optional, Tuple

from actions.promotion_engine import (
    DEFAULT_PROMOTIONS_FILE,
    PROMOTIONS_FILE_ENV,
    PromotionBook,
    PromotionDataError,
    load_promotions,
)

logger = logging.getLogger(__name__)


class PromotionStore:
    """Loads promotions lazily; a changed file is re-read, a broken edit keeps the last good book."""

    def __init__(self, path: Optional[Path] = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._loaded: Optional[Tuple[float, PromotionBook]] = None

    @property
    def path(self) -> Path:
        """The promotions file in use."""
        return Path(self._path or os.environ.get(PROMOTIONS_FILE_ENV) or DEFAULT_PROMOTIONS_FILE)

    def book(self) -> PromotionBook:
        """The current promotions (raises PromotionDataError only if no good version was ever read)."""
        with self._lock:
            mtime = self.path.stat().st_mtime
            if self._loaded and self._loaded[0] == mtime:
                return self._loaded[1]
            try:
                book = load_promotions(self.path)
            except PromotionDataError:
                if self._loaded is None:
                    raise
                logger.exception("Promotions file %s is invalid; keeping the previous version.", self.path)
                return self._loaded[1]
            self._loaded = (mtime, book)
            return book


STORE = PromotionStore()
