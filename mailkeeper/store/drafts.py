"""The drafts table: what mailkeeper added to a Drafts folder and what became of it."""

from __future__ import annotations

from typing import Any

from mailkeeper.store.db import Database

_COLUMNS = (
    "id, key, finding_id, kind, customer_id, account, folder, to_addr, subject, message_id, "
    "in_reply_to, thread_key, template, language, state, created_at, state_at, cooldown_until, "
    "appended"
)
_FIELDS = [c.strip() for c in _COLUMNS.split(",")]


class DraftStore:
    def __init__(self, db: Database) -> None:
        self.conn = db.conn

    def add(self, draft: dict[str, Any], raw: bytes) -> int:
        cur = self.conn.execute(
            "INSERT INTO drafts (key, finding_id, kind, customer_id, account, folder, to_addr, "
            "subject, message_id, in_reply_to, thread_key, template, language, state, "
            "created_at, state_at, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'pending',?,?,?)",
            (
                draft["key"],
                draft["finding_id"],
                draft["kind"],
                draft["customer_id"],
                draft["account"],
                draft["folder"],
                draft["to_addr"],
                draft["subject"],
                draft["message_id"],
                draft.get("in_reply_to"),
                draft.get("thread_key"),
                draft["template"],
                draft.get("language"),
                draft["created_at"],
                draft["created_at"],
                raw,
            ),  # fmt: skip
        )
        return int(cur.lastrowid or 0)

    def listing(self, states: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        sql = f"SELECT {_COLUMNS} FROM drafts"
        args: tuple[Any, ...] = ()
        if states:
            sql += f" WHERE state IN ({','.join('?' * len(states))})"
            args = states
        return [
            dict(zip(_FIELDS, r, strict=True))
            for r in self.conn.execute(sql + " ORDER BY id", args)
        ]

    def set_state(
        self, draft_id: int, state: str, at: str, cooldown_until: str | None = None
    ) -> None:
        self.conn.execute(
            "UPDATE drafts SET state = ?, state_at = ?, cooldown_until = ? WHERE id = ?",
            (state, at, cooldown_until, draft_id),
        )

    def blocked_findings(self, at: str) -> set[int]:
        """Findings that must get no new draft now: one is pending, or one was dismissed and
        its cool-down has not ended, or one was sent (the finding was answered)."""
        return {
            r[0]
            for r in self.conn.execute(
                "SELECT finding_id FROM drafts WHERE state IN ('pending', 'sent') "
                "OR (state = 'dismissed' AND cooldown_until > ?)",
                (at,),
            )
        }

    def added_since(self, at: str) -> int:
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM drafts WHERE created_at >= ?", (at,)
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
