"""Order progress: what the customer should have heard about an order, and has not.

Pure: takes each order as plain data (`OrderFacts`: the order row, its plan from
rules/orders.yaml, its milestones reached, its problems, and the customer's mail that names
the order's reference), the rep's time zone and `now`.

The plan gives each milestone a planned date: the day of confirmation plus its `days`, in the
rep's zone (the last one: `ship_by` when the order has one). A recurring milestone (production
progress, `every_days`) runs from the milestone before it until its `until:` milestone is
recorded. "Reported" means real mail of the rep's (not a draft, not an auto-reply) to the
order's customer that names the reference, dated at or after the event: a progress mail the
rep wrote by hand counts, so nobody is nagged twice.

Findings (kind `progress`, reason in data):
  milestone   a milestone recorded; open until reported (overdue after report_within_days)
  report_due  in production, and no mail about the order for every_days days
  late        the next milestone's planned day has passed and it is not recorded
kind `problem`: a problem recorded; open until reported (overdue after a day: tell at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, TypedDict

from mailkeeper.clock import fmt_day
from mailkeeper.config.orders_rules import Milestone, Plan, mentions, ref_pattern
from mailkeeper.detect.finding import Finding, FindingData, ts
from mailkeeper.store.records import (
    LinkedMessage,
    Order,
    OrderEvent,
    OrderProblem,
    ProblemEntry,
    TimelineEntry,
)

PROBLEM_REPORT_DAYS = 1  # a problem is told at once: overdue a day after it is recorded


@dataclass(frozen=True)
class OrderFacts:
    order: Order
    plan: Plan
    events: list[OrderEvent] = field(default_factory=list)  # milestones reached
    problems: list[OrderProblem] = field(default_factory=list)
    mail: list[LinkedMessage] = field(default_factory=list)  # the customer's, oldest first
    plan_where: str = ""  # "rules/orders.yaml:27"


class OrderStatus(TypedDict):
    """One row of the `orders` listing; times are its ISO text."""

    ref: str
    customer: str | None
    confirmed_at: str
    last_milestone: str | None
    last_milestone_at: str | None
    next_milestone: str | None
    next_due_at: str | None
    days_late: int
    state: str
    plan: str
    ship_by: str | None
    last_report_at: str | None
    open_problems: int
    source: str
    quantity: int | None
    amount: int | float | None
    currency: str | None


def worth_json(
    quantity: int | None, amount: Decimal | None, currency: str | None
) -> dict[str, Any]:
    """An order's quantity, amount and currency as `orders --json` shows them (the amount a
    number: whole when it is whole)."""
    shown: int | float | None = None
    if amount is not None:
        shown = int(amount) if amount == amount.to_integral_value() else float(amount)
    return {"quantity": quantity, "amount": shown, "currency": currency}


def about_order(mail: list[LinkedMessage], ref: str) -> list[LinkedMessage]:
    """The messages whose subject or new text names `ref` (in any of its spellings)."""
    pattern = ref_pattern(ref)
    return [m for m in mail if mentions(pattern, m.subject, m.text)]


def _days(a: date, b: date) -> int:
    return (b - a).days


class _Order:
    """One order judged as of `now`: its timeline, status and the reports it had."""

    def __init__(self, facts: OrderFacts, now: datetime, tz: tzinfo) -> None:
        self.facts = facts
        self.o = facts.order
        self.plan = facts.plan
        self.now = now
        self.tz = tz
        self.today = now.astimezone(tz).date()
        self.confirmed = self.o.confirmed_at
        self.confirmed_day = self.confirmed.astimezone(tz).date()
        self.events = [e for e in facts.events if e.at <= now]
        self.problems = [p for p in facts.problems if p.at <= now]
        self.mail = [m for m in about_order(facts.mail, self.o.ref) if m.date <= now]
        self.reports = [m for m in self.mail if m.real_outbound]
        self.index = {m.name: i for i, m in enumerate(self.plan.milestones)}
        # the latest record of each dated milestone wins (a correction); every record of a
        # recurring one counts
        self.current: dict[str, OrderEvent] = {}
        for e in sorted(self.events, key=lambda e: e.id):
            if e.milestone in self.index:
                self.current[e.milestone] = e
        known = [e for e in self.events if e.milestone in self.index]
        self.last_idx = max((self.index[e.milestone] for e in known), default=-1)
        self.dated = [m for m in self.plan.milestones if not m.recurring]
        self.final = self.dated[-1]

    # ------------------------------------------------------------------ dates
    def planned(self, m: Milestone) -> datetime | None:
        if m.recurring or m.days is None:
            return None
        if m is self.final and self.o.ship_by:
            return self.o.ship_by
        day = self.confirmed_day + timedelta(days=m.days)
        return datetime(day.year, day.month, day.day, tzinfo=self.tz)

    def local_day(self, dt: datetime | None) -> date | None:
        return dt.astimezone(self.tz).date() if dt else None

    def reported_at(self, at: datetime) -> LinkedMessage | None:
        """The first real mail of the rep's about the order dated `at` or later."""
        return next((m for m in self.reports if m.date >= at), None)

    # ------------------------------------------------------------------ status
    def last(self) -> tuple[Milestone | None, OrderEvent | None]:
        if self.last_idx < 0:
            return None, None
        m = self.plan.milestones[self.last_idx]
        recs = [e for e in self.events if e.milestone == m.name]
        return m, (self.current.get(m.name) if not m.recurring else recs[-1])

    def next(self) -> Milestone | None:
        return next((m for m in self.dated if self.index[m.name] > self.last_idx), None)

    def late_days(self, m: Milestone, event: OrderEvent | None) -> int | None:
        planned = self.planned(m)
        if planned is None:
            return None
        day = self.local_day(event.at) if event else self.today
        return _days(planned.astimezone(self.tz).date(), day or self.today)

    def days_late(self) -> int:
        last, event = self.last()
        behind = 0
        if last is not None and not last.recurring:
            behind = max(behind, self.late_days(last, event) or 0)
        nxt = self.next()
        if nxt is not None:
            behind = max(behind, self.late_days(nxt, None) or 0)
        return behind

    def open_problems(self) -> list[OrderProblem]:
        return [p for p in self.problems if self.reported_at(p.at) is None]

    def state(self) -> str:
        closed = self.o.closed_at
        if closed and closed <= self.now:
            return "closed"
        final = self.current.get(self.final.name)
        if self.open_problems():
            return "problem"
        if final is not None:
            return "closed" if self.reported_at(final.at) else "shipped"
        return "late" if self.days_late() > 0 else "open"

    def window(self, i: int) -> tuple[datetime | None, Milestone | None]:
        """A recurring milestone at index i: when its window opened (None: not yet, or it
        ended) and the milestone that ends it."""
        m = self.plan.milestones[i]
        later = [x for x in self.plan.milestones[i + 1 :] if not x.recurring]
        end = self.plan.milestone(m.until) if m.until else (later[0] if later else None)
        end_idx = self.index[end.name] if end else len(self.plan.milestones)
        if self.last_idx < i - 1 or self.last_idx >= end_idx:
            return None, end
        started = [e for e in self.events if self.index.get(e.milestone, -1) >= i - 1]
        if not started:
            return None, end
        return min(e.at for e in started), end

    def timeline(self) -> list[TimelineEntry]:
        out: list[TimelineEntry] = []
        for i, m in enumerate(self.plan.milestones):
            planned = self.planned(m)
            recs = [e for e in self.events if e.milestone == m.name]
            event = recs[-1] if m.recurring and recs else self.current.get(m.name)
            rep = self.reported_at(event.at) if event else None
            if m.recurring:
                start, _ = self.window(i)
                state = "running" if start else ("done" if self.last_idx > i else "planned")
            elif event is not None:
                state = "done"
            elif self.last_idx > i:
                state = "skipped"
            elif planned is not None and self.today > planned.astimezone(self.tz).date():
                state = "overdue"
            else:
                state = "planned"
            out.append(
                {
                    "milestone": m.name,
                    "label": m.label,
                    "labels": dict(m.labels),
                    "planned_at": ts(planned),
                    "actual_at": ts(event.at) if event else None,
                    "late_days": self.late_days(m, event) if event and not m.recurring else None,
                    "note": event.note if event else None,
                    "reported_at": ts(rep.date) if rep else None,
                    "every_days": m.every_days,
                    "state": state,
                }
            )
        return out

    def contact(self) -> tuple[str | None, str]:
        """Whom a report goes to: the customer's last sender about the order, else whom the
        rep last wrote to about it."""
        for m in reversed(self.mail):
            if m.real_inbound:
                return m.sender, m.sender_name
        for m in reversed(self.reports):
            if m.to:
                return m.to[0], ""
        return None, ""

    def status(self) -> OrderStatus:
        last, event = self.last()
        nxt = self.next()
        last_report = ts(self.reports[-1].date) if self.reports else None
        return {
            "ref": self.o.ref,
            "customer": self.o.customer,
            "confirmed_at": ts(self.o.confirmed_at) or "",
            "last_milestone": last.name if last else None,
            "last_milestone_at": ts(event.at) if event else None,
            "next_milestone": nxt.name if nxt else None,
            "next_due_at": ts(self.planned(nxt)) if nxt else None,
            "days_late": self.days_late(),
            "state": self.state(),
            "plan": self.plan.name,
            "ship_by": ts(self.o.ship_by),
            "last_report_at": last_report,
            "open_problems": len(self.open_problems()),
            "source": self.o.source,
            **worth_json(self.o.quantity, self.o.amount, self.o.currency),  # type: ignore[typeddict-item]
        }

    def common(self) -> FindingData:
        """What every finding of this order carries for its draft: the order and timeline."""
        s = self.status()
        contact, name = self.contact()
        last_mail = self.mail[-1] if self.mail else None
        return {
            "ref": s["ref"],
            "customer": s["customer"],
            "plan": s["plan"],
            "confirmed_at": s["confirmed_at"],
            "ship_by": s["ship_by"],
            "order_state": s["state"],
            "last_milestone": s["last_milestone"],
            "last_milestone_at": s["last_milestone_at"],
            "next_milestone": s["next_milestone"],
            "next_due_at": s["next_due_at"],
            "days_late": s["days_late"],
            "last_report_at": s["last_report_at"],
            "timeline": self.timeline(),
            "problems": [self._problem_entry(p) for p in self.problems],
            "contact": contact,
            "contact_name": name,
            "subject": last_mail.subject if last_mail else "",
            "message_id": last_mail.message_id if last_mail else None,
        }

    def _problem_entry(self, p: OrderProblem) -> ProblemEntry:
        rep = self.reported_at(p.at)
        return {"at": ts(p.at) or "", "note": p.note, "reported_at": ts(rep.date) if rep else None}

    def intro(self) -> list[str]:
        o = self.o
        where = f" ({self.facts.plan_where})" if self.facts.plan_where else ""
        ship = f", to ship by {self.local_day(o.ship_by)}" if o.ship_by else ""
        return [
            f"order {o.ref} for {o.customer}: confirmed {fmt_day(self.confirmed_day)} "
            f"({self.tz}), plan '{self.plan.name}'{where}{ship}"
        ]

    def since_text(self, at: datetime) -> str:
        rep = self.reported_at(at)
        if rep is not None:
            return (f"reported: your mail of {ts(rep.date)} names {self.o.ref} "
                    f"(subject: {rep.subject!r})")  # fmt: skip
        last = self.reports[-1] if self.reports else None
        before = f" (your last one: {ts(last.date)}, {last.subject!r})" if last else ""
        return f"no mail of yours to {self.o.customer} names {self.o.ref} since then{before}"


