"""The Redis keys of the webhook queues (bot/channels/webhook_queue.py), for every process that needs them:
Rasa's channels write them, the staff service reports their length and dead letters in /metrics. Rasa-free.

Per channel (`facebook`, `zalo`): a stream of verified, de-duplicated events waiting for their turn (an entry
leaves it when its reply was delivered or dead-lettered), a consumer group, and a dead-letter list."""

from __future__ import annotations

from typing import Text

WEBHOOK_CHANNELS = ("facebook", "zalo")
GROUP = "turns"
DEAD_LETTERS_KEPT = 1000  # newest first; older ones are trimmed


def queue_prefix(channel: Text) -> Text:
    """`senmart:webhook:<channel>`: the prefix of every key of one channel's queue."""
    return f"senmart:webhook:{channel}"


def stream_key(channel: Text) -> Text:
    """The stream of events not yet answered."""
    return f"{queue_prefix(channel)}:events"


def dead_letter_key(channel: Text) -> Text:
    """The list of events whose turn or reply kept failing (JSON, newest first)."""
    return f"{queue_prefix(channel)}:dead"
