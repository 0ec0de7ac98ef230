"""Write the account-health site: DIR/index.html (every customer, worst first) and
DIR/customers/<slug>.html, from Jinja2 templates with autoescape (every customer-controlled
string is escaped) and pygal charts inlined as SVG. No file refers to anything outside the
site: a CSP meta tag forbids every request, so the pages open from file:// offline."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from mailkeeper.clock import WorkingTime
from mailkeeper.report import charts
from mailkeeper.report.card import Period, figures
from mailkeeper.report.health import Account, Listings, accounts, months_back, summary
from mailkeeper.report.painter import Painter, mail_charts
from mailkeeper.report.slug import slugs


@dataclass
class Extras:
    """What the site shows beyond the listings, read from the store for the same `now`."""

    ids: dict[str, int]  # customer name -> id
    monthly: dict[int, dict[str, list[int]]]  # id -> month -> [received, sent]
    last_messages: dict[int, list[dict[str, Any]]]  # id -> newest first
    contacts: dict[int, list[dict[str, Any]]]
    timelines: Mapping[str, Sequence[Mapping[str, Any]]]  # order ref -> milestones
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> its report card
    # name -> what the customer said they will need, as `needs --json` lists it
    needs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def report_cards(
    data: Listings, timelines: Mapping[str, Sequence[Mapping[str, Any]]],
    problems: Mapping[str, Sequence[Mapping[str, Any]]], period: Period, wt: WorkingTime,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Each customer's report card for `period` from the listings (card.py): the figures
    `report-card --json` prints."""
    orders: dict[str, list[dict[str, Any]]] = {}
    issues: dict[str, list[dict[str, Any]]] = {}
    for o in data.orders:
        orders.setdefault(o["customer"], []).append(o)
    for i in data.issues:
        issues.setdefault(i["customer"], []).append(i)
    return {
        r["name"]: figures(period, orders.get(r["name"], []), timelines, problems,
                           issues.get(r["name"], []), wt)
        for r in data.customers
    }  # fmt: skip


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
    out: Path, data: Listings, extras: Extras, wt: WorkingTime, now: datetime,
    painter: Painter | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Write the site into `out` (its index.html and customers/ are replaced); returns what
    was written: the index path, the number of pages and the bytes. `painter`: the one that
    has been drawing the charts of `extras.monthly` (default: one that draws them here)."""
    with painter or Painter(extras.monthly, now, workers=1) as p:
        return _write_site(out, data, extras, wt, now, p)


def _write_site(
    out: Path, data: Listings, extras: Extras, wt: WorkingTime, now: datetime, painter: Painter
) -> dict[str, Any]:
    rows = accounts(data, wt)
    pages = slugs((extras.ids[a.name], a.name) for a in rows)
    year = months_back(now, 12)
    out.mkdir(parents=True, exist_ok=True)
    # Pages go to a fresh folder that replaces customers/ at the end: a renamed customer's old
    # page does not linger, and a reader never sees half a site.
    build = Path(tempfile.mkdtemp(dir=out, prefix=".customers-"))
    drawn = painter.charts()
    missing: list[tuple[int, dict[str, list[int]]]] = [
        (extras.ids[a.name], {}) for a in rows if extras.ids[a.name] not in drawn
    ]
    drawn.update(mail_charts(missing, year))  # no mail at all: an empty sparkline
    jobs = [_job(a, extras, pages, build, drawn[extras.ids[a.name]]) for a in rows]
    written = sum(painter.pages(_render_chunk, jobs, now))
    overview = []
    for a, job in zip(rows, jobs, strict=True):
        monthly = extras.monthly.get(extras.ids[a.name], {})
        overview.append({"a": a, "slug": job["slug"], "spark": Markup(job["spark"]),
                         "year_in": sum(monthly.get(m, [0, 0])[0] for m in year),
                         "year_out": sum(monthly.get(m, [0, 0])[1] for m in year)})  # fmt: skip
    index = out / "index.html"
    written += _write(index, _env().get_template("index.html.j2").render(
        rows=overview, summary=summary(rows), now=now, months=year))  # fmt: skip
    old = out / "customers"
    if old.exists():
        shutil.rmtree(old)
    os.replace(build, old)
    return {"out": str(out), "index": str(index), "pages": len(rows), "bytes": written}


def _job(a: Account, extras: Extras, pages: dict[int, str], build: Path,
         drawn: tuple[str, str]) -> dict[str, Any]:  # fmt: skip
    """What one customer's page needs, picklable for a worker process."""
    cid = extras.ids[a.name]
    return {
        "a": a, "slug": pages[cid], "path": str(build / f"{pages[cid]}.html"),
        "spark": drawn[0], "history": drawn[1],
        "timelines": {o["ref"]: list(extras.timelines.get(o["ref"], [])) for o in a.orders},
        "contacts": extras.contacts.get(cid, []), "messages": extras.last_messages.get(cid, []),
        "card": extras.cards.get(a.name), "needs": extras.needs.get(a.name, []),
    }  # fmt: skip


def _render_chunk(jobs: list[dict[str, Any]], now: datetime) -> list[int]:
    """Write each job's page; the bytes of each."""
    template = _env().get_template("customer.html.j2")
    return [_write(Path(job["path"]), template.render(a=job["a"], now=now, **_page(job)))
            for job in jobs]  # fmt: skip


def _page(job: dict[str, Any]) -> dict[str, Any]:
    a = job["a"]
    history = Markup(job["history"]) if job["history"] else None
    orders = []
    for o in a.orders:
        steps = job["timelines"].get(o["ref"], [])
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
        "contacts": job["contacts"],
        "messages": job["messages"],
        "card": job["card"],
        "needs": job["needs"],
    }


def _write(path: Path, text: str) -> int:
    """Write via a temp file and rename (no fsync: the site is rebuilt from the store)."""
    data = text.encode()
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o600)  # customer mail: readable by the rep only, like the database
    os.replace(tmp, path)
    return len(data)