def order_statuses(facts: list[OrderFacts], now: datetime, tz: tzinfo) -> list[OrderStatus]:
    """The `orders` listing: one status per order confirmed by `now`."""
    return [_Order(f, now, tz).status() for f in facts if f.order.confirmed_at <= now]


def order_problems(
    facts: list[OrderFacts], now: datetime, tz: tzinfo
) -> dict[str, list[ProblemEntry]]:
    """ref -> its problems, each with when the customer was told (the report card)."""
    return {
        f.order.ref: [o._problem_entry(p) for p in o.problems]
        for f in facts
        if f.order.confirmed_at <= now
        for o in [_Order(f, now, tz)]
    }


def order_timelines(
    facts: list[OrderFacts], now: datetime, tz: tzinfo
) -> dict[str, list[TimelineEntry]]:
    """ref -> each milestone planned against actual (the report site's chart), for the orders
    `order_statuses` lists."""
    return {
        f.order.ref: _Order(f, now, tz).timeline() for f in facts if f.order.confirmed_at <= now
    }


def progress_findings(facts: list[OrderFacts], now: datetime, tz: tzinfo) -> list[Finding]:
    out: list[Finding] = []
    for f in facts:
        if f.order.confirmed_at > now:
            continue
        order = _Order(f, now, tz)
        if order.state() == "closed" and order.o.closed_at:
            continue  # closed in orders.yaml: nothing more is expected
        common = order.common()
        out += _milestone_findings(order, common)
        out += _report_due(order, common)
        out += _late(order, common)
        out += _problem_findings(order, common)
    return out


