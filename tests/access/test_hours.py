"""Opening hours in the tenant's own time zone, late nights and DST included."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from visage.access.hours import always_open, schedule_from_json

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment given in Amsterdam wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


def test_open_within_the_day_interval_only() -> None:
    # 2026-11-23 is a Monday.
    schedule = schedule_from_json(
        "Europe/Amsterdam", {"monday": [{"opens": "06:00", "closes": "22:00"}]}
    )
    assert not schedule.is_open(at(2026, 11, 23, 5, 59))
    assert schedule.is_open(at(2026, 11, 23, 6, 0))
    assert schedule.is_open(at(2026, 11, 23, 21, 59))
    assert not schedule.is_open(at(2026, 11, 23, 22, 0))
    assert not schedule.is_open(at(2026, 11, 24, 12, 0))  # Tuesday: not listed, closed


def test_the_time_zone_of_the_tenant_decides_not_utc() -> None:
    schedule = schedule_from_json(
        "Europe/Amsterdam", {"monday": [{"opens": "06:00", "closes": "22:00"}]}
    )
    # 05:30 UTC is 06:30 in Amsterdam in November.
    assert schedule.is_open(datetime(2026, 11, 23, 5, 30, tzinfo=UTC))
    assert not schedule.is_open(datetime(2026, 11, 23, 21, 30, tzinfo=UTC))


def test_a_late_night_runs_into_the_next_day() -> None:
    schedule = schedule_from_json(
        "Europe/Amsterdam", {"friday": [{"opens": "18:00", "closes": "02:00"}]}
    )
    assert schedule.is_open(at(2026, 11, 27, 23, 30))  # Friday night
    assert schedule.is_open(at(2026, 11, 28, 1, 59))  # Saturday, small hours
    assert not schedule.is_open(at(2026, 11, 28, 2, 0))
    assert not schedule.is_open(at(2026, 11, 27, 1, 0))  # Friday's own small hours: closed


def test_midnight_to_midnight_is_the_whole_day_and_split_days_work() -> None:
    schedule = schedule_from_json(
        "Europe/Amsterdam",
        {
            "sunday": [{"opens": "00:00", "closes": "00:00"}],
            "monday": [
                {"opens": "07:00", "closes": "12:00"},
                {"opens": "16:00", "closes": "21:00"},
            ],
        },
    )
    assert schedule.is_open(at(2026, 11, 29, 0, 0))
    assert schedule.is_open(at(2026, 11, 29, 23, 59))
    assert not schedule.is_open(at(2026, 11, 30, 0, 30))  # Sunday's 24 h end at midnight
    assert not schedule.is_open(at(2026, 11, 30, 13, 0))  # Monday's lunch break
    assert schedule.is_open(at(2026, 11, 30, 16, 0))


def test_dst_change_keeps_wall_clock_hours() -> None:
    # 2026-03-29: clocks go from 02:00 to 03:00 in Amsterdam.
    schedule = schedule_from_json(
        "Europe/Amsterdam", {"sunday": [{"opens": "08:00", "closes": "20:00"}]}
    )
    assert schedule.is_open(datetime(2026, 3, 29, 6, 0, tzinfo=UTC))  # 08:00 CEST
    assert not schedule.is_open(datetime(2026, 3, 29, 5, 30, tzinfo=UTC))  # 07:30 CEST


def test_without_opening_hours_the_door_is_never_closed_by_the_clock() -> None:
    schedule = always_open()
    assert schedule.is_open(datetime(2026, 11, 22, 3, 0, tzinfo=UTC))
    empty_week = schedule_from_json("UTC", {})
    assert not empty_week.is_open(datetime(2026, 11, 22, 12, 0, tzinfo=UTC))
