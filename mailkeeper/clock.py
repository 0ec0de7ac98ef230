"""Working-hours arithmetic in the rep's time zone: SLA due times, and why.

Pure: no I/O, no clock reading; every instant is passed in. Inputs must be timezone-aware
datetimes (any zone); results are aware datetimes in the rep's zone (`.astimezone(UTC)` to
store them). Durations are elapsed time: a working day that contains a DST change is an hour
shorter or longer, exactly as the clock on the wall says.

A day is a working day when, first match wins:
  1. it is in `extra_workdays` (a make-up working day the rep configured),
  2. it is in `extra_holidays` (a day off the rep configured),
  3. it is a public holiday of the `holidays` country (the package's name is shown),
  4. it is an official make-up working day on a weekend of that country (China's 调休: the
     `holidays` package lists them in `weekend_workdays`, e.g. Sun 2026-09-20),
  5. its weekday is in `days`.
The `holidays` package is imported only when a country is configured.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

__all__ = ["WEEKDAYS", "WorkingTime", "fmt_day", "fmt_dt"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = timedelta(days=1)
_MAX_DAYS = 3660  # a search for a working day gives up after ten years


class _HoursLike(Protocol):
    """What `config.settings.WorkingHours` provides (duck-typed: no config import here)."""

    days: tuple[str, ...]
    start: time
    end: time
    holidays: str | None
    extra_holidays: tuple[date, ...]
    extra_workdays: tuple[date, ...]


def fmt_day(d: date) -> str:
    """'Fri 2026-10-02' (English weekday names, whatever the locale)."""
    return f"{WEEKDAYS[d.weekday()].capitalize()} {d.isoformat()}"


def fmt_dt(dt: datetime) -> str:
    """'Fri 2026-10-02 17:00' in the datetime's own zone."""
    return f"{fmt_day(dt.date())} {dt:%H:%M}"


def _hours(td: timedelta) -> float:
    return td.total_seconds() / 3600


