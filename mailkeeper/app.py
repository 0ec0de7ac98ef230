"""The facade: one method per command, wiring config + store + the pipeline steps.

The CLI (and later the daemon) call these methods; the work itself is done by the steps
(sync.py, link.py, ...) and the store. Nothing here speaks SQL or IMAP.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mailkeeper.config import settings as config_mod
from mailkeeper.errors import ConfigError, LockedError, StoreError, UserError
from mailkeeper.link import Linker, LinkStats, Party, party_from, unlinked_messages
from mailkeeper.lock import daemon_lock, sync_lock
from mailkeeper.store import Store
from mailkeeper.sync import RETRY_DELAYS, ProgressFn, Syncer, SyncReport
from mailkeeper.sync import link as link_keys

logger = logging.getLogger(__name__)

__all__ = ["App", "SyncReport"]


# ----------------------------------------------------------------------------- app
class App:
    def __init__(self, settings: Any, rules: Any) -> None:
        self.settings = settings
        self.rules = rules
        self.party: Party = party_from(settings, rules)
        self._store: Store | None = None
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS
        self.relink_pending = False
        self._scan_cache: dict[str, Any] = {}  # kept between scans (the daemon's)
        self.lock_wait = 5.0  # how long a sync waits for another process's sync
        # the daemon's templates as it accepted them (drafts.compose.TemplateSnapshot); None:
        # read from the disk at each draft, as a one-off command does
        self.template_snapshot: Any = None

    @classmethod
    def from_config(cls, path: Path | None) -> App:
        cfg = config_mod.find_config_path(path)
        settings = config_mod.load_settings(cfg)
        return cls(settings, config_mod.load_rules(settings))

    @property
    def store(self) -> Store:
        if self._store is None:
            try:
                self._store = Store(self.settings.database)
            except StoreError as e:
                # An unwritable path is advice with its line, not FileNotFoundError text; a
                # file that is not a mailkeeper database keeps its own message.
                from mailkeeper.check import database_problems

                problems = database_problems(self.settings)
                if not problems:
                    raise
                raise ConfigError(str(e), problems) from e
        return self._store

    def _writable_store(self, what: str) -> Store:
        """The store, or advice naming the `database:` line when it is read-only."""
        store = self.store
        if store.readonly:
            from mailkeeper.check import database_problems

            raise ConfigError(
                f"the database is read-only, so {what} cannot run",
                database_problems(self.settings)
                or [f"{self.settings.database}: expected a database file this user can write"],
            )
        return store

    @staticmethod
    def check(config: Path | None, offline: bool = False) -> Any:
        """Everything a sync would trip over (check.py); the configuration need not load."""
        from mailkeeper.check import check as check_config  # its imports: only for `check`

        return check_config(config_mod.find_config_path(config), offline=offline)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ accounts
    def accounts(self, name: str | None) -> list[Any]:
        accounts = self.settings.accounts
        if name is None:
            return list(accounts.values())
        if name not in accounts:
            raise UserError(
                f"no account named '{name}' in {self.settings.path}",
                [f"accounts are: {', '.join(sorted(accounts)) or '(none)'}"],
            )
        return [accounts[name]]

    # ------------------------------------------------------------------ sync
    def sync(
        self,
        account: str | None = None,
        progress: ProgressFn | None = None,
        reports: list[SyncReport] | None = None,
        roles: frozenset[str] | None = None,
    ) -> list[SyncReport]:
        """Sync `account` (None: all). `reports`: a list to collect the reports in, which
        keeps the failing account's (its `error` filled) when an error is raised. `roles`:
        only folders of these roles (None: all). When another process syncs (the daemon),
        this waits up to `lock_wait` seconds, then LockedError names it."""
        reports = [] if reports is None else reports
        accounts = self.accounts(account)
        store = self._writable_store("sync")
        with sync_lock(self.settings.database).acquire(wait=self.lock_wait):
            syncer = Syncer(
                store,
                self.settings,
                self.rules,
                self.party,
                progress=progress,
                retry_delays=self.retry_delays,
            )
            for acct in accounts:
                report = SyncReport(account=acct.name)
                reports.append(report)
                syncer.sync_account(acct, report, roles)
        return reports

    # ------------------------------------------------------------------ linking
    def link(self, keys: list[str] | None) -> LinkStats:
        """Link `keys` (None: a full relink). A changed customers.yaml forces a full relink."""
        return link_keys(self.store, self.settings, self.rules, keys)

    def relink(self) -> LinkStats:
        """Link every stored message again, under the sync lock."""
        self._writable_store("relink")
        with sync_lock(self.settings.database).acquire(wait=5.0):
            return self.link(None)

    # ------------------------------------------------------------------ reports
    def customers(self, sort: str = "tier", as_of: datetime | None = None,
                  contact: list[Any] | None = None) -> list[dict[str, Any]]:  # fmt: skip
        """Every customer; `sort`: tier (configured first, by tier and name) or silence
        (longest since the last real mail either way first; never in touch last). `contact`:
        store.activity.contact's rows for `as_of`, when the caller has them (a scan's)."""
        self._refresh_rules()
        rows = self.store.customers.report(sort=sort)
        tiers = self._tiers(as_of, contact)
        where = self._countries()
        for r in rows:
            r["tier"], r["tier_source"] = tiers.get(r["name"], (r["tier"], "customers.yaml"))
            r["country"], r["country_source"] = where.get(r["name"], (None, None))
        return rows

    def _countries(self) -> dict[str, tuple[str | None, str | None]]:
        """name -> (country, configured | domain | guessed) (detect/country.py)."""
        from mailkeeper.detect.country import countries

        names = self.store.customers.names_by_id()
        return {names[cid]: v for cid, v in countries(self.store, self.rules).items()}

    def _tiers(self, as_of: datetime | None = None,
               contact: list[Any] | None = None) -> dict[str, tuple[str, str]]:  # fmt: skip
        """name -> (tier, where it came from): customers.yaml, else auto_tier, else default."""
        from mailkeeper.detect.tiering import effective_tier

        now = as_of or _now()
        rows = contact if contact is not None else self.store.activity.contact(
            now, now - timedelta(days=365))  # fmt: skip
        return {c.name: effective_tier(c, self.rules) for c in rows}

    def unlinked(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Messages linked to no customer, newest first, each with the reason."""
        self._refresh_rules()
        return unlinked_messages(self.store, self.party, limit)

    def _refresh_rules(self) -> None:
        """After a rules edit, relink before reporting, under the sync lock. When another
        process holds the lock (or the database is read-only) the data is shown as it is
        and `relink_pending` says so: a listing never waits for a writer."""
        self.relink_pending = False
        if not Linker(self.store, self.settings, self.rules).rules_changed():
            return
        if self.store.readonly:
            self.relink_pending = True
            return
        lock = sync_lock(self.settings.database)
        try:
            lock.acquire(wait=0.0)
        except LockedError:
            self.relink_pending = True
            return
        try:
            self.link(None)
        finally:
            lock.release()

    def customer(self, name: str, limit: int | None = 50) -> dict[str, Any]:
        self._refresh_rules()
        customers = self.store.customers
        aliases = {a: c.name for c in self.rules.customers for a in c.aliases}
        found = customers.lookup(name, aliases)
        if len(found) > 1:
            raise UserError(
                f"'{name.strip()}' matches {len(found)} customers",
                [f"{', '.join(found[:10])}: give more of the name"],
            )
        c = customers.find(found[0]) if found else None
        if c is None:
            import difflib

            close = difflib.get_close_matches(name.strip(), customers.names(), n=3)
            hint = f"did you mean: {', '.join(close)}?" if close else "see `mailkeeper customers`"
            raise UserError(f"no customer named '{name.strip()}'", [hint])
        cid = c.pop("id")
        [report] = customers.report(cid)
        c.update(report)
        c["domains"] = customers.domains(cid)
        c["contacts"] = customers.contacts(cid, sorted(self.party.own))
        c["timeline"] = customers.timeline(cid, limit)
        c["country"], c["country_source"] = self._countries().get(c["name"], (None, None))
        c["needs"] = self.needs(cid)
        return c

    def needs(self, customer_id: int | None = None) -> list[dict[str, Any]]:
        """What customers said they will need (detect/needs.py), soonest window first."""
        names = self.store.customers.names_by_id()
        return [
            {
                "id": n.id,
                "customer": names.get(n.customer_id),
                "sentence": n.sentence,
                "phrase": n.phrase,
                "window_start": n.window_start.isoformat(),
                "window_end": n.window_end.isoformat(),
                "said_at": _iso(n.said_at),
                "message_id": n.message_id,
                "state": n.state,
                "note": n.note,
            }  # fmt: skip
            for n in self.store.needs.listing(customer_id)
        ]

    def status(self) -> dict[str, Any]:
        mail = self.store.mail
        last_sync_at, last_error, last_error_at = mail.last_sync()
        daemon = daemon_lock(self.settings.database).holder()
        parts = _parts(self.settings.database, last_sync_at, last_error, last_error_at)
        shown = [(e["last_error_at"] or "", e["last_error"]) for e in parts.values()]
        last_error_at, last_error = max(
            [x for x in shown if x[1] is not None], default=(None, None)
        )
        return {
            "accounts": [
                {
                    "name": name,
                    "host": a.host,
                    "username": a.username,
                    "folders": mail.folders_report(name),
                    "warnings": mail.warnings(name),
                }
                for name, a in self.settings.accounts.items()
            ],
            "messages": mail.message_count(),
            "last_sync_at": last_sync_at,
            "database": str(self.settings.database),
            "database_bytes": self.store.size_bytes(),
            "database_checked_at": self.store.state.quick_check_ok_at(),
            "daemon": {
                "running": daemon is not None,
                "pid": daemon["pid"] if daemon else None,
                "since": daemon["since"] if daemon else None,
            },
            "last_error": last_error,
            "last_error_at": last_error_at or None,
            "parts": parts,
            "open_findings": self.store.findings.count_open(),
            "pending_drafts": self.store.drafts.count_pending(),
            "warnings": self._template_warnings(),
        }

    def _template_warnings(self) -> list[str]:
        """Templates that fail with their kind's sample context: their kind gets no draft."""
        from mailkeeper.drafts.compose import template_render_problems

        return [
            f"template {p} (no draft of that kind is made until it is fixed)"
            for p in template_render_problems(self.settings.template_search_path)
        ]

    # ---- detection (scan, neglected, issues, promises, explain, snooze, resolve)
    def scan(self, as_of: datetime | None = None) -> Any:
        """Judge what is new and bring the findings up to date, as of `as_of` (default now)."""
        from mailkeeper.detect.scan import Scanner  # spaCy comes only with scanning

        self._refresh_rules()
        with sync_lock(self.settings.database).acquire(wait=5.0):
            return Scanner(self.store, self.settings, self.rules, self._scan_cache).run(
                as_of or _now()
            )

    def _findings(
        self,
        kind: str,
        states: tuple[str, ...] | None,
        as_of: datetime | None,
        fields: tuple[str, ...],
        scan: bool = True,
    ) -> list[dict[str, Any]]:
        if scan:
            self.scan(as_of)
        names = self.store.customers.names_by_id()
        out = []
        for f in self.store.findings.listing(kind, states):
            row = {"id": f.id, "customer": names.get(f.customer_id), "state": f.state}
            data: dict[str, Any] = dict(f.data)  # a listing picks its fields by name
            row.update({k: data.get(k) for k in fields if k not in row})
            out.append(row)
        return out

    def neglected(self, as_of: datetime | None = None, scan: bool = True) -> list[dict[str, Any]]:
        """Neglected accounts, most overdue (weighted by tier) first; then snoozed, dormant.
        `scan`: False when the caller has just scanned for `as_of` (the site)."""
        rows = self._findings("neglect", ("neglected", "snoozed", "dormant"), as_of, (
            "tier", "last_contact", "last_inbound", "last_outbound", "days_since_contact",
            "interval_days", "overdue_days", "status", "snoozed_until",
        ), scan)  # fmt: skip
        order = {"neglected": 0, "snoozed": 1, "dormant": 2}
        return sorted(rows, key=lambda r: order[r["state"]])

    def issues(self, which: str = "open", as_of: datetime | None = None,
               scan: bool = True) -> list[dict[str, Any]]:  # fmt: skip
        states = {"open": ("open", "overdue"), "overdue": ("overdue",), "all": None}[which]
        return self._findings("issue", states, as_of, (
            "category", "severity", "message_id", "received_at", "due_at", "acknowledged_at",
            "phrase", "sentence", "contact", "subject", "probability", "rule",
        ), scan)  # fmt: skip

    def promises(self, which: str = "open", as_of: datetime | None = None,
                 scan: bool = True) -> list[dict[str, Any]]:  # fmt: skip
        states = {"open": ("open", "overdue"), "overdue": ("overdue",), "all": None}[which]
        return self._findings("promise", states, as_of, (
            "message_id", "text", "made_at", "due_at", "kept_at", "subject",
        ), scan)  # fmt: skip

    def explain(self, finding_id: int) -> dict[str, Any]:
        f = self.store.findings.get(finding_id)
        if f is None:
            raise UserError(
                f"no finding with id {finding_id}",
                ["the ids are in `mailkeeper neglected`, `issues --all` and `promises --all`"],
            )
        names = self.store.customers.names_by_id()
        return {
            "id": f.id,
            "kind": f.kind,
            "customer": names.get(f.customer_id),
            "state": f.state,
            "opened_at": _iso(f.opened_at),
            "due_at": _text(f.due_at),
            "closed_at": _text(f.closed_at),
            "rule": f.explain.get("rule"),
            "steps": f.explain.get("steps", []),
            "data": f.data,
            "history": [
                {"at": _iso(e.at), "state": e.state, "note": e.note}
                for e in self.store.findings.events(f.id)
            ],
        }

    def snooze(self, name: str, until: datetime) -> dict[str, Any]:
        c = self._customer_row(name)
        with sync_lock(self.settings.database).acquire(wait=5.0), self.store.transaction():
            self.store.findings.snooze(c["id"], until)
        return {"customer": c["name"], "until": _iso(until)}

    def resolve(self, finding_id: int, note: str | None = None) -> dict[str, Any]:
        f = self.store.findings.get(finding_id)
        if f is None:
            raise UserError(f"no finding with id {finding_id}", ["see `mailkeeper issues --all`"])
        with sync_lock(self.settings.database).acquire(wait=5.0), self.store.transaction():
            self.store.findings.set_state(finding_id, "resolved", _now(), note or "by you")
        return {"id": finding_id, "state": "resolved"}

    # ---- orders (order add / event / problem, orders)
    def order_add(self, customer: str, ref: str, confirmed: Any, plan: str | None = None,
                  ship_by: Any = None, quantity: int | None = None, amount: str | None = None,
                  currency: str | None = None) -> dict[str, Any]:  # fmt: skip
        """Declare an order; when rules/orders.yaml declares `ref`, the file wins (`added`
        False, `declared_in` its file:line). `amount` as typed ("9500.50")."""
        from mailkeeper.detect import orders

        order_rules = orders.load_order_rules(self.settings)
        store = self._writable_store("order add")
        self._refresh_rules()
        c = self._one_customer(customer)
        with sync_lock(self.settings.database).acquire(wait=5.0), store.transaction():
            return orders.add(store, order_rules, self.rules, self.settings.tz, c, ref,
                              confirmed, plan, ship_by, (quantity, amount, currency))  # fmt: skip

    def order_event(self, ref: str, milestone: str, at: Any = None,
                    note: str | None = None) -> dict[str, Any]:  # fmt: skip
        """Record that the order reached `milestone` (at `at`, default now)."""
        from mailkeeper.detect import orders

        order_rules = orders.load_order_rules(self.settings)
        store = self._writable_store("order event")
        with sync_lock(self.settings.database).acquire(wait=5.0), store.transaction():
            orders.sync_declared(store, order_rules, self.rules, self.settings.tz)
            when = orders.day_start(at or _now(), self.settings.tz)
            return orders.record_event(store, order_rules, ref, milestone, when, note)

    def order_problem(self, ref: str, note: str, at: Any = None) -> dict[str, Any]:
        """Record a problem with the order (a finding until the customer is told)."""
        from mailkeeper.detect import orders

        order_rules = orders.load_order_rules(self.settings)
        store = self._writable_store("order problem")
        with sync_lock(self.settings.database).acquire(wait=5.0), store.transaction():
            orders.sync_declared(store, order_rules, self.rules, self.settings.tz)
            when = orders.day_start(at or _now(), self.settings.tz)
            return orders.record_problem(store, ref, when, note)

    def orders(self, which: str = "open", as_of: datetime | None = None) -> list[dict[str, Any]]:
        """Orders with their last and next milestone, due date and lateness, as of `as_of`;
        `which`: open (not closed) or all. Problems first, then late, shipped, open."""
        from mailkeeper.detect import orders
        from mailkeeper.detect.progress import order_statuses

        order_rules = orders.load_order_rules(self.settings)
        self._refresh_rules()
        store = self.store
        if order_rules.orders and not store.readonly:
            with sync_lock(self.settings.database).acquire(wait=5.0), store.transaction():
                orders.sync_declared(store, order_rules, self.rules, self.settings.tz)
        now = as_of or _now()
        rows: list[dict[str, Any]] = [
            dict(r)
            for r in order_statuses(orders.gather(store, order_rules, now), now, self.settings.tz)
        ]
        if which != "all":
            rows = [r for r in rows if r["state"] != "closed"]
        rank = {"problem": 0, "late": 1, "shipped": 2, "open": 3, "closed": 4}
        return sorted(rows, key=lambda r: (rank[r["state"]], -r["days_late"], r["confirmed_at"]))

    def _one_customer(self, name: str) -> dict[str, Any]:
        """The customer `name` means (any spelling `customer NAME` accepts), or advice."""
        aliases = {a: c.name for c in self.rules.customers for a in c.aliases}
        found = self.store.customers.lookup(name, aliases)
        if len(found) > 1:
            raise UserError(f"'{name.strip()}' matches {len(found)} customers",
                            [f"{', '.join(found[:10])}: give more of the name"])  # fmt: skip
        return self._customer_row(found[0] if found else name)

    def _customer_row(self, name: str) -> dict[str, Any]:
        c = self.store.customers.find(name)
        if c is None:
            import difflib

            close = difflib.get_close_matches(name, self.store.customers.names(), n=3)
            hint = f"did you mean: {', '.join(close)}?" if close else "see `mailkeeper customers`"
            raise UserError(f"no customer named '{name}'", [hint])
        return c

    # ---- the account-health site
    def report(self, out: Path | None = None, as_of: datetime | None = None,
               workers: int | None = None) -> dict[str, Any]:  # fmt: skip
        """Write the account-health site into `out` (default: `report.out` in mailkeeper.yaml,
        else a folder under the data directory) from the same listings `--json` prints: one
        scan, then each listing as that scan left it."""
        from mailkeeper.clock import WorkingTime
        from mailkeeper.config.defaults import default_report_dir
        from mailkeeper.detect import orders as order_steps
        from mailkeeper.detect.progress import order_problems, order_timelines
        from mailkeeper.report.card import calendar_year
        from mailkeeper.report.health import Listings
        from mailkeeper.report.painter import Painter
        from mailkeeper.report.site import Extras, report_cards, write_site

        now = as_of or _now()
        self._refresh_rules()  # before the monthly counts: a relink changes them
        store, until = self.store.customers, _iso(now)
        monthly = store.monthly_mail(until)
        # the charts of the mail per month are drawn (by worker processes) while the rest is read
        with Painter(monthly, now, workers) as painter:
            self.scan(now)
            data = Listings(
                # the contact dates that scan read (the same call for the same `now`)
                customers=self.customers(as_of=now, contact=self._scan_cache.get("contact")),
                neglected=self.neglected(now, scan=False),
                issues=self.issues("all", now, scan=False),
                promises=self.promises("all", now, scan=False),
                orders=self.orders("all", now),
            )
            rules = order_steps.load_order_rules(self.settings)
            facts = order_steps.gather(self.store, rules, now)
            tz = self.settings.tz
            wt = WorkingTime.from_config(self.settings.timezone, self.settings.working_hours)
            timelines = order_timelines(facts, now, tz)
            extras = Extras(
                ids=store.ids_by_name(),
                monthly=monthly,
                last_messages=store.last_messages(until, 10),
                contacts=store.all_contacts(sorted(self.party.own), 20),
                timelines=timelines,
                # the report card of the year before `now`'s, as `report-card --json` shows it
                cards=report_cards(data, timelines, order_problems(facts, now, tz),
                                   calendar_year(now.astimezone(tz).year - 1, tz), wt),
            )  # fmt: skip
            for n in self.needs():
                extras.needs.setdefault(n["customer"], []).append(n)
            dest = out or getattr(self.settings, "report_out", None) or default_report_dir()
            return write_site(Path(dest), data, extras, wt, now, painter)

    # ---- the yearly report card
    def card_figures(self, cid: int, period: Any, now: datetime) -> dict[str, Any]:
        """A customer's report card figures for `period` as of `now` (after a scan): from its
        orders as `orders --all` lists them and its rows of `issues --all`."""
        from mailkeeper.clock import WorkingTime
        from mailkeeper.detect import orders as order_steps
        from mailkeeper.detect.report_card import customer_card, issue_rows

        facts = order_steps.gather(self.store, order_steps.load_order_rules(self.settings), now)
        issues = issue_rows(self.store.findings.listing("issue")).get(cid, [])
        wt = WorkingTime.from_config(self.settings.timezone, self.settings.working_hours)
        return customer_card([f for f in facts if f.order.customer_id == cid], issues, period,
                             now, self.settings.tz, wt)  # fmt: skip

    def report_card(self, customer: str, year: int | None = None, as_of: datetime | None = None,
                    dry_run: bool = False) -> dict[str, Any]:  # fmt: skip
        """The yearly report card of `customer` for calendar `year` (default: the year before
        `as_of`'s): its figures, and a draft of kind report_card to the main contact (none
        when the year holds nothing to tell, or one for it waits in Drafts or was sent).
        `dry_run`: the draft's text, nothing added."""
        from mailkeeper.detect.report_card import WINDOW_DAYS, finding
        from mailkeeper.drafts.compose import Drafter, readable_headers
        from mailkeeper.drafts.publish import Publisher, PublishReport
        from mailkeeper.report.card import calendar_year, empty
        from mailkeeper.store.records import StoredFinding

        now = as_of or _now()
        self.scan(now)  # the issues' states as of `now`
        c = self._one_customer(customer)
        year = year or now.astimezone(self.settings.tz).year - 1
        card = self.card_figures(c["id"], calendar_year(year, self.settings.tz), now)
        out: dict[str, Any] = {"customer": c["name"], "year": year, **card, "draft": None}
        if empty(card):
            out["note"] = f"nothing to report for {year}: no order, question or problem"
            return out
        new = finding(c["id"], c["name"], card, "command", now, now + timedelta(days=WINDOW_DAYS))
        store = self.store if dry_run else self._writable_store("report-card")
        with sync_lock(self.settings.database).acquire(wait=5.0):
            old = store.findings.by_keys([new.key]).get(new.key)
            if old is not None and old.id in store.drafts.blocked_findings(now):
                out["note"] = f"the report card for {year} is waiting in Drafts or was sent"
                return out
            if dry_run:
                f = StoredFinding(**{**new.__dict__, "id": old.id if old else 0})
            else:
                with store.transaction():
                    store.findings.save(new, now, None if old else "open", None)
                f = store.findings.by_keys([new.key])[new.key]
            drafter = Drafter(store, self.settings, self.rules)
            planned, skipped = drafter.plan(now, 1, only=[f])
            if not planned:
                raise UserError(f"no report card draft for {c['name']}", skipped)
            d = planned[0]
            out["draft"] = {"kind": d.kind, "to": d.to_addr, "subject": d.subject,
                            "finding_id": f.id or None, "language": d.language}  # fmt: skip
            if dry_run:
                out["draft"].update(headers=readable_headers(d.raw), text=d.body, html=d.html)
                return out
            report = PublishReport()
            Publisher(store, self.settings).publish(planned, now, report)
            if report.problems:
                raise UserError("the report card could not be added to Drafts", report.problems)
        return out

    # ---- drafts
    def draft(
        self,
        dry_run: bool = False,
        as_of: datetime | None = None,
        sync_first: bool = True,
        scan_first: bool = True,
    ) -> dict[str, Any]:
        """Sync (so a draft the rep sent is seen in Sent), scan, see what became of earlier
        drafts, then add new ones for the open findings, most urgent first, within the limits.
        `dry_run`: what would be added; nothing is added or changed. `sync_first`: False
        for the daemon, which has just synced; `scan_first`: False for the daemon, which has
        just scanned (and records a failed scan apart from a failed draft)."""
        from mailkeeper.drafts.compose import Drafter, readable_headers
        from mailkeeper.drafts.publish import Publisher, PublishReport, day_start

        now = as_of or _now()
        if sync_first:
            self.sync()  # read-only to the mailbox, also in a dry run
        if scan_first:
            self.scan(now)
        report = PublishReport()
        limits = self.settings.drafts
        with sync_lock(self.settings.database).acquire(wait=5.0):
            publisher = Publisher(self.store, self.settings)
            if not dry_run:
                publisher.reconcile(now, report)
            today = self.store.drafts.added_since(day_start(now, self.settings.tz))
            limit = max(0, min(limits.per_run, limits.per_day - today))
            drafter = Drafter(self.store, self.settings, self.rules)
            if self.template_snapshot is not None:  # the daemon's accepted ones, not the disk
                drafter.templates = self.template_snapshot.templates(
                    self.settings.template_search_path
                )
            planned, report.waiting = drafter.plan(now, limit)
            report.broken = drafter.broken
            # said where a problem goes (stderr, the daemon's log), and `draft` exits 1
            report.problems += [f"no {k} draft: {p}" for k, p in sorted(drafter.broken.items())]
            report.limited = drafter.limited
            if dry_run:
                report.added = [
                    {
                        "kind": d.kind,
                        "to": d.to_addr,
                        "subject": d.subject,
                        "finding_id": d.finding.id,
                        "account": d.account,
                        "text": d.raw.decode("utf-8", "replace"),
                        "headers": readable_headers(d.raw),
                        "body": d.body,
                    }  # fmt: skip
                    for d in planned
                ]
            else:
                publisher.publish(planned, now, report)
        return report.as_dict()

    def drafts(self) -> list[dict[str, Any]]:
        from mailkeeper.drafts.compose import placeholders

        names = self.store.customers.names_by_id()
        return [
            {
                "id": d.id,
                "kind": d.kind,
                "customer": names.get(d.customer_id),
                "to": d.to_addr,
                "subject": d.subject,
                "finding_id": d.finding_id,
                "state": d.state,
                "created_at": _iso(d.created_at),
                "account": d.account,
                "folder": d.folder,
                # what the rep must still fill in, as mailkeeper wrote it ([[...]])
                "placeholders": placeholders(self.store.drafts.raw(d.id) or b""),
            }  # fmt: skip
            for d in self.store.drafts.listing()
        ]

    # ------------------------------------------------------------------ team (issue 23)
    def team_push(self, batch: int | None = None) -> dict[str, Any]:
        """Publish what changed since the last push to the team record (team/push.py)."""
        from mailkeeper.team.push import BATCH, push

        store = self._writable_store("team push")
        return push(store, self.settings, self.rules, batch=batch or BATCH).as_dict()

    def team(self, view: str, **kwargs: Any) -> Any:
        """A team command's answer from the team record: status, customers, customer,
        neglected or handover (team/views.py), over one connection as this config's role."""
        from mailkeeper.team import views
        from mailkeeper.team.push import open_team

        with open_team(self.settings) as team:
            return getattr(views, view)(team, **kwargs)


def _parts(
    database: Path, ok_at: str | None, error: str | None, error_at: str | None
) -> dict[str, dict[str, str | None]]:
    """The daemon's parts (store/health.py), the sync's merged with the sync_runs table (so a
    one-off `sync` counts too). An error stands until a later success of its part."""
    from mailkeeper.store.health import read_health

    parts = read_health(database)
    sync = parts["sync"]
    if ok_at and (sync["last_ok_at"] or "") < ok_at:
        sync["last_ok_at"] = ok_at
    if error and error_at and (sync["last_error_at"] or "") < error_at:
        sync["last_error"], sync["last_error_at"] = error, error_at
    for entry in parts.values():
        if entry["last_error_at"] and (entry["last_ok_at"] or "") > entry["last_error_at"]:
            entry["last_error"] = entry["last_error_at"] = None
    return parts


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(dt: datetime | None) -> str | None:
    """A record's time as --json shows it (the text the store keeps)."""
    return _iso(dt) if dt is not None else None
