"""Agent hours (KB §1) and working-time arithmetic for the SLA."""

from datetime import date, datetime, timedelta, timezone

import pytest

from handoff.hours import AgentHours, HolidayDataError, load_holidays
from handoff.settings import PROJECT_ROOT

VN = timezone(timedelta(hours=7))


def at(year, month, day, hour=0, minute=0, second=0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=VN).timestamp()


@pytest.fixture()
def hours() -> AgentHours:
    return AgentHours.with_holidays(load_holidays(PROJECT_ROOT / "data" / "holidays.yml"))


def test_holiday_file_lists_the_public_holidays():
    days = load_holidays(PROJECT_ROOT / "data" / "holidays.yml")
    for day in ("2026-01-01", "2026-02-16", "2026-02-20", "2026-04-30", "2026-05-01", "2026-09-02"):
        assert date.fromisoformat(day) in days
    for day in ("2027-01-01", "2027-02-05", "2027-02-09", "2027-04-30", "2027-05-01", "2027-09-02"):
        assert date.fromisoformat(day) in days
    assert date(2026, 11, 24) not in days
    assert len(days) == 22


def test_bad_holiday_file_is_reported(tmp_path):
    path = tmp_path / "holidays.yml"
    path.write_text("holidays:\n  - 2026-13-40\n")
    with pytest.raises(HolidayDataError, match="holidays.yml"):
        load_holidays(path)
    path.write_text("nlu: []\n")
    with pytest.raises(HolidayDataError):
        load_holidays(path)


@pytest.mark.parametrize(
    "moment, is_open",
    [
        (at(2026, 11, 24, 7, 59, 59), False),
        (at(2026, 11, 24, 8, 0), True),
        (at(2026, 11, 24, 21, 59, 59), True),
        (at(2026, 11, 24, 22, 0), False),
        (at(2026, 11, 29, 9, 0), True),  # Sunday: open every day
        (at(2026, 9, 2, 16, 59), True),  # National Day: 8:00-17:00
        (at(2026, 9, 2, 17, 0), False),
        (at(2026, 2, 17, 20, 0), False),  # Tết
    ],
)
def test_open_hours(hours, moment, is_open):
    assert hours.is_open(moment) is is_open


def test_next_opening_and_return_time(hours):
    assert hours.next_opening(at(2026, 11, 24, 3, 0)) == at(2026, 11, 24, 8, 0)
    assert hours.next_opening(at(2026, 11, 24, 23, 0)) == at(2026, 11, 25, 8, 0)
    assert hours.next_opening(at(2026, 11, 24, 12, 0)) == at(2026, 11, 24, 12, 0)
    assert hours.agents_return_at(at(2026, 11, 24, 23, 0)) == "08:00"
    assert hours.agents_return_at(at(2026, 9, 2, 18, 0)) == "08:00"
    assert hours.agents_return_at(at(2026, 11, 24, 12, 0)) is None


def test_working_time_skips_closed_hours(hours):
    assert hours.add_working_seconds(at(2026, 11, 24, 10, 0), 3600) == at(2026, 11, 24, 11, 0)
    # 30 minutes before closing: 30 today, 30 after the next opening
    assert hours.add_working_seconds(at(2026, 11, 24, 21, 30), 3600) == at(2026, 11, 25, 8, 30)
    # created at night: the clock starts at 8:00
    assert hours.add_working_seconds(at(2026, 11, 25, 2, 0), 3600) == at(2026, 11, 25, 9, 0)
    # holiday closes at 17:00
    assert hours.add_working_seconds(at(2026, 9, 2, 16, 30), 3600) == at(2026, 9, 3, 8, 30)
    # Tết: five short days in a row
    assert hours.add_working_seconds(at(2026, 2, 16, 16, 45), 3600) == at(2026, 2, 17, 8, 45)


def test_time_zone_is_configurable():
    utc = AgentHours(frozenset(), utc_offset_hours=0)
    assert utc.is_open(datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc).timestamp())
    assert not utc.is_open(datetime(2026, 11, 24, 7, 0, tzinfo=timezone.utc).timestamp())
