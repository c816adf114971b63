"""Agent hours (KB §1): 8:00–22:00 every day, 8:00–17:00 on holidays, local time UTC+7."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import FrozenSet, Iterable, Text, Tuple

import yaml

OPENING = time(8, 0)
CLOSING = time(22, 0)
HOLIDAY_CLOSING = time(17, 0)


class HolidayDataError(ValueError):
    """data/holidays.yml cannot be read."""


def load_holidays(path: Path) -> FrozenSet[date]:
    """The dates listed under `holidays:` in a YAML file (ISO dates)."""
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, ValueError, yaml.YAMLError) as error:  # PyYAML raises ValueError on 2026-13-40
        raise HolidayDataError(f"cannot read {path}: {error}") from error
    items = content.get("holidays") if isinstance(content, dict) else None
    if not isinstance(items, list):
        raise HolidayDataError(f"{path}: expected a `holidays:` list of dates")
    days = set()
    for item in items:
        if isinstance(item, date):
            days.add(item)
            continue
        try:
            days.add(date.fromisoformat(str(item)))
        except ValueError as error:
            raise HolidayDataError(f"{path}: {item!r} is not a date like 2026-09-02") from error
    return frozenset(days)


@dataclass(frozen=True)
class AgentHours:
    """When agents are on chat, and working-time arithmetic for the SLA."""

    holidays: FrozenSet[date] = field(default_factory=frozenset)
    utc_offset_hours: float = 7.0

    @classmethod
    def with_holidays(cls, holidays: Iterable[date], utc_offset_hours: float = 7.0) -> "AgentHours":
        """Build from any iterable of dates."""
        return cls(frozenset(holidays), utc_offset_hours)

    @property
    def tz(self) -> timezone:
        """The agents' local time zone."""
        return timezone(timedelta(hours=self.utc_offset_hours))

    def local(self, ts: float) -> datetime:
        """A Unix timestamp as local time."""
        return datetime.fromtimestamp(ts, self.tz)

    def local_date(self, ts: float) -> date:
        """The local calendar date of a timestamp."""
        return self.local(ts).date()

    def window(self, day: date) -> Tuple[float, float]:
        """Opening and closing timestamps of one local day."""
        closing = HOLIDAY_CLOSING if day in self.holidays else CLOSING
        start = datetime.combine(day, OPENING, self.tz).timestamp()
        end = datetime.combine(day, closing, self.tz).timestamp()
        return start, end

    def is_open(self, ts: float) -> bool:
        """True when agents are on chat at this moment."""
        start, end = self.window(self.local_date(ts))
        return start <= ts < end

    def next_opening(self, ts: float) -> float:
        """`ts` itself when open, else the timestamp of the next opening."""
        day = self.local_date(ts)
        start, end = self.window(day)
        if ts < start:
            return start
        if ts < end:
            return ts
        return self.window(day + timedelta(days=1))[0]

    def agents_return_at(self, ts: float) -> Text | None:
        """Local "HH:MM" of the next opening when closed at `ts`, None when open."""
        if self.is_open(ts):
            return None
        return self.local(self.next_opening(ts)).strftime("%H:%M")

    def add_working_seconds(self, ts: float, seconds: float) -> float:
        """The moment `seconds` of agent hours have passed after `ts` (the clock runs only while open)."""
        remaining = float(seconds)
        day = self.local_date(ts)
        cursor = ts
        for _ in range(3660):  # a decade of days: a guard, never reached with sane input
            start, end = self.window(day)
            cursor = max(cursor, start)
            if cursor < end:
                available = end - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
            day += timedelta(days=1)
        raise ValueError(f"cannot add {seconds}s of working time")
