"""Each customer's health and figures for the site, from the rows the `--json` listings print
(customers, neglected, issues, promises, orders): nothing is recomputed another way, so the
site shows what the listings say. Pure: rows, `now` and the rep's working time come in."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailkeeper.clock import WorkingTime

# Worst first. A customer's health is the first of these that holds.
HEALTH = ("issue open", "order late", "neglected", "dormant", "on track")
ATTENTION = ("issue open", "order late", "neglected")
OPEN = ("open", "overdue")


@dataclass
class Listings:
    """The listings as `--json` prints them, for one `--as-of`."""

    customers: list[dict[str, Any]]
    neglected: list[dict[str, Any]]  # neglected --all
    issues: list[dict[str, Any]]  # issues --all
    promises: list[dict[str, Any]]  # promises --all
    orders: list[dict[str, Any]]  # orders --all


@dataclass
class Account:
    """One customer's row of the overview and the figures of its page."""

    name: str
    row: dict[str, Any]  # its `customers --json` row
    health: str = "on track"
    neglect: dict[str, Any] | None = None
    issues: list[dict[str, Any]] = field(default_factory=list)
    promises: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    open_findings: int = 0
    orders_in_progress: int = 0
    first_answer_hours: float | None = None  # median, working hours
    urgency: float = 0.0  # within its health: larger is worse

    @property
    def rank(self) -> tuple[int, float, str]:
        return (HEALTH.index(self.health), -self.urgency, self.name.casefold())


def _ts(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")) if iso else None


def first_answer_hours(issues: Sequence[dict[str, Any]], wt: WorkingTime) -> float | None:
    """Median working hours from a customer's issue to the rep's first answer (the issues
    that have one), rounded to 0.1 h; None when none was answered."""
    hours = []
    for i in issues:
        got, answered = _ts(i.get("received_at")), _ts(i.get("acknowledged_at"))
        if got and answered:
            hours.append(wt.working_hours_between(got, answered))
    return round(statistics.median(hours), 1) if hours else None


def accounts(data: Listings, wt: WorkingTime) -> list[Account]:
    """Every customer with its health, worst first."""
    by_name = {r["name"]: Account(r["name"], r) for r in data.customers}
    for n in data.neglected:
        if n["customer"] in by_name:
            by_name[n["customer"]].neglect = n
    for kind in ("issues", "promises", "orders"):
        for r in getattr(data, kind):
            if r["customer"] in by_name:
                getattr(by_name[r["customer"]], kind).append(r)
    for a in by_name.values():
        _judge(a, wt)
    return sorted(by_name.values(), key=lambda a: a.rank)


def _judge(a: Account, wt: WorkingTime) -> None:
    open_issues = [i for i in a.issues if i["state"] in OPEN]
    open_promises = [p for p in a.promises if p["state"] in OPEN]
    neglected = a.neglect is not None and a.neglect["state"] == "neglected"
    late = [o for o in a.orders if o["state"] in ("late", "problem")]
    a.open_findings = len(open_issues) + len(open_promises) + int(neglected)
    a.orders_in_progress = sum(o["state"] != "closed" for o in a.orders)
    a.first_answer_hours = first_answer_hours(a.issues, wt)
    if open_issues:
        a.health = "issue open"
        a.urgency = sum(i["state"] == "overdue" for i in open_issues) * 100 + len(open_issues)
    elif late:
        a.health = "order late"
        a.urgency = max(o["days_late"] for o in late)
    elif neglected and a.neglect is not None:
        a.health = "neglected"
        a.urgency = a.neglect["overdue_days"] or 0
    elif a.neglect is not None and a.neglect["state"] == "dormant":
        a.health = "dormant"
        a.urgency = a.neglect["days_since_contact"] or 0


def summary(rows: Sequence[Account]) -> dict[str, Any]:
    """How many need attention today, and why (each customer counted once, by its worst)."""
    counts = {h: sum(a.health == h for a in rows) for h in HEALTH}
    return {
        "attention": sum(counts[h] for h in ATTENTION),
        "counts": counts,
        "customers": len(rows),
    }


def months_back(now: datetime, n: int) -> list[str]:
    """The `n` months up to `now`'s (UTC), oldest first: ['2025-12', ..., '2026-11']."""
    y, m = now.year, now.month
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def month_span(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` ('YYYY-MM'), both included."""
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m + 1) if m < 12 else (y + 1, 1)
    return out
