"""The yearly report card's figures: what the rep did for one customer in a period (orders,
on-time delivery, problems told at once, questions answered). Pure: it takes the rows the
`--json` listings print (`orders --all` with their timelines and problems, `issues --all`),
so the draft, the site and `report-card --json` show the same figures. A figure without data
is None (left out of the draft and the page), never 0 % or NaN."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from mailkeeper.clock import WorkingTime

WAITING = ("open", "overdue")  # still waiting for the rep's answer
NOT_ISSUES = ("maybe",)  # below the judge's threshold: never counted


@dataclass(frozen=True)
class Period:
    """[start, end) in the rep's zone; `label` is what the draft calls it ("2026")."""

    start: datetime
    end: datetime
    label: str

    def holds(self, iso: str | None) -> bool:
        return iso is not None and iso != "" and self.start <= _ts(iso) < self.end


def calendar_year(year: int, tz: tzinfo) -> Period:
    return Period(datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz), str(year))


def year_before(day: date, tz: tzinfo) -> Period:
    """The twelve months before `day` (an anniversary): 2025-06-15 to 2026-06-14."""
    start = _same_day(day, day.year - 1)
    last = day - timedelta(days=1)
    return Period(datetime.combine(start, datetime.min.time(), tz),
                  datetime.combine(day, datetime.min.time(), tz),
                  f"{start.isoformat()} – {last.isoformat()}")  # fmt: skip


def _same_day(day: date, year: int) -> date:
    """`day` in `year` (29 February: the 28th in a common year)."""
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def anniversary(first_order: date, today: date) -> date | None:
    """The last anniversary of `first_order` on or before `today` (None before the first)."""
    day = _same_day(first_order, today.year)
    if day > today:
        day = _same_day(first_order, today.year - 1)
    return day if day > first_order else None


def _ts(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def money(amount: Decimal) -> str:
    """9500 -> '9,500'; 12345.5 -> '12,345.50' (cents shown when there are any)."""
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount.quantize(Decimal('0.01')):,}"


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def figures(
    period: Period,
    orders: Sequence[Mapping[str, Any]],
    timelines: Mapping[str, Sequence[Mapping[str, Any]]],
    problems: Mapping[str, Sequence[Mapping[str, Any]]],
    issues: Sequence[Mapping[str, Any]],
    wt: WorkingTime,
) -> dict[str, Any]:
    """One customer's report card for `period`, from its rows of `orders --all` (and each
    order's timeline and problems, by ref) and `issues --all`."""
    return {
        "period": period.label,
        "start": period.start.date().isoformat(),
        "end": (period.end - timedelta(days=1)).date().isoformat(),
        "orders": _orders([o for o in orders if period.holds(o["confirmed_at"])]),
        "on_time": _on_time(orders, timelines, period),
        "problems": _problems(orders, problems, period),
        "issues": _issues(
            [
                i
                for i in issues
                if i["state"] not in NOT_ISSUES and period.holds(i.get("received_at"))
            ],
            wt,
        ),  # fmt: skip
    }


def _orders(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Orders confirmed in the period: how many, the pieces, the amounts by currency."""
    if not rows:
        return None
    pieces = [o["quantity"] for o in rows if o.get("quantity") is not None]
    by_currency: dict[str, Decimal] = {}
    for o in rows:
        if o.get("amount") is not None and o.get("currency"):
            by_currency[o["currency"]] = by_currency.get(o["currency"], Decimal(0)) + Decimal(
                str(o["amount"])
            )
    return {
        "count": len(rows),
        "refs": [o["ref"] for o in sorted(rows, key=lambda o: o["confirmed_at"])],
        "quantity": sum(pieces) if pieces else None,
        "quantity_text": f"{sum(pieces):,}" if pieces else None,
        "quantity_of": len(pieces),  # how many orders the quantity adds up
        "amounts": [
            {"currency": c, "amount": _number(a), "text": money(a)}
            for c, a in sorted(by_currency.items())
        ],  # fmt: skip
    }


def _final(steps: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The plan's last dated milestone (shipping)."""
    dated = [s for s in steps if not s.get("every_days")]
    return dated[-1] if dated else None


def _on_time(
    orders: Sequence[Mapping[str, Any]],
    timelines: Mapping[str, Sequence[Mapping[str, Any]]],
    period: Period,
) -> dict[str, Any] | None:
    """Orders shipped in the period, and how many on or before their planned day."""
    shipped = on_time = 0
    for o in orders:
        final = _final(timelines.get(o["ref"], ()))
        if final is None or not period.holds(final.get("actual_at")) or not final.get("planned_at"):
            continue
        shipped += 1
        on_time += (final.get("late_days") or 0) <= 0
    if not shipped:
        return None
    return {"shipped": shipped, "on_time": on_time, "percent": round(100 * on_time / shipped)}


def _problems(
    orders: Sequence[Mapping[str, Any]],
    problems: Mapping[str, Sequence[Mapping[str, Any]]],
    period: Period,
) -> dict[str, Any] | None:
    """Problems recorded in the period, how many the customer was told of, and the median
    hours from `order problem` to the rep's mail about the order."""
    found = [p for o in orders for p in problems.get(o["ref"], ()) if period.holds(p["at"])]
    if not found:
        return None
    hours = [(_ts(p["reported_at"]) - _ts(p["at"])).total_seconds() / 3600
             for p in found if p.get("reported_at")]  # fmt: skip
    return {
        "recorded": len(found),
        "told": len(hours),
        "median_hours_to_tell": round(statistics.median(hours), 1) if hours else None,
    }


def _issues(rows: Sequence[Mapping[str, Any]], wt: WorkingTime) -> dict[str, Any] | None:
    """Complaints and questions received in the period: how many, the median working hours
    to the rep's first answer, how many still wait for one."""
    if not rows:
        return None
    hours = [
        wt.working_hours_between(_ts(i["received_at"]), _ts(i["acknowledged_at"]))
        for i in rows
        if i.get("acknowledged_at")
    ]
    return {
        "count": len(rows),
        "answered": len(hours),
        "median_first_answer_hours": round(statistics.median(hours), 1) if hours else None,
        "open": sum(i["state"] in WAITING for i in rows),
    }


def empty(card: Mapping[str, Any]) -> bool:
    """Nothing to tell the customer: no order, shipment, problem or question in the period."""
    return not any(card[k] for k in ("orders", "on_time", "problems", "issues"))
