"""Automatic tiering: grade the customers the rep has not graded by hand, from what the
mailbox shows (messages in the last 12 months, distinct contacts) and customers.yaml `value:`.

Pure. A tier written in customers.yaml always wins; without `auto_tier:` in tiers.yaml every
other customer has the default tier. Each answer says where it came from.
"""

from __future__ import annotations

from typing import Any

from mailkeeper.config.rules import Rules


def effective_tier(c: dict[str, Any], rules: Rules) -> tuple[str, str]:
    """(tier, where it came from) for one row of store.activity.contact()."""
    rule = rules.customer(c["name"])
    if rule is not None and rule.tier_given:
        return rule.tier, "customers.yaml"
    value = rule.value if rule is not None and rule.value is not None else 0.0
    messages, contacts = c.get("messages_year") or 0, c.get("contacts_year") or 0
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


def apply(customers: list[dict[str, Any]], rules: Rules) -> None:
    """Set each row's `tier` and `tier_source` in place."""
    for c in customers:
        c["tier"], c["tier_source"] = effective_tier(c, rules)
