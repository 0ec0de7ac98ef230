"""Unacknowledged issues and unkept promises, from the recent linked mail of each customer.

Pure: takes the messages (store.activity.recent, each with the judgement of its text), the
customers' tiers, the rules, the rep's working time and `now`.

Issues: an inbound real message (not an auto-reply, not bulk) whose new text needs an answer
(detect/judge.py) opens an issue in its thread; a follow-up in the same thread ("any news?")
joins it, and the clock keeps running from the first unanswered message. The rep's real reply
in the thread (or to the same contact; or to anyone at the customer, when tiers.yaml says
`acknowledged_by: customer`) acknowledges it. Otherwise it is overdue once its SLA, counted in
working hours, has passed. Only mail inside the look-back window opens an issue.

Promises: a commitment with a time in the rep's own new text (detect/promises.py) is kept when
the rep writes to that customer again in the thread after it; overdue after its due time plus
the grace period.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from mailkeeper.clock import WorkingTime
from mailkeeper.config.rules import SEVERITIES, Rules
from mailkeeper.detect.finding import Finding, parse_ts, ts


def _real_inbound(m: dict[str, Any]) -> bool:
    return m["direction"] == "inbound" and not m["is_auto"] and not m["is_bulk"]


def _real_outbound(m: dict[str, Any]) -> bool:
    return m["direction"] == "outbound" and not m["is_auto"]


def issue_findings(
    messages: list[dict[str, Any]],
    tiers: dict[int, str],
    rules: Rules,
    wt: WorkingTime,
    now: datetime,
    window_start: datetime,
    still_open: frozenset[str] = frozenset(),
) -> list[Finding]:
    """`still_open`: message keys of issues open before this scan, kept however old."""
    by_thread: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    outbound_by_customer: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for m in messages:
        by_thread[(m["customer_id"], m["thread_key"] or m["key"])].append(m)
        if _real_outbound(m):
            outbound_by_customer[m["customer_id"]].append(m)
    out = []
    ack_by = rules.detection.acknowledged_by
    for (cid, thread), msgs in by_thread.items():
        issue: dict[str, Any] | None = None
        found: list[dict[str, Any]] = []
        for m in msgs:  # oldest first
            j = m.get("judgement") or {}
            if _real_inbound(m) and j.get("needs_answer"):
                date = parse_ts(m["date"])
                recent = date is not None and (date >= window_start or m["key"] in still_open)
                if issue is None and recent:
                    issue = {"first": m, "messages": [m], "ack": None, "best": j}
                    found.append(issue)
                elif issue is not None:
                    issue["messages"].append(m)  # a follow-up joins the open issue
                    if SEVERITIES.index(j.get("severity") or "low") > SEVERITIES.index(
                        issue["best"].get("severity") or "low"
                    ):
                        issue["best"] = j
            elif _real_outbound(m) and issue is not None and m["date"] > issue["first"]["date"]:
                issue["ack"] = m
                issue["ack_how"] = "your reply in the same thread"
                issue = None
        for iss in found:
            if iss["ack"] is None:
                _ack_elsewhere(iss, outbound_by_customer[cid], ack_by)
            out.append(_issue_finding(iss, cid, thread, tiers, rules, wt, now))
    return out


def _ack_elsewhere(iss: dict[str, Any], outbound: list[dict[str, Any]], ack_by: str) -> None:
    first = iss["first"]
    contacts = {m["from"] for m in iss["messages"]}
    for m in outbound:
        if m["date"] <= first["date"]:
            continue
        if ack_by == "customer":
            iss["ack"], iss["ack_how"] = m, "your mail to the customer"
            return
        if contacts & {*m["to"], *m["cc"]}:
            iss["ack"], iss["ack_how"] = m, "your mail to the same contact"
            return


def _issue_finding(
    iss: dict[str, Any],
    cid: int,
    thread: str,
    tiers: dict[int, str],
    rules: Rules,
    wt: WorkingTime,
    now: datetime,
) -> Finding:
    first = iss["first"]
    j = iss["best"]
    category = j.get("category") or "question"
    tier_name = tiers.get(cid) or rules.default_tier
    tier = rules.tiers.get(tier_name) or rules.tiers[rules.default_tier]
    hours = tier.sla_for(category)
    per_category = dict(tier.category_sla_working_hours)
    sla_key = (
        f"category_sla_working_hours.{category}"
        if category in per_category
        else "issue_sla_working_hours"
    )
    received = parse_ts(first["date"]) or now  # selected by date: never None here
    due = wt.add_working_hours(received, hours)
    sev = j.get("severity") or "normal"
    ack = iss["ack"]
    if ack is not None:
        state = "acknowledged"
    elif now >= due:
        state = "overdue"
    else:
        state = "open"
    late_hours = wt.working_hours_between(due, now) if state == "overdue" else 0.0
    steps = [
        f"{first['from']} wrote on {first['date']} (subject: {first['subject']!r})",
        f"rules/issues.{first.get('language') or 'en'}.yaml, category {category} "
        f"({sev}): '{j.get('phrase')}' in {j.get('sentence')!r}",
        f"tier {tier_name}: answer within {hours} working hours (tiers.yaml {sla_key})",
        wt.explain(received, hours),
    ]
    if len(iss["messages"]) > 1:
        steps.append(
            f"{len(iss['messages']) - 1} follow-up(s) joined it; the clock runs from the first"
        )
    if ack is not None:
        steps.append(f"acknowledged on {ack['date']} by {iss['ack_how']} ({ack['subject']!r})")
    elif state == "overdue":
        steps.append(f"no answer from you yet: {late_hours:.1f} working hours past due")
    else:
        steps.append("no answer from you yet; not due yet")
    return Finding(
        key=f"issue:{first['key']}:{cid}",
        kind="issue",
        customer_id=cid,
        state=state,
        opened_at=first["date"],
        due_at=ts(due),
        closed_at=ack["date"] if ack else None,
        message_key=first["key"],
        thread_key=thread,
        rank=SEVERITIES.index(sev) * 1000 + late_hours,
        data={
            "category": category,
            "severity": sev,
            "message_id": first["message_id"],
            "received_at": first["date"],
            "due_at": ts(due),
            "acknowledged_at": ack["date"] if ack else None,
            "phrase": j.get("phrase"),
            "sentence": j.get("sentence"),
            "contact": first["from"],
            "contact_name": first.get("from_name") or "",
            "subject": first["subject"],
            "messages": [m["message_id"] or m["key"] for m in iss["messages"]],
        },
        explain={"rule": "issue", "steps": steps},
    )


def promise_findings(
    messages: list[dict[str, Any]],
    rules: Rules,
    now: datetime,
    window_start: datetime,
    still_open: frozenset[str] = frozenset(),
) -> list[Finding]:
    grace = timedelta(hours=rules.detection.promise_grace_hours)
    by_thread: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for m in messages:
        by_thread[(m["customer_id"], m["thread_key"] or m["key"])].append(m)
    out = []
    for (cid, thread), msgs in by_thread.items():
        for i, m in enumerate(msgs):
            if not _real_outbound(m):
                continue
            if m["date"] < (ts(window_start) or "") and m["key"] not in still_open:
                continue
            for n, p in enumerate((m.get("judgement") or {}).get("promises") or []):
                later = next((x for x in msgs[i + 1 :] if _real_outbound(x)), None)
                due = parse_ts(p["due_at"]) or now
                if later is not None:
                    state = "kept"
                elif now > due + grace:
                    state = "overdue"
                else:
                    state = "open"
                steps = [
                    f"you wrote on {m['date']} (subject: {m['subject']!r}): {p['sentence']!r}",
                    p["why"],
                    f"overdue {rules.detection.promise_grace_hours} h after that "
                    "(tiers.yaml detection.promise_grace_hours)",
                ]
                if later is not None:
                    steps.append(f"kept: you wrote again in the thread on {later['date']}")
                out.append(
                    Finding(
                        key=f"promise:{m['key']}:{n}:{cid}",
                        kind="promise",
                        customer_id=cid,
                        state=state,
                        opened_at=m["date"],
                        due_at=p["due_at"],
                        closed_at=later["date"] if later else None,
                        message_key=m["key"],
                        thread_key=thread,
                        rank=(now - due).total_seconds() / 3600,
                        data={
                            "message_id": m["message_id"],
                            "text": p["sentence"],
                            "phrase": p["phrase"],
                            "made_at": m["date"],
                            "due_at": p["due_at"],
                            "kept_at": later["date"] if later else None,
                            "subject": m["subject"],
                        },
                        explain={"rule": "promise", "steps": steps},
                    )
                )
    return out
