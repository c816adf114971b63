"""The Redis keys of a stored conversation (bot/tracker_store.py), for every process that needs them:
the tracker store writes them, the staff service deletes them on a personal-data request. Rasa-free."""

from __future__ import annotations

from typing import List, Text

DEFAULT_PREFIX = "senmart"  # endpoints.yml tracker_store.key_prefix


def key_prefix(prefix: Text) -> Text:
    """`senmart` → `senmart:`; empty stays empty."""
    return f"{prefix}:" if prefix else ""


def events_key(prefix: Text, sender_id: Text) -> Text:
    """The list of the conversation's events."""
    return f"{key_prefix(prefix)}tracker:{sender_id}"


def session_key(prefix: Text, sender_id: Text) -> Text:
    """Where the latest session starts."""
    return f"{key_prefix(prefix)}tracker_session:{sender_id}"


def window_key(prefix: Text, sender_id: Text) -> Text:
    """The window checkpoint."""
    return f"{key_prefix(prefix)}tracker_window:{sender_id}"


def conversation_keys(prefix: Text, sender_id: Text) -> List[Text]:
    """Every key of one stored conversation."""
    return [events_key(prefix, sender_id), session_key(prefix, sender_id), window_key(prefix, sender_id)]
