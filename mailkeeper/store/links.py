"""The links table, and what linking reads of the mail tables to decide it.

Linking also decides each message's direction (whether the rep sent it) and writes it here:
see link.py for the rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from mailkeeper.store.db import Database

# Folders whose copy of a message does not show it was sent.
DRAFT_ROLES = ("drafts", "trash", "junk")


class LinkStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn = db.conn

    def keys_by_date(self, keys: Sequence[str] | None) -> list[str]:
        """`keys` (None: every message) oldest first; messages without a date last."""
        if keys is None:
            return [
                r[0]
                for r in self.conn.execute(
                    "SELECT key FROM messages ORDER BY date IS NULL, date, rowid"
                )
            ]
        dated = sorted(
            (r[1] is None, r[1] or "", r[2], r[0])
            for r in self.db.select_in(
                "SELECT key, date, rowid FROM messages WHERE key IN ({ids})", dict.fromkeys(keys)
            )
        )
        return [d[3] for d in dated]

    def inputs(self, keys: Sequence[str]) -> Iterator[dict[str, Any]]:
        """What linking needs of each message in `keys`, in the order of `keys`."""
        found: dict[str, dict[str, Any]] = {}
        for key, mid, irt, refs, is_auto, is_bulk, direction, role, email, org in self.db.select_in(
            "SELECT m.key, m.message_id, m.in_reply_to, m.refs, m.is_auto, m.is_bulk, "
            "m.direction, a.role, a.email, a.org_domain FROM messages m "
            "LEFT JOIN addresses a ON a.message_key = m.key "
            "WHERE m.key IN ({ids}) ORDER BY m.key, a.rowid",
            keys,
        ):
            m = found.get(key)
            if m is None:
                m = found[key] = {
                    "key": key,
                    "message_id": mid,
                    "in_reply_to": irt,
                    "references": json.loads(refs) if refs else [],
                    "is_auto": bool(is_auto),
                    "is_bulk": bool(is_bulk),
                    "direction": direction,
                    "addresses": [],
                }
            if role is not None:
                m["addresses"].append((role, email, org))
        for key in keys:
            if key in found:
                yield found[key]

    def direction_inputs(
        self, keys: Sequence[str] | None
    ) -> Iterator[tuple[str, str | None, str | None, bool, bool, bool]]:
        """(key, sender, stored direction, is it a draft, was it seen in a Sent folder when
        linked before (`sent_seen`), is a copy in a Sent folder now) for `keys` (None: every
        message). A draft: a folder entry has the \\Draft flag, or every entry is in a Drafts,
        Trash or Junk folder. Sent: a folder entry is in a folder whose role is sent."""
        roles = ",".join(f"'{r}'" for r in DRAFT_ROLES)
        sql = (
            "SELECT m.key, m.from_email, m.direction, "
            "MAX(' ' || fm.flags || ' ' LIKE '% \\Draft %'), COUNT(fm.uid), "
            f"SUM(f.role IN ({roles})), MAX(m.sent_seen), SUM(f.role = 'sent') FROM messages m "
            "LEFT JOIN folder_messages fm ON fm.message_key = m.key "
            "LEFT JOIN folders f ON f.account = fm.account AND f.folder = fm.folder "
        )
        rows = (
            self.conn.execute(sql + "GROUP BY m.key")
            if keys is None
            else self.db.select_in(sql + "WHERE m.key IN ({ids}) GROUP BY m.key", keys)
        )
        for key, sender, direction, flagged, entries, in_draft_folders, seen, in_sent in rows:
            draft = bool(flagged) or (entries > 0 and entries == in_draft_folders)
            yield key, sender, direction, draft, bool(seen), bool(in_sent)

    def set_directions(self, changes: Iterable[tuple[str, str]]) -> None:
        """(key, direction) pairs whose direction linking has just decided anew."""
        self.conn.executemany(
            "UPDATE messages SET direction = ? WHERE key = ?", [(d, k) for k, d in changes]
        )

    def sent_not_seen(self, own: Iterable[str]) -> list[str]:
        """Keys of messages from one of `own` (the rep's addresses) not yet counted as sent
        that now have a copy in a Sent folder: a copy of the same message stored from the
        Inbox before (mail to oneself), now found in Sent too."""
        own = sorted(own)
        if not own:
            return []
        marks = ",".join("?" * len(own))
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT m.key FROM messages m WHERE m.sent_seen = 0 "
                f"AND m.direction = 'inbound' AND m.from_email IN ({marks}) AND EXISTS "
                "(SELECT 1 FROM folder_messages fm JOIN folders f ON f.account = fm.account "
                "AND f.folder = fm.folder WHERE fm.message_key = m.key AND f.role = 'sent')",
                own,
            )
        ]

    def set_sent_seen(self, keys: Iterable[str]) -> None:
        """Record that the messages `keys` were seen in a folder whose role is sent."""
        self.conn.executemany(
            "UPDATE messages SET sent_seen = 1 WHERE key = ?", [(k,) for k in keys]
        )

    def real_mail_addresses(self, keys: Sequence[str] | None) -> set[tuple[str, str]]:
        """Distinct (email, org_domain) of the real (not auto, not bulk) messages in `keys`
        (None: all): what discovery looks at."""
        sql = (
            "SELECT DISTINCT a.email, a.org_domain FROM addresses a "
            "JOIN messages m ON m.key = a.message_key "
            "WHERE m.is_auto = 0 AND m.is_bulk = 0 AND a.org_domain IS NOT NULL"
        )
        if keys is None:
            return set(self.conn.execute(sql))
        return set(self.db.select_in(sql + " AND a.message_key IN ({ids})", keys))

    def thread_customers(
        self, message_ids: Iterable[str], exclude: set[str] | frozenset[str] = frozenset()
    ) -> dict[str, set[int]]:
        """Message-ID -> the customers its message(s) are linked to, leaving out the links of
        the messages in `exclude` (those being linked again)."""
        out: dict[str, set[int]] = {}
        for mid, key, cid in self.db.select_in(
            "SELECT m.message_id, m.key, l.customer_id FROM messages m JOIN links l "
            "ON l.message_key = m.key WHERE m.message_id IN ({ids})",
            {m for m in message_ids if m},
        ):
            if key not in exclude:
                out.setdefault(mid, set()).add(cid)
        return out

    def thread_mates(self, keys: Sequence[str]) -> set[str]:
        """Keys of the other stored messages in the threads of `keys`: those whose thread root
        is the root or the Message-ID of one of `keys`. A reply stored before its parent is
        among them, so linking it again gives the result a sync in date order would."""
        roots: set[str] = set()
        for root, mid in self.db.select_in(
            "SELECT thread_key, message_id FROM messages WHERE key IN ({ids})", keys
        ):
            roots.add(root)
            if mid:
                roots.add(mid)
        mates = {
            r[0]
            for r in self.db.select_in(
                "SELECT key FROM messages WHERE thread_key IN ({ids})", roots
            )
        }
        return mates - set(keys)

    def domain_directions(self, domains: Iterable[str]) -> dict[str, dict[str, int]]:
        """Per registrable domain: how many real (not auto, not bulk) inbound messages came from
        it and outbound messages went to it."""
        out: dict[str, dict[str, int]] = {}
        for domain, direction, role, n in self.db.select_in(
            "SELECT a.org_domain, m.direction, a.role, COUNT(DISTINCT m.key) "
            "FROM addresses a JOIN messages m ON m.key = a.message_key "
            "WHERE m.is_auto = 0 AND m.is_bulk = 0 AND a.org_domain IN ({ids}) "
            "GROUP BY a.org_domain, m.direction, a.role",
            set(domains),
        ):
            d = out.setdefault(domain, {"inbound": 0, "outbound": 0})
            if direction == "inbound" and role == "from":
                d["inbound"] += n
            elif direction == "outbound" and role in ("to", "cc"):
                d["outbound"] += n
        return out

    def replace(
        self,
        keys: Sequence[str] | None,
        links: Iterable[tuple[str, int, str, str | None, bool]],
    ) -> None:
        """Drop the links of `keys` (None: all) and write `links` (key, customer, method, via,
        are the customer's own people the other party: see link.py)."""
        if keys is None:
            self.conn.execute("DELETE FROM links")
        else:
            self.db.execute_in("DELETE FROM links WHERE message_key IN ({ids})", keys)
        self.conn.executemany(
            "INSERT OR IGNORE INTO links (message_key, customer_id, method, via, contact) "
            "VALUES (?, ?, ?, ?, ?)",
            links,
        )

    def replace_contacts(self, contacts: dict[str, int] | None) -> None:
        """Forget every customer's contacts (a full relink starts over): None; or add
        `contacts` (email -> customer id), the addresses linking found to be a customer's
        own people (link.py decides who is)."""
        if contacts is None:
            self.conn.execute("DELETE FROM contacts")
            return
        self.conn.executemany(
            "INSERT OR REPLACE INTO contacts (email, customer_id) VALUES (?, ?)",
            contacts.items(),
        )

    def keys_with_org_domains(self, domains: Iterable[str]) -> set[str]:
        """Keys of the messages with an address in one of `domains` (registrable)."""
        return {
            r[0]
            for r in self.db.select_in(
                "SELECT DISTINCT message_key FROM addresses WHERE org_domain IN ({ids})", domains
            )
        }

    def unlinked(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Messages linked to no customer, newest first, with what deciding why needs:
        message_id, date, from, subject, direction, auto, bulk, addresses (role, email,
        org_domain)."""
        sql = (
            "SELECT m.key, m.message_id, m.date, m.from_email, m.subject, m.direction, "
            "m.is_auto, m.is_bulk FROM messages m WHERE NOT EXISTS "
            "(SELECT 1 FROM links l WHERE l.message_key = m.key) "
            "ORDER BY m.date IS NULL, m.date DESC, m.rowid DESC"
        )
        params: tuple[Any, ...] = ()
        if limit:
            sql += " LIMIT ?"
            params = (limit,)
        out = {
            r[0]: {
                "message_id": r[1],
                "date": r[2],
                "from": r[3],
                "subject": r[4] or "",
                "direction": r[5],
                "auto": bool(r[6]),
                "bulk": bool(r[7]),
                "addresses": [],
            }
            for r in self.conn.execute(sql, params)
        }
        for key, role, email, org in self.db.select_in(
            "SELECT message_key, role, email, org_domain FROM addresses "
            "WHERE message_key IN ({ids}) ORDER BY rowid",
            list(out),
        ):
            out[key]["addresses"].append((role, email, org))
        return list(out.values())
