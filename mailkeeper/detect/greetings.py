"""Greetings on the customer's holidays: a `greeting` finding opens N days before a holiday
the rep's rules name for the customer's country (rules/touches.yaml), in the customer's own
calendar and local date.

Pure. One finding per customer, holiday and year (its key); none when the rep already wrote
to them since the window opened (that mail is the greeting, or made one unneeded); none for
a tier whose greeting_days_before is off, nor for dormant customers unless the tier says so.
Lunar and Islamic holidays come from the `holidays` package for the year in question.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mailkeeper.config.countries import main_zone
from mailkeeper.config.rules import Rules
from mailkeeper.config.touches import Touches, holiday_days, local_names
from mailkeeper.detect.finding import Finding, days_between, ts
from mailkeeper.detect.neglect import tier_weight
from mailkeeper.store.records import ContactFacts


def greeting_findings(
    customers: list[ContactFacts],
    countries: Mapping[int, str | None],
    touches: Touches,
    rules: Rules,
    now: datetime,
) -> list[Finding]:
    out = []
    for c in customers:
        country = countries.get(c.id)
        names = touches.greetings.get(country or "") or ()
        if c.status == "ignored" or not c.messages or not names or country is None:
            continue
        tier = c.tier if c.tier in rules.tiers else rules.default_tier
        rule = touches.tier(tier)
        if rule.greeting_days_before <= 0:
            continue
        heard = max((d for d in (c.last_outbound, c.last_inbound) if d), default=c.first_message)
        silent = days_between(heard, now) if heard else 0
        dormant = silent > rules.detection.dormant_after_days
        if dormant and not rule.greet_dormant:
            continue
        zone = main_zone(country)
        tz = ZoneInfo(zone)
        today = now.astimezone(tz).date()
        for name in names:
            for year in (today.year, today.year + 1):
                days = holiday_days(country, name, year)
                if not days:
                    continue
                day = days[0]
                opens = day - timedelta(days=rule.greeting_days_before)
                if not opens <= today <= day:
                    continue
                open_at = datetime.combine(opens, time(0), tz).astimezone(UTC)
                if c.last_outbound is not None and c.last_outbound >= open_at:
                    continue  # the rep wrote to them in the window already
                due = datetime.combine(day, time(0), tz).astimezone(UTC)
                out.append(_finding(c, tier, country, zone, name, day.isoformat(), open_at, due,
                                    rule.greeting_days_before, rules, dormant))  # fmt: skip
    return out


def _finding(
    c: ContactFacts, tier: str, country: str, zone: str, name: str, day: str,
    open_at: datetime, due: datetime, ahead: int, rules: Rules, dormant: bool,
) -> Finding:  # fmt: skip
    from datetime import date

    steps = [
        f"{c.name}'s country: {country}; {name} is on {day} there ({zone})",
        f"tier {tier}: greetings {ahead} days ahead (touches.yaml greeting_days_before): "
        f"open from {open_at.astimezone(ZoneInfo(zone)).date().isoformat()}",
        f"your last real mail to them: {ts(c.last_outbound) or 'never'} (before the window)",
    ]
    if dormant:
        steps.append("dormant, greeted all the same: touches.yaml greet_dormant is true")
    return Finding(
        key=f"greeting:{c.id}:{country}:{name}:{day[:4]}",
        kind="greeting",
        customer_id=c.id,
        state="open",
        opened_at=open_at,
        due_at=due,
        rank=float(tier_weight(rules, tier)),
        data={
            "customer": c.name,
            "tier": tier,
            "status": c.status,
            "country": country,
            "holiday": name,
            "holiday_date": day,
            "holiday_names": local_names(country, date.fromisoformat(day), name),
            "last_outbound": ts(c.last_outbound),
        },
        explain={"rule": "greeting", "steps": steps},
    )
