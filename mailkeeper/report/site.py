"""Write the account-health site: DIR/index.html (every customer, worst first) and
DIR/customers/<slug>.html, from Jinja2 templates with autoescape (every customer-controlled
string is escaped) and pygal charts inlined as SVG. No file refers to anything outside the
site: a CSP meta tag forbids every request, so the pages open from file:// offline."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from mailkeeper.clock import WorkingTime
from mailkeeper.report import charts
from mailkeeper.report.health import Account, Listings, accounts, month_span, months_back, summary
from mailkeeper.report.slug import slugs


@dataclass
class Extras:
    """What the site shows beyond the listings, read from the store for the same `now`."""

    ids: dict[str, int]  # customer name -> id
    monthly: dict[int, dict[str, list[int]]]  # id -> month -> [received, sent]
    last_messages: dict[int, list[dict[str, Any]]]  # id -> newest first
    contacts: dict[int, list[dict[str, Any]]]
    timelines: Mapping[str, Sequence[Mapping[str, Any]]]  # order ref -> milestones


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mailkeeper.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["day"] = lambda iso: (iso or "")[:10]
    return env


def _days_after(start: str | None, iso: str | None) -> int | None:
    if not start or not iso:
        return None
    a = datetime.fromisoformat(start.replace("Z", "+00:00"))
    b = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return round((b - a).total_seconds() / 86400)


def write_site(
    out: Path, data: Listings, extras: Extras, wt: WorkingTime, now: datetime
) -> dict[str, Any]:
    """Write the site into `out` (its index.html and customers/ are replaced); returns what
    was written: the index path, the number of pages and the bytes."""
    env = _env()
    rows = accounts(data, wt)
    pages = slugs((extras.ids[a.name], a.name) for a in rows)
    year = months_back(now, 12)
    out.mkdir(parents=True, exist_ok=True)
    # Pages go to a fresh folder that replaces customers/ at the end: a renamed customer's old
    # page does not linger, and a reader never sees half a site.
    build = Path(tempfile.mkdtemp(dir=out, prefix=".customers-"))
    written = 0
    overview = []
    for a in rows:
        cid = extras.ids[a.name]
        monthly = extras.monthly.get(cid, {})
        spark = charts.sparkline([monthly.get(m, [0, 0])[0] for m in year],
                                 [monthly.get(m, [0, 0])[1] for m in year])  # fmt: skip
        overview.append({"a": a, "slug": pages[cid], "spark": Markup(spark),
                         "year_in": sum(monthly.get(m, [0, 0])[0] for m in year),
                         "year_out": sum(monthly.get(m, [0, 0])[1] for m in year)})  # fmt: skip
        html = env.get_template("customer.html.j2").render(
            a=a, now=now, **_page(a, cid, monthly, extras)
        )
        written += _write(build / f"{pages[cid]}.html", html)
    index = out / "index.html"
    written += _write(index, env.get_template("index.html.j2").render(
        rows=overview, summary=summary(rows), now=now, months=year))  # fmt: skip
    old = out / "customers"
    if old.exists():
        shutil.rmtree(old)
    os.replace(build, old)
    return {"out": str(out), "index": str(index), "pages": len(rows), "bytes": written}


def _page(a: Account, cid: int, monthly: dict[str, list[int]], extras: Extras) -> dict[str, Any]:
    history = None
    if monthly:
        months = month_span(min(monthly), max(monthly))
        history = Markup(charts.monthly(months, [monthly.get(m, [0, 0])[0] for m in months],
                                        [monthly.get(m, [0, 0])[1] for m in months]))  # fmt: skip
    orders = []
    for o in a.orders:
        steps = extras.timelines.get(o["ref"], [])
        chart = None
        if steps:
            chart = Markup(charts.milestones(
                o["ref"], [s["label"] or s["milestone"] for s in steps],
                [_days_after(o["confirmed_at"], s["planned_at"]) for s in steps],
                [_days_after(o["confirmed_at"], s["actual_at"]) for s in steps],
            ))  # fmt: skip
        orders.append({"o": o, "steps": steps, "chart": chart})
    findings = sorted(
        [{"kind": "issue", **i} for i in a.issues] + [{"kind": "promise", **p} for p in a.promises],
        key=lambda f: f.get("received_at") or f.get("made_at") or "", reverse=True,
    )  # fmt: skip
    return {
        "history": history,
        "orders": orders,
        "findings": findings,
        "contacts": extras.contacts.get(cid, []),
        "messages": extras.last_messages.get(cid, []),
    }


def _write(path: Path, text: str) -> int:
    """Write via a temp file and rename (no fsync: the site is rebuilt from the store)."""
    data = text.encode()
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o600)  # customer mail: readable by the rep only, like the database
    os.replace(tmp, path)
    return len(data)