def _finding(
    order: _Order, key: str, kind: str, state: str, opened: datetime, due: datetime | None,
    closed: datetime | None, rank: float, data: FindingData, steps: list[str], rule: str,
) -> Finding:  # fmt: skip
    last = order.mail[-1] if order.mail else None
    return Finding(
        key=key,
        kind=kind,
        customer_id=order.o.customer_id,
        state=state,
        opened_at=opened,
        due_at=due,
        closed_at=closed,
        message_key=last.key if last else None,
        thread_key=(last.thread_key or last.key) if last else None,
        rank=rank,
        data=data,
        explain={"rule": rule, "steps": steps},
    )


def _milestone_findings(order: _Order, common: FindingData) -> list[Finding]:
    out = []
    within = order.plan.report_within_days
    for i, m in enumerate(order.plan.milestones):
        recs = [e for e in order.events if e.milestone == m.name]
        if not m.recurring:
            recs = [order.current[m.name]] if m.name in order.current else []
        for e in recs:
            at, at_text = e.at, ts(e.at) or ""
            due = at + timedelta(days=within)
            rep = order.reported_at(at)
            state = "reported" if rep else ("overdue" if order.now >= due else "open")
            planned = order.planned(m)
            late = order.late_days(m, e)
            steps = order.intro()
            if planned is not None:
                steps.append(
                    f"{m.name} ({m.label}) planned {m.days} days after confirmation: "
                    f"{fmt_day(planned.astimezone(order.tz).date())}"
                    + (" (ship_by)" if m is order.final and order.o.ship_by else "")
                )
            steps.append(
                f"recorded as reached on {at_text}"
                + (f" ({e.note})" if e.note else "")
                + (f": {late} day(s) late against the plan" if late and late > 0 else "")
            )
            steps.append(
                f"a milestone reaches the customer within {within} day(s): by {ts(due)}"
                f" (orders.yaml plans.{order.plan.name}.report_within_days)"
            )
            steps.append(order.since_text(at))
            out.append(_finding(
                order, f"progress:milestone:{order.o.ref_key}:{e.id}", "progress", state,
                at, due, rep.date if rep else None,
                1000 + max(0.0, (order.now - due).total_seconds() / 86400),
                {**common, "reason": "milestone", "milestone": m.name, "milestone_label": m.label,
                 "milestone_labels": dict(m.labels), "milestone_at": at_text, "note": e.note,
                 "planned_at": ts(planned), "late_days": late, "reported_at":
                 ts(rep.date) if rep else None, "index": i},
                steps, "progress.milestone",
            ))  # fmt: skip
    return out