def _aware(dt: datetime, name: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {dt.isoformat()}")


@dataclass(frozen=True)
class WorkingTime:
    """The rep's working time: zone, working weekdays, daily hours, holidays."""

    timezone: str = "UTC"
    days: tuple[str, ...] = WEEKDAYS[:5]
    start: time = time(9, 0)
    end: time = time(18, 0)
    holidays: str | None = None  # a country code for the `holidays` package, e.g. "CN"
    extra_holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()
    _cal: list[Any] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises ZoneInfoNotFoundError for an unknown zone
        bad = [d for d in self.days if d not in WEEKDAYS]
        if bad:
            raise ValueError(f"unknown weekday(s) {bad}: use {', '.join(WEEKDAYS)}")
        if not self.start < self.end:
            raise ValueError(f"start {self.start:%H:%M} is not before end {self.end:%H:%M}")
        if not self.days and not self.extra_workdays and not self.holidays:
            raise ValueError("no working days")
        if self.holidays:
            import holidays  # only when a country is configured

            code = self.holidays.upper()
            if code not in holidays.list_supported_countries():
                raise ValueError(f"'{self.holidays}' is not a country the holidays package knows")
            # English names in `explain` whatever the machine's locale (the package would
            # otherwise pick the country's own language, or follow LANG)
            langs = getattr(holidays.country_holidays(code), "supported_languages", ()) or ()
            language = "en_US" if "en_US" in langs else None
            self._cal.append(holidays.country_holidays(code, language=language))

    @classmethod
    def from_config(cls, timezone: str, hours: _HoursLike) -> WorkingTime:
        """From mailkeeper.yaml's `timezone` and `working_hours` (config.WorkingHours)."""
        return cls(
            timezone=timezone,
            days=tuple(hours.days),
            start=hours.start,
            end=hours.end,
            holidays=hours.holidays,
            extra_holidays=tuple(hours.extra_holidays),
            extra_workdays=tuple(hours.extra_workdays),
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # ------------------------------------------------------------------ days
    def day_status(self, d: date) -> tuple[bool, str]:
        """(is it a working day, why) — the why is for explanations."""
        if d in self.extra_workdays:
            return True, "a make-up working day (configured)"
        if d in self.extra_holidays:
            return False, "a day off (configured)"
        if self._cal:
            cal = self._cal[0]
            name = cal.get(d)  # also populates d's year
            if name:
                return False, f"a public holiday ({name})"
            if WEEKDAYS[d.weekday()] not in self.days:
                cal.get(date(d.year + 1, 1, 1))  # a Dec weekend can make up for a Jan holiday
                if d in getattr(cal, "weekend_workdays", ()):  # holidays >= 0.80
                    return True, "an official make-up working day"
        if WEEKDAYS[d.weekday()] in self.days:
            return True, "a working day"
        return False, "not a working day"

    def is_working_day(self, d: date) -> bool:
        return self.day_status(d)[0]

    def working_day_on_or_after(self, d: date) -> date:
        for _ in range(_MAX_DAYS):
            if self.is_working_day(d):
                return d
            d += _DAY
        raise ValueError(f"no working day within ten years after {d}")

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        return self.working_day_on_or_after(d + _DAY)

    def working_days(self, first: date, last: date) -> list[date]:
        """The working days from `first` to `last`, both included."""
        out: list[date] = []
        while first <= last:
            if self.is_working_day(first):
                out.append(first)
            first += _DAY
        return out

    def start_of_working_day(self, d: date) -> datetime:
        """`start` o'clock on `d` in the rep's zone (whether or not `d` is a working day)."""
        return datetime.combine(d, self.start, tzinfo=self.tz)

    def end_of_working_day(self, d: date) -> datetime:
        """`end` o'clock on `d` in the rep's zone (whether or not `d` is a working day)."""
        return datetime.combine(d, self.end, tzinfo=self.tz)

    def local(self, dt: datetime) -> datetime:
        """`dt` (aware) in the rep's zone."""
        _aware(dt, "dt")
        return dt.astimezone(self.tz)

    # ------------------------------------------------------------------ hours
    def _interval(self, d: date) -> tuple[datetime, datetime]:
        """Working hours of `d` in UTC (aware arithmetic in one zone would ignore DST)."""
        return (
            self.start_of_working_day(d).astimezone(UTC),
            self.end_of_working_day(d).astimezone(UTC),
        )

    def is_working_time(self, dt: datetime) -> bool:
        d = self.local(dt).date()
        if not self.is_working_day(d):
            return False
        s, e = self._interval(d)
        return s <= dt.astimezone(UTC) < e

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` working hours after `start` (an SLA's due time).

        Time outside working hours does not count. A budget that ends exactly at the end of
        a working day is due then (Fri 17:00 + 1 h = Fri 18:00, not Mon 09:00); `hours=0`
        gives the next working moment (`start` itself during working time).
        """
        return self._walk(start, hours)[0]

    def explain(self, start: datetime, hours: float) -> str:
        """The arithmetic of `add_working_hours` in words, e.g. "received Fri 2026-10-02 17:00
        Asia/Shanghai; ... → due Tue 2026-10-06 16:00"."""
        due, steps = self._walk(start, hours)
        head = f"received {fmt_dt(self.local(start))} {self.timezone}; {hours:g} working h"
        return "; ".join([head, *steps]) + f" → due {fmt_dt(due)}"

    def _walk(self, start: datetime, hours: float) -> tuple[datetime, list[str]]:
        _aware(start, "start")
        if hours < 0:
            raise ValueError(f"hours must not be negative, got {hours}")
        remaining = timedelta(hours=hours)
        cur = start.astimezone(UTC)
        d = self.local(start).date()
        steps: list[str] = []
        off: list[tuple[date, str]] = []  # consecutive non-working days, said in one step

        def flush() -> None:  # runs of plain days off in one phrase, in date order
            run: list[str] = []
            for x, why in [*off, (None, "")]:
                if why == "not a working day" and x is not None:
                    run.append(fmt_day(x)[:3])
                    continue
                if run:
                    noun = "working days" if len(run) > 1 else "a working day"
                    steps.append(f"{', '.join(run)} not {noun}")
                    run = []
                if x is not None:
                    steps.append(f"{fmt_day(x)} is {why}")
            off.clear()

        for _ in range(_MAX_DAYS):
            ok, why = self.day_status(d)
            if not ok:
                off.append((d, why))
            else:
                s, e = self._interval(d)
                b = max(s, cur)
                if b < e:
                    flush()
                    avail = e - b
                    made_up = "" if why == "a working day" else f" ({why})"
                    if remaining <= avail:
                        due = (b + remaining).astimezone(self.tz)
                        steps.append(f"{_hours(remaining):.1f} h on {fmt_day(d)}{made_up}")
                        return due, steps
                    left = "left on" if b > s else "on"
                    steps.append(f"{_hours(avail):.1f} h {left} {fmt_day(d)}{made_up}")
                    remaining -= avail
                elif b >= e and d == self.local(start).date():
                    steps.append(f"{fmt_day(d)}: received after working hours")
            d += _DAY
        raise ValueError(f"no working time within ten years after {start.isoformat()}")

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        """Working hours from `a` to `b` (negative when `b` is before `a`)."""
        _aware(a, "a")
        _aware(b, "b")
        if b < a:
            return -self.working_hours_between(b, a)
        ua, ub = a.astimezone(UTC), b.astimezone(UTC)
        total = timedelta(0)
        for d in self._dates(self.local(a).date(), self.local(b).date()):
            if self.is_working_day(d):
                s, e = self._interval(d)
                lo, hi = max(s, ua), min(e, ub)
                if lo < hi:
                    total += hi - lo
        return _hours(total)

    @staticmethod
    def _dates(first: date, last: date) -> Iterable[date]:
        while first <= last:
            yield first
            first += _DAY
