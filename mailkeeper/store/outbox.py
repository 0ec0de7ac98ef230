"""The team outbox (migration m011): what is still to publish to the team record, and the
local rows a push reads to publish it, as typed records (store/team/writer.py writes them).
Written by triggers once team mode is on; read and emptied by team.push, which deletes only the
ids it published (a key changed meanwhile has a new id and stays queued)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailkeeper.store.db import Database
from mailkeeper.store.keys import team_key
from mailkeeper.store.records import from_iso

ENABLED = "team_outbox"  # the meta key the triggers check


@dataclass(frozen=True)
class Queued:
    id: int
    kind: str  # link | message | customer | finding | order | draft
    key: str


@dataclass(frozen=True)
class OutCustomer:
    name: str
    tier: str | None
    status: str
    language: str | None
    domains: tuple[str, ...]
    addresses: tuple[str, ...]  # listed addresses and the customer's contacts
    interval_days: int | None = None  # the tier's contact interval (the rep's tiers.yaml)


@dataclass(frozen=True)
class OutMessage:
    key: str  # identity across reps (store.keys.team_key)
    message_id: str | None
    date: datetime | None
    from_email: str | None
    from_name: str | None
    subject: str | None
    to: list[Any]
    cc: list[Any]
    body: str | None  # None: share: headers


@dataclass(frozen=True)
class OutLink:
    local_key: str  # the message's local key
    customer: str
    present: bool  # False: linking has since undone it
    method: str | None
    via: str | None
    contact: bool
    direction: str | None
    message: OutMessage


@dataclass(frozen=True)
class OutFinding:
    key: str
    kind: str
    customer: str | None
    state: str
    message_key: str | None  # the team key of the message it stands on
    opened_at: datetime | None
    due_at: datetime | None
    closed_at: datetime | None
    data: dict[str, Any]
    updated_at: datetime | None


@dataclass(frozen=True)
class OutOrder:
    ref: str
    ref_key: str
    customer: str | None
    confirmed_at: datetime | None
    plan: str
    ship_by: datetime | None
    closed_at: datetime | None
    events: tuple[tuple[str, datetime | None, str | None], ...]  # milestone, at, note
    problems: tuple[tuple[datetime | None, str], ...]  # at, note


@dataclass(frozen=True)
class OutDraft:
    key: str
    kind: str
    customer: str | None
    finding_key: str | None
    subject: str
    state: str
    created_at: datetime | None
    state_at: datetime | None


class OutboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn = db.conn

    # ------------------------------------------------------------------ the queue
    def enabled(self) -> bool:
        row = self.conn.execute("SELECT 1 FROM meta WHERE key = ?", (ENABLED,)).fetchone()
        return row is not None

    def enable(self) -> int:
        """Turn the triggers on and queue everything already there; how many were queued.
        One transaction: a change made after it is queued by its trigger."""
        if self.enabled():  # the usual case: no write lock taken
            return 0
        with self.db.transaction():
            if self.enabled():
                return 0
            self.conn.execute("INSERT INTO meta (key, value) VALUES (?, '1')", (ENABLED,))
            before = self.pending()
            for sql in (
                "SELECT 'customer', id FROM customers WHERE status != 'ignored' ORDER BY id",
                "SELECT 'link', customer_id || ':' || message_key FROM links ORDER BY rowid",
                "SELECT 'finding', id FROM findings ORDER BY id",
                "SELECT 'order', id FROM orders ORDER BY id",
                "SELECT 'draft', id FROM drafts ORDER BY id",
            ):
                self.conn.execute(f"INSERT OR IGNORE INTO team_outbox (kind, key) {sql}")
            return self.pending() - before

    def pending(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM team_outbox").fetchone()[0])

    def next_batch(self, limit: int) -> list[Queued]:
        rows = self.conn.execute(
            "SELECT id, kind, key FROM team_outbox ORDER BY id LIMIT ?", (limit,)
        ).fetchall()
        return [Queued(*r) for r in rows]

    def done(self, ids: Iterable[int]) -> None:
        """Published: forget these ids (not their keys: a key queued again has a new id)."""
        with self.db.transaction():
            self.db.execute_in("DELETE FROM team_outbox WHERE id IN ({ids})", list(ids))

    # ------------------------------------------------------------------ what is published
    def customers(self, ids: Sequence[int]) -> list[OutCustomer]:
        out = []
        for cid, name, tier, status, language in self.db.select_in(
            "SELECT id, name, tier, status, language FROM customers WHERE id IN ({ids})", ids
        ):
            domains = self.conn.execute(
                "SELECT domain FROM customer_domains WHERE customer_id = ? ORDER BY domain", (cid,)
            ).fetchall()
            emails = self.conn.execute(
                "SELECT email FROM customer_addresses WHERE customer_id = ? UNION "
                "SELECT email FROM contacts WHERE customer_id = ? ORDER BY 1", (cid, cid)
            ).fetchall()  # fmt: skip
            out.append(OutCustomer(name, tier, status, language, tuple(r[0] for r in domains),
                                   tuple(r[0] for r in emails)))  # fmt: skip
        return out

    def links(self, pairs: Sequence[tuple[int, str]], with_text: bool) -> list[OutLink]:
        """The links (customer id, local message key) asked for, each with its message and
        customer; `present` False for a link no longer there (its message and customer are)."""
        keys = sorted({k for _, k in pairs})
        messages = {r[0]: r for r in self.db.select_in(
            "SELECT key, message_id, date, from_email, from_name, subject, to_json, cc_json, "
            "body, direction FROM messages WHERE key IN ({ids})", keys)}  # fmt: skip
        ids = sorted({c for c, _ in pairs})
        names = dict(self.db.select_in("SELECT id, name FROM customers WHERE id IN ({ids})", ids))
        found = {(r[0], r[1]): r[2:] for r in self.db.select_in(
            "SELECT customer_id, message_key, method, via, contact FROM links "
            "WHERE message_key IN ({ids})", keys)}  # fmt: skip
        out = []
        for cid, key in pairs:
            m = messages.get(key)
            if m is None or cid not in names:
                continue
            link = found.get((cid, key))
            out.append(OutLink(
                local_key=key, customer=names[cid], present=link is not None,
                method=link[0] if link else None, via=link[1] if link else None,
                contact=bool(link[2]) if link else False, direction=m[9],
                message=_message(m, with_text),
            ))  # fmt: skip
        return out

    def linked_names(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """Message key -> the names of the customers it is linked to now."""
        out: dict[str, list[str]] = {k: [] for k in keys}
        for key, name in self.db.select_in(
            "SELECT l.message_key, c.name FROM links l JOIN customers c ON c.id = l.customer_id "
            "WHERE l.message_key IN ({ids})",
            keys,
        ):
            out[key].append(name)
        return out

    def links_of_messages(self, keys: Sequence[str]) -> list[tuple[int, str]]:
        sql = "SELECT customer_id, message_key FROM links WHERE message_key IN ({ids})"
        return [(c, k) for c, k in self.db.select_in(sql, keys)]

    def findings(self, ids: Sequence[int]) -> list[OutFinding]:
        out = []
        for r in self.db.select_in(
            "SELECT f.key, f.kind, c.name, f.state, m.message_id, m.date, m.from_email, "
            "m.subject, m.body, f.opened_at, f.due_at, f.closed_at, f.data, f.updated_at, m.key "
            "FROM findings f LEFT JOIN customers c ON c.id = f.customer_id "
            "LEFT JOIN messages m ON m.key = f.message_key WHERE f.id IN ({ids})",
            ids,
        ):
            message = team_key(r[4], r[5], r[6], r[7], r[8]) if r[14] else None
            out.append(OutFinding(r[0], r[1], r[2], r[3], message, from_iso(r[9]),
                                  from_iso(r[10]), from_iso(r[11]), json.loads(r[12] or "{}"),
                                  from_iso(r[13])))  # fmt: skip
        return out

    def orders(self, ids: Sequence[int]) -> list[OutOrder]:
        out = []
        for oid, ref, ref_key, customer, confirmed, plan, ship_by, closed in self.db.select_in(
            "SELECT o.id, o.ref, o.ref_key, c.name, o.confirmed_at, o.plan, o.ship_by, "
            "o.closed_at FROM orders o LEFT JOIN customers c ON c.id = o.customer_id "
            "WHERE o.id IN ({ids})",
            ids,
        ):
            events = self.conn.execute(
                "SELECT milestone, at, note FROM order_events WHERE order_id = ? ORDER BY id",
                (oid,)).fetchall()  # fmt: skip
            problems = self.conn.execute(
                "SELECT at, note FROM order_problems WHERE order_id = ? ORDER BY id", (oid,)
            ).fetchall()
            out.append(OutOrder(
                ref, ref_key, customer, from_iso(confirmed), plan, from_iso(ship_by),
                from_iso(closed), tuple((m, from_iso(at), note) for m, at, note in events),
                tuple((from_iso(at), note) for at, note in problems),
            ))  # fmt: skip
        return out

    def drafts(self, ids: Sequence[int]) -> list[OutDraft]:
        return [
            OutDraft(r[0], r[1], r[2], r[3], r[4], r[5], from_iso(r[6]), from_iso(r[7]))
            for r in self.db.select_in(
                "SELECT d.key, d.kind, c.name, f.key, d.subject, d.state, d.created_at, "
                "d.state_at FROM drafts d LEFT JOIN customers c ON c.id = d.customer_id "
                "LEFT JOIN findings f ON f.id = d.finding_id WHERE d.id IN ({ids})",
                ids,
            )
        ]


def _message(m: Sequence[Any], with_text: bool) -> OutMessage:
    _, message_id, date, sender, name, subject, to_json, cc_json, body, _ = m
    return OutMessage(
        key=team_key(message_id, date, sender, subject, body),
        message_id=message_id,
        date=from_iso(date),
        from_email=sender,
        from_name=name,
        subject=subject,
        to=json.loads(to_json or "[]"),
        cc=json.loads(cc_json or "[]"),
        body=body if with_text else None,
    )
