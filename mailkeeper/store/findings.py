"""Finding tables: findings (one row per situation, updated in place by each scan), their
history (finding_events), snoozes, and the cached judgement of each message's text."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from mailkeeper.store.db import Database, now_iso
from mailkeeper.store.records import (
    Explain,
    Finding,
    FindingData,
    FindingEvent,
    Judgement,
    Promise,
    StoredFinding,
)
from mailkeeper.store.records import from_iso as _dt
from mailkeeper.store.records import to_iso as _iso

FINDING_COLUMNS = (
    "id, key, kind, customer_id, state, message_key, thread_key, opened_at, due_at, closed_at, "
    "rank, data, explain, first_seen_at, updated_at"
)
_FIELDS = [c.strip() for c in FINDING_COLUMNS.split(",")]


def _row(r: Sequence[Any]) -> StoredFinding:
    fid, key, kind, cid, state, mkey, thread, opened, due, closed, rank, data, explain = r[:13]
    return StoredFinding(
        id=fid, key=key, kind=kind, customer_id=cid, state=state, message_key=mkey,
        thread_key=thread, opened_at=_dt(opened) or _dt(r[13]) or _EPOCH, due_at=_dt(due),
        closed_at=_dt(closed), rank=rank if rank is not None else 0.0,
        data=cast(FindingData, json.loads(data)), explain=cast(Explain, json.loads(explain)),
        first_seen_at=_dt(r[13]), updated_at=_dt(r[14]),
    )  # fmt: skip


# opened_at is NOT NULL in the schema; this only keeps the record's type honest
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FindingStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn = db.conn

    # ------------------------------------------------------------------ findings
    def by_keys(self, keys: Iterable[str]) -> dict[str, StoredFinding]:
        return {
            r[1]: _row(r)
            for r in self.db.select_in(
                f"SELECT {FINDING_COLUMNS} FROM findings WHERE key IN ({{ids}})", keys
            )
        }

    def save(self, finding: Finding, at: datetime, event: str | None, note: str | None) -> int:
        """Insert or update the finding with finding.key; record `event` in its history
        when given. Returns its id."""
        data = json.dumps(finding.data, ensure_ascii=False, sort_keys=True)
        explain = json.dumps(finding.explain, ensure_ascii=False)
        values = (
            finding.kind, finding.customer_id, finding.state, finding.message_key,
            finding.thread_key, _iso(finding.opened_at), _iso(finding.due_at),
            _iso(finding.closed_at), finding.rank, data, explain,
        )  # fmt: skip
        when = _iso(at)
        row = self.conn.execute("SELECT id FROM findings WHERE key = ?", (finding.key,)).fetchone()
        if row is None:
            cur = self.conn.execute(
                "INSERT INTO findings (kind, customer_id, state, message_key, thread_key, "
                "opened_at, due_at, closed_at, rank, data, explain, key, first_seen_at, "
                "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*values, finding.key, when, when),
            )
            fid = int(cur.lastrowid or 0)
        else:
            fid = int(row[0])
            self.conn.execute(
                "UPDATE findings SET kind = ?, customer_id = ?, state = ?, message_key = ?, "
                "thread_key = ?, opened_at = ?, due_at = ?, closed_at = ?, rank = ?, data = ?, "
                "explain = ?, updated_at = ? WHERE id = ?",
                (*values, when, fid),
            )
        if event is not None:
            self.add_event(fid, at, event, note)
        return fid

    def add_event(self, finding_id: int, at: datetime, state: str, note: str | None = None) -> None:
        self.conn.execute(
            "INSERT INTO finding_events (finding_id, at, state, note) VALUES (?, ?, ?, ?)",
            (finding_id, _iso(at), state, note),
        )

    def set_state(self, finding_id: int, state: str, at: datetime, note: str | None) -> None:
        self.conn.execute(
            "UPDATE findings SET state = ?, closed_at = COALESCE(closed_at, ?), updated_at = ? "
            "WHERE id = ?",
            (state, _iso(at), now_iso(), finding_id),
        )
        self.add_event(finding_id, at, state, note)

    def get(self, finding_id: int) -> StoredFinding | None:
        r = self.conn.execute(
            f"SELECT {FINDING_COLUMNS} FROM findings WHERE id = ?", (finding_id,)
        ).fetchone()
        return _row(r) if r else None

    def listing(self, kind: str, states: Sequence[str] | None = None) -> list[StoredFinding]:
        sql = f"SELECT {FINDING_COLUMNS} FROM findings WHERE kind = ?"
        args: list[Any] = [kind]
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args += list(states)
        sql += " ORDER BY rank DESC, opened_at, id"
        return [_row(r) for r in self.conn.execute(sql, args)]

    def live(self, kinds: Sequence[str], states: Sequence[str]) -> list[StoredFinding]:
        """Findings of `kinds` in one of `states` (what a scan may still change)."""
        return [
            _row(r)
            for r in self.conn.execute(
                f"SELECT {FINDING_COLUMNS} FROM findings WHERE kind IN "
                f"({','.join('?' * len(kinds))}) AND state IN ({','.join('?' * len(states))})",
                (*kinds, *states),
            )
        ]

    def events(self, finding_id: int) -> list[FindingEvent]:
        return [
            FindingEvent(at=_dt(r[0]) or _EPOCH, state=r[1], note=r[2])
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
    def snooze(self, customer_id: int, until: datetime) -> None:
        self.conn.execute(
            "INSERT INTO snoozes (customer_id, until, set_at) VALUES (?, ?, ?) "
            "ON CONFLICT(customer_id) DO UPDATE SET until = excluded.until, "
            "set_at = excluded.set_at",
            (customer_id, _iso(until), now_iso()),
        )

    def snoozes(self) -> dict[int, datetime]:
        return {
            cid: dt
            for cid, until in self.conn.execute("SELECT customer_id, until FROM snoozes")
            if (dt := _dt(until)) is not None
        }

    # ------------------------------------------------------------------ judgements
    def judgements(self, keys: Iterable[str], rules: str) -> dict[str, Judgement]:
        """Cached judgements of `keys` made under the rules with fingerprint `rules`."""
        if not rules.isalnum():  # it goes into the SQL text: a hex digest only
            raise ValueError(f"not a rules fingerprint: {rules!r}")
        out = {}
        for key, needs, cat, sev, phrase, sentence, promises, prob, why in self.db.select_in(
            "SELECT message_key, needs_answer, category, severity, phrase, sentence, promises, "
            "probability, why "
            f"FROM judgements WHERE rules = '{rules}' AND message_key IN ({{ids}})",
            keys,
        ):
            w = json.loads(why) if why else {}
            out[key] = Judgement(
                needs_answer=bool(needs), category=cat, severity=sev, phrase=phrase,
                sentence=sentence, promises=tuple(_promise(p) for p in json.loads(promises)),
                rule=w.get("rule"), probability=prob,
                weighed=tuple((str(f), float(v)) for f, v in w.get("weighed", ())),
                forced=bool(w.get("forced")),
            )  # fmt: skip
        return out

    def save_judgements(self, rules: str, judged: Mapping[str, Judgement]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO judgements (message_key, rules, needs_answer, category, "
            "severity, phrase, sentence, promises, probability, why) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    key,
                    rules,
                    int(j.needs_answer),
                    j.category,
                    j.severity,
                    j.phrase,
                    j.sentence,
                    json.dumps([_promise_json(p) for p in j.promises], ensure_ascii=False),
                    j.probability,
                    json.dumps(
                        {"rule": j.rule, "weighed": j.weighed, "forced": j.forced},
                        ensure_ascii=False,
                    ),
                )  # fmt: skip
                for key, j in judged.items()
            ],
        )


# a promise in the judgements table: the keys and text of the JSON written before records
def _promise(p: dict[str, Any]) -> Promise:
    return Promise(sentence=p["sentence"], phrase=p["phrase"], kind=p["kind"],
                   due_at=_dt(p["due_at"]) or _EPOCH, why=p["why"])  # fmt: skip


def _promise_json(p: Promise) -> dict[str, str]:
    return {"sentence": p.sentence, "phrase": p.phrase, "kind": p.kind,
            "due_at": _iso(p.due_at) or "", "why": p.why}  # fmt: skip
