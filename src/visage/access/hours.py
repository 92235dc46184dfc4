"""A tenant's weekly opening hours in its own time zone (pure; no database)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Interval:
    """Open from `opens` until `closes`; when `closes` is not after `opens` it is on the next
    day (22:00-02:00 is a late night, 00:00-00:00 is the whole day)."""

    opens: time
    closes: time

    @property
    def overnight(self) -> bool:
        return self.closes <= self.opens


@dataclass(frozen=True)
class WeeklySchedule:
    timezone: ZoneInfo
    # Weekday (0 = Monday) -> intervals; a missing day is closed.
    days: Mapping[int, tuple[Interval, ...]] = field(default_factory=dict)
    # No opening hours configured: the door is never closed by the clock.
    always_open: bool = False

    def is_open(self, moment: datetime) -> bool:
        if self.always_open:
            return True
        local = moment.astimezone(self.timezone)
        clock, weekday = local.time(), local.weekday()
        for interval in self.days.get(weekday, ()):
            if interval.opens <= clock and (interval.overnight or clock < interval.closes):
                return True
        return any(
            interval.overnight and clock < interval.closes
            for interval in self.days.get((weekday - 1) % 7, ())
        )


def schedule_from_json(timezone: str, weekly: Mapping[str, list[dict[str, str]]]) -> WeeklySchedule:
    """The stored form: `{"monday": [{"opens": "06:00", "closes": "22:00"}], ...}`."""
    return WeeklySchedule(
        timezone=ZoneInfo(timezone),
        days={
            WEEKDAYS.index(day): tuple(
                Interval(time.fromisoformat(item["opens"]), time.fromisoformat(item["closes"]))
                for item in intervals
            )
            for day, intervals in weekly.items()
        },
    )


def always_open(timezone: str = "UTC") -> WeeklySchedule:
    return WeeklySchedule(timezone=ZoneInfo(timezone), always_open=True)