def _report_due(order: _Order, common: FindingData) -> list[Finding]:
    out = []
    for i, m in enumerate(order.plan.milestones):
        if not m.recurring or m.every_days is None:
            continue
        start, end = order.window(i)
        if start is None:
            continue
        since = [r for r in order.reports if r.date >= start]
        last_at = since[-1].date if since else start
        due = last_at + timedelta(days=m.every_days)
        if order.now < due:
            continue
        late = (order.now - due).total_seconds() / 86400
        prev = order.plan.milestones[i - 1]
        steps = order.intro() + [
            f"in production since {ts(start)} ({prev.name} recorded) until "
            f"{end.name if end else 'the last milestone'} is recorded",
            f"the plan asks for a report every {m.every_days} days "
            f"(orders.yaml plans.{order.plan.name}: {m.name}.every_days)",
            (f"your last mail naming {order.o.ref}: {ts(since[-1].date)} "
             f"({since[-1].subject!r})") if since else
            f"no mail of yours names {order.o.ref} since production started",
            f"{ts(last_at)} + {m.every_days} days = due {ts(due)}; as of {ts(order.now)} "
            f"that is {late:.1f} days ago",
        ]  # fmt: skip
        out.append(_finding(
            order, f"progress:report:{order.o.ref_key}:{m.name}:{ts(due)}", "progress",
            "open", last_at, due, None, 500 + late,
            {**common, "reason": "report_due", "milestone": m.name, "milestone_label": m.label,
             "milestone_labels": dict(m.labels), "every_days": m.every_days,
             "production_since": ts(start), "due_at": ts(due),
             "until": end.name if end else None},
            steps, "progress.report_due",
        ))  # fmt: skip
    return out


