"""What detection reads of the mail and customer tables: per-customer contact dates and the
recent linked messages. Read-only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from mailkeeper.store.db import Database
from mailkeeper.store.records import ContactFacts, LinkedMessage, ParentMessage, SentMail
from mailkeeper.store.records import from_iso as _dt
from mailkeeper.store.records import to_iso as _iso

# A message's time for detection: its Date, except that mail dated up to a day after it was
# first stored (a sender's clock or zone a little wrong) counts from its arrival, so it is
# judged when it comes, not when its Date comes. Further ahead the Date stands: a replay with
# made-up dates (or a clock years off) keeps them.
_AHEAD = (
    "m.date > m.first_seen_at "
    "AND m.date <= strftime('%Y-%m-%dT%H:%M:%SZ', m.first_seen_at, '+1 day')"
)
_AT = f"(CASE WHEN {_AHEAD} THEN m.first_seen_at ELSE m.date END)"

# Real contact: not an auto-reply, with the customer's own people (l.contact) and the
# direction decided at link time (link.py): mail from an outsider in a customer's thread
# is no contact.
_CONTACT = f"""
    SELECT c.id, c.name, c.tier, c.status, c.language,
           MAX(CASE WHEN m.direction = 'outbound' AND m.is_auto = 0 THEN {_AT} END),
           MAX(CASE WHEN m.direction = 'inbound' AND m.is_auto = 0 AND m.is_bulk = 0
                    THEN {_AT} END),
           MIN(m.date), COUNT(m.key),
           COUNT(CASE WHEN m.date >= ? THEN 1 END),
           COUNT(DISTINCT CASE WHEN m.date >= ? AND m.direction = 'inbound' THEN m.from_email END)
    FROM customers c
    LEFT JOIN links l ON l.customer_id = c.id AND l.contact = 1
    LEFT JOIN messages m ON m.key = l.message_key AND (m.date IS NULL OR {_AT} <= ?)
    GROUP BY c.id ORDER BY c.id
"""

_RECENT = f"""
    SELECT m.key, l.customer_id, {_AT} AS at, m.direction, m.is_auto, m.is_bulk, m.thread_key,
           m.message_id, m.in_reply_to, m.from_email, m.from_name, m.to_json, m.cc_json,
           m.subject, m.reply_body, m.body, m.language, m.rowid
    FROM messages m JOIN links l ON l.message_key = m.key
    WHERE ((m.date >= ? AND m.date <= ?) OR (m.date > ? AND m.first_seen_at <= ? AND {_AHEAD}))
      AND l.contact = 1
    ORDER BY at, m.rowid
"""


# the SQL selects dated rows only: never used, it keeps `date` a datetime for mypy
_NEVER = datetime.min.replace(tzinfo=UTC)


class ActivityStore:
    def __init__(self, db: Database) -> None:
        self.conn = db.conn

    def contact(self, as_of: datetime, year_ago: datetime) -> list[ContactFacts]:
        """Every customer with its last real outbound and inbound dates as of `as_of`, the
        date of its first message, and its activity since `year_ago` (messages, contacts)."""
        year = _iso(year_ago)
        return [
            ContactFacts(
                id=r[0],
                name=r[1],
                tier=r[2],
                status=r[3],
                language=r[4],
                last_outbound=_dt(r[5]),
                last_inbound=_dt(r[6]),
                first_message=_dt(r[7]),
                messages=r[8],
                messages_year=r[9],
                contacts_year=r[10],
            )  # fmt: skip
            for r in self.conn.execute(_CONTACT, (year, year, _iso(as_of)))
        ]

    def recent(self, since: datetime, until: datetime) -> list[LinkedMessage]:
        """Linked messages dated from `since` to `until`, oldest first; one record per message
        and customer it is linked to, when the customer's own people are its other party
        (links.contact: an outsider's mail in the thread opens and closes nothing)."""
        out = []
        until_iso = _iso(until)
        for r in self.conn.execute(_RECENT, (_iso(since), until_iso, until_iso, until_iso)):
            out.append(
                LinkedMessage(
                    key=r[0],
                    customer_id=r[1],
                    date=_dt(r[2]) or _NEVER,
                    direction=r[3],
                    is_auto=bool(r[4]),
                    is_bulk=bool(r[5]),
                    thread_key=r[6],
                    message_id=r[7],
                    in_reply_to=r[8],
                    sender=r[9],
                    sender_name=r[10] or "",
                    to=tuple(e for _, e in json.loads(r[11] or "[]")),
                    cc=tuple(e for _, e in json.loads(r[12] or "[]")),
                    subject=r[13] or "",
                    text=r[14] if (r[14] or "").strip() else (r[15] or ""),
                    language=r[16],
                    rowid=r[17],
                )  # fmt: skip
            )
        return out

    def message(self, key: str) -> ParentMessage | None:
        """The headers a reply needs of one message, and the account that holds it."""
        r = self.conn.execute(
            "SELECT m.message_id, m.refs, m.subject, m.from_email, m.from_name, m.to_json, "
            "m.thread_key, m.language, (SELECT fm.account FROM folder_messages fm "
            "WHERE fm.message_key = m.key LIMIT 1) FROM messages m WHERE m.key = ?",
            (key,),
        ).fetchone()
        if r is None:
            return None
        return ParentMessage(
            message_id=r[0], references=tuple(json.loads(r[1] or "[]")), subject=r[2] or "",
            sender=r[3], sender_name=r[4] or "",
            to=tuple((name, addr) for name, addr in json.loads(r[5] or "[]")),
            thread_key=r[6], language=r[7], account=r[8],
        )  # fmt: skip

    def customer_language(self, customer_id: int) -> str | None:
        """The most common language of the customer's own (inbound) mail."""
        r = self.conn.execute(
            "SELECT m.language FROM links l JOIN messages m ON m.key = l.message_key "
            "WHERE l.customer_id = ? AND m.direction = 'inbound' AND m.language IS NOT NULL "
            "GROUP BY m.language ORDER BY COUNT(*) DESC LIMIT 1",
            (customer_id,),
        ).fetchone()
        return r[0] if r else None

    def recent_subjects(self, customer_id: int, limit: int = 5) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT m.subject FROM links l JOIN messages m ON m.key = l.message_key "
                "WHERE l.customer_id = ? AND m.is_auto = 0 AND m.is_bulk = 0 "
                "AND m.subject IS NOT NULL AND m.subject != '' "
                "GROUP BY m.subject ORDER BY MAX(m.date) DESC LIMIT ?",
                (customer_id, limit),
            )
        ]

    def sent_after(self, since: datetime, to_addr: str) -> list[SentMail]:
        """The rep's real mail to `to_addr` dated `since` or later (did a draft go out?)."""
        out = []
        for key, subject, thread, to_json, cc_json in self.conn.execute(
            "SELECT m.key, m.subject, m.thread_key, m.to_json, m.cc_json FROM messages m "
            "WHERE m.direction = 'outbound' AND m.is_auto = 0 AND m.date >= ?",
            (_iso(since),),
        ):
            emails = {e for _, e in json.loads(to_json or "[]") + json.loads(cc_json or "[]")}
            if to_addr in emails:
                out.append(SentMail(key=key, subject=subject or "", thread_key=thread))
        return out

    def latest_date(self) -> datetime | None:
        return _dt(self.conn.execute("SELECT MAX(date) FROM messages").fetchone()[0])

    def last_rowid(self) -> int:
        return int(self.conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM messages").fetchone()[0])
