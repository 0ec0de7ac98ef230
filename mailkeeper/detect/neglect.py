"""Neglected accounts: the rep's last real mail to a customer is older than its tier allows.

Pure: takes each customer's contact dates (store.activity.contact) and `now`. Real contact
is mail the rep sent (not an auto-reply, not a draft: link.direction_of). A customer silent
both ways for longer than `dormant_after_days` is dormant, not neglected, so a first run on
a ten-year mailbox never asks for a check-in with everyone who left years ago.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from mailkeeper.config.rules import Rules
from mailkeeper.detect.finding import Finding, days_between, ts
from mailkeeper.store.records import ContactFacts


def tier_weight(rules: Rules, tier: str) -> int:
    """The first tier listed weighs most: A=3, B=2, C=1 for the shipped tiers."""
    names = list(rules.tiers)
    return len(names) - names.index(tier) if tier in names else 1


def neglect_findings(
    customers: list[ContactFacts],
    rules: Rules,
    snoozes: Mapping[int, datetime | None],
    now: datetime,
) -> list[Finding]:
    det = rules.detection
    out = []
    for c in customers:
        if c.status == "ignored" or not c.messages:
            continue
        tier = c.tier if c.tier in rules.tiers else rules.default_tier
        interval = rules.tiers[tier].contact_interval_days
        last_out, last_in, first = c.last_outbound, c.last_inbound, c.first_message
        last_out_text, last_in_text = ts(last_out), ts(last_in)
        reference = last_out or first
        if reference is None:
            continue
        days = days_between(reference, now)
        overdue = days - interval
        heard = max((d for d in (last_out, last_in) if d), default=first)
        silent = days_between(heard, now) if heard else days
        snooze = snoozes.get(c.id)
        steps = [
            f"tier {tier}: at most {interval} days between your mails (tiers.yaml "
            f"contact_interval_days)",
            f"your last real mail to them: {last_out_text or 'never'}"
            + ("" if last_out else f" (counting from their first message, {ts(first)})"),
            f"their last mail to you: {last_in_text or 'never'}",
            f"{days} days since {ts(reference)} − {interval} allowed = {overdue} days overdue",
        ]
        if silent > det.dormant_after_days:
            state = "dormant"
            steps.append(
                f"silent both ways for {silent} days > dormant_after_days {det.dormant_after_days}:"
                " dormant, no check-in is drafted by itself"
            )
        elif overdue <= 0:
            continue
        elif snooze is not None and snooze > now:
            state = "snoozed"
            steps.append(f"snoozed until {ts(snooze)}")
        else:
            state = "neglected"
        weight = tier_weight(rules, tier)
        out.append(
            Finding(
                key=f"neglect:{c.id}:{last_out_text or 'never'}",
                kind="neglect",
                customer_id=c.id,
                state=state,
                opened_at=reference,
                due_at=None,
                rank=(max(overdue, 0) * weight) if state == "neglected" else -1.0,
                data={
                    "customer": c.name,
                    "tier": tier,
                    "status": c.status,
                    "last_contact": last_out_text,
                    "last_inbound": last_in_text,
                    "last_outbound": last_out_text,
                    "days_since_contact": days,
                    "interval_days": interval,
                    "overdue_days": overdue,
                    "snoozed_until": ts(snooze) if snooze else None,
                },
                explain={
                    "rule": "neglect",
                    "steps": steps,
                    "rank": f"{max(overdue, 0)} days overdue × tier weight {weight}",
                },
            )
        )
    return out
