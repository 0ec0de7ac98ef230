"""The yearly report card (kind `report_card`): once a year, show the customer what you did for
them, per tier in tiers.yaml (`report_card:`): `january` (all January, for the calendar year
before), `anniversary` (the 30 days from the anniversary of their first order, for the twelve
months before it), `off`. Only a period with an order confirmed in it gets a finding. A card
asked for with `mailkeeper report-card` is a finding too (reason `command`): it lives 30 days,
so its draft is not made obsolete by the next scan. The figures are report/card.py's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from mailkeeper.clock import WorkingTime
from mailkeeper.detect.finding import Finding, FindingData
from mailkeeper.detect.progress import OrderFacts, order_problems, order_statuses, order_timelines
from mailkeeper.report import card as cards
from mailkeeper.store.records import ContactFacts, StoredFinding

WINDOW_DAYS = 30  # an anniversary's card, or one asked for, wants its draft this long


def customer_card(
    facts: Sequence[OrderFacts], issues: Sequence[Mapping[str, Any]], period: cards.Period,
    now: datetime, tz: tzinfo, wt: WorkingTime,
) -> dict[str, Any]:  # fmt: skip
    """One customer's figures: its orders (as `orders --all` lists them as of `now`) and its
    rows of `issues --all`."""
    facts = list(facts)
    return cards.figures(period, order_statuses(facts, now, tz), order_timelines(facts, now, tz),
                         order_problems(facts, now, tz), issues, wt)  # fmt: skip


def issue_rows(findings: Sequence[StoredFinding]) -> dict[int, list[dict[str, Any]]]:
    """customer id -> its issues with the fields the card reads, as `issues --all` has them."""
    out: dict[int, list[dict[str, Any]]] = {}
    for f in findings:
        out.setdefault(f.customer_id, []).append({
            "received_at": f.data.get("received_at"), "state": f.state,
            "acknowledged_at": f.data.get("acknowledged_at"),
        })  # fmt: skip
    return out


def due_period(when: str, first_order: date | None, today: date, tz: tzinfo,
               ) -> tuple[cards.Period, datetime, datetime] | None:  # fmt: skip
    """(period, window opens, window closes) when a card is due `today`, else None."""
    if when == "january" and today.month == 1:
        opens = datetime(today.year, 1, 1, tzinfo=tz)
        return cards.calendar_year(today.year - 1, tz), opens, datetime(today.year, 2, 1, tzinfo=tz)
    if when == "anniversary" and first_order is not None:
        day = cards.anniversary(first_order, today)
        if day is not None and today < day + timedelta(days=WINDOW_DAYS):
            opens = datetime.combine(day, datetime.min.time(), tz)
            return cards.year_before(day, tz), opens, opens + timedelta(days=WINDOW_DAYS)
    return None


def finding(customer_id: int, name: str, card: dict[str, Any], reason: str, opens: datetime,
            closes: datetime) -> Finding:  # fmt: skip
    o = card["orders"]
    steps = [
        {"january": "tiers.yaml report_card: january: in January, the card of the year before",
         "anniversary": "tiers.yaml report_card: anniversary: the 12 months before the "
                        "anniversary of the first order",
         "command": "asked for with `mailkeeper report-card`"}[reason],
        f"period {card['start']} to {card['end']}: {o['count'] if o else 0} order(s) confirmed",
    ]  # fmt: skip
    data: FindingData = {"customer": name, "reason": reason, "period": card["period"],
                         "card": card}  # fmt: skip
    return Finding(
        key=f"report_card:{customer_id}:{card['start']}:{card['end']}",
        kind="report_card", customer_id=customer_id, state="open", opened_at=opens,
        due_at=closes, data=data, explain={"rule": steps[0], "steps": steps},
    )  # fmt: skip


def report_card_findings(
    customers: Sequence[ContactFacts], tier_when: Mapping[str, str], facts: Sequence[OrderFacts],
    issues: Mapping[int, list[dict[str, Any]]], asked: Sequence[StoredFinding], now: datetime,
    tz: tzinfo, wt: WorkingTime,
) -> list[Finding]:  # fmt: skip
    """The cards due now: by the tiers' schedule (with an order in the period), and those
    asked for whose 30 days have not passed (their figures brought up to date)."""
    today = now.astimezone(tz).date()
    by_customer: dict[int, list[OrderFacts]] = {}
    for f in facts:
        by_customer.setdefault(f.order.customer_id, []).append(f)
    out: dict[str, Finding] = {}
    for c in customers:
        mine = by_customer.get(c.id, [])
        first = min((f.order.confirmed_at for f in mine), default=None)
        due = due_period(tier_when.get(c.tier or "", "off"), first.astimezone(tz).date()
                         if first else None, today, tz)  # fmt: skip
        if due is None:
            continue
        period, opens, closes = due
        card = customer_card(mine, issues.get(c.id, []), period, now, tz, wt)
        if card["orders"] is not None:
            new = finding(c.id, c.name, card, tier_when[c.tier or ""], opens, closes)
            out[new.key] = new
    names = {c.id: c.name for c in customers}
    for a in asked:
        end = a.due_at
        if a.data.get("reason") != "command" or end is None or end <= now:
            continue
        period = period_of(a.data["card"], tz)
        card = customer_card(by_customer.get(a.customer_id, []), issues.get(a.customer_id, []),
                             period, now, tz, wt)  # fmt: skip
        name = names.get(a.customer_id) or a.data.get("customer") or ""
        again = finding(a.customer_id, name, card, "command", a.opened_at, end)
        out.setdefault(again.key, again)
    return list(out.values())


def period_of(card: Mapping[str, Any], tz: tzinfo) -> cards.Period:
    """The period a card's figures cover, from its `start` and `end` days."""
    start, end = date.fromisoformat(card["start"]), date.fromisoformat(card["end"])
    return cards.Period(datetime.combine(start, datetime.min.time(), tz),
                        datetime.combine(end + timedelta(days=1), datetime.min.time(), tz),
                        card["period"])  # fmt: skip
