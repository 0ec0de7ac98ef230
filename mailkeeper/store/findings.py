"""Finding tables: findings (one row per situation, updated in place by each scan), their
history (finding_events), snoozes, and the cached judgement of each message's text."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from mailkeeper.store.db import Database, now_iso

FINDING_COLUMNS = (
    "id, key, kind, customer_id, state, message_key, thread_key, opened_at, due_at, closed_at, "
    "rank, data, explain, first_seen_at, updated_at"
)
_FIELDS = [c.strip() for c in FINDING_COLUMNS.split(",")]


def _row(r: Sequence[Any]) -> dict[str, Any]:
    d = dict(zip(_FIELDS, r, strict=True))
    d["data"] = json.loads(d["data"])
    d["explain"] = json.loads(d["explain"])
    return d


class FindingStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn = db.conn

    # ------------------------------------------------------------------ findings
    def by_keys(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {
            r[1]: _row(r)
            for r in self.db.select_in(
                f"SELECT {FINDING_COLUMNS} FROM findings WHERE key IN ({{ids}})", keys
            )
        }

    def save(self, finding: dict[str, Any], at: str, event: str | None, note: str | None) -> int:
        """Insert or update the finding with finding['key']; record `event` in its history
        when given. Returns its id."""
        data = json.dumps(finding["data"], ensure_ascii=False, sort_keys=True)
        explain = json.dumps(finding["explain"], ensure_ascii=False)
        values = (
            finding["kind"], finding["customer_id"], finding["state"], finding.get("message_key"),
            finding.get("thread_key"), finding["opened_at"], finding.get("due_at"),
            finding.get("closed_at"), finding.get("rank"), data, explain,
        )  # fmt: skip
        row = self.conn.execute(
            "SELECT id FROM findings WHERE key = ?", (finding["key"],)
        ).fetchone()
        if row is None:
            cur = self.conn.execute(
                "INSERT INTO findings (kind, customer_id, state, message_key, thread_key, "
                "opened_at, due_at, closed_at, rank, data, explain, key, first_seen_at, "
                "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*values, finding["key"], at, at),
            )
            fid = int(cur.lastrowid or 0)
        else:
            fid = int(row[0])
            self.conn.execute(
                "UPDATE findings SET kind = ?, customer_id = ?, state = ?, message_key = ?, "
                "thread_key = ?, opened_at = ?, due_at = ?, closed_at = ?, rank = ?, data = ?, "
                "explain = ?, updated_at = ? WHERE id = ?",
                (*values, at, fid),
            )
        if event is not None:
            self.add_event(fid, at, event, note)
        return fid

    def add_event(self, finding_id: int, at: str, state: str, note: str | None = None) -> None:
        self.conn.execute(
            "INSERT INTO finding_events (finding_id, at, state, note) VALUES (?, ?, ?, ?)",
            (finding_id, at, state, note),
        )

    def set_state(self, finding_id: int, state: str, at: str, note: str | None) -> None:
        self.conn.execute(
            "UPDATE findings SET state = ?, closed_at = COALESCE(closed_at, ?), updated_at = ? "
            "WHERE id = ?",
            (state, at, now_iso(), finding_id),
        )
        self.add_event(finding_id, at, state, note)

    def get(self, finding_id: int) -> dict[str, Any] | None:
        r = self.conn.execute(
            f"SELECT {FINDING_COLUMNS} FROM findings WHERE id = ?", (finding_id,)
        ).fetchone()
        return _row(r) if r else None

    def listing(self, kind: str, states: Sequence[str] | None = None) -> list[dict[str, Any]]:
        sql = f"SELECT {FINDING_COLUMNS} FROM findings WHERE kind = ?"
        args: list[Any] = [kind]
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args += list(states)
        sql += " ORDER BY rank DESC, opened_at, id"
        return [_row(r) for r in self.conn.execute(sql, args)]

    def live(self, kinds: Sequence[str], states: Sequence[str]) -> list[dict[str, Any]]:
        """Findings of `kinds` in one of `states` (what a scan may still change)."""
        return [
            _row(r)
            for r in self.conn.execute(
                f"SELECT {FINDING_COLUMNS} FROM findings WHERE kind IN "
                f"({','.join('?' * len(kinds))}) AND state IN ({','.join('?' * len(states))})",
                (*kinds, *states),
            )
        ]

    def events(self, finding_id: int) -> list[dict[str, Any]]:
        return [
            {"at": r[0], "state": r[1], "note": r[2]}
            for r in self.conn.execute(
                "SELECT at, state, note FROM finding_events WHERE finding_id = ? ORDER BY id",
                (finding_id,),
            )
        ]

    def count_open(self) -> int:
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM findings WHERE state IN ('neglected', 'open', 'overdue')"
            ).fetchone()[0]
        )

    # ------------------------------------------------------------------ snoozes
    def snooze(self, customer_id: int, until: str) -> None:
        self.conn.execute(
            "INSERT INTO snoozes (customer_id, until, set_at) VALUES (?, ?, ?) "
            "ON CONFLICT(customer_id) DO UPDATE SET until = excluded.until, "
            "set_at = excluded.set_at",
            (customer_id, until, now_iso()),
        )

    def snoozes(self) -> dict[int, str]:
        return dict(self.conn.execute("SELECT customer_id, until FROM snoozes"))

    # ------------------------------------------------------------------ judgements
    def judgements(self, keys: Iterable[str], rules: str) -> dict[str, dict[str, Any]]:
        """Cached judgements of `keys` made under the rules with fingerprint `rules`."""
        if not rules.isalnum():  # it goes into the SQL text: a hex digest only
            raise ValueError(f"not a rules fingerprint: {rules!r}")
        out = {}
        for key, needs, cat, sev, phrase, sentence, promises in self.db.select_in(
            "SELECT message_key, needs_answer, category, severity, phrase, sentence, promises "
            f"FROM judgements WHERE rules = '{rules}' AND message_key IN ({{ids}})",
            keys,
        ):
            out[key] = {
                "needs_answer": bool(needs),
                "category": cat,
                "severity": sev,
                "phrase": phrase,
                "sentence": sentence,
                "promises": json.loads(promises),
            }
        return out

    def save_judgements(self, rules: str, judged: dict[str, dict[str, Any]]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO judgements (message_key, rules, needs_answer, category, "
            "severity, phrase, sentence, promises) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    key,
                    rules,
                    int(j["needs_answer"]),
                    j.get("category"),
                    j.get("severity"),
                    j.get("phrase"),
                    j.get("sentence"),
                    json.dumps(j.get("promises") or [], ensure_ascii=False),
                )  # fmt: skip
                for key, j in judged.items()
            ],
        )
