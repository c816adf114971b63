"""The promotion book the actions use, reloaded when content staff edit the data file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from actions.promotion_engine import (
    DEFAULT_PROMOTIONS_FILE,
    PROMOTIONS_FILE_ENV,
    PromotionBook,
    PromotionDataError,
    load_promotions,
)
from common.last_good_file import LastGoodFile


class PromotionStore:
    """Loads promotions lazily; a changed file is re-read, a broken edit keeps the last good book."""

    def __init__(self, path: Optional[Path] = None) -> None:
        self._path = path
        self._file = LastGoodFile(load_promotions, PromotionDataError, "Promotions file")

    @property
    def path(self) -> Path:
        """The promotions file in use."""
        return Path(self._path or os.environ.get(PROMOTIONS_FILE_ENV) or DEFAULT_PROMOTIONS_FILE)

    def book(self) -> PromotionBook:
        """The current promotions (raises PromotionDataError only if no good version was ever read)."""
        return self._file.get(self.path)


STORE = PromotionStore()
