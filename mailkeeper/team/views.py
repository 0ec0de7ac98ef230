"""The team commands' answers, from the team record: plain dicts with DESIGN's field names
(times ISO 8601 UTC), for --json and the CLI's tables."""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from typing import Any

from mailkeeper.errors import UserError
from mailkeeper.store.team import TeamConnection


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if dt is not None else None


def status(team: TeamConnection, now: datetime) -> dict[str, Any]:
    r = team.reader()
    reps = []
    for rep, last_push, pending, version, links in r.reps():
        lag = int((now - last_push).total_seconds()) if last_push else None
        reps.append({"rep": rep, "last_push_at": _iso(last_push), "lag_seconds": lag,
                     "pending": pending, "links": links, "client_version": version})  # fmt: skip
    return {
        "role": team.role,
        "reps": reps,
        "counts": r.counts(),
        "conflicts": [
            {"domain": d, "customers": names, "reps": who} for d, names, who in r.conflicts()
        ],  # fmt: skip
    }


def _health(interval: int | None, last_contact: datetime | None, now: datetime) -> tuple[str, Any]:
    """(health, days since contact): `neglected` when nobody in the team wrote within the
    tier's interval (or ever), `ok` otherwise, `unknown` without a tier interval."""
    days = (now - last_contact).days if last_contact else None
    if interval is None:
        return "unknown", days
    if days is None or days > interval:
        return "neglected", days
    return "ok", days


def customers(team: TeamConnection, now: datetime) -> list[dict[str, Any]]:
    out = []
    for name, owner, tier, interval, last_in, last_out, messages, handed in team.reader().customers(
        now
    ):
        # a handover starts the new owner's clock: their contact counts from that day
        contact = max((d for d in (last_out, handed) if d is not None), default=None)
        health, days = _health(interval, contact, now)
        out.append({
            "name": name, "owner": owner, "tier": tier, "last_inbound": _iso(last_in),
            "last_outbound": _iso(last_out), "health": health, "messages": messages,
            "last_contact": _iso(contact), "days_since_contact": days, "interval_days": interval,
        })  # fmt: skip
    return out


def neglected(team: TeamConnection, now: datetime) -> list[dict[str, Any]]:
    """Customers nobody in the team has written to within their tier's interval, whoever
    owns them (customers without a single message are left out: nothing to neglect yet)."""
    rows = []
    for c in customers(team, now):
        if c["health"] != "neglected" or not c["messages"]:
            continue
        days, interval = c["days_since_contact"], c["interval_days"]
        rows.append({
            "customer": c["name"], "owner": c["owner"], "tier": c["tier"],
            "last_contact": c["last_contact"], "last_inbound": c["last_inbound"],
            "last_outbound": c["last_outbound"], "days_since_contact": days,
            "interval_days": interval,
            "overdue_days": None if days is None else days - interval,
        })  # fmt: skip
    rows.sort(key=lambda r: (r["overdue_days"] is not None, -(r["overdue_days"] or 0)))
    return rows


def _resolve_name(team: TeamConnection, name: str) -> str:
    r = team.reader()
    found = r.find_customer(name)
    if found is not None:
        return found
    names = r.customer_names()
    close = difflib.get_close_matches(name, names, n=3)
    raise UserError(
        f"no customer named '{name}' in the team record",
        [f"did you mean: {', '.join(close)}?"] if close else ["see: mailkeeper team customers"],
    )


def customer(team: TeamConnection, name: str) -> dict[str, Any]:
    r = team.reader()
    name = _resolve_name(team, name)
    row = r.customer(name)
    owner = row[1] if row else None
    messages = []
    for message_id, date, subject, sender, reps, outbound, inbound in r.history(name):
        direction = "outbound" if outbound else "inbound" if inbound else "internal"
        messages.append({"message_id": message_id, "date": _iso(date), "direction": direction,
                         "subject": subject, "from": sender, "reps": list(reps)})  # fmt: skip
    return {"name": name, "owner": owner, "contacts": r.contacts(name), "messages": messages}


def handover(team: TeamConnection, from_rep: str, to_rep: str, customer_name: str | None,
             now: datetime) -> dict[str, Any]:  # fmt: skip
    r = team.reader()
    if not r.role_exists(to_rep):
        raise UserError(f"'{to_rep}' is not a role of the team database",
                        ["hand over to a rep's role (see: mailkeeper team status)"])  # fmt: skip
    name = _resolve_name(team, customer_name) if customer_name else None
    moved = r.handover(from_rep, to_rep, name, now)
    if not moved:
        what = f"'{name}'" if name else "any customer"
        raise UserError(f"{from_rep} owns {what} no more: nothing was handed over",
                        ["see the owners: mailkeeper team customers"])  # fmt: skip
    return {"from": from_rep, "to": to_rep, "at": _iso(now), "customers": moved}
