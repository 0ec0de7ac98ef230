"""Publishing to the team record: idempotent upserts keyed by natural keys, one transaction
per batch, every row written as the connected role (`rep` defaults to current_user and
row-level security refuses any other). Publishing the same batch twice leaves the record as
publishing it once: a push cut after PostgreSQL committed and before the outbox forgot the
batch publishes it again, harmlessly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mailkeeper.store.outbox import OutCustomer, OutDraft, OutFinding, OutLink, OutOrder
from mailkeeper.store.team.schema import SCHEMA as S

_CUSTOMER = (
    f"INSERT INTO {S}.customers (name, owner) VALUES (%s, current_user) ON CONFLICT DO NOTHING"
)
_VIEW = (
    f"INSERT INTO {S}.customer_views (customer, tier, status, language, interval_days) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (rep, customer) DO UPDATE SET tier = excluded.tier, "
    "status = excluded.status, language = excluded.language, "
    "interval_days = excluded.interval_days"
)
_DOMAIN = (
    f"INSERT INTO {S}.customer_domains (domain, customer) VALUES (%s, %s) "
    "ON CONFLICT (rep, domain) DO UPDATE SET customer = excluded.customer"
)
_ADDRESS = (
    f"INSERT INTO {S}.customer_addresses (email, customer) VALUES (%s, %s) ON CONFLICT DO NOTHING"
)
_MESSAGE = (
    f"INSERT INTO {S}.messages (key, message_id, date, from_email, from_name, subject, to_json, "
    "cc_json) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING"
)
_TEXT = f"INSERT INTO {S}.message_texts (key, body) VALUES (%s, %s) ON CONFLICT DO NOTHING"
_LINK = (
    f"INSERT INTO {S}.links (message_key, customer, direction, method, via, contact) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (message_key, rep, customer) DO UPDATE SET "
    "direction = excluded.direction, method = excluded.method, via = excluded.via, "
    "contact = excluded.contact, active = true"
)
_RETIRE = (
    f"UPDATE {S}.links SET active = false WHERE message_key = %s AND rep = current_user "
    "AND active AND NOT (customer = ANY(%s))"
)
_FINDING = (
    f"INSERT INTO {S}.findings (key, kind, customer, state, message_key, opened_at, due_at, "
    "closed_at, data, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (rep, key) DO UPDATE SET kind = excluded.kind, customer = excluded.customer, "
    "state = excluded.state, message_key = excluded.message_key, opened_at = excluded.opened_at, "
    "due_at = excluded.due_at, closed_at = excluded.closed_at, data = excluded.data, "
    "updated_at = excluded.updated_at"
)
_ORDER = (
    f"INSERT INTO {S}.orders (ref_key, ref, customer, confirmed_at, plan, ship_by, closed_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (rep, ref_key) DO UPDATE SET "
    "ref = excluded.ref, customer = excluded.customer, confirmed_at = excluded.confirmed_at, "
    "plan = excluded.plan, ship_by = excluded.ship_by, closed_at = excluded.closed_at"
)
_EVENT = (
    f"INSERT INTO {S}.order_events (ref_key, milestone, at, note) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (rep, ref_key, milestone, at) DO UPDATE SET note = excluded.note"
)
_PROBLEM = (
    f"INSERT INTO {S}.order_problems (ref_key, at, note) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
)
_DRAFT = (
    f"INSERT INTO {S}.drafts (key, kind, customer, finding_key, subject, state, created_at, "
    "state_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (rep, key) DO UPDATE SET "
    "state = excluded.state, state_at = excluded.state_at, subject = excluded.subject, "
    "customer = excluded.customer"
)
_REP = (
    f"INSERT INTO {S}.reps (last_push_at, pending, client_version) VALUES (%s, %s, %s) "
    "ON CONFLICT (rep) DO UPDATE SET last_push_at = excluded.last_push_at, "
    "pending = excluded.pending, client_version = excluded.client_version"
)


class TeamWriter:
    def __init__(self, team: Any) -> None:
        self.conn = team.conn
        self.role = team.role

    def publish(
        self,
        customers: Sequence[OutCustomer] = (),
        links: Sequence[OutLink] = (),
        linked: Sequence[tuple[str, list[str]]] = (),
        findings: Sequence[OutFinding] = (),
        orders: Sequence[OutOrder] = (),
        drafts: Sequence[OutDraft] = (),
    ) -> None:
        """One batch, in one transaction: all of it is in the record, or none. `linked`:
        (team message key, the customer names this rep links it to now)."""
        from psycopg.types.json import Jsonb

        with self.conn.transaction(), self.conn.cursor() as cur:
            if customers:
                cur.executemany(_CUSTOMER, [(c.name,) for c in customers])
                cur.executemany(_VIEW, [(c.name, c.tier, c.status, c.language, c.interval_days)
                                        for c in customers])  # fmt: skip
                cur.executemany(_DOMAIN, [(d, c.name) for c in customers for d in c.domains])
                cur.executemany(_ADDRESS, [(a, c.name) for c in customers for a in c.addresses])
            present = [lk for lk in links if lk.present]
            if present:
                msgs = {lk.message.key: lk.message for lk in present}
                cur.executemany(_MESSAGE, [
                    (m.key, m.message_id, m.date, m.from_email, m.from_name, m.subject,
                     Jsonb(m.to), Jsonb(m.cc)) for m in msgs.values()
                ])  # fmt: skip
                texts = [(m.key, m.body) for m in msgs.values() if m.body is not None]
                if texts:
                    cur.executemany(_TEXT, texts)
                cur.executemany(_LINK, [
                    (lk.message.key, lk.customer, lk.direction, lk.method, lk.via, lk.contact)
                    for lk in present
                ])  # fmt: skip
            if linked:
                cur.executemany(_RETIRE, list(linked))
            if findings:
                cur.executemany(_FINDING, [
                    (f.key, f.kind, f.customer, f.state, f.message_key, f.opened_at, f.due_at,
                     f.closed_at, Jsonb(f.data), f.updated_at) for f in findings
                ])  # fmt: skip
            if orders:
                cur.executemany(_ORDER, [
                    (o.ref_key, o.ref, o.customer, o.confirmed_at, o.plan, o.ship_by, o.closed_at)
                    for o in orders
                ])  # fmt: skip
                events = [(o.ref_key, *e) for o in orders for e in o.events]
                if events:
                    cur.executemany(_EVENT, events)
                problems = [(o.ref_key, *p) for o in orders for p in o.problems]
                if problems:
                    cur.executemany(_PROBLEM, problems)
            if drafts:
                cur.executemany(_DRAFT, [
                    (d.key, d.kind, d.customer, d.finding_key, d.subject, d.state, d.created_at,
                     d.state_at) for d in drafts
                ])  # fmt: skip

    def mark_push(self, at: datetime, pending: int, client_version: str) -> None:
        with self.conn.transaction():
            self.conn.execute(_REP, (at, pending, client_version))
