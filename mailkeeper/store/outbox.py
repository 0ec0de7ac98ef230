"""The team outbox (migration m011): what is still to publish to the team record, and the
local rows a push reads to publish it. Written by triggers once team mode is on; read and
emptied by team.push, which deletes only the ids it published (a key changed meanwhile has a
new id and stays queued)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mailkeeper.store.db import Database
from mailkeeper.store.keys import team_key

ENABLED = "team_outbox"  # the meta key the triggers check


@dataclass(frozen=True)
class Queued:
    id: int
    kind: str
    key: str


class OutboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn = db.conn

    # ------------------------------------------------------------------ the queue
    def enabled(self) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM meta WHERE key = ?", (ENABLED,)).fetchone() is not None
        )

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
    def customers(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        out = []
        for cid, name, tier, status, language in self.db.select_in(
            "SELECT id, name, tier, status, language FROM customers WHERE id IN ({ids})", ids
        ):
            domains = [
                r[0]
                for r in self.conn.execute(
                    "SELECT domain FROM customer_domains WHERE customer_id = ? ORDER BY domain",
                    (cid,),
                )
            ]
            emails = [
                r[0]
                for r in self.conn.execute(
                    "SELECT email FROM customer_addresses WHERE customer_id = ? UNION "
                    "SELECT email FROM contacts WHERE customer_id = ? ORDER BY 1",
                    (cid, cid),
                )
            ]
            out.append({"id": cid, "name": name, "tier": tier, "status": status,
                        "language": language, "domains": domains, "addresses": emails})  # fmt: skip
        return out

    def links(self, pairs: Sequence[tuple[int, str]], with_text: bool) -> list[dict[str, Any]]:
        """The links (customer id, message key) asked for, each with its message and customer;
        `present` False for a link no longer there (its message and customer still are)."""
        keys = sorted({k for _, k in pairs})
        messages = {r[0]: r for r in self.db.select_in(
            "SELECT key, message_id, date, from_email, from_name, subject, to_json, cc_json, "
            "body, direction FROM messages WHERE key IN ({ids})", keys)}  # fmt: skip
        names = dict(
            self.db.select_in(
                "SELECT id, name FROM customers WHERE id IN ({ids})", sorted({c for c, _ in pairs})
            )
        )
        found: dict[tuple[int, str], tuple[Any, ...]] = {}
        for key in keys:
            for cid, method, via, contact in self.conn.execute(
                "SELECT customer_id, method, via, contact FROM links WHERE message_key = ?", (key,)
            ):
                found[(cid, key)] = (method, via, contact)
        out = []
        for cid, key in pairs:
            m = messages.get(key)
            if m is None or cid not in names:
                continue
            link = found.get((cid, key))
            out.append({
                "local_key": key, "customer": names[cid], "present": link is not None,
                "method": link[0] if link else None, "via": link[1] if link else None,
                "contact": bool(link[2]) if link else False, "direction": m[9],
                "message": _message(m, with_text),
            })  # fmt: skip
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
        return [
            (c, k)
            for k, c in self.db.select_in(
                "SELECT message_key, customer_id FROM links WHERE message_key IN ({ids})", keys
            )
        ]

    def findings(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        out = []
        for r in self.db.select_in(
            "SELECT f.key, f.kind, c.name, f.state, m.message_id, m.date, m.from_email, "
            "m.subject, m.body, f.opened_at, f.due_at, f.closed_at, f.data, f.updated_at "
            "FROM findings f LEFT JOIN customers c ON c.id = f.customer_id "
            "LEFT JOIN messages m ON m.key = f.message_key WHERE f.id IN ({ids})",
            ids,
        ):
            message = team_key(r[4], r[5], r[6], r[7], r[8]) if r[5] or r[4] else None
            out.append({"key": r[0], "kind": r[1], "customer": r[2], "state": r[3],
                        "message_key": message, "opened_at": r[9], "due_at": r[10],
                        "closed_at": r[11], "data": json.loads(r[12] or "{}"),
                        "updated_at": r[13]})  # fmt: skip
        return out

    def orders(self, ids: Sequence[int]) -> list[dict[str, Any]]:
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
            out.append({"ref": ref, "ref_key": ref_key, "customer": customer,
                        "confirmed_at": confirmed, "plan": plan, "ship_by": ship_by,
                        "closed_at": closed, "events": events, "problems": problems})  # fmt: skip
        return out

    def drafts(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        return [
            {
                "key": r[0],
                "kind": r[1],
                "customer": r[2],
                "finding_key": r[3],
                "subject": r[4],
                "state": r[5],
                "created_at": r[6],
                "state_at": r[7],
            }  # fmt: skip
            for r in self.db.select_in(
                "SELECT d.key, d.kind, c.name, f.key, d.subject, d.state, d.created_at, "
                "d.state_at FROM drafts d LEFT JOIN customers c ON c.id = d.customer_id "
                "LEFT JOIN findings f ON f.id = d.finding_id WHERE d.id IN ({ids})",
                ids,
            )
        ]


def _message(m: Sequence[Any], with_text: bool) -> dict[str, Any]:
    key, message_id, date, sender, name, subject, to_json, cc_json, body, _ = m
    return {
        "key": team_key(message_id, date, sender, subject, body),
        "message_id": message_id,
        "date": date,
        "from_email": sender,
        "from_name": name,
        "subject": subject,
        "to": json.loads(to_json or "[]"),
        "cc": json.loads(cc_json or "[]"),
        "body": body if with_text else None,
    }
