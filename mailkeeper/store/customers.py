"""Customer tables: customers, customer_domains, customer_addresses, and the reports on them."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mailkeeper.store.db import Database, now_iso

# What counts as contact: real mail (not auto-replies) the customer's people sent, or the rep
# sent to them (`l.contact`: link.py; mail in the thread from an outsider does not count).
_REPORT = """
    SELECT c.name, c.tier, c.status,
           COUNT(l.message_key) AS messages,
           MAX(CASE WHEN m.direction = 'inbound' AND m.is_auto = 0 AND l.contact = 1
                    THEN m.date END),
           MAX(CASE WHEN m.direction = 'outbound' AND m.is_auto = 0 AND l.contact = 1
                    THEN m.date END)
    FROM customers c
    LEFT JOIN links l ON l.customer_id = c.id
    LEFT JOIN messages m ON m.key = l.message_key
    WHERE ? IS NULL OR c.id = ?
    GROUP BY c.id
    ORDER BY CASE c.status WHEN 'configured' THEN 0 WHEN 'discovered' THEN 1 ELSE 2 END,
             c.tier IS NULL, c.tier, c.name COLLATE NOCASE
"""


def normalize_name(name: str) -> str:
    """How names compare in a look-up: NFKC (full-width letters, compatibility forms),
    case-folded, whitespace trimmed and collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


class CustomerStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn = db.conn

    # ------------------------------------------------------------------ writes (linking)
    def maps(self) -> tuple[dict[str, int], dict[str, int], dict[int, tuple[str, str]]]:
        """(email -> customer id, domain -> customer id, id -> (name, status))."""
        emails = dict(self.conn.execute("SELECT email, customer_id FROM customer_addresses"))
        domains = dict(self.conn.execute("SELECT domain, customer_id FROM customer_domains"))
        info = {
            r[0]: (r[1], r[2]) for r in self.conn.execute("SELECT id, name, status FROM customers")
        }
        return emails, domains, info

    def upsert(
        self,
        name: str,
        status: str,
        tier: str | None = None,
        language: str | None = None,
        owner: str | None = None,
        notes: str | None = None,
    ) -> int:
        at = now_iso()
        self.conn.execute(
            "INSERT INTO customers (name, tier, status, language, owner, notes, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
            "tier = excluded.tier, status = excluded.status, language = excluded.language, "
            "owner = excluded.owner, notes = excluded.notes, updated_at = excluded.updated_at",
            (name, tier, status, language, owner, notes, at, at),
        )
        row = self.conn.execute("SELECT id FROM customers WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    def rename(self, customer_id: int, new_name: str) -> None:
        self.conn.execute(
            "UPDATE customers SET name = ?, updated_at = ? WHERE id = ?",
            (new_name, now_iso(), customer_id),
        )

    def set_status(self, customer_id: int, status: str) -> None:
        self.conn.execute(
            "UPDATE customers SET status = ?, updated_at = ? WHERE id = ?",
            (status, now_iso(), customer_id),
        )

    def replace_keys(self, domains: dict[str, int], emails: dict[str, int]) -> None:
        self.conn.execute("DELETE FROM customer_domains")
        self.conn.execute("DELETE FROM customer_addresses")
        self.conn.executemany(
            "INSERT INTO customer_domains (domain, customer_id) VALUES (?, ?)", domains.items()
        )
        self.conn.executemany(
            "INSERT INTO customer_addresses (email, customer_id) VALUES (?, ?)", emails.items()
        )

    def add_domain(self, domain: str, customer_id: int) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO customer_domains (domain, customer_id) VALUES (?, ?)",
            (domain, customer_id),
        )

    def delete(self, ids: Iterable[int]) -> None:
        for cid in list(ids):
            self.conn.execute("DELETE FROM links WHERE customer_id = ?", (cid,))
            self.conn.execute("DELETE FROM contacts WHERE customer_id = ?", (cid,))
            self.conn.execute("DELETE FROM customer_domains WHERE customer_id = ?", (cid,))
            self.conn.execute("DELETE FROM customer_addresses WHERE customer_id = ?", (cid,))
            self.conn.execute("DELETE FROM customers WHERE id = ?", (cid,))

    def by_status(self) -> list[tuple[int, str, str]]:
        return list(self.conn.execute("SELECT id, name, status FROM customers ORDER BY id"))

    # ------------------------------------------------------------------ reads
    def report(self, customer_id: int | None = None, sort: str = "tier") -> list[dict[str, Any]]:
        """Every customer (or the one with `customer_id`) with its counts and last dates.
        `sort`: tier (configured first, then by tier and name) or silence (the longest since
        the last real message either way first; customers with no mail at all last)."""
        rows = self.conn.execute(_REPORT, (customer_id, customer_id)).fetchall()
        if sort == "silence":
            rows.sort(key=lambda r: (r[4] is None and r[5] is None, max(r[4] or "", r[5] or "")))
        return [
            {
                "name": r[0],
                "tier": r[1],
                "status": r[2],
                "messages": r[3],
                "last_inbound": r[4],
                "last_outbound": r[5],
            }
            for r in rows
        ]

    def find(self, name: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT id, name, tier, status, language, owner, notes FROM customers "
            "WHERE name = ? COLLATE NOCASE",
            (name,),
        ).fetchone()
        if row is None:
            return None
        keys = ("id", "name", "tier", "status", "language", "owner", "notes")
        return dict(zip(keys, row, strict=True))

    def lookup(self, query: str, aliases: Mapping[str, str] | None = None) -> list[str]:
        """Names of the customers `query` means, best kind of match first; more than one
        name means it is ambiguous. Names compare NFKC-normalised, case- and
        whitespace-insensitively. Tried in turn, the first that finds any wins: the whole
        name or an alias (`aliases`: old name -> current name, from customers.yaml); an
        e-mail address (listed, else its domain); a domain (subdomains included); a
        prefix of the name; a run of whole words of the name; the start of a word."""
        q = normalize_name(query)
        if not q:
            return []
        names = self.names()
        by_norm: dict[str, list[str]] = {}
        for n in names:
            by_norm.setdefault(normalize_name(n), []).append(n)
        hit = by_norm.get(q)
        if hit:
            return hit
        for alias, current in (aliases or {}).items():
            if normalize_name(alias) == q and current in names:
                return [current]
        if " " not in q and "." in q:
            found = self._by_address_or_domain(q)
            if found:
                return found
        words = {n: normalize_name(n).split() for n in names}
        qw = q.split()
        for test in (
            lambda n: normalize_name(n).startswith(q),
            lambda n: any(words[n][i : i + len(qw)] == qw for i in range(len(words[n]))),
            lambda n: len(qw) == 1 and any(w.startswith(q) for w in words[n]),
        ):
            found = [n for n in names if test(n)]
            if found:
                return found
        return []

    def _by_address_or_domain(self, q: str) -> list[str]:
        email = q if "@" in q else None
        domain = q.rpartition("@")[2].strip(".")
        ids: list[int] = []
        if email:
            ids = [
                r[0]
                for r in self.conn.execute(
                    "SELECT customer_id FROM customer_addresses WHERE email = ?", (email,)
                )
            ]
        labels = domain.split(".")
        for i in range(len(labels) - 1):  # eu.birch.co.uk, birch.co.uk, co.uk
            if ids:
                break
            ids = [
                r[0]
                for r in self.conn.execute(
                    "SELECT customer_id FROM customer_domains WHERE domain = ?",
                    (".".join(labels[i:]),),
                )
            ]
        if not ids:
            return []
        return [
            r[0]
            for r in self.db.select_in(
                "SELECT name FROM customers WHERE id IN ({ids}) ORDER BY name", sorted(set(ids))
            )
        ]

    def names_by_id(self) -> dict[int, str]:
        return dict(self.conn.execute("SELECT id, name FROM customers"))

    def names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM customers ORDER BY name")]

    def domains(self, customer_id: int) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT domain FROM customer_domains WHERE customer_id = ? ORDER BY domain",
                (customer_id,),
            )
        ]

    def address_book(self) -> dict[int, tuple[list[str], list[str]]]:
        """customer id -> (its domains, its people's addresses): where its country shows."""
        out: dict[int, tuple[list[str], list[str]]] = {}
        for cid, domain in self.conn.execute(
            "SELECT customer_id, domain FROM customer_domains ORDER BY domain"
        ):
            out.setdefault(cid, ([], []))[0].append(domain)
        for cid, email in self.conn.execute(
            "SELECT customer_id, email FROM contacts UNION "
            "SELECT customer_id, email FROM customer_addresses ORDER BY email"
        ):
            out.setdefault(cid, ([], []))[1].append(email)
        return out

    def contacts(self, customer_id: int, own: Sequence[str]) -> list[dict[str, Any]]:
        """The customer's people (whom a draft may be addressed to), most used first: the
        addresses linking found to be its own (the `contacts` table: named by its rules,
        never the rep's, a colleague's or an automatic sender's), counted on its real (not
        auto-reply) messages. `own`, the rep's addresses, are left out whatever the table
        says."""
        placeholders = ",".join("?" * len(own)) or "''"
        rows = self.conn.execute(
            f"""
            SELECT a.email, MAX(a.name), COUNT(DISTINCT a.message_key),
                   MAX(m.date)
            FROM contacts p JOIN addresses a ON a.email = p.email
            JOIN links l ON l.message_key = a.message_key AND l.customer_id = p.customer_id
            JOIN messages m ON m.key = l.message_key
            WHERE p.customer_id = ? AND a.email NOT IN ({placeholders})
              AND a.role IN ('from', 'to', 'cc') AND m.is_auto = 0
            GROUP BY a.email ORDER BY COUNT(DISTINCT a.message_key) DESC, a.email
            """,
            (customer_id, *own),
        ).fetchall()
        return [
            {"email": r[0], "name": r[1] or "", "messages": r[2], "last_seen": r[3]} for r in rows
        ]

    def all_contacts(
        self, own: Sequence[str], per_customer: int
    ) -> dict[int, list[dict[str, Any]]]:
        """customer id -> its first `per_customer` contacts as `contacts` lists them, for every
        customer in one query (the report site)."""
        placeholders = ",".join("?" * len(own)) or "''"
        out: dict[int, list[dict[str, Any]]] = {}
        for cid, email, name, messages, last in self.conn.execute(
            f"""
            SELECT p.customer_id, a.email, MAX(a.name), COUNT(DISTINCT a.message_key),
                   MAX(m.date)
            FROM contacts p JOIN addresses a ON a.email = p.email
            JOIN links l ON l.message_key = a.message_key AND l.customer_id = p.customer_id
            JOIN messages m ON m.key = l.message_key
            WHERE a.email NOT IN ({placeholders})
              AND a.role IN ('from', 'to', 'cc') AND m.is_auto = 0
            GROUP BY p.customer_id, a.email
            ORDER BY p.customer_id, COUNT(DISTINCT a.message_key) DESC, a.email
            """,
            tuple(own),
        ):
            rows = out.setdefault(cid, [])
            if len(rows) < per_customer:
                rows.append({"email": email, "name": name or "", "messages": messages,
                             "last_seen": last})  # fmt: skip
        return out

    def timeline(self, customer_id: int, limit: int | None) -> list[dict[str, Any]]:
        sql = (
            "SELECT m.date, m.direction, m.from_email, m.from_name, m.subject, m.is_auto, "
            "m.message_id, l.method, m.key, m.to_json FROM links l JOIN messages m "
            "ON m.key = l.message_key WHERE l.customer_id = ? "
            "ORDER BY m.date DESC, m.rowid DESC"
        )
        params: tuple[Any, ...] = (customer_id,)
        if limit:
            sql += " LIMIT ?"
            params = (customer_id, limit)
        return [
            {
                "date": r[0],
                "direction": r[1],
                "from": r[2],
                "from_name": r[3] or "",
                "subject": r[4] or "",
                "auto": bool(r[5]),
                "message_id": r[6],
                "link": r[7],
                "key": r[8],
                "to": [e for _, e in json.loads(r[9] or "[]")],
            }
            for r in self.conn.execute(sql, params)
        ]

    # ------------------------------------------------------------------ the report site
    def ids_by_name(self) -> dict[str, int]:
        return {r[1]: r[0] for r in self.conn.execute("SELECT id, name FROM customers")}

    def monthly_mail(self, until: str) -> dict[int, dict[str, list[int]]]:
        """customer id -> 'YYYY-MM' (UTC) -> [inbound, outbound]: real mail (no auto-replies)
        each way per month, dated up to `until`, one query for every customer."""
        out: dict[int, dict[str, list[int]]] = {}
        for cid, month, inbound, outbound in self.conn.execute(
            "SELECT l.customer_id, substr(m.date, 1, 7), "
            "SUM(m.direction = 'inbound'), SUM(m.direction = 'outbound') "
            "FROM links l JOIN messages m ON m.key = l.message_key "
            "WHERE m.date <= ? AND m.is_auto = 0 AND m.direction IN ('inbound', 'outbound') "
            "GROUP BY 1, 2",
            (until,),
        ):
            out.setdefault(cid, {})[month] = [int(inbound), int(outbound)]
        return out

    def last_messages(self, until: str, per_customer: int) -> dict[int, list[dict[str, Any]]]:
        """customer id -> its newest `per_customer` messages dated up to `until`, newest first,
        each with a snippet of its new text (the reply part, else the body)."""
        out: dict[int, list[dict[str, Any]]] = {}
        for cid, date, direction, from_email, subject, snippet in self.conn.execute(
            "SELECT customer_id, date, direction, from_email, subject, snippet FROM ("
            " SELECT l.customer_id, m.date, m.direction, m.from_email, m.subject,"
            " substr(COALESCE(NULLIF(trim(m.reply_body), ''), m.body, ''), 1, 240) AS snippet,"
            " ROW_NUMBER() OVER (PARTITION BY l.customer_id ORDER BY m.date DESC, m.rowid DESC)"
            " AS n FROM links l JOIN messages m ON m.key = l.message_key WHERE m.date <= ?"
            ") WHERE n <= ? ORDER BY customer_id, n",
            (until, per_customer),
        ):
            out.setdefault(cid, []).append(
                {"date": date, "direction": direction, "from": from_email,
                 "subject": subject or "", "snippet": " ".join((snippet or "").split())}
            )  # fmt: skip
        return out
