"""The needs table: what customers said they will need (detect/needs.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from mailkeeper.store.db import Database
from mailkeeper.store.records import Need
from mailkeeper.store.records import from_iso as _dt
from mailkeeper.store.records import to_iso as _iso

_COLUMNS = (
    "id, customer_id, message_key, sentence_index, sentence, phrase, window_start, window_end, "
    "said_at, message_id, why, state, closed_at, note"
)


def _need(r: Any) -> Need:
    return Need(
        id=int(r[0]),
        customer_id=int(r[1]),
        message_key=str(r[2]), index=int(r[3]),
        sentence=str(r[4]), phrase=str(r[5]),
        window_start=date.fromisoformat(str(r[6])), window_end=date.fromisoformat(str(r[7])),
        said_at=_dt(str(r[8])) or datetime.min, message_id=r[9] and str(r[9]) or None,
        why=str(r[10] or ""), state=str(r[11]), closed_at=_dt(r[12] and str(r[12]) or None),
        note=r[13] and str(r[13]) or None,
    )  # fmt: skip


class NeedStore:
    def __init__(self, db: Database) -> None:
        self.conn = db.conn

    def add(self, needs: Iterable[Need]) -> int:
        """Keep the needs not kept yet (by message, sentence and customer): how many were new."""
        before = self.conn.total_changes
        self.conn.executemany(
            "INSERT OR IGNORE INTO needs (customer_id, message_key, sentence_index, sentence, "
            "phrase, window_start, window_end, said_at, message_id, why) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (n.customer_id, n.message_key, n.index, n.sentence, n.phrase,
                 n.window_start.isoformat(), n.window_end.isoformat(), _iso(n.said_at),
                 n.message_id, n.why)
                for n in needs
            ],
        )  # fmt: skip
        return int(self.conn.total_changes - before)

    def listing(self, customer_id: int | None = None, states: Iterable[str] = ()) -> list[Need]:
        wanted = list(states)
        sql = f"SELECT {_COLUMNS} FROM needs WHERE (? IS NULL OR customer_id = ?)"
        if wanted:
            sql += f" AND state IN ({','.join('?' * len(wanted))})"
        sql += " ORDER BY window_start, id"
        return [_need(r) for r in self.conn.execute(sql, (customer_id, customer_id, *wanted))]

    def set_state(self, need_id: int, state: str, at: datetime | None, note: str | None) -> None:
        self.conn.execute(
            "UPDATE needs SET state = ?, closed_at = ?, note = ? WHERE id = ?",
            (state, _iso(at), note, need_id),
        )
