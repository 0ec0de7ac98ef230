"""The period a plan refers to ("before the autumn", "next year", "Q3", "下半年", "明年春季"),
resolved against the message's date: a window of days (first, last).

The time phrases of promises (timephrase.py) say when something falls due, to the hour; a
customer's plan names a stretch of the calendar instead, so this module adds seasons,
quarters, half years, months and years, with timephrase's month names and Chinese numerals.
Seasons follow the customer's hemisphere: meteorological seasons, spring is March to May in
the north and September to November in the south (Sydney). "before X" is the month before X.
A period already over when the mail was written means the next one ("spring" in June: next
spring; a season more than half over too: "an autumn range" in late November is next
autumn's); "this"/今年 keeps the current year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from mailkeeper.detect.timephrase import _MONTHS, _add_months, _month_end, _zh_int


@dataclass(frozen=True)
class Period:
    phrase: str
    first: date
    last: date
    why: str


# the first month of each season, north; the south is six months on
_SEASON_START = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
_ZH_SEASON = {"春": "spring", "夏": "summer", "秋": "autumn", "冬": "winter"}
_EN_ORD = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
           "4th": 4, "last": 4, "final": 4}  # fmt: skip
_EN_MON = "|".join(sorted((m for m in _MONTHS if len(m) > 3 or m == "may"), key=len, reverse=True))
_YEAR_MOD = r"(?:\s+(?:of\s+)?(?P<ymod>this\s+year|next\s+year|(?P<yn>20\d\d)))?"

_EN = re.compile(
    r"\b(?P<before>before|ahead\s+of|prior\s+to|by)?\s*(?:the\s+)?(?:(?P<part0>early|late|mid)[\s-]+)?(?:(?P<mod>this|next|coming|"
    r"upcoming)\s+)?(?P<part>early|late|mid|end\s+of(?:\s+the)?|beginning\s+of(?:\s+the)?)?[\s-]*"
    r"(?:(?P<season>spring|summer|autumn|fall|winter)(?:\s+season)?"
    r"|(?P<q>q[1-4])|(?P<qord>first|second|third|fourth|1st|2nd|3rd|4th|last|final)\s+quarter"
    r"|(?P<quarter>quarter)"
    r"|(?P<hord>first|second|1st|2nd|latter)\s+half\s+of\s+(?:the\s+)?(?P<hyear>this\s+year|"
    r"next\s+year|year|20\d\d)|(?P<h>h[12])"
    r"|(?P<yr>year)|(?P<month>month)|(?P<season2>season)"
    r"|(?P<mname>" + _EN_MON + r"))\b" + _YEAR_MOD,
    re.I,
)
_EN_YEAR = re.compile(r"\b(?:in|for|during|by)\s+(?P<y>20\d\d)\b")
_EN_N = re.compile(
    r"\b(?:with)?in\s+(?:the\s+)?(?:next|coming)\s+(?P<n>\d+|two|three|four|five|six|few|"
    r"couple\s+of)\s+months\b",
    re.I,
)
_ZN = r"[0-9０-９]+|[一二两三四五六七八九十]+"
_ZH = re.compile(
    r"(?P<ymod>今年|明年|后年|下一?年|本年度?)?(?:的)?(?:(?P<season>[春夏秋冬])(?:季|天|季度)"
    r"|(?:第?(?P<q>[一二三四1-4])季度|(?P<qrel>下个?|本|这个?)季度)"
    r"|(?P<h>[上下])半年|(?P<yedge>年[初底末])|(?P<m>" + _ZN + r")月份?"
    r"|(?P<mrel>下个?月)|(?P<season2>下一?季))(?P<before>之?前|以前)?"
)
_ZH_YEAR = re.compile(
    r"(?P<ymod>明年|今年|后年)(?!的?[春夏秋冬上下第一二三四年0-9１-９]|[0-9一二三四五六七八九十]+月)"
)
_ZH_N = re.compile(r"(?:未来|接下来的?|今后)(?P<n>" + _ZN + r")个月")


def period_in(text: str, sent: date, south: bool = False) -> Period | None:
    """The first period named in `text`, as a window of days; None when there is none."""
    found = [p for p in (_en(text, sent, south), _zh(text, sent, south)) if p is not None]
    return min(found, key=lambda p: text.find(p.phrase)) if found else None


def _season(name: str, sent: date, south: bool, year: int | None, nxt: bool) -> tuple[date, date]:
    start = _SEASON_START[name] + (6 if south else 0)
    if start > 12:
        start -= 12
    first = date(year if year is not None else sent.year, start, 1)
    last = _month_end(_add_months(first, 2).year, _add_months(first, 2).month)
    if year is None:
        if last < sent + (last - first) / 2:  # over, or more than half over: the next one
            first, last = first.replace(year=first.year + 1), _add_year(last)
        if nxt and first <= sent:
            first, last = first.replace(year=first.year + 1), _add_year(last)
        elif first > sent and start == 12 and sent.month <= 2 and not nxt:
            # "winter" (north) in January: the winter we are in
            first, last = first.replace(year=first.year - 1), _add_year(last, -1)
    return first, last


def _add_year(d: date, n: int = 1) -> date:
    return _month_end(d.year + n, d.month) if d.day > 27 else d.replace(year=d.year + n)


def _months(first: date, n: int) -> tuple[date, date]:
    end = _add_months(first, n - 1)
    return first, _month_end(end.year, end.month)


def _next_after(first: date, last: date, sent: date, span_years: int = 1) -> tuple[date, date]:
    """A window of this year that is over already: the one a year on."""
    if last < sent:
        return first.replace(year=first.year + span_years), _add_year(last, span_years)
    return first, last


def _part(part: str, first: date, last: date) -> tuple[date, date]:
    """early / mid / late of a window: its first, middle or last third."""
    days = (last - first).days + 1
    third = max(days // 3, 1)
    if part.startswith(("early", "beginning")):
        return first, first + timedelta(days=third - 1)
    if part.startswith("mid"):
        return first + timedelta(days=third), last - timedelta(days=third)
    if part.startswith(("late", "end")):
        return last - timedelta(days=third - 1), last
    return first, last


def _before(first: date) -> tuple[date, date]:
    """ "before the autumn": the month before it."""
    prev = _add_months(first, -1)
    return prev.replace(day=1), first - timedelta(days=1)


def _en(text: str, sent: date, south: bool) -> Period | None:
    for m in _EN.finditer(text):
        g = {k: (v or "").lower() for k, v in m.groupdict().items()}
        if g["before"] == "by" and not (g["season"] or g["q"] or g["qord"] or g["mname"]):
            continue
        ymod = re.sub(r"\s+", " ", g["ymod"])
        year = int(g["yn"]) if g["yn"] else (sent.year + 1 if ymod == "next year" else None)
        this_year = ymod == "this year" or g["mod"] == "this"
        nxt = g["mod"] in ("next",) and not ymod
        got = _en_window(g, sent, south, year, nxt, this_year)
        if got is None:
            continue
        first, last, why = got
        part = g["part0"] or g["part"]
        if part:
            first, last = _part(part, first, last)
            why = f"{part} of {why}"
        if g["before"] in ("before", "ahead of", "prior to") or (
            g["before"] == "by" and g["season"]
        ):
            first, last = _before(first)
            why = f"the month before {why}"
        return Period(m.group(0).strip(), first, last, why)
    n_months = _EN_N.search(text)
    if n_months:
        m = n_months
        word = m.group("n").lower()
        words = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "few": 3}
        n = int(word) if word.isdigit() else words.get(word.split()[0], 2)
        return Period(m.group(0).strip(), sent, _add_months(sent, int(n)), f"the next {n} months")
    in_year = _EN_YEAR.search(text)
    if in_year and int(in_year.group("y")) >= sent.year:
        y = int(in_year.group("y"))
        return Period(in_year.group(0).strip(), max(date(y, 1, 1), sent), date(y, 12, 31), f"{y}")
    return None


def _en_window(
    g: dict[str, str], sent: date, south: bool, year: int | None, nxt: bool, this_year: bool
) -> tuple[date, date, str] | None:
    if g["season"]:
        name = "autumn" if g["season"] == "fall" else g["season"]
        first, last = _season(name, sent, south, year, nxt)
        hemi = " (southern hemisphere)" if south else ""
        return first, last, f"{name} {first.year}{hemi}"
    if g["q"] or g["qord"]:
        q = int(g["q"][1]) if g["q"] else _EN_ORD[g["qord"]]
        first, last = _months(date(year or sent.year, 3 * q - 2, 1), 3)
        if year is None and not this_year:
            first, last = _next_after(first, last, sent)
        return first, last, f"Q{q} {first.year}"
    if g["quarter"]:
        if g["mod"] not in ("next", "this", "coming", "upcoming"):
            return None
        start = date(sent.year, 3 * ((sent.month - 1) // 3) + 1, 1)
        first, last = _months(_add_months(start, 0 if g["mod"] == "this" else 3), 3)
        return first, last, f"{g['mod']} quarter"
    if g["hord"] or g["h"]:
        second = (g["hord"] in ("second", "2nd", "latter")) or g["h"] == "h2"
        hy = re.sub(r"\s+", " ", g["hyear"])
        y = int(hy) if hy.isdigit() else (sent.year + 1 if hy == "next year" else year or sent.year)
        first, last = _months(date(y, 7 if second else 1, 1), 6)
        if not (hy or year) and g["h"]:
            first, last = _next_after(first, last, sent)
        return first, last, f"{'second' if second else 'first'} half of {first.year}"
    if g["yr"]:
        if g["mod"] == "next" or g["mod"] == "coming":
            return date(sent.year + 1, 1, 1), date(sent.year + 1, 12, 31), f"{sent.year + 1}"
        if g["mod"] == "this" or g["part"].startswith("end") and not g["mod"]:
            return sent, date(sent.year, 12, 31), f"the rest of {sent.year}"
        return None
    if g["month"]:
        if g["mod"] not in ("next", "coming"):
            return None
        first = _add_months(sent.replace(day=1), 1)
        return first, _month_end(first.year, first.month), "next month"
    if g["season2"]:
        if g["mod"] not in ("next", "coming", "upcoming"):
            return None
        first = _add_months(sent.replace(day=1), 1 if g["mod"] != "next" else 3)
        first, last = _months(first, 3)
        return first, last, f"the {g['mod']} season: {first.isoformat()[:7]} on"
    if g["mname"]:
        if g["mname"] == "may" and not (g["before"] or g["mod"] or year or g["part"]):
            return None  # "we may need": the verb
        month = _MONTHS[g["mname"].rstrip(".")]
        first, last = _months(date(year or sent.year, month, 1), 1)
        if year is None:
            first, last = _next_after(first, last, sent)
            if nxt and first <= sent:
                first, last = first.replace(year=first.year + 1), _add_year(last)
        return first, last, first.strftime("%B %Y")
    return None


def _zh(text: str, sent: date, south: bool) -> Period | None:
    for m in _ZH.finditer(text):
        g = {k: v or "" for k, v in m.groupdict().items()}
        ymod = g["ymod"]
        year = {"明年": sent.year + 1, "下年": sent.year + 1, "下一年": sent.year + 1,
                "后年": sent.year + 2}.get(ymod, sent.year if ymod else None)  # fmt: skip
        got = _zh_window(g, sent, south, year)
        if got is None:
            continue
        first, last, why = got
        if g["before"]:
            first, last = _before(first)
            why = f"the month before {why}"
        return Period(m.group(0), first, last, why)
    n_months = _ZH_N.search(text)
    if n_months:
        n = _zh_int(n_months.group("n")) or 0
        if n:
            return Period(n_months.group(0), sent, _add_months(sent, n), f"the next {n} months")
    in_year = _ZH_YEAR.search(text)
    if in_year:
        y = {"明年": sent.year + 1, "后年": sent.year + 2}.get(in_year.group("ymod"), sent.year)
        first = sent if y == sent.year else date(y, 1, 1)
        return Period(in_year.group(0), first, date(y, 12, 31), f"{y}")
    return None


def _zh_window(
    g: dict[str, str], sent: date, south: bool, year: int | None
) -> tuple[date, date, str] | None:
    if g["season"]:
        name = _ZH_SEASON[g["season"]]
        first, last = _season(name, sent, south, year, False)
        return first, last, f"{name} {first.year}" + (" (southern hemisphere)" if south else "")
    if g["q"] or g["qrel"]:
        if g["qrel"]:
            start = date(sent.year, 3 * ((sent.month - 1) // 3) + 1, 1)
            first, last = _months(_add_months(start, 3 if g["qrel"].startswith("下") else 0), 3)
            return first, last, "that quarter"
        q = _zh_int(g["q"]) or 1
        first, last = _months(date(year or sent.year, 3 * q - 2, 1), 3)
        if year is None:
            first, last = _next_after(first, last, sent)
        return first, last, f"Q{q} {first.year}"
    if g["h"]:
        first, last = _months(date(year or sent.year, 1 if g["h"] == "上" else 7, 1), 6)
        if year is None:
            first, last = _next_after(first, last, sent)
        return first, last, f"{'first' if g['h'] == '上' else 'second'} half of {first.year}"
    if g["yedge"]:
        y = year or sent.year
        if g["yedge"] == "年初":
            first, last = _months(date(y if year else sent.year + 1, 1, 1), 2)
            return first, last, f"early {first.year}"
        return date(y, 11, 1), date(y, 12, 31), f"the end of {y}"
    if g["m"]:
        month = _zh_int(g["m"])
        if not month or month > 12:
            return None
        first, last = _months(date(year or sent.year, month, 1), 1)
        if year is None:
            first, last = _next_after(first, last, sent)
        return first, last, first.strftime("%B %Y")
    if g["mrel"]:
        first = _add_months(sent.replace(day=1), 1)
        return first, _month_end(first.year, first.month), "next month"
    if g["season2"]:
        first, last = _months(_add_months(sent.replace(day=1), 3), 3)
        return first, last, f"the next season: {first.isoformat()[:7]} on"
    return None
