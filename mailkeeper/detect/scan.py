"""The scan: judge what is new, run the detectors, and keep the findings table current.

Each run re-examines the customers' contact dates and the linked mail of the look-back window
(plus the threads of findings still open), which makes a deadline crossed since the last run
show at once. The costly part, judging a message's text with spaCy, is done once per message
and rules version (the judgements table), so a scan after a few new messages judges only
those. The same situation is one finding, updated in place (its key); a change of state is
added to its history; a finding the rep resolved stays resolved; one that no longer applies
(the rep wrote back, the rules changed) is closed with a note.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mailkeeper.clock import WorkingTime
from mailkeeper.detect import tiering
from mailkeeper.detect.finding import Finding, ts
from mailkeeper.detect.issues import issue_findings, promise_findings
from mailkeeper.detect.neglect import neglect_findings
from mailkeeper.store import Store
from mailkeeper.store.records import ContactFacts, Judgement, LinkedMessage, StoredFinding

logger = logging.getLogger(__name__)

LIVE = {
    "neglect": ("neglected", "snoozed", "dormant"),
    "issue": ("open", "overdue", "maybe"),
    "promise": ("open", "overdue"),
    "progress": ("open", "overdue"),
    "problem": ("open", "overdue"),
    "greeting": ("open",),
    "need": ("open",),
    "report_card": ("open",),
}
# a finding whose situation ended by itself: the state it is closed with
ENDED = {
    "neglect": "resolved", "issue": "resolved", "promise": "resolved", "progress": "resolved",
    "problem": "resolved", "greeting": "resolved", "need": "resolved", "report_card": "resolved",
}  # fmt: skip


@dataclass
class ScanReport:
    judged: int = 0
    findings: int = 0
    opened: int = 0
    changed: int = 0
    closed: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Scanner:
    def __init__(
        self, store: Store, settings: Any, rules: Any, cache: dict[str, Any] | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.rules = rules
        # kept by the caller between scans (the daemon's App): the customers' contact dates,
        # read again only when linking changed something or the day changed
        self.cache = cache if cache is not None else {}
        self.wt = WorkingTime.from_config(settings.timezone, settings.working_hours)

    def judge(self) -> Any:
        """The phrase rules compiled into spaCy matchers: built once per rules version and
        kept in the cache (building a pipeline costs more than judging a day's mail)."""
        fingerprint = self.fingerprint()
        if self.cache.get("judge_rules") != fingerprint:
            from mailkeeper.config.issues import read_issue_rules
            from mailkeeper.detect.judge import Judge  # spaCy: only when something is judged
            from mailkeeper.detect.needmodel import load_models

            problems: list[str] = []
            rules = read_issue_rules(self.settings.rules_dir, problems)
            if problems:
                from mailkeeper.errors import ConfigError

                raise ConfigError("the issue rules have problems", problems)
            # a missing or corrupt model is a ModelError naming the file, never "no issues"
            judge = Judge(rules, load_models())
            self.cache["judge_rules"], self.cache["judge"] = fingerprint, judge
        return self.cache["judge"]

    def fingerprint(self) -> str:
        import hashlib

        from mailkeeper.config.issues import issue_rule_files
        from mailkeeper.detect.needmodel import INDEX, MODELS

        digest = hashlib.sha256(b"judge-v2")
        for lang, path in sorted(issue_rule_files(self.settings.rules_dir).items()):
            digest.update(lang.encode() + path.read_bytes())
        try:  # a new model judges every message again (the index holds each file's sha256)
            digest.update((MODELS / INDEX).read_bytes())
        except OSError:
            pass  # judge() loads the models and names the missing file
        wt = self.wt
        digest.update(repr((wt.timezone, wt.days, wt.start, wt.end, wt.holidays)).encode())
        return digest.hexdigest()[:16]

    def run(self, now: datetime) -> ScanReport:
        import time

        t0 = time.perf_counter()
        report = ScanReport()
        store = self.store
        det = self.rules.detection
        window_start = now - timedelta(days=det.issue_lookback_days)
        live = store.findings.live(["issue", "promise"], ["open", "overdue"])
        since = min([window_start, *(f.opened_at for f in live)])
        customers = tiering.apply(self._contact(now), self.rules)
        messages = store.activity.recent(since, now)
        judgements, report.judged = self._judgements(messages)
        snoozes = self._with_rule_snoozes(customers, dict(store.findings.snoozes()))
        tiers = {c.id: c.tier or self.rules.default_tier for c in customers}
        still_open = frozenset(f.message_key for f in live if f.message_key)
        wt, rules = self.wt, self.rules
        findings = [
            *neglect_findings(customers, rules, snoozes, now),
            *issue_findings(messages, judgements, tiers, rules, wt, now, window_start, still_open),
            *promise_findings(messages, judgements, rules, now, window_start, still_open),
            *self._progress(now),
            *self._touches(customers, messages, now),
        ]
        self._save(findings, now, report, skip=("report_card",))
        cards = self._report_cards(now, customers)  # after the issues' states are saved
        self._save(cards, now, report, only=("report_card",))
        report.findings = len(findings) + len(cards)
        report.seconds = time.perf_counter() - t0
        return report

    def _progress(self, now: datetime) -> list[Finding]:
        """Order milestones, progress reports, lateness and problems (detect/progress.py)."""
        from zoneinfo import ZoneInfo

        from mailkeeper.detect import orders
        from mailkeeper.detect.progress import progress_findings

        order_rules = orders.load_order_rules(self.settings)
        tz = ZoneInfo(self.settings.timezone)
        if order_rules.orders and not self.store.readonly:
            with self.store.transaction():
                orders.sync_declared(self.store, order_rules, self.rules, tz)
        self.order_facts = orders.gather(self.store, order_rules, now)
        return progress_findings(self.order_facts, now, tz)

    def _report_cards(self, now: datetime, customers: list[ContactFacts]) -> list[Finding]:
        """The yearly report cards due now (detect/report_card.py)."""
        from zoneinfo import ZoneInfo

        from mailkeeper.detect.report_card import issue_rows, report_card_findings

        when = {name: t.report_card for name, t in self.rules.tiers.items()}
        asked = self.store.findings.live(["report_card"], ["open"])
        if not asked and all(w == "off" for w in when.values()):
            return []
        issues = issue_rows(self.store.findings.listing("issue"))
        return report_card_findings(customers, when, self.order_facts, issues, asked, now,
                                    ZoneInfo(self.settings.timezone), self.wt)  # fmt: skip

    def _touches(
        self, customers: list[ContactFacts], messages: list[LinkedMessage], now: datetime
    ) -> list[Finding]:
        """Greetings on the customers' holidays and the needs they stated (touches.yaml):
        the needs in the customers' new mail are kept (store.needs) as they are read."""
        from mailkeeper.config.countries import southern
        from mailkeeper.config.touches import load_touches
        from mailkeeper.detect.country import countries
        from mailkeeper.detect.greetings import greeting_findings
        from mailkeeper.detect.needs import stated_needs
        from mailkeeper.detect.recall import need_findings
        from mailkeeper.store.records import Need

        store, rules = self.store, self.rules
        touches = load_touches(self.settings.rules_dir, tuple(rules.tiers))
        where = {cid: c for cid, (c, _src) in countries(store, rules).items()}
        found = [
            Need(
                customer_id=m.customer_id,
                message_key=m.key,
                index=s.index,
                sentence=s.sentence,
                phrase=s.period.phrase,
                window_start=s.period.first,
                window_end=s.period.last,
                said_at=m.date,
                message_id=m.message_id,
                why=s.period.why,
            )  # fmt: skip
            for m in messages
            if m.real_inbound
            for s in stated_needs(m.text, m.date, southern(where.get(m.customer_id)))
        ]
        tiers = {c.id: c.tier or rules.default_tier for c in customers if c.status != "ignored"}
        needs = store.needs.listing(states=("open",))
        lead = max([t.need_lead_weeks for t in touches.tiers.values()] + [6])
        since = now - timedelta(weeks=lead)
        outbound = (
            [m for m in store.activity.recent(since, now) if m.real_outbound] if needs else []
        )
        names = {c.id: c.name for c in customers}
        orders = store.orders.all() if needs else []
        findings, changes = need_findings(
            needs, tiers, names, touches, rules, outbound, orders, now
        )
        if not store.readonly and (found or changes):
            with store.transaction():
                store.needs.add(found)
                for n, state, at, note in changes:
                    store.needs.set_state(n.id, state, at, note)
            if found:  # new ones recalled in this very scan
                fresh = [n for n in store.needs.listing(states=("open",)) if n.id not in
                         {x.id for x in needs}]  # fmt: skip
                more, changed = need_findings(
                    fresh, tiers, names, touches, rules, outbound, orders, now
                )
                findings += more
                with store.transaction():
                    for n, state, at, note in changed:
                        store.needs.set_state(n.id, state, at, note)
        return [*greeting_findings(customers, where, touches, rules, now), *findings]

    def _contact(self, now: datetime) -> list[ContactFacts]:
        """store.activity.contact, from the cache when nothing it depends on changed: the
        links (the linking cursor and the rules they were made under), the day, and `now`
        where it cuts mail off (a replay with --as-of before the newest message)."""
        state, latest = self.store.state, self.store.activity.latest_date()
        cut = ts(now) if latest and now < latest else None
        key = (state.linked_rowid(), state.rules_fingerprint(), now.date().isoformat(), cut)
        if self.cache.get("contact_key") != key:
            rows = self.store.activity.contact(now, now - timedelta(days=365))
            self.cache["contact_key"], self.cache["contact"] = key, rows
        contact: list[ContactFacts] = self.cache["contact"]
        return contact  # frozen records: shared with the cache safely

    def _with_rule_snoozes(
        self, customers: list[ContactFacts], snoozes: dict[int, datetime | None]
    ) -> dict[int, datetime | None]:
        """customers.yaml `snooze_until:` and `mailkeeper snooze`: the later one wins."""
        for c in customers:
            rule = self.rules.customer(c.name)
            until = getattr(rule, "snooze_until", None) if rule else None
            if until is not None:
                mine = snoozes.get(c.id)
                snoozes[c.id] = until if mine is None or until > mine else mine
        return snoozes

    def _judgements(self, messages: list[LinkedMessage]) -> tuple[dict[str, Judgement], int]:
        """The judgement of each message that may open an issue or hold a promise, by key:
        from the cache, else judged now and cached; and how many were judged now."""
        wanted = {m.key: m for m in messages if m.real_inbound or m.real_outbound}
        rules = self.fingerprint()
        cached = self.store.findings.judgements(wanted, rules)
        todo = {k: m for k, m in wanted.items() if k not in cached}
        if todo:
            judged = {k: self._judge_one(m) for k, m in todo.items()}
            self.store.findings.save_judgements(rules, judged)
            cached.update(judged)
        return cached, len(todo)

    def _judge_one(self, m: LinkedMessage) -> Judgement:
        from mailkeeper.detect.promises import commitments

        if m.direction == "outbound":
            promises = commitments(m.text, m.language, m.date, self.wt)
            return Judgement(needs_answer=False, promises=tuple(promises))
        v = self.judge().assess(m.subject, m.text, m.language, len(m.to) + len(m.cc))
        return Judgement(
            needs_answer=v.needs_answer, category=v.category, severity=v.severity,
            phrase=v.phrase, sentence=v.sentence, rule=v.rule, probability=v.probability,
            weighed=v.weighed, forced=v.forced,
        )  # fmt: skip

    def _save(self, findings: list[Finding], now: datetime, report: ScanReport,
              skip: tuple[str, ...] = (), only: tuple[str, ...] | None = None) -> None:  # fmt: skip
        """Save `findings`; close the live findings of the kinds they cover (`only`, else all
        but `skip`) that are not among them."""
        store = self.store
        at = now
        produced = {f.key for f in findings}
        with store.transaction():
            old = store.findings.by_keys(produced)
            for f in findings:
                prev = old.get(f.key)
                report.by_state[f.state] = report.by_state.get(f.state, 0) + 1
                if prev is not None and prev.state == "resolved":
                    continue  # the rep resolved it: it stays resolved
                event = None
                if prev is None:
                    event, report.opened = f.state, report.opened + 1
                elif prev.state != f.state:
                    event, report.changed = f.state, report.changed + 1
                elif _unchanged(prev, f):
                    continue  # nothing to write
                store.findings.save(f, at, event, None)
            for kind, states in LIVE.items():
                if kind in skip or (only is not None and kind not in only):
                    continue
                for row in store.findings.live([kind], list(states)):
                    if row.key not in produced:
                        store.findings.set_state(row.id, ENDED[kind], at, "no longer applies")
                        report.closed += 1


def _unchanged(prev: StoredFinding, f: Finding) -> bool:
    # times as stored (to the second): a fresh one may carry microseconds
    return (
        prev.due_at == _second(f.due_at)
        and prev.closed_at == _second(f.closed_at)
        and prev.message_key == f.message_key
        and prev.rank == f.rank
        and prev.data == f.data
        and prev.explain == f.explain
    )


def _second(dt: datetime | None) -> datetime | None:
    return dt.replace(microsecond=0) if dt is not None and dt.microsecond else dt