def _late(order: _Order, common: FindingData) -> list[Finding]:
    nxt = order.next()
    if nxt is None or order.state() == "closed":
        return []
    planned = order.planned(nxt)
    days = order.late_days(nxt, None) or 0
    if planned is None or days <= 0:
        return []
    last, event = order.last()
    told = order.reported_at(planned)
    steps = order.intro() + [
        f"{nxt.name} ({nxt.label}) planned {nxt.days} days after confirmation: "
        f"{fmt_day(planned.astimezone(order.tz).date())}"
        + (" (ship_by)" if nxt is order.final and order.o.ship_by else ""),
        f"not recorded by {fmt_day(order.today)}: {fmt_day(order.today)} − "
        f"{fmt_day(planned.astimezone(order.tz).date())} = {days} day(s) late",
        (f"the last milestone recorded: {last.name} on {ts(event.at)}" if last and event
         else "no milestone recorded yet"),
        f"tell {order.o.customer} about the delay, with a plan; or, if it happened, record "
        f"it: mailkeeper order event {order.o.ref} {nxt.name} --date YYYY-MM-DD",
        order.since_text(planned),
    ]  # fmt: skip
    return [_finding(
        order, f"progress:late:{order.o.ref_key}:{nxt.name}", "progress",
        "reported" if told else "overdue", planned, planned,
        told.date if told else None, 2000 + days,
        {**common, "reason": "late", "milestone": nxt.name, "milestone_label": nxt.label,
         "milestone_labels": dict(nxt.labels), "planned_at": ts(planned), "late_days": days,
         "reported_at": ts(told.date) if told else None},
        steps, "progress.late",
    )]  # fmt: skip


def _problem_findings(order: _Order, common: FindingData) -> list[Finding]:
    out = []
    for p in order.problems:
        at, at_text = p.at, ts(p.at) or ""
        due = at + timedelta(days=PROBLEM_REPORT_DAYS)
        rep = order.reported_at(at)
        state = "reported" if rep else ("overdue" if order.now >= due else "open")
        steps = order.intro() + [
            f"problem recorded on {at_text}: {p.note}",
            f"a problem is told to the customer at once, with a plan: within "
            f"{PROBLEM_REPORT_DAYS} day, by {ts(due)}",
            order.since_text(at),
        ]
        out.append(_finding(
            order, f"problem:{order.o.ref_key}:{p.id}", "problem", state, at, due,
            rep.date if rep else None,
            3000 + max(0.0, (order.now - at).total_seconds() / 3600),
            {**common, "reason": "problem", "note": p.note, "problem_at": at_text,
             "reported_at": ts(rep.date) if rep else None},
            steps, "problem",
        ))  # fmt: skip
    return out
