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
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> its report card


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
    workers: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Write the site into `out` (its index.html and customers/ are replaced); returns what
    was written: the index path, the number of pages and the bytes. The customer pages (and
    their charts, most of the time) are made by `workers` processes (default: one per core,
    none for a small site)."""
    rows = accounts(data, wt)
    pages = slugs((extras.ids[a.name], a.name) for a in rows)
    year = months_back(now, 12)
    out.mkdir(parents=True, exist_ok=True)
    # Pages go to a fresh folder that replaces customers/ at the end: a renamed customer's old
    # page does not linger, and a reader never sees half a site.
    build = Path(tempfile.mkdtemp(dir=out, prefix=".customers-"))
    jobs = [_job(a, extras, pages, year, build) for a in rows]
    made = _render_all(jobs, now, workers)
    written = sum(n for _, n in made)
    overview = []
    for a, job, (spark, _) in zip(rows, jobs, made, strict=True):
        monthly = job["monthly"]
        overview.append({"a": a, "slug": job["slug"], "spark": Markup(spark),
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


def _job(a: Account, extras: Extras, pages: dict[int, str], year: list[str],
         build: Path) -> dict[str, Any]:  # fmt: skip
    """What one customer's page needs, picklable for a worker process."""
    cid = extras.ids[a.name]
    return {
        "a": a, "slug": pages[cid], "path": str(build / f"{pages[cid]}.html"), "year": year,
        "monthly": extras.monthly.get(cid, {}),
        "timelines": {o["ref"]: list(extras.timelines.get(o["ref"], [])) for o in a.orders},
        "contacts": extras.contacts.get(cid, []), "messages": extras.last_messages.get(cid, []),
        "card": extras.cards.get(a.name),
    }  # fmt: skip


SMALL_SITE = 40  # pages: fewer are made in this process (starting workers costs more)


def _render_all(jobs: list[dict[str, Any]], now: datetime,
                workers: int | None) -> list[tuple[str, int]]:  # fmt: skip
    """(sparkline, bytes written) of each job's page, in order."""
    n = workers if workers is not None else min(os.cpu_count() or 1, 4)
    if n <= 1 or len(jobs) < SMALL_SITE:
        return _render_chunk(jobs, now)
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    # fork when this process has one thread (no re-import, the workers start at once); spawn
    # in the daemon, which has threads (a fork could copy a lock another thread holds). A
    # chunk per worker and a few more, so a slow one does not hold up the rest.
    size = max(1, len(jobs) // (n * 3))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    ctx = multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")
    with ProcessPoolExecutor(n, mp_context=ctx) as pool:
        done = pool.map(_render_chunk, chunks, [now] * len(chunks))
        return [r for chunk in done for r in chunk]


def _render_chunk(jobs: list[dict[str, Any]], now: datetime) -> list[tuple[str, int]]:
    template = _env().get_template("customer.html.j2")
    out = []
    for job in jobs:
        monthly, year = job["monthly"], job["year"]
        spark = charts.sparkline([monthly.get(m, [0, 0])[0] for m in year],
                                 [monthly.get(m, [0, 0])[1] for m in year])  # fmt: skip
        html = template.render(a=job["a"], now=now, **_page(job))
        out.append((spark, _write(Path(job["path"]), html)))
    return out


def _page(job: dict[str, Any]) -> dict[str, Any]:
    a, monthly = job["a"], job["monthly"]
    history = None
    if monthly:
        months = month_span(min(monthly), max(monthly))
        history = Markup(charts.monthly(months, [monthly.get(m, [0, 0])[0] for m in months],
                                        [monthly.get(m, [0, 0])[1] for m in months]))  # fmt: skip
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
    }


def _write(path: Path, text: str) -> int:
    """Write via a temp file and rename (no fsync: the site is rebuilt from the store)."""
    data = text.encode()
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o600)  # customer mail: readable by the rep only, like the database
    os.replace(tmp, path)
    return len(data)
