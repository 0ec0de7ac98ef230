"""Find the time in a commitment ("by Friday", "下周一前") and resolve it to a due datetime.

Pure: the sentence, its language, the message's date and the rep's WorkingTime are passed in.
It does not judge whether the sentence IS a commitment (the detector does); it only finds the
time phrase and says when it falls due. Own regular-expression rules, English and Chinese:
dateparser reads "we" as a date and knows no 下周一.

Resolution (d0 = the sent date in the rep's zone; "end" = `end` o'clock of working hours; a
target day that is not a working day rolls forward to the next working day, so a holiday
never makes a promise overdue):
  today        end of d0's working hours; sent after them (or on a day off), or "tonight"/今晚:
               23:59 that day
  tomorrow     end of the next working day after d0 (明天 sent on Friday: Monday)
  weekday      "by Friday", 周五前, 本周五: the coming Friday, d0 itself if sent that day before
               the end of working hours (sent on Saturday: the Friday after)
  next_weekday "next Monday", 下周一前: that weekday in the next calendar week (Mon-Sun)
  this_week    end of the last working day of d0's calendar week
  next_week    end of the last working day of next week; "early next week"/下周初 its second
               working day, "mid next week"/下周中 its middle one
  end_of_month end of the month's last working day (下个月底: next month's); end_of_year alike
  date         that date (this year, or next year when it has passed); 15号前: this month's
               15th or next month's; "12/05" without a year: whichever reading comes first
  in_n_days    d0 + N calendar days; "N working days"/N个工作日, 后天 (2) and 大后天 (3): the Nth
               next working day; weeks and months by the calendar
  in_n_hours   sent_at + N elapsed hours; outside working time: the next working moment
A time of day refines the due hour: morning/noon/上午/中午/明早 → 12:00, evening/晚上 → 23:59.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from mailkeeper.clock import WorkingTime, fmt_day, fmt_dt

__all__ = ["KINDS", "TimePhrase", "due_from", "find_all"]

KINDS = (
    "today",
    "tomorrow",
    "weekday",
    "next_weekday",
    "this_week",
    "next_week",
    "end_of_month",
    "end_of_year",
    "date",
    "in_n_days",
    "in_n_hours",
)


@dataclass(frozen=True)
class TimePhrase:
    phrase: str  # exactly as written: text[span[0]:span[1]]
    span: tuple[int, int]
    kind: str  # one of KINDS
    due: datetime  # aware, in the rep's zone
    explain: str  # the resolution in words

    @property
    def due_utc(self) -> datetime:
        return self.due.astimezone(UTC)


# --------------------------------------------------------------------------- resolution
class _Ctx:
    """The message's date and the rep's working time, with the resolution helpers."""

    def __init__(self, sent_at: datetime, wt: WorkingTime) -> None:
        self.wt = wt
        self.sent = wt.local(sent_at)
        self.d0 = self.sent.date()
        self.notes: list[str] = []

    def at(self, d: date, tod: str | None = None) -> datetime:
        """End of working hours on `d`, rolled forward to a working day; `tod` refines it."""
        wd = self.wt.working_day_on_or_after(d)
        if wd != d:
            self.notes.append(f"{fmt_day(d)} is {self.wt.day_status(d)[1]}: {fmt_day(wd)}")
        if tod == "noon":
            return datetime.combine(wd, max(time(12), self.wt.start), tzinfo=self.wt.tz)
        if tod == "night":
            return self.end_of_day(wd)
        return self.wt.end_of_working_day(wd)

    def end_of_day(self, d: date) -> datetime:
        return datetime.combine(d, time(23, 59), tzinfo=self.wt.tz)

    def last_working(self, first: date, last: date) -> datetime:
        days = self.wt.working_days(max(first, self.d0), last)
        due = self.wt.end_of_working_day(days[-1]) if days else self.at(max(first, self.d0))
        return max(due, self.end_of_day(self.d0)) if due < self.sent else due

    def week(self, offset: int) -> tuple[date, date]:
        monday = self.d0 - timedelta(days=self.d0.weekday()) + timedelta(weeks=offset)
        return monday, monday + timedelta(days=6)

    def nth_working_day(self, n: int) -> date:
        d = self.d0
        for _ in range(n):
            d = self.wt.next_working_day(d)
        skipped = (self.d0 + timedelta(days=i) for i in range(1, (d - self.d0).days))
        for x in skipped:
            ok, why = self.wt.day_status(x)
            if not ok and why != "not a working day":  # weekends go without saying
                self.notes.append(f"{fmt_day(x)} is {why}")
        return d


def _tod(word: str | None) -> str | None:
    if not word:
        return None
    w = word.lower()
    if w in ("morning", "noon", "midday", "lunchtime", "上午", "中午", "早上", "早", "午"):
        return "noon"
    if w in ("evening", "night", "tonight", "晚上", "晚"):
        return "night"
    return None


_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _nth(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    y, m = d.year + y, m + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _future_date(ctx: _Ctx, month: int, day: int, year: int | None) -> date | None:
    try:
        if year is not None:
            return date(year if year > 99 else 2000 + year, month, day)
        d = date(ctx.d0.year, month, day)
        if d < ctx.d0:
            d = date(ctx.d0.year + 1, month, day)
        return d
    except ValueError:  # 31 February, 30/30, ...
        return None


# --------------------------------------------------------------------------- numbers
_EN_NUM = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "a couple of": 2,
    "half an": 0.5,
    "half a": 0.5,
}
_ZH_DIGIT = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_ZH_DIGIT |= {"八": 8, "九": 9}


def _zh_int(s: str) -> int | None:
    """'24', '２４', '三', '十五', '二十四', '一百二十' → int."""
    if s.isdigit():
        return int(s)
    total, cur = 0, 0
    for ch in s:
        if ch in _ZH_DIGIT:
            cur = _ZH_DIGIT[ch]
        elif ch == "十":
            total += (cur or 1) * 10
            cur = 0
        elif ch == "百":
            total += (cur or 1) * 100
            cur = 0
        else:
            return None
    return total + cur


def _en_num(s: str) -> float | None:
    s = re.sub(r"\s+", " ", s.lower())
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    return _EN_NUM.get(s)


# --------------------------------------------------------------------------- rules
_WD_EN = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_WD_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_WD_ZH |= {str(i + 1): i for i in range(7)}
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            "january jan",
            "february feb",
            "march mar",
            "april apr",
            "may",
            "june jun",
            "july jul",
            "august aug",
            "september sept sep",
            "october oct",
            "november nov",
            "december dec",
        ]
    )
    for m in names.split()
}

_DOT = r"(?:\.(?=\s*\w))?"  # "Oct. 15", "Mon. morning"; never a sentence's full stop
_WD = r"(?:" + "|".join(sorted(_WD_EN, key=len, reverse=True)) + r")\b" + _DOT
_MON = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b" + _DOT
_BY = r"(?:(?:on\s+or\s+before|(?:no|not)\s+later\s+than|by|before|until|till|on)\s+)?"
_TODW = r"(?:\s+(?P<tod>morning|noon|midday|lunchtime|afternoon|evening|night|eod))?"
_LATEST = r"(?:\s+at\s+the\s+latest)?"
_WITHIN = r"(?:(?:by|before|within|until|till|in|during|at)\s+)?"
_EN_N = r"\d+(?:\.\d+)?|a\s+couple\s+of|half\s+an?|" + "|".join(
    sorted((w for w in _EN_NUM if " " not in w), key=len, reverse=True)
)
_ZN = r"[0-9０-９]+|[零一二两三四五六七八九十百]+"
_ZSUF = r"(?:之前|以前|前|之内|以内|内)?"
_ZPRE = r"(?:最迟|最晚|不晚于|不迟于)?"
_ZTOD = r"(?P<tod>上午|下午|中午|晚上|早上|下班)?"

Handler = Callable[[re.Match[str], _Ctx], tuple[str, datetime, str] | None]
_Rule = tuple[re.Pattern[str], Handler]


def _h_today(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str]:
    text = m.group(0).lower()
    eod = ctx.wt.end_of_working_day(ctx.d0)
    if any(w in text for w in ("tonight", "evening", "今晚", "晚上")):
        return "today", ctx.end_of_day(ctx.d0), "tonight: the end of the sent day"
    if any(w in text for w in ("morning", "上午", "早上", "今早")) and ctx.sent.hour < 12:
        return "today", datetime.combine(ctx.d0, time(12), tzinfo=ctx.wt.tz), "this morning"
    if ctx.wt.is_working_day(ctx.d0) and ctx.sent < eod:
        return "today", eod, "today: the end of working hours on the sent day"
    return "today", ctx.end_of_day(ctx.d0), "today, sent outside working hours: end of that day"


def _h_tomorrow(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str]:
    text = m.group(0).lower()
    if "after" in text:
        return "in_n_days", ctx.at(ctx.nth_working_day(2)), "the 2nd next working day"
    tod = _tod(m.groupdict().get("tod"))
    if tod is None and ("明早" in text or "明晚" in text):
        tod = "noon" if "早" in text else "night"
    return "tomorrow", ctx.at(ctx.nth_working_day(1), tod), "the next working day"


def _h_weekday(wd: int, nextweek: bool, tod: str | None, ctx: _Ctx) -> tuple[str, datetime, str]:
    name = _DAY_NAMES[wd]
    if nextweek:
        d = ctx.week(1)[0] + timedelta(days=wd)
        return "next_weekday", ctx.at(d, tod), f"{name} of next week"
    ahead = (wd - ctx.d0.weekday()) % 7
    if ahead == 0 and ctx.sent >= ctx.wt.end_of_working_day(ctx.d0):
        ahead = 7
    d = ctx.d0 + timedelta(days=ahead)
    return "weekday", ctx.at(d, tod), f"the coming {name}"


def _h_weekday_en(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str] | None:
    word = m.group("wd").lower().rstrip(".")
    mod = (m.group("mod") or "").lower()
    if not word.endswith("day") and m.start("wd") == m.start():
        return None  # a bare abbreviation ("Sun", "Sat") is too often not a day
    nextweek = mod == "next" or bool(m.group("nw"))
    return _h_weekday(_WD_EN[word], nextweek, _tod(m.group("tod")), ctx)


def _h_weekday_zh(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str]:
    mod = m.group("mod") or ""
    return _h_weekday(_WD_ZH[m.group("wd")], mod.startswith("下"), _tod(m.group("tod")), ctx)


def _h_this_week(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str]:
    return "this_week", ctx.last_working(*ctx.week(0)), "the last working day of this week"


def _h_next_week(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str]:
    text = m.group(0).lower()
    mon, sun = ctx.week(1)
    if re.search(r"前|之前|以前", text) and not re.search(r"[初中末]", text):
        return "this_week", ctx.last_working(*ctx.week(0)), "before next week: end of this week"
    days = ctx.wt.working_days(mon, sun)
    if not days:
        return "next_week", ctx.at(sun), "next week (no working day in it)"
    if re.search(r"early|beginning|start|初", text):
        d, why = days[min(1, len(days) - 1)], "early next week: its 2nd working day"
    elif re.search(r"mid|middle|中", text):
        d, why = days[len(days) // 2], "mid next week: its middle working day"
    else:
        d, why = days[-1], "next week: its last working day"
    return "next_week", ctx.wt.end_of_working_day(d), why


def _h_month(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str]:
    nxt = bool(re.search(r"next|下", m.group(0).lower()))
    first = _add_months(ctx.d0.replace(day=1), 1 if nxt else 0)
    end = _month_end(first.year, first.month)
    return "end_of_month", ctx.last_working(first, end), "the month's last working day"


def _h_year(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str]:
    y = ctx.d0.year
    return (
        "end_of_year",
        ctx.last_working(date(y, 1, 1), date(y, 12, 31)),
        "the year's last working day",
    )


def _h_date_dm(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str] | None:
    g = m.groupdict()
    month = _MONTHS.get((g.get("mname") or "").lower().rstrip(".")) or _zh_int(g.get("m") or "")
    day = _zh_int(g["d"])
    year = int(g["y"]) if g.get("y") else None
    if not month or not day:
        return None
    d = _future_date(ctx, month, day, year)
    return ("date", ctx.at(d), "that date") if d else None


def _h_date_numeric(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str] | None:
    a, b = int(m.group("a")), int(m.group("b"))
    year = int(m.group("y")) if m.group("y") else None
    dates = [_future_date(ctx, mo, dy, year) for mo, dy in ((a, b), (b, a))]
    found = sorted({d for d in dates if d is not None})
    return ("date", ctx.at(found[0]), "that date (the earlier reading)") if found else None


def _h_iso(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str] | None:
    d = _future_date(ctx, int(m.group("m")), int(m.group("d")), int(m.group("y")))
    return ("date", ctx.at(d), "that date") if d else None


def _h_month_end_named(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str] | None:
    month = _MONTHS[m.group("mname").lower().rstrip(".")]
    y = ctx.d0.year + (1 if month < ctx.d0.month else 0)
    end = _month_end(y, month)
    return "date", ctx.last_working(date(y, month, 1), end), "that month's last working day"


def _h_zh_day(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str] | None:
    day = _zh_int(m.group("d"))
    rel = m.group("rel") or ""
    if not day or day > 31:
        return None
    base = _add_months(ctx.d0.replace(day=1), 1 if rel.startswith("下") else 0)
    try:
        d = base.replace(day=day)
    except ValueError:
        return None
    if d < ctx.d0 and not rel:
        d = _add_months(d, 1)
    return "date", ctx.at(d), "that day of the month"


def _in_n(n: float, unit: str, ctx: _Ctx) -> tuple[str, datetime, str] | None:
    if unit == "hour":
        due = ctx.sent + timedelta(hours=n)
        if not ctx.wt.is_working_time(due):
            due = ctx.wt.add_working_hours(due, 0)
            return "in_n_hours", due, f"{n:g} h, then the next working moment"
        return "in_n_hours", ctx.wt.local(due), f"{n:g} elapsed h"
    if n != int(n) or n < 1:
        return None
    k = int(n)
    if unit == "working_day":
        return "in_n_days", ctx.at(ctx.nth_working_day(k)), f"the {_nth(k)} next working day"
    if unit == "month":
        return "in_n_days", ctx.at(_add_months(ctx.d0, k)), f"{k} month(s)"
    days = k * 7 if unit == "week" else k
    return "in_n_days", ctx.at(ctx.d0 + timedelta(days=days)), f"{days} calendar days"


_UNITS = {
    "day": "day",
    "days": "day",
    "working day": "working_day",
    "working days": "working_day",
    "business day": "working_day",
    "business days": "working_day",
    "week": "week",
    "weeks": "week",
    "month": "month",
    "months": "month",
    "hour": "hour",
    "hours": "hour",
    "hr": "hour",
    "hrs": "hour",
    "h": "hour",
    "天": "day",
    "日": "day",
    "工作日": "working_day",
    "周": "week",
    "星期": "week",
    "礼拜": "week",
    "月": "month",
    "小时": "hour",
    "钟头": "hour",
}


def _h_in_n_en(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str] | None:
    n = _en_num(m.group("n"))
    unit = _UNITS[re.sub(r"\s+", " ", m.group("u").lower())]
    return None if n is None else _in_n(n, unit, ctx)


def _h_in_n_zh(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str] | None:
    n: float | None = 0.5 if m.group("n") == "半" else _zh_int(m.group("n"))
    if n is None:
        return None
    if m.group("half"):
        n += 0.5
    return _in_n(n, _UNITS[m.group("u")], ctx)


def _h_houtian(m: re.Match[str], ctx: _Ctx) -> tuple[str, datetime, str]:
    n = 3 if m.group(0).startswith("大") or "大后天" in m.group(0) else 2
    return "in_n_days", ctx.at(ctx.nth_working_day(n)), f"the {_nth(n)} next working day"


def _rx(p: str) -> re.Pattern[str]:
    return re.compile(p, re.IGNORECASE)


_EN_RULES: list[_Rule] = [
    (
        _rx(rf"\b(?:first\s+thing\s+)?{_BY}(?:the\s+day\s+after\s+)?tomorrow{_TODW}{_LATEST}\b"),
        _h_tomorrow,
    ),
    (
        _rx(
            rf"\b{_BY}(?:today|tonight|this\s+(?:morning|afternoon|evening)|later\s+today"
            rf"|(?:the\s+)?end\s+of\s+(?:the\s+)?(?:day|business|today)|eod|cob"
            rf"|close\s+of\s+business)\b{_LATEST}"
        ),
        _h_today,
    ),
    (
        _rx(
            rf"\b(?:first\s+thing\s+)?{_BY}(?:(?P<mod>next|this|this\s+coming|coming)\s+)?"
            rf"(?<!last\s)(?<!past\s)(?P<wd>{_WD})(?:\s+(?P<nw>next\s+week))?{_TODW}{_LATEST}"
        ),
        _h_weekday_en,
    ),
    (
        _rx(
            rf"\b(?:(?:by|before|within|during|in|until|till)\s+)?(?:this\s+week(?!end)"
            rf"|(?:(?:by|before)\s+)?(?:the\s+)?end\s+of\s+(?:this|the)\s+week(?!end)"
            rf"|(?:by|before)\s+(?:the\s+|this\s+)?weekend|this\s+weekend)\b{_LATEST}"
        ),
        _h_this_week,
    ),
    (
        _rx(
            r"\b(?:(?:early|late|later|mid|sometime|some\s+time|within|during|by|in"
            r"|(?:by|before|at|in|until)\s+(?:the\s+)?(?:end|beginning|start|middle)\s+of"
            r"|(?:the\s+)?(?:end|beginning|start|middle)\s+of)[\s-]+)?next\s+week(?!end)\b"
        ),
        _h_next_week,
    ),
    (
        _rx(
            rf"\b{_WITHIN}(?:(?:the\s+)?end\s+of\s+(?:(?:this|the)\s+)?month|month[\s-]end"
            rf"|this\s+month|(?:the\s+)?end\s+of\s+next\s+month)\b{_LATEST}"
        ),
        _h_month,
    ),
    (
        _rx(
            rf"\b{_WITHIN}(?:(?:the\s+)?end\s+of\s+(?:(?:this|the)\s+)?year|year[\s-]end"
            rf"|this\s+year)\b{_LATEST}"
        ),
        _h_year,
    ),
    (
        _rx(
            rf"\b{_BY}(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<mname>{_MON})"
            rf"(?:,?\s+(?P<y>\d{{4}}))?{_LATEST}"
        ),
        _h_date_dm,
    ),
    (
        _rx(
            rf"\b{_BY}(?P<mname>{_MON})\s+(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?!\d|:)\b"
            rf"(?:,?\s+(?P<y>\d{{4}}))?{_LATEST}"
        ),
        _h_date_dm,
    ),
    (_rx(rf"\b{_BY}(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}})\b{_LATEST}"), _h_iso),
    (
        _rx(
            r"\b(?:(?:on\s+or\s+before|(?:no|not)\s+later\s+than|by|before|until|till|on)\s+)"
            r"(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{2}|\d{4}))?(?![\d/])"
        ),
        _h_date_numeric,
    ),
    (
        _rx(rf"\b(?:(?:by|before|at|until)\s+)?(?:the\s+)?end\s+of\s+(?P<mname>{_MON})(?!\s*\d)"),
        _h_month_end_named,
    ),
    (
        _rx(
            rf"\b(?:with)?in\s+(?:the\s+next\s+)?(?P<n>{_EN_N})\s+"
            r"(?P<u>(?:working|business)\s+days?|days?|weeks?|months?|hours?|hrs?)\b(?:'?s?\s+time)?"
        ),
        _h_in_n_en,
    ),
]

_ZH_RULES: list[_Rule] = [
    (re.compile(rf"{_ZPRE}(?:明天|明日|明儿){_ZTOD}{_ZSUF}|{_ZPRE}明[早晚]{_ZSUF}"), _h_tomorrow),
    (
        re.compile(r"(?<!然)大?后天(?:上午|下午|中午|晚上|下班)?(?:之前|以前|前|之内|以内|内)?"),
        _h_houtian,
    ),
    (
        re.compile(
            rf"{_ZPRE}(?:(?:今天|今日|当天)(?:上午|下午|中午|晚上|早上|下班)?|今晚|今早"
            rf"|(?<![明后天日周一二三四五六])(?:下班|(?:上午|下午|中午|晚上)(?!茶)))"
            rf"(?:之前|以前|前|之内|以内|内)?"
        ),
        _h_today,
    ),
    (
        re.compile(
            rf"{_ZPRE}(?<![上每])(?<!上个)(?P<mod>本|这|这个|下|下个)?(?:周|星期|礼拜)"
            rf"(?P<wd>[一二三四五六日天1-7])(?![年月号日度周内])(?:{_ZTOD}){_ZSUF}"
        ),
        _h_weekday_zh,
    ),
    (
        re.compile(
            rf"{_ZPRE}(?:(?:本|这|这个)(?:周|星期|礼拜)(?:末)?(?:之内|以内|内|之前|以前|前)?"
            rf"|(?<![上下每])周末(?:之前|以前|前)?)"
        ),
        _h_this_week,
    ),
    (
        re.compile(rf"{_ZPRE}(?:下个?(?:周|星期|礼拜))(?:初|中|末)?(?:之内|以内|内|之前|以前|前)?"),
        _h_next_week,
    ),
    (
        re.compile(
            rf"{_ZPRE}(?:(?:本|这个|当|下个?)?月[底末]{_ZSUF}|(?:本|这个|当)月(?:之内|以内|内))"
        ),
        _h_month,
    ),
    (
        re.compile(
            rf"{_ZPRE}(?:(?:今|本)年度?(?:之内|以内|内)|(?:(?:今|本)年度?)?年[底末]{_ZSUF})"
        ),
        _h_year,
    ),
    (
        re.compile(
            rf"{_ZPRE}(?:(?P<y>\d{{4}})年)?(?P<m>{_ZN})月(?P<d>{_ZN})[日号](?!内|之内|以内){_ZSUF}"
        ),
        _h_date_dm,
    ),
    (
        re.compile(
            rf"{_ZPRE}(?:(?P<rel>下个?月|本月|这个月)|(?<![月\d０-９零一二两三四五六七八九十]))"
            rf"(?P<d>{_ZN})[日号](?!内|之内|以内){_ZSUF}"
        ),
        _h_zh_day,
    ),
    (re.compile(rf"{_ZPRE}(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}}){_ZSUF}"), _h_iso),
    (
        re.compile(
            rf"(?P<n>{_ZN}|半)(?:个)?(?P<half>半)?(?:个)?(?P<u>工作日|天|日|小时|钟头|周|星期|礼拜|月)"
            r"(?:之内|以内|内|后|之后|以后)"
        ),
        _h_in_n_zh,
    ),
]

_RULES: dict[str, list[_Rule]] = {
    "en": _EN_RULES,
    "zh": _ZH_RULES + _EN_RULES,  # Chinese mail quotes English dates ("by Oct 15") too
}


def find_all(text: str, language: str, sent_at: datetime, wt: WorkingTime) -> list[TimePhrase]:
    """Every time phrase in `text`, in order, none overlapping (the longest wins a tie)."""
    ctx = _Ctx(sent_at, wt)
    rules = _RULES.get(language, _ZH_RULES + _EN_RULES)
    found: list[tuple[int, int, int, TimePhrase]] = []
    for prio, (rx, handler) in enumerate(rules):
        for m in rx.finditer(text):
            a, b = m.span()
            phrase = m.group(0).strip()
            if not phrase:
                continue
            a += len(m.group(0)) - len(m.group(0).lstrip())
            b = a + len(phrase)
            ctx.notes = []
            got = handler(m, ctx)
            if got is None:
                continue
            kind, due, why = got
            notes = "".join(f"; {n}" for n in ctx.notes)
            explain = (
                f"'{phrase}' ({kind}) in mail sent {fmt_dt(ctx.sent)} {wt.timezone}: "
                f"{why}{notes} → due {fmt_dt(due)}"
            )
            found.append((a, -(b - a), prio, TimePhrase(phrase, (a, b), kind, due, explain)))
    found.sort(key=lambda t: t[:3])
    out: list[TimePhrase] = []
    end = -1
    for a, _neg, _prio, tp in found:
        if a >= end:
            out.append(tp)
            end = tp.span[1]
    return out


def due_from(text: str, language: str, sent_at: datetime, wt: WorkingTime) -> TimePhrase | None:
    """The first time phrase in `text`, resolved against `sent_at` in the rep's working time.

    `language` is "en" or "zh" (Chinese text is also searched with the English rules; any
    other language uses both). None when no time is found ("ASAP", "尽快" are not times).
    """
    found = find_all(text, language, sent_at, wt)
    return found[0] if found else None
