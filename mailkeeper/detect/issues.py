"""Unacknowledged issues and unkept promises, from the recent linked mail of each customer.

Pure: takes the messages (store.activity.recent, each with the judgement of its text), the
customers' tiers, the rules, the rep's working time and `now`.

Issues: an inbound real message (not an auto-reply, not bulk) whose new text needs an answer
(detect/judge.py) opens an issue (or a "maybe", when the model's probability is below the
tier's `answer_threshold` and no rule forced it: listed, never drafted, not counted as open)
in its thread; a follow-up in the same thread ("any news?") joins it, and the clock keeps
running from the first unanswered message. The rep's real reply in the thread (or to the same
contact; or to anyone at the customer, when tiers.yaml says
`acknowledged_by: customer`) acknowledges it. Otherwise it is overdue once its SLA, counted in
working hours, has passed. Only mail inside the look-back window opens an issue.

Promises: a commitment with a time in the rep's own new text (detect/promises.py) is kept when
the rep writes to that customer again in the thread after it; overdue after its due time plus
the grace period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mailkeeper.clock import WorkingTime
from mailkeeper.config.issues import SEVERITIES
from mailkeeper.config.rules import Rules
from mailkeeper.detect.finding import Finding, ts
from mailkeeper.store.records import Judgement, LinkedMessage

_NO_JUDGEMENT = Judgement(needs_answer=False)


@dataclass
class _Issue:
    """An issue being gathered along its thread."""

    first: LinkedMessage
    best: Judgement  # the most severe judgement of its messages
    messages: list[LinkedMessage] = field(default_factory=list)
    ack: LinkedMessage | None = None
    ack_how: str = ""


def _severity(j: Judgement) -> int:
    return SEVERITIES.index(j.severity or "low")


def issue_findings(
    messages: list[LinkedMessage],
    judgements: Mapping[str, Judgement],
    tiers: dict[int, str],
    rules: Rules,
    wt: WorkingTime,
    now: datetime,
    window_start: datetime,
    still_open: frozenset[str] = frozenset(),
) -> list[Finding]:
    """`judgements`: by message key. `still_open`: message keys of issues open before this
    scan, kept however old."""
    by_thread: dict[tuple[int, str], list[LinkedMessage]] = defaultdict(list)
    outbound_by_customer: dict[int, list[LinkedMessage]] = defaultdict(list)
    for m in messages:
        by_thread[(m.customer_id, m.thread_key or m.key)].append(m)
        if m.real_outbound:
            outbound_by_customer[m.customer_id].append(m)
    out = []
    ack_by = rules.detection.acknowledged_by
    for (cid, thread), msgs in by_thread.items():
        issue: _Issue | None = None
        found: list[_Issue] = []
        for m in msgs:  # oldest first
            j = judgements.get(m.key) or _NO_JUDGEMENT
            if m.real_inbound and j.needs_answer:
                recent = m.date >= window_start or m.key in still_open
                if issue is None and recent:
                    issue = _Issue(first=m, best=j, messages=[m])
                    found.append(issue)
                elif issue is not None:
                    issue.messages.append(m)  # a follow-up joins the open issue
                    if _severity(j) > _severity(issue.best):
                        issue.best = j
            elif m.real_outbound and issue is not None and m.date > issue.first.date:
                issue.ack, issue.ack_how = m, "your reply in the same thread"
                issue = None
        for iss in found:
            if iss.ack is None:
                _ack_elsewhere(iss, outbound_by_customer[cid], ack_by)
            out.append(_issue_finding(iss, cid, thread, tiers, rules, wt, now))
    return out


def _ack_elsewhere(iss: _Issue, outbound: list[LinkedMessage], ack_by: str) -> None:
    contacts = {m.sender for m in iss.messages}
    for m in outbound:
        if m.date <= iss.first.date:
            continue
        if ack_by == "customer":
            iss.ack, iss.ack_how = m, "your mail to the customer"
            return
        if contacts & {*m.to, *m.cc}:
            iss.ack, iss.ack_how = m, "your mail to the same contact"
            return


def _issue_finding(
    iss: _Issue,
    cid: int,
    thread: str,
    tiers: dict[int, str],
    rules: Rules,
    wt: WorkingTime,
    now: datetime,
) -> Finding:
    first = iss.first
    j = iss.best
    category = j.category or "question"
    tier_name = tiers.get(cid) or rules.default_tier
    tier = rules.tiers.get(tier_name) or rules.tiers[rules.default_tier]
    hours = tier.sla_for(category)
    per_category = dict(tier.category_sla_working_hours)
    sla_key = (
        f"category_sla_working_hours.{category}"
        if category in per_category
        else "issue_sla_working_hours"
    )
    received = first.date
    received_text = ts(received) or ""
    due = wt.add_working_hours(received, hours)
    sev = j.severity or "normal"
    ack = iss.ack
    ack_text = ts(ack.date) if ack else None
    p = j.probability
    unsure = p is not None and not j.forced and p < _threshold(j, tier.answer_threshold)
    if ack is not None:
        state = "acknowledged"
    elif unsure:
        state = "maybe"
    elif now >= due:
        state = "overdue"
    else:
        state = "open"
    late_hours = wt.working_hours_between(due, now) if state == "overdue" else 0.0
    steps = [
        f"{first.sender} wrote on {received_text} (subject: {first.subject!r})",
        f"rules/issues.{first.language or 'en'}.yaml, category {category} "
        f"({sev}): '{j.phrase}' in {j.sentence!r}",
        *_model_steps(j, tier_name, tier.answer_threshold),
        f"tier {tier_name}: answer within {hours} working hours (tiers.yaml {sla_key})",
        wt.explain(received, hours),
    ]
    if len(iss.messages) > 1:
        steps.append(
            f"{len(iss.messages) - 1} follow-up(s) joined it; the clock runs from the first"
        )
    if ack is not None:
        steps.append(f"acknowledged on {ack_text} by {iss.ack_how} ({ack.subject!r})")
    elif state == "maybe":
        steps.append("a maybe: not counted as open and never drafted; answer it if it needs one")
    elif state == "overdue":
        steps.append(f"no answer from you yet: {late_hours:.1f} working hours past due")
    else:
        steps.append("no answer from you yet; not due yet")
    return Finding(
        key=f"issue:{first.key}:{cid}",
        kind="issue",
        customer_id=cid,
        state=state,
        opened_at=received,
        due_at=due,
        closed_at=ack.date if ack else None,
        message_key=first.key,
        thread_key=thread,
        rank=SEVERITIES.index(sev) * 1000 + late_hours,
        data={
            "category": category,
            "severity": sev,
            "message_id": first.message_id,
            "received_at": received_text,
            "due_at": ts(due),
            "acknowledged_at": ack_text,
            "phrase": j.phrase,
            "sentence": j.sentence,
            "probability": None if p is None else round(p, 3),
            "rule": j.rule,
            "contact": first.sender,
            "contact_name": first.sender_name,
            "subject": first.subject,
            "messages": [m.message_id or m.key for m in iss.messages],
        },
        explain={"rule": "issue", "steps": steps},
    )


# A message the rep's rules matched is a yes unless the model is fairly sure it is not: with a
# few hundred labels the model knows real mail's narrative and courtesy lines better than the
# rules, but not yet every way a customer asks (bench/labelset/README.md).
RULE_FLOOR = 0.2


def _threshold(j: Judgement, tier_threshold: float) -> float:
    ruled = bool(j.rule) and not (j.rule or "").startswith("model")
    return min(RULE_FLOOR, tier_threshold) if ruled else tier_threshold


def _model_steps(j: Judgement, tier_name: str, threshold: float) -> list[str]:
    """What `explain` shows of the judgement: the rule or gate, the probability and the words
    that weighed most."""
    out = [f"rule: {j.rule}"] if j.rule else []
    if j.probability is None:
        return out
    bar = _threshold(j, threshold)
    how = "decided by the rule" if j.forced else (
        f"{'at or above' if j.probability >= bar else 'below'} "
        + (f"tier {tier_name}'s answer_threshold {bar:g}" if bar == threshold
           else f"{bar:g}, the bar for mail a rule matched")
    )  # fmt: skip
    out.append(f"probability it needs an answer: {j.probability:.2f} ({how})")
    if j.weighed:
        words = ", ".join(f"{f} {w:+.2f}" for f, w in j.weighed)
        out.append(f"weighed most: {words}")
    return out


def promise_findings(
    messages: list[LinkedMessage],
    judgements: Mapping[str, Judgement],
    rules: Rules,
    now: datetime,
    window_start: datetime,
    still_open: frozenset[str] = frozenset(),
) -> list[Finding]:
    grace = timedelta(hours=rules.detection.promise_grace_hours)
    by_thread: dict[tuple[int, str], list[LinkedMessage]] = defaultdict(list)
    for m in messages:
        by_thread[(m.customer_id, m.thread_key or m.key)].append(m)
    out = []
    for (cid, thread), msgs in by_thread.items():
        for i, m in enumerate(msgs):
            if not m.real_outbound:
                continue
            if m.date < window_start and m.key not in still_open:
                continue
            made = ts(m.date) or ""
            j = judgements.get(m.key) or _NO_JUDGEMENT
            for n, p in enumerate(j.promises):
                later = next((x for x in msgs[i + 1 :] if x.real_outbound), None)
                kept = ts(later.date) if later else None
                due = p.due_at
                if later is not None:
                    state = "kept"
                elif now > due + grace:
                    state = "overdue"
                else:
                    state = "open"
                steps = [
                    f"you wrote on {made} (subject: {m.subject!r}): {p.sentence!r}",
                    p.why,
                    f"overdue {rules.detection.promise_grace_hours} h after that "
                    "(tiers.yaml detection.promise_grace_hours)",
                ]
                if later is not None:
                    steps.append(f"kept: you wrote again in the thread on {kept}")
                out.append(
                    Finding(
                        key=f"promise:{m.key}:{n}:{cid}",
                        kind="promise",
                        customer_id=cid,
                        state=state,
                        opened_at=m.date,
                        due_at=due,
                        closed_at=later.date if later else None,
                        message_key=m.key,
                        thread_key=thread,
                        rank=(now - due).total_seconds() / 3600,
                        data={
                            "message_id": m.message_id,
                            "text": p.sentence,
                            "phrase": p.phrase,
                            "made_at": made,
                            "due_at": ts(due),
                            "kept_at": kept,
                            "subject": m.subject,
                        },
                        explain={"rule": "promise", "steps": steps},
                    )
                )
    return out
