"""Diacritic folding for matching what customers type ("Không" / "khong" / "KHÔNG")."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case text without Vietnamese diacritics (đ -> d)."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
