"""Working-hours arithmetic (mailkeeper.clock): SLA due times, holidays, 调休, DST, explain."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailkeeper.clock import WorkingTime

SH = ZoneInfo("Asia/Shanghai")
BER = ZoneInfo("Europe/Berlin")
CN = WorkingTime("Asia/Shanghai", holidays="CN")
PLAIN = WorkingTime("Asia/Shanghai")  # mon-fri 09:00-18:00, no holidays


def sh(*a: int) -> datetime:
    return datetime(*a, tzinfo=SH)


def ber(*a: int) -> datetime:
    return datetime(*a, tzinfo=BER)


# ----------------------------------------------------------------------------- add_working_hours
def test_friday_1700_plus_8_is_monday_1600() -> None:
    assert PLAIN.add_working_hours(sh(2026, 6, 5, 17), 8) == sh(2026, 6, 8, 16)


def test_monday_holiday_pushes_the_due_to_tuesday() -> None:
    wt = WorkingTime("Asia/Shanghai", extra_holidays=(date(2026, 6, 8),))
    assert wt.add_working_hours(sh(2026, 6, 5, 17), 8) == sh(2026, 6, 9, 16)


def test_cn_public_holiday_is_skipped() -> None:
    # Fri 2026-09-25 is the Mid-Autumn Festival in the holidays package's CN calendar
    assert CN.add_working_hours(sh(2026, 9, 24, 17), 8) == sh(2026, 9, 28, 16)


def test_cn_make_up_workday_on_a_sunday_counts() -> None:
    # 调休: Sun 2026-09-20 is an official working day (the holidays package's weekend_workdays)
    assert CN.is_working_day(date(2026, 9, 20))
    assert CN.add_working_hours(sh(2026, 9, 18, 17), 8) == sh(2026, 9, 20, 16)
    assert not PLAIN.is_working_day(date(2026, 9, 20))


def test_national_day_golden_week() -> None:
    # Oct 1-7 2026 off; Sat Oct 10 is a make-up working day
    assert CN.add_working_hours(sh(2026, 9, 30, 17), 8) == sh(2026, 10, 8, 16)
    assert CN.is_working_day(date(2026, 10, 10))
    assert CN.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)


def test_explicit_extra_workdays_and_holidays_win() -> None:
    sat = date(2026, 6, 6)
    wt = WorkingTime("Asia/Shanghai", holidays="CN", extra_workdays=(sat, date(2026, 10, 2)))
    assert wt.is_working_day(sat)
    assert wt.is_working_day(date(2026, 10, 2))  # configured beats the public holiday
    assert wt.add_working_hours(sh(2026, 6, 5, 17), 8) == sh(2026, 6, 6, 16)
    off = WorkingTime("Asia/Shanghai", extra_holidays=(date(2026, 6, 9),))
    assert not off.is_working_day(date(2026, 6, 9))


def test_edges_of_a_working_day() -> None:
    assert PLAIN.add_working_hours(sh(2026, 6, 5, 17), 1) == sh(2026, 6, 5, 18)  # not Mon 09:00
    assert PLAIN.add_working_hours(sh(2026, 6, 5, 7), 2) == sh(2026, 6, 5, 11)  # before hours
    assert PLAIN.add_working_hours(sh(2026, 6, 5, 20), 2) == sh(2026, 6, 8, 11)  # after hours
    assert PLAIN.add_working_hours(sh(2026, 6, 6, 12), 0) == sh(2026, 6, 8, 9)  # next moment
    assert PLAIN.add_working_hours(sh(2026, 6, 5, 12), 0) == sh(2026, 6, 5, 12)
    assert PLAIN.add_working_hours(sh(2026, 6, 5, 9), 45) == sh(2026, 6, 11, 18)  # 5 days
    assert PLAIN.add_working_hours(sh(2026, 6, 5, 9), 0.25) == sh(2026, 6, 5, 9, 15)


def test_input_in_utc_result_in_the_reps_zone() -> None:
    got = PLAIN.add_working_hours(datetime(2026, 6, 5, 9, tzinfo=UTC), 8)  # Fri 17:00 Shanghai
    assert got == sh(2026, 6, 8, 16)
    assert got.tzinfo == SH
    assert got.astimezone(UTC) == datetime(2026, 6, 8, 8, tzinfo=UTC)


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        PLAIN.add_working_hours(datetime(2026, 6, 5, 9), 1)
    with pytest.raises(ValueError, match="negative"):
        PLAIN.add_working_hours(sh(2026, 6, 5, 9), -1)
    with pytest.raises(ValueError, match="not a country"):
        WorkingTime("UTC", holidays="XX")
    with pytest.raises(ValueError, match="not before"):
        WorkingTime("UTC", start=time(18), end=time(9))
    with pytest.raises(ValueError, match="weekday"):
        WorkingTime("UTC", days=("monday",))
    with pytest.raises(Exception, match="Mars"):
        WorkingTime("Mars/Olympus")


# ----------------------------------------------------------------------------- between / predicates
def test_working_hours_between() -> None:
    assert PLAIN.working_hours_between(sh(2026, 6, 5, 17), sh(2026, 6, 8, 16)) == 8.0
    assert PLAIN.working_hours_between(sh(2026, 6, 8, 16), sh(2026, 6, 5, 17)) == -8.0
    assert PLAIN.working_hours_between(sh(2026, 6, 6, 1), sh(2026, 6, 7, 23)) == 0.0
    assert PLAIN.working_hours_between(sh(2026, 6, 1, 0), sh(2026, 6, 8, 0)) == 45.0
    assert CN.working_hours_between(sh(2026, 9, 30, 9), sh(2026, 10, 9, 0)) == 18.0


def test_predicates_and_day_ends() -> None:
    assert PLAIN.is_working_time(sh(2026, 6, 5, 9))
    assert not PLAIN.is_working_time(sh(2026, 6, 5, 8, 59))
    assert not PLAIN.is_working_time(sh(2026, 6, 5, 18))
    assert not PLAIN.is_working_time(sh(2026, 6, 6, 12))  # Saturday
    assert not CN.is_working_time(sh(2026, 10, 1, 10))  # National Day
    assert PLAIN.is_working_time(datetime(2026, 6, 5, 1, tzinfo=UTC))  # 09:00 Shanghai
    assert PLAIN.end_of_working_day(date(2026, 6, 5)) == sh(2026, 6, 5, 18)
    assert PLAIN.next_working_day(date(2026, 6, 5)) == date(2026, 6, 8)
    assert PLAIN.next_working_day(date(2026, 6, 4)) == date(2026, 6, 5)
    assert CN.day_status(date(2026, 10, 1)) == (False, "a public holiday (National Day)")


def test_from_config_takes_the_config_working_hours() -> None:
    hours = SimpleNamespace(
        days=("mon", "tue", "wed", "thu", "fri", "sat"),
        start=time(8, 30),
        end=time(17, 30),
        holidays="CN",
        extra_holidays=(date(2026, 6, 12),),
        extra_workdays=(),
    )
    wt = WorkingTime.from_config("Asia/Shanghai", hours)
    assert wt.add_working_hours(sh(2026, 6, 11, 17), 2) == sh(2026, 6, 13, 10)


def test_holidays_is_imported_only_when_a_country_is_configured() -> None:
    code = (
        "import sys; from mailkeeper.clock import WorkingTime; from datetime import *;"
        "from zoneinfo import ZoneInfo;"
        "WorkingTime('Asia/Shanghai').add_working_hours(datetime(2026,6,5,tzinfo=UTC), 8);"
        "assert 'holidays' not in sys.modules;"
        "WorkingTime('Asia/Shanghai', holidays='CN'); assert 'holidays' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- DST
def test_berlin_across_the_march_change() -> None:
    wt = WorkingTime("Europe/Berlin", holidays="DE")
    start = ber(2026, 3, 27, 17)  # Friday, CET (+01:00); clocks go forward Sun 29 March
    due = wt.add_working_hours(start, 8)
    assert due == ber(2026, 3, 30, 16)  # Monday, CEST (+02:00)
    assert due.utcoffset() == timedelta(hours=2)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 14, tzinfo=UTC)
    assert wt.working_hours_between(start, due) == 8.0
    assert due - start == timedelta(hours=71)  # elapsed: 3 days less the lost hour


def test_dst_inside_working_hours_counts_elapsed_time() -> None:
    sunday = WorkingTime("Europe/Berlin", days=("sun",), start=time(1), end=time(4))
    # 01:00 CET .. 04:00 CEST on 29 March 2026 is two real hours
    assert sunday.working_hours_between(ber(2026, 3, 29, 0), ber(2026, 3, 29, 5)) == 2.0
    assert sunday.add_working_hours(ber(2026, 3, 29, 1), 1.5) == ber(2026, 3, 29, 3, 30)
    # the October change gives the hour back: 01:00 CEST .. 04:00 CET is four hours
    assert sunday.working_hours_between(ber(2026, 10, 25, 0), ber(2026, 10, 25, 5)) == 4.0


# ----------------------------------------------------------------------------- explain
def test_explain_says_why() -> None:
    text = CN.explain(sh(2026, 9, 30, 17), 8)
    assert text.startswith("received Wed 2026-09-30 17:00 Asia/Shanghai; 8 working h;")
    assert "1.0 h left on Wed 2026-09-30" in text
    assert "Thu 2026-10-01 is a public holiday (National Day)" in text
    assert "Sun not a working day" in text
    assert "7.0 h on Thu 2026-10-08" in text
    assert text.endswith("→ due Thu 2026-10-08 16:00")


def test_explain_weekend_and_make_up_day() -> None:
    assert PLAIN.explain(sh(2026, 6, 5, 17), 8) == (
        "received Fri 2026-06-05 17:00 Asia/Shanghai; 8 working h; 1.0 h left on Fri 2026-06-05;"
        " Sat, Sun not working days; 7.0 h on Mon 2026-06-08 → due Mon 2026-06-08 16:00"
    )
    text = CN.explain(sh(2026, 9, 19, 20), 8)
    assert "8.0 h on Sun 2026-09-20 (an official make-up working day)" in text
    late = PLAIN.explain(sh(2026, 6, 5, 19), 1)
    assert "Fri 2026-06-05: received after working hours" in late


# ----------------------------------------------------------------------------- properties
_instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(start=_instants, hours=st.floats(min_value=0.1, max_value=200, allow_nan=False))
def test_round_trip_between_and_add(start: datetime, hours: float) -> None:
    for wt in (CN, WorkingTime("Europe/Berlin", holidays="DE")):
        due = wt.add_working_hours(start, hours)
        assert due > start
        assert wt.working_hours_between(start, due) == pytest.approx(hours, abs=1e-6)
        assert wt.is_working_time(due) or due == wt.end_of_working_day(due.date())
