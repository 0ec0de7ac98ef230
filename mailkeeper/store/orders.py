"""Order tables: orders, order_events (milestones reached) and order_problems; and the mail
of an order's customer that detection searches for the order's reference."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from mailkeeper.store.db import Database, now_iso
from mailkeeper.store.records import LinkedMessage, Order, OrderEvent, OrderProblem
from mailkeeper.store.records import from_iso as _dt
from mailkeeper.store.records import to_iso as _iso

_ORDER_COLUMNS = (
    "o.id, o.ref, o.ref_key, o.customer_id, c.name, o.confirmed_at, o.plan, o.ship_by, "
    "o.closed_at, o.source, o.source_line, o.quantity, o.amount, o.currency"
)
OrderWorth = tuple[int | None, Decimal | None, str | None]  # quantity, amount, currency
# the columns are NOT NULL where the record's type says so; this only keeps mypy honest
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _order(r: Sequence[Any]) -> Order:
    return Order(
        id=r[0], ref=r[1], ref_key=r[2], customer_id=r[3], customer=r[4],
        confirmed_at=_dt(r[5]) or _EPOCH, plan=r[6], ship_by=_dt(r[7]), closed_at=_dt(r[8]),
        source=r[9], source_line=r[10], quantity=r[11],
        amount=Decimal(r[12]) if r[12] is not None else None, currency=r[13],
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
    def get(self, ref_key: str) -> Order | None:
        r = self.conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders o LEFT JOIN customers c ON c.id = o.customer_id "
            "WHERE o.ref_key = ?",
            (ref_key,),
        ).fetchone()
        return _order(r) if r else None

    def all(self) -> list[Order]:
        return [
            _order(r)
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
        confirmed_at: datetime,
        plan: str,
        ship_by: datetime | None,
        source: str,
        source_line: int | None = None,
        closed_at: datetime | None = None,
        worth: OrderWorth = (None, None, None),
    ) -> int:
        """Insert or update the order with `ref_key`; returns its id. `worth`: (quantity,
        amount, currency), each optional."""
        at = now_iso()
        quantity, amount, currency = worth
        self.conn.execute(
            "INSERT INTO orders (ref, ref_key, customer_id, confirmed_at, plan, ship_by, "
            "closed_at, source, source_line, created_at, updated_at, quantity, amount, currency) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(ref_key) DO UPDATE SET "
            "ref = excluded.ref, customer_id = excluded.customer_id, "
            "confirmed_at = excluded.confirmed_at, plan = excluded.plan, "
            "ship_by = excluded.ship_by, closed_at = excluded.closed_at, "
            "source = excluded.source, source_line = excluded.source_line, "
            "updated_at = excluded.updated_at, quantity = excluded.quantity, "
            "amount = excluded.amount, currency = excluded.currency",
            (ref, ref_key, customer_id, _iso(confirmed_at), plan, _iso(ship_by),
             _iso(closed_at), source, source_line, at, at, quantity,
             str(amount) if amount is not None else None, currency),
        )  # fmt: skip
        return int(
            self.conn.execute("SELECT id FROM orders WHERE ref_key = ?", (ref_key,)).fetchone()[0]
        )

    def unchanged(self, ref_key: str, values: Mapping[str, object]) -> bool:
        """Whether the stored order already has `values` (field of Order -> value; times
        compared as stored, to the second)."""
        row = self.get(ref_key)

        def same(have: object, want: object) -> bool:
            if isinstance(want, datetime) and isinstance(have, datetime):
                return _iso(have) == _iso(want)
            return have == want

        return row is not None and all(same(getattr(row, k), v) for k, v in values.items())

    # ------------------------------------------------------------------ events, problems
    def add_event(self, order_id: int, milestone: str, at: datetime, note: str | None) -> int:
        cur = self.conn.execute(
            "INSERT INTO order_events (order_id, milestone, at, note, recorded_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (order_id, milestone, _iso(at), note, now_iso()),
        )
        return int(cur.lastrowid or 0)

    def add_problem(self, order_id: int, at: datetime, note: str) -> int:
        cur = self.conn.execute(
            "INSERT INTO order_problems (order_id, at, note, recorded_at) VALUES (?, ?, ?, ?)",
            (order_id, _iso(at), note, now_iso()),
        )
        return int(cur.lastrowid or 0)

    def events(self, order_id: int) -> list[OrderEvent]:
        return [
            OrderEvent(id=r[0], milestone=r[1], at=_dt(r[2]) or _EPOCH, note=r[3])
            for r in self.conn.execute(
                "SELECT id, milestone, at, note FROM order_events WHERE order_id = ? "
                "ORDER BY at, id",
                (order_id,),
            )
        ]

    def problems(self, order_id: int) -> list[OrderProblem]:
        return [
            OrderProblem(id=r[0], at=_dt(r[1]) or _EPOCH, note=r[2])
            for r in self.conn.execute(
                "SELECT id, at, note FROM order_problems WHERE order_id = ? ORDER BY at, id",
                (order_id,),
            )
        ]

    # ------------------------------------------------------------------ mail
    def customer_mail(
        self, customer_id: int, since: datetime, until: datetime
    ) -> list[LinkedMessage]:
        """The customer's linked mail dated from `since` to `until`, oldest first, with its
        subject and new text (reply_body) for finding order references in."""
        return [
            LinkedMessage(
                key=r[0],
                customer_id=customer_id,
                date=_dt(r[1]) or _EPOCH,
                direction=r[2],
                is_auto=bool(r[3]),
                is_bulk=bool(r[4]),
                message_id=r[5],
                thread_key=r[6],
                sender=r[7],
                sender_name=r[8] or "",
                to=tuple(e for _, e in json.loads(r[9] or "[]")),
                subject=r[10] or "",
                text=r[11] or "",
            )  # fmt: skip
            for r in self.conn.execute(_MAIL, (customer_id, _iso(since), _iso(until)))
        ]
