"""Automatic tiering: grade the customers the rep has not graded by hand, from what the
mailbox shows (messages in the last 12 months, distinct contacts) and customers.yaml `value:`.

Pure. A tier written in customers.yaml always wins; without `auto_tier:` in tiers.yaml every
other customer has the default tier. Each answer says where it came from.
"""

from __future__ import annotations

from dataclasses import replace

from mailkeeper.config.rules import Rules
from mailkeeper.store.records import ContactFacts


def effective_tier(c: ContactFacts, rules: Rules) -> tuple[str, str]:
    """(tier, where it came from) for one customer of store.activity.contact()."""
    rule = rules.customer(c.name)
    if rule is not None and rule.tier_given:
        return rule.tier, "customers.yaml"
    value = rule.value if rule is not None and rule.value is not None else 0.0
    messages, contacts = c.messages_year or 0, c.contacts_year or 0
    for auto in rules.auto_tier:
        if (
            messages >= auto.min_messages_year
            and contacts >= auto.min_contacts
            and value >= auto.min_value
        ):
            why = [f"{messages} messages in 12 months ≥ {auto.min_messages_year}"]
            if auto.min_contacts:
                why.append(f"{contacts} contacts ≥ {auto.min_contacts}")
            if auto.min_value:
                why.append(f"value {value:g} ≥ {auto.min_value:g}")
            return auto.tier, "auto: " + ", ".join(why)
    if rules.auto_tier:
        return rules.default_tier, "auto: below every auto_tier threshold: default_tier"
    return rules.default_tier, "default_tier"


def apply(customers: list[ContactFacts], rules: Rules) -> list[ContactFacts]:
    """The customers, each with its effective tier."""
    return [replace(c, tier=effective_tier(c, rules)[0]) for c in customers]
