"""The drafts table: what mailkeeper added to a Drafts folder and what became of it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from mailkeeper.store.db import Database
from mailkeeper.store.records import DraftRecord, NewDraft
from mailkeeper.store.records import from_iso as _dt
from mailkeeper.store.records import to_iso as _iso

_COLUMNS = (
    "id, key, finding_id, kind, customer_id, account, folder, to_addr, subject, message_id, "
    "in_reply_to, thread_key, template, language, state, created_at, state_at, cooldown_until, "
    "appended"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # created_at is NOT NULL: keeps mypy honest


def _draft(r: Sequence[Any]) -> DraftRecord:
    return DraftRecord(
        id=r[0], key=r[1], finding_id=r[2], kind=r[3], customer_id=r[4], account=r[5],
        folder=r[6], to_addr=r[7], subject=r[8], message_id=r[9], in_reply_to=r[10],
        thread_key=r[11], template=r[12], language=r[13], state=r[14],
        created_at=_dt(r[15]) or _EPOCH, state_at=_dt(r[16]), cooldown_until=_dt(r[17]),
        appended=bool(r[18]),
    )  # fmt: skip


class DraftStore:
    def __init__(self, db: Database) -> None:
        self.conn = db.conn

    def add(self, draft: NewDraft, raw: bytes) -> int:
        cur = self.conn.execute(
            "INSERT INTO drafts (key, finding_id, kind, customer_id, account, folder, to_addr, "
            "subject, message_id, in_reply_to, thread_key, template, language, state, "
            "created_at, state_at, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'pending',?,?,?)",
            (
                draft.key,
                draft.finding_id,
                draft.kind,
                draft.customer_id,
                draft.account,
                draft.folder,
                draft.to_addr,
                draft.subject,
                draft.message_id,
                draft.in_reply_to,
                draft.thread_key,
                draft.template,
                draft.language,
                _iso(draft.created_at),
                _iso(draft.created_at),
                raw,
            ),  # fmt: skip
        )
        return int(cur.lastrowid or 0)

    def listing(self, states: tuple[str, ...] | None = None) -> list[DraftRecord]:
        sql = f"SELECT {_COLUMNS} FROM drafts"
        args: tuple[Any, ...] = ()
        if states:
            sql += f" WHERE state IN ({','.join('?' * len(states))})"
            args = states
        return [_draft(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def set_state(
        self, draft_id: int, state: str, at: datetime, cooldown_until: datetime | None = None
    ) -> None:
        self.conn.execute(
            "UPDATE drafts SET state = ?, state_at = ?, cooldown_until = ? WHERE id = ?",
            (state, _iso(at), _iso(cooldown_until), draft_id),
        )

    def blocked_findings(self, at: datetime) -> set[int]:
        """Findings that must get no new draft now: one is pending, or one was dismissed and
        its cool-down has not ended, or one was sent (the finding was answered)."""
        return {
            r[0]
            for r in self.conn.execute(
                "SELECT finding_id FROM drafts WHERE state IN ('pending', 'sent') "
                "OR (state = 'dismissed' AND cooldown_until > ?)",
                (_iso(at),),
            )
        }

    def added_since(self, at: datetime) -> int:
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM drafts WHERE created_at >= ?", (_iso(at),)
            ).fetchone()[0]
        )

    def set_appended(self, draft_id: int) -> None:
        self.conn.execute("UPDATE drafts SET appended = 1 WHERE id = ?", (draft_id,))

    def raw(self, draft_id: int) -> bytes:
        row = self.conn.execute("SELECT raw FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        return bytes(row[0]) if row else b""

    def count_pending(self) -> int:
        return int(
            self.conn.execute("SELECT COUNT(*) FROM drafts WHERE state = 'pending'").fetchone()[0]
        )
