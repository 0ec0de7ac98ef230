"""Recalling what customers said they will need: a `need` finding opens `need_lead_weeks`
(touches.yaml, per tier) before the window a customer's stated need refers to, and closes by
itself when the rep has acted on it: an order of theirs confirmed from the lead time to the
window's end, or a mail of the rep's to them in the lead time that is about it (it shares a word of
substance with the customer's sentence: "sofas", "餐桌").

Pure: the needs (store.needs), the customers' tiers, the rep's mail and the orders are
passed in; what changed of each need's state is returned for the store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from mailkeeper.config.rules import Rules
from mailkeeper.config.touches import Touches
from mailkeeper.detect.finding import Finding, ts
from mailkeeper.detect.neglect import tier_weight
from mailkeeper.store.records import LinkedMessage, Need, Order

_STOP = frozenset(
    "that this with from have will would need needs around about before after next year "
    "years month months season quarter spring summer autumn fall winter plan plans planning "
    "expect expecting also some more want like into their there they them your yours ours "
    "what when which were been being could should might order orders again please thanks".split()
)


def _words(text: str) -> set[str]:
    """Words of substance: English words of 4+ letters but the common ones, Chinese pairs."""
    low = text.lower()
    words = {w for w in re.findall(r"[a-z]{4,}", low) if w not in _STOP}
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        words |= {run[i : i + 2] for i in range(len(run) - 1)}
    return words - {"下半", "半年", "明年", "今年", "可能", "需要", "计划", "我们", "还要", "季度"}


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time(0), UTC)


def need_findings(
    needs: list[Need],
    tiers: Mapping[int, str],
    names: Mapping[int, str],
    touches: Touches,
    rules: Rules,
    outbound: list[LinkedMessage],
    orders: list[Order],
    now: datetime,
) -> tuple[list[Finding], list[tuple[Need, str, datetime | None, str | None]]]:
    """The findings of the open needs, and the needs whose state changes (need, state, at,
    note)."""
    today = now.date()
    findings: list[Finding] = []
    changes: list[tuple[Need, str, datetime | None, str | None]] = []
    for n in needs:
        if n.state != "open" or n.customer_id not in tiers:
            continue
        tier = tiers[n.customer_id]
        lead = touches.tier(tier).need_lead_weeks
        opens = n.window_start - timedelta(weeks=lead)
        if today > n.window_end:
            changes.append((n, "past", now, f"its window ended on {n.window_end.isoformat()}"))
            continue
        if today < opens:
            continue
        acted = _acted(n, opens, outbound, orders)
        steps = [
            f"{names.get(n.customer_id, '?')} wrote on {ts(n.said_at)}: {n.sentence!r}",
            f"'{n.phrase}': {n.why} → {n.window_start.isoformat()} to {n.window_end.isoformat()}",
            f"tier {tier}: recalled {lead} weeks ahead (touches.yaml need_lead_weeks): "
            f"from {opens.isoformat()}",
        ]
        if acted is not None:
            at, note = acted
            changes.append((n, "acted", at, note))
            steps.append(f"closed by itself: {note}")
        findings.append(
            Finding(
                key=f"need:{n.id}",
                kind="need",
                customer_id=n.customer_id,
                state="acted" if acted else "open",
                opened_at=_day_start(opens),
                due_at=_day_start(n.window_start),
                closed_at=acted[0] if acted else None,
                message_key=n.message_key,
                rank=float(tier_weight(rules, tier)),
                data={
                    "customer": names.get(n.customer_id),
                    "tier": tier,
                    "need_id": n.id,
                    "sentence": n.sentence,
                    "phrase": n.phrase,
                    "window_start": n.window_start.isoformat(),
                    "window_end": n.window_end.isoformat(),
                    "said_at": ts(n.said_at) or "",
                    "message_id": n.message_id,
                },
                explain={"rule": "need", "steps": steps},
            )
        )
    return findings, changes


def _acted(
    n: Need, opens: date, outbound: list[LinkedMessage], orders: list[Order]
) -> tuple[datetime, str] | None:
    for o in orders:
        if o.customer_id == n.customer_id and opens <= o.confirmed_at.date() <= n.window_end:
            return o.confirmed_at, f"order {o.ref} confirmed on {ts(o.confirmed_at)}"
    words = _words(n.sentence)
    for m in outbound:
        if m.customer_id != n.customer_id or not m.real_outbound or m.date <= n.said_at:
            continue  # only what the rep wrote after they said it
        if m.date < _day_start(opens):
            continue
        shared = sorted(words & _words(f"{m.subject} {m.text}"))
        if shared:
            return m.date, f"you wrote to them on {ts(m.date)} about it ({', '.join(shared[:3])})"
    return None
