"""Working-time arithmetic: gate time limits count in the owning team's working hours.

A calendar is working days, a daily window and the public holidays of a country/state
(the `holidays` package) plus the team's own closures. Everything is computed in the team's
time zone and returned as aware datetimes.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass, field

import holidays

MAX_DAYS = 3 * 366  # a time limit longer than three years is a configuration error


@dataclass(frozen=True)
class Calendar:
    time_zone: str = "Europe/Berlin"
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    day_starts: dt.time = dt.time(8, 0)
    day_ends: dt.time = dt.time(17, 0)
    holiday_country: str = "DE"
    holiday_subdivision: str = ""
    closures: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def from_model(cls, calendar) -> Calendar:
        return cls(
            time_zone=calendar.time_zone,
            working_days=frozenset(int(d) for d in calendar.working_days.split(",") if d.strip()),
            day_starts=calendar.day_starts,
            day_ends=calendar.day_ends,
            holiday_country=calendar.holiday_country,
            holiday_subdivision=calendar.holiday_subdivision,
            closures=frozenset(c.date for c in calendar.closures.all()),
        )

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def is_working_day(self, day: dt.date) -> bool:
        if day.weekday() not in self.working_days or day in self.closures:
            return False
        if self.holiday_country:
            return day not in _public_holidays(self.holiday_country, self.holiday_subdivision, day.year)
        return True

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        return (
            dt.datetime.combine(day, self.day_starts, tzinfo=self.tz),
            dt.datetime.combine(day, self.day_ends, tzinfo=self.tz),
        )


@functools.lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision or None, years=year)


def add_working_time(start: dt.datetime, seconds: float, calendar: Calendar) -> dt.datetime:
    """The moment at which `seconds` of working time have passed since `start`."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    remaining = dt.timedelta(seconds=max(0.0, seconds))
    cursor = start.astimezone(calendar.tz)
    day = cursor.date()
    for _ in range(MAX_DAYS):
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            begin = max(cursor, opens)
            if begin < closes:
                # In UTC: aware datetimes sharing a tzinfo subtract and add as wall-clock time, which is
                # an hour off for a window that spans a daylight-saving change.
                begin_utc = begin.astimezone(dt.UTC)
                available = closes.astimezone(dt.UTC) - begin_utc
                if remaining <= available:
                    return (begin_utc + remaining).astimezone(calendar.tz)
                remaining -= available
        day += dt.timedelta(days=1)
        cursor = dt.datetime.combine(day, dt.time(0, 0), tzinfo=calendar.tz)
    raise ValueError("The calendar has no working time within three years.")


def working_seconds_between(start: dt.datetime, end: dt.datetime, calendar: Calendar) -> float:
    """Working time from `start` to `end` in seconds; negative when `end` lies before `start`."""
    if end < start:
        return -working_seconds_between(end, start, calendar)
    start, end = start.astimezone(calendar.tz), end.astimezone(calendar.tz)
    total = dt.timedelta(0)
    day = start.date()
    for _ in range(MAX_DAYS + 1):
        if day > end.date():
            break
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            begin, finish = max(start, opens), min(end, closes)
            if finish > begin:
                total += finish.astimezone(dt.UTC) - begin.astimezone(dt.UTC)
        day += dt.timedelta(days=1)
    return total.total_seconds()
