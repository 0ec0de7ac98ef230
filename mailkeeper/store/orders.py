"""Order tables: orders, order_events (milestones reached) and order_problems; and the mail
of an order's customer that detection searches for the order's reference."""

from __future__ import annotations

import json
from typing import Any

from mailkeeper.store.db import Database, now_iso

_ORDER_COLUMNS = (
    "o.id, o.ref, o.ref_key, o.customer_id, c.name, o.confirmed_at, o.plan, o.ship_by, "
    "o.closed_at, o.source, o.source_line, o.created_at, o.updated_at"
)
_ORDER_FIELDS = (
    "id", "ref", "ref_key", "customer_id", "customer", "confirmed_at", "plan", "ship_by",
    "closed_at", "source", "source_line", "created_at", "updated_at",
)  # fmt: skip

_MAIL = """
    SELECT m.key, m.date, m.direction, m.is_auto, m.is_bulk, m.message_id, m.thread_key,
           m.from_email, m.from_name, m.to_json, m.subject, m.reply_body
    FROM links l JOIN messages m ON m.key = l.message_key
    WHERE l.customer_id = ? AND m.date >= ? AND m.date <= ?
    ORDER BY m.date, m.rowid
"""


class OrderStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn = db.conn

    # ------------------------------------------------------------------ orders
    def get(self, ref_key: str) -> dict[str, Any] | None:
        r = self.conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders o LEFT JOIN customers c ON c.id = o.customer_id "
            "WHERE o.ref_key = ?",
            (ref_key,),
        ).fetchone()
        return dict(zip(_ORDER_FIELDS, r, strict=True)) if r else None

    def all(self) -> list[dict[str, Any]]:
        return [
            dict(zip(_ORDER_FIELDS, r, strict=True))
            for r in self.conn.execute(
                f"SELECT {_ORDER_COLUMNS} FROM orders o "
                "LEFT JOIN customers c ON c.id = o.customer_id ORDER BY o.confirmed_at, o.id"
            )
        ]

    def save(
        self,
        ref: str,
        ref_key: str,
        customer_id: int,
        confirmed_at: str,
        plan: str,
        ship_by: str | None,
        source: str,
        source_line: int | None = None,
        closed_at: str | None = None,
    ) -> int:
        """Insert or update the order with `ref_key`; returns its id."""
        at = now_iso()
        self.conn.execute(
            "INSERT INTO orders (ref, ref_key, customer_id, confirmed_at, plan, ship_by, "
            "closed_at, source, source_line, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(ref_key) DO UPDATE SET "
            "ref = excluded.ref, customer_id = excluded.customer_id, "
            "confirmed_at = excluded.confirmed_at, plan = excluded.plan, "
            "ship_by = excluded.ship_by, closed_at = excluded.closed_at, "
            "source = excluded.source, source_line = excluded.source_line, "
            "updated_at = excluded.updated_at",
            (ref, ref_key, customer_id, confirmed_at, plan, ship_by, closed_at, source,
             source_line, at, at),
        )  # fmt: skip
        return int(
            self.conn.execute("SELECT id FROM orders WHERE ref_key = ?", (ref_key,)).fetchone()[0]
        )

    def unchanged(self, ref_key: str, values: dict[str, Any]) -> bool:
        """Whether the stored order already has `values` (column -> value)."""
        row = self.get(ref_key)
        return row is not None and all(row.get(k) == v for k, v in values.items())

    # ------------------------------------------------------------------ events, problems
    def add_event(self, order_id: int, milestone: str, at: str, note: str | None) -> int:
        cur = self.conn.execute(
            "INSERT INTO order_events (order_id, milestone, at, note, recorded_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (order_id, milestone, at, note, now_iso()),
        )
        return int(cur.lastrowid or 0)

    def add_problem(self, order_id: int, at: str, note: str) -> int:
        cur = self.conn.execute(
            "INSERT INTO order_problems (order_id, at, note, recorded_at) VALUES (?, ?, ?, ?)",
            (order_id, at, note, now_iso()),
        )
        return int(cur.lastrowid or 0)

    def events(self, order_id: int) -> list[dict[str, Any]]:
        return [
            {"id": r[0], "milestone": r[1], "at": r[2], "note": r[3]}
            for r in self.conn.execute(
                "SELECT id, milestone, at, note FROM order_events WHERE order_id = ? "
                "ORDER BY at, id",
                (order_id,),
            )
        ]

    def problems(self, order_id: int) -> list[dict[str, Any]]:
        return [
            {"id": r[0], "at": r[1], "note": r[2]}
            for r in self.conn.execute(
                "SELECT id, at, note FROM order_problems WHERE order_id = ? ORDER BY at, id",
                (order_id,),
            )
        ]

    # ------------------------------------------------------------------ mail
    def customer_mail(self, customer_id: int, since: str, until: str) -> list[dict[str, Any]]:
        """The customer's linked mail dated from `since` to `until`, oldest first, with its
        subject and new text (reply_body) for finding order references in."""
        return [
            {
                "key": r[0],
                "date": r[1],
                "direction": r[2],
                "is_auto": bool(r[3]),
                "is_bulk": bool(r[4]),
                "message_id": r[5],
                "thread_key": r[6],
                "from": r[7],
                "from_name": r[8] or "",
                "to": [e for _, e in json.loads(r[9] or "[]")],
                "subject": r[10] or "",
                "text": r[11] or "",
            }  # fmt: skip
            for r in self.conn.execute(_MAIL, (customer_id, since, until))
        ]
