"""The SQLite store: the only module that speaks SQL.

Owns the schema (numbered migrations recorded in the database), the batched writes of the
sync (messages, their folder entries and the folder cursor in one transaction), and the
queries the CLI and the linker need. Column names are plain English so a rep can open the
file with sqlite-utils or Datasette.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailkeeper.domains import org_domain
from mailkeeper.errors import StoreError
from mailkeeper.model import Address, Message

if TYPE_CHECKING:
    import sqlite_utils

logger = logging.getLogger(__name__)


CACHE_KB = -65536  # 64 MB of SQLite page cache: index upkeep at 100k+ messages
BULK_MESSAGES = 2000  # messages per transaction during a large first sync (see Store.bulk)


def iso(dt: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, the one time format of the database and of --json."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return iso(datetime.now(UTC)) or ""


# --------------------------------------------------------------------------- migrations
def _m001_initial(db: sqlite_utils.Database) -> None:  # noqa: F821 - typing only
    db.executescript(
        """
        CREATE TABLE messages (
            key TEXT PRIMARY KEY,
            message_id TEXT,
            in_reply_to TEXT,
            refs TEXT,                      -- JSON list of Message-IDs, oldest first
            thread_key TEXT,
            date TEXT,                      -- ISO 8601 UTC
            date_offset_minutes INTEGER,    -- the sender's own UTC offset
            from_email TEXT,
            from_name TEXT,
            to_json TEXT,                   -- JSON [[name, email], ...]
            cc_json TEXT,
            reply_to_json TEXT,
            subject TEXT,
            direction TEXT,                 -- inbound | outbound
            language TEXT,
            body TEXT,                      -- full text
            reply_body TEXT,                -- quotes and signature stripped
            is_auto INTEGER NOT NULL DEFAULT 0,
            auto_reason TEXT,
            is_bulk INTEGER NOT NULL DEFAULT 0,
            bulk_reason TEXT,
            html_only INTEGER NOT NULL DEFAULT 0,
            attachments TEXT,               -- JSON [{filename, content_type, size}]
            defects TEXT,                   -- JSON list of strings
            size INTEGER,
            first_seen_at TEXT
        );
        CREATE INDEX messages_message_id ON messages(message_id);
        CREATE INDEX messages_thread_key ON messages(thread_key);
        CREATE INDEX messages_date ON messages(date);

        CREATE TABLE addresses (
            message_key TEXT NOT NULL REFERENCES messages(key),
            role TEXT NOT NULL,             -- from | to | cc | reply_to
            email TEXT NOT NULL,
            name TEXT,
            domain TEXT,
            org_domain TEXT                 -- registrable domain: birch.co.uk for mail.birch.co.uk
        );
        CREATE INDEX addresses_message_key ON addresses(message_key);
        CREATE INDEX addresses_email ON addresses(email);
        CREATE INDEX addresses_org_domain ON addresses(org_domain);

        CREATE TABLE folders (
            account TEXT NOT NULL,
            folder TEXT NOT NULL,
            role TEXT,                      -- inbox | sent | extra
            uidvalidity INTEGER,
            uidnext INTEGER,
            last_uid INTEGER NOT NULL DEFAULT 0,
            highestmodseq INTEGER,
            last_sync_at TEXT,
            note TEXT,
            PRIMARY KEY (account, folder)
        );

        CREATE TABLE folder_messages (
            account TEXT NOT NULL,
            folder TEXT NOT NULL,
            uidvalidity INTEGER NOT NULL,
            uid INTEGER NOT NULL,
            message_key TEXT NOT NULL REFERENCES messages(key),
            flags TEXT,
            internaldate TEXT,
            PRIMARY KEY (account, folder, uidvalidity, uid)
        );
        CREATE INDEX folder_messages_message_key ON folder_messages(message_key);

        CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            tier TEXT,
            status TEXT NOT NULL,           -- configured | discovered | ignored
            language TEXT,
            owner TEXT,
            notes TEXT,
            created_at TEXT,
            updated_at TEXT
        );
        CREATE TABLE customer_domains (
            domain TEXT PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers(id)
        );
        CREATE TABLE customer_addresses (
            email TEXT PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers(id)
        );
        CREATE TABLE links (
            message_key TEXT NOT NULL REFERENCES messages(key),
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            method TEXT NOT NULL,           -- address | domain | thread
            via TEXT,                       -- the address, domain or Message-ID that made it
            PRIMARY KEY (message_key, customer_id)
        );
        CREATE INDEX links_customer_id ON links(customer_id);

        CREATE TABLE sync_runs (
            id INTEGER PRIMARY KEY,
            account TEXT,
            started_at TEXT,
            finished_at TEXT,
            new_messages INTEGER,
            error TEXT
        );
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT
        );
        """
    )


def _m002_drop_unused_indexes(db: sqlite_utils.Database) -> None:  # noqa: F821
    """No query reads messages by thread_key or addresses by email yet, and every index costs
    each insert (100k first sync: store 10.0 -> 9.0 s). The step that needs one adds it."""
    db.executescript(
        """
        DROP INDEX IF EXISTS messages_thread_key;
        DROP INDEX IF EXISTS addresses_email;
        """
    )


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [  # noqa: F821
    ("m001_initial", _m001_initial),
    ("m002_drop_unused_indexes", _m002_drop_unused_indexes),
]


# --------------------------------------------------------------------------- rows
@dataclass(frozen=True)
class FolderState:
    account: str
    folder: str
    role: str | None
    uidvalidity: int | None
    uidnext: int | None
    last_uid: int
    highestmodseq: int | None
    last_sync_at: str | None


@dataclass(frozen=True)
class FolderEntry:
    """One message as seen in one folder."""

    uid: int
    message_key: str
    flags: tuple[str, ...]
    internaldate: datetime | None


@dataclass(frozen=True)
class MessageRows:
    """A parsed message as the rows the store writes: built by message_rows(), which is pure
    (no SQL), so that the parse workers can do it and the writer only inserts."""

    key: str
    row: tuple[Any, ...]  # the messages columns, in MESSAGE_COLUMNS order, minus first_seen_at
    addresses: tuple[tuple[Any, ...], ...]  # (message_key, role, email, name, domain, org_domain)


MESSAGE_COLUMNS = (
    "key, message_id, in_reply_to, refs, thread_key, date, date_offset_minutes, from_email, "
    "from_name, to_json, cc_json, reply_to_json, subject, direction, language, body, reply_body, "
    "is_auto, auto_reason, is_bulk, bulk_reason, html_only, attachments, defects, size, "
    "first_seen_at"
)


def message_rows(m: Message, direction: str) -> MessageRows:
    attachments = [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size}
        for a in m.attachments
    ]
    row = (
        m.key, m.message_id, m.in_reply_to, _json(m.references), m.thread_key, iso(m.date),
        m.date_offset_minutes, m.sender.email if m.sender else None,
        m.sender.name if m.sender else None, _addr_json(m.to), _addr_json(m.cc),
        _addr_json(m.reply_to), m.subject, direction, m.language, m.text, m.reply_text,
        int(m.is_auto), m.auto_reason, int(m.is_bulk), m.bulk_reason, int(m.has_html_only),
        _json(attachments), _json(m.defects), m.size,
    )  # fmt: skip
    addresses = []
    for role, addrs in (
        ("from", [m.sender] if m.sender else []),
        ("to", m.to),
        ("cc", m.cc),
        ("reply_to", m.reply_to),
    ):
        for a in addrs:
            if a.email:
                dom = _domain(a.email)
                addresses.append((m.key, role, a.email, a.name, dom, org_domain(dom)))
    return MessageRows(m.key, row, tuple(addresses))


_dumps = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps minus its per-call set-up


def _json(value: list[Any]) -> str:
    return _dumps(value) if value else "[]"


def _addr_json(addrs: Sequence[Address]) -> str:
    return _dumps([[a.name, a.email] for a in addrs]) if addrs else "[]"


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def _clean_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(_clean(v) for v in row) for row in rows]


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def _chunks(values: Iterable[Any], size: int = 500) -> Iterator[list[Any]]:
    """`values` in lists of at most `size`: SQLite limits the parameters of one statement."""
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _domain(email: str) -> str | None:
    _, _, dom = email.rpartition("@")
    return dom or None


class Store:
    """An open mailkeeper database."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        self._db: sqlite_utils.Database | None = None  # noqa: F821
        self._bulk = False
        self._bulk_pending = 0
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            else:
                conn = sqlite3.connect(":memory:", isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA cache_size={CACHE_KB}")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA foreign_keys=OFF")
            self.conn = conn
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"cannot open the database {path}: {e}") from e
        if self.path is not None:
            try:
                self.path.chmod(0o600)
            except OSError:
                pass

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ schema
    def _migrate(self) -> None:
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        done = {r[0] for r in self.conn.execute("SELECT name FROM migrations")}
        if all(name in done for name, _ in MIGRATIONS):
            return
        for name, fn in MIGRATIONS:
            if name in done:
                continue
            logger.info("applying migration %s", name)
            with self.transaction():
                fn(self.db)  # sqlite-utils is imported only when a migration runs
                self.conn.execute(
                    "INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, now_iso())
                )

    @property
    def db(self) -> sqlite_utils.Database:  # noqa: F821
        """sqlite-utils over the same connection (imported lazily: it pulls in numpy)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """For a large first sync: let the WAL grow (checkpointing every 1,000 pages rewrites
        the same index pages again and again), then checkpoint once at the end; and group
        save_batch() calls into transactions of about BULK_MESSAGES messages, because each
        commit writes every index page the batch touched (message keys are hashes, so a
        batch of 200 touches most leaf pages): 2,000-message commits write them 10x less.
        A batch's rows and its folder cursor still commit together, so a killed sync
        resumes exactly; it only redoes up to BULK_MESSAGES messages."""
        self.conn.execute("PRAGMA wal_autocheckpoint=50000")  # about 200 MB of WAL
        self._bulk = True
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
        finally:
            self._bulk = False
            self._bulk_pending = 0
            self.conn.execute("PRAGMA wal_autocheckpoint=1000")
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    @property
    def uncommitted(self) -> bool:
        """True while bulk mode holds batches that are not committed yet."""
        return self._bulk and self.conn.in_transaction

    @contextmanager
    def _batch_transaction(self, messages: int) -> Iterator[None]:
        """One save_batch(): its own transaction, or in bulk mode part of a longer one."""
        if not self._bulk:
            with self.transaction():
                yield
            return
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
        yield  # on an exception bulk() rolls back everything not yet committed
        self._bulk_pending += messages
        if self._bulk_pending >= BULK_MESSAGES:
            self.conn.execute("COMMIT")
            self._bulk_pending = 0

    def columns(self, table: str) -> list[str]:
        return [c.name for c in self.db[table].columns]

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ------------------------------------------------------------------ folders
    def folder_state(self, account: str, folder: str) -> FolderState | None:
        row = self.conn.execute(
            "SELECT account, folder, role, uidvalidity, uidnext, last_uid, highestmodseq, "
            "last_sync_at FROM folders WHERE account = ? AND folder = ?",
            (account, folder),
        ).fetchone()
        return FolderState(*row) if row else None

    def reset_folder(self, account: str, folder: str, role: str | None, uidvalidity: int) -> int:
        """Start a folder over under a new UIDVALIDITY. Returns how many old entries went.

        Messages themselves stay (they may be in other folders, and history is kept); only
        this folder's UID entries are dropped, so the resync re-adds them without duplicates.
        """
        with self.transaction():
            cur = self.conn.execute(
                "DELETE FROM folder_messages WHERE account = ? AND folder = ?", (account, folder)
            )
            self.conn.execute(
                "INSERT INTO folders (account, folder, role, uidvalidity, uidnext, last_uid, "
                "highestmodseq) VALUES (?, ?, ?, ?, NULL, 0, NULL) "
                "ON CONFLICT(account, folder) DO UPDATE SET role = excluded.role, "
                "uidvalidity = excluded.uidvalidity, uidnext = NULL, last_uid = 0, "
                "highestmodseq = NULL",
                (account, folder, role, uidvalidity),
            )
        return cur.rowcount

    def mark_folder_synced(
        self,
        account: str,
        folder: str,
        uidnext: int | None,
        highestmodseq: int | None,
        at: str | None = None,
    ) -> None:
        self.conn.execute(
            "UPDATE folders SET uidnext = ?, highestmodseq = ?, last_sync_at = ? "
            "WHERE account = ? AND folder = ?",
            (uidnext, highestmodseq, at or now_iso(), account, folder),
        )

    def _select_in(self, sql: str, values: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        """Rows of `sql` whose `{ids}` stands for the placeholders of `values`, 500 at a time."""
        for chunk in _chunks(values):
            yield from self.conn.execute(sql.format(ids=_marks(chunk)), chunk)

    def known_keys(self, keys: Iterable[str]) -> set[str]:
        return {
            r[0] for r in self._select_in("SELECT key FROM messages WHERE key IN ({ids})", keys)
        }

    def save_batch(
        self,
        account: str,
        folder: str,
        uidvalidity: int,
        messages: Sequence[MessageRows],
        entries: Sequence[FolderEntry],
        last_uid: int,
    ) -> list[str]:
        """Store one fetched batch and move the folder cursor, in one transaction.

        `messages` come from message_rows(). A message already stored (same key) is not
        stored again; its new folder entry is. Returns the keys that were new.
        """
        seen_at = now_iso()
        with self._batch_transaction(len(messages)):
            new_keys = self._insert_messages(messages, seen_at)
            self.conn.executemany(
                "INSERT OR REPLACE INTO folder_messages "
                "(account, folder, uidvalidity, uid, message_key, flags, internaldate) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        account,
                        folder,
                        uidvalidity,
                        e.uid,
                        e.message_key,
                        " ".join(e.flags),
                        iso(e.internaldate),
                    )
                    for e in entries
                ],
            )
            self.conn.execute(
                "UPDATE folders SET last_uid = MAX(last_uid, ?), last_sync_at = ? "
                "WHERE account = ? AND folder = ? AND uidvalidity = ?",
                (last_uid, seen_at, account, folder, uidvalidity),
            )
        return new_keys

    def _insert_messages(self, messages: Sequence[MessageRows], seen_at: str) -> list[str]:
        unique: dict[str, MessageRows] = {}
        for m in messages:
            unique.setdefault(m.key, m)
        known = self.known_keys(unique)
        rows = []
        addr_rows: list[tuple[Any, ...]] = []
        new_keys = []
        for key, m in unique.items():
            if key in known:
                continue
            new_keys.append(key)
            rows.append((*m.row, seen_at))
            addr_rows.extend(m.addresses)
        self.conn.execute("SAVEPOINT write_messages")
        try:
            self._write_messages(rows, addr_rows)
        except UnicodeEncodeError:  # a lone surrogate from undecodable header bytes
            self.conn.execute("ROLLBACK TO write_messages")
            self._write_messages(_clean_rows(rows), _clean_rows(addr_rows))
        self.conn.execute("RELEASE write_messages")
        return new_keys

    def _write_messages(
        self, rows: list[tuple[Any, ...]], addr_rows: list[tuple[Any, ...]]
    ) -> None:
        self.conn.executemany(
            f"INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES ({','.join('?' * 26)})",
            rows,
        )
        self.conn.executemany(
            "INSERT INTO addresses (message_key, role, email, name, domain, org_domain) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            addr_rows,
        )

    def update_flags(
        self, account: str, folder: str, uidvalidity: int, flags: dict[int, tuple[str, ...]]
    ) -> None:
        self.conn.executemany(
            "UPDATE folder_messages SET flags = ? WHERE account = ? AND folder = ? "
            "AND uidvalidity = ? AND uid = ?",
            [(" ".join(f), account, folder, uidvalidity, uid) for uid, f in flags.items()],
        )

    def record_sync_run(
        self, account: str, started_at: str, new_messages: int, error: str | None
    ) -> None:
        self.conn.execute(
            "INSERT INTO sync_runs (account, started_at, finished_at, new_messages, error) "
            "VALUES (?, ?, ?, ?, ?)",
            (account, started_at, now_iso(), new_messages, error),
        )

    # ------------------------------------------------------------------ customers
    def customer_maps(self) -> tuple[dict[str, int], dict[str, int], dict[int, tuple[str, str]]]:
        """(email -> customer id, domain -> customer id, id -> (name, status))."""
        emails = dict(self.conn.execute("SELECT email, customer_id FROM customer_addresses"))
        domains = dict(self.conn.execute("SELECT domain, customer_id FROM customer_domains"))
        info = {
            r[0]: (r[1], r[2]) for r in self.conn.execute("SELECT id, name, status FROM customers")
        }
        return emails, domains, info

    def upsert_customer(
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

    def rename_customer(self, customer_id: int, new_name: str) -> None:
        self.conn.execute(
            "UPDATE customers SET name = ?, updated_at = ? WHERE id = ?",
            (new_name, now_iso(), customer_id),
        )

    def set_customer_status(self, customer_id: int, status: str) -> None:
        self.conn.execute(
            "UPDATE customers SET status = ?, updated_at = ? WHERE id = ?",
            (status, now_iso(), customer_id),
        )

    def replace_customer_keys(self, domains: dict[str, int], emails: dict[str, int]) -> None:
        self.conn.execute("DELETE FROM customer_domains")
        self.conn.execute("DELETE FROM customer_addresses")
        self.conn.executemany(
            "INSERT INTO customer_domains (domain, customer_id) VALUES (?, ?)", domains.items()
        )
        self.conn.executemany(
            "INSERT INTO customer_addresses (email, customer_id) VALUES (?, ?)", emails.items()
        )

    def add_customer_domain(self, domain: str, customer_id: int) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO customer_domains (domain, customer_id) VALUES (?, ?)",
            (domain, customer_id),
        )

    def delete_customers(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        for cid in ids:
            self.conn.execute("DELETE FROM links WHERE customer_id = ?", (cid,))
            self.conn.execute("DELETE FROM customer_domains WHERE customer_id = ?", (cid,))
            self.conn.execute("DELETE FROM customer_addresses WHERE customer_id = ?", (cid,))
            self.conn.execute("DELETE FROM customers WHERE id = ?", (cid,))

    def customers_by_status(self) -> list[tuple[int, str, str]]:
        return list(self.conn.execute("SELECT id, name, status FROM customers ORDER BY id"))

    # ------------------------------------------------------------------ linking inputs
    def keys_after(self, rowid: int) -> tuple[list[str], int]:
        """Keys of the messages stored after row `rowid`, and the last row id there is."""
        rows = self.conn.execute(
            "SELECT key, rowid FROM messages WHERE rowid > ? ORDER BY rowid", (rowid,)
        ).fetchall()
        return [r[0] for r in rows], (rows[-1][1] if rows else rowid)

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
            for r in self._select_in(
                "SELECT key, date, rowid FROM messages WHERE key IN ({ids})", dict.fromkeys(keys)
            )
        )
        return [d[3] for d in dated]

    def link_inputs(self, keys: Sequence[str]) -> Iterator[dict[str, Any]]:
        """What linking needs of each message in `keys`, in the order of `keys`."""
        found: dict[str, dict[str, Any]] = {}
        for key, mid, irt, refs, direction, is_auto, is_bulk, role, email, org in self._select_in(
            "SELECT m.key, m.message_id, m.in_reply_to, m.refs, m.direction, m.is_auto, "
            "m.is_bulk, a.role, a.email, a.org_domain FROM messages m "
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
                    "direction": direction,
                    "is_auto": bool(is_auto),
                    "is_bulk": bool(is_bulk),
                    "addresses": [],
                }
            if role is not None:
                m["addresses"].append((role, email, org))
        for key in keys:
            if key in found:
                yield found[key]

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
        return set(self._select_in(sql + " AND a.message_key IN ({ids})", keys))

    def thread_customers(self, message_ids: Iterable[str]) -> dict[str, set[int]]:
        """Message-ID -> the customers its message(s) are linked to."""
        out: dict[str, set[int]] = {}
        for mid, cid in self._select_in(
            "SELECT m.message_id, l.customer_id FROM messages m JOIN links l "
            "ON l.message_key = m.key WHERE m.message_id IN ({ids})",
            {m for m in message_ids if m},
        ):
            out.setdefault(mid, set()).add(cid)
        return out

    def domain_directions(self, domains: Iterable[str]) -> dict[str, dict[str, int]]:
        """Per registrable domain: how many real (not auto, not bulk) inbound messages came from
        it and outbound messages went to it."""
        out: dict[str, dict[str, int]] = {}
        for domain, direction, role, n in self._select_in(
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

    def replace_links(
        self, keys: Sequence[str] | None, links: Iterable[tuple[str, int, str, str | None]]
    ) -> None:
        """Drop the links of `keys` (None: all) and write `links` (key, customer, method, via)."""
        if keys is None:
            self.conn.execute("DELETE FROM links")
        else:
            for chunk in _chunks(keys):
                self.conn.execute(
                    f"DELETE FROM links WHERE message_key IN ({_marks(chunk)})", chunk
                )
        self.conn.executemany(
            "INSERT OR IGNORE INTO links (message_key, customer_id, method, via) "
            "VALUES (?, ?, ?, ?)",
            links,
        )

    def keys_with_org_domains(self, domains: Iterable[str]) -> set[str]:
        """Keys of the messages with an address in one of `domains` (registrable)."""
        return {
            r[0]
            for r in self._select_in(
                "SELECT DISTINCT message_key FROM addresses WHERE org_domain IN ({ids})", domains
            )
        }

    # ------------------------------------------------------------------ reports
    def customers_report(self, customer_id: int | None = None) -> list[dict[str, Any]]:
        """Every customer (or the one with `customer_id`) with its counts and last dates."""
        rows = self.conn.execute(
            """
            SELECT c.name, c.tier, c.status,
                   COUNT(l.message_key) AS messages,
                   MAX(CASE WHEN m.direction = 'inbound' AND m.is_auto = 0 THEN m.date END),
                   MAX(CASE WHEN m.direction = 'outbound' AND m.is_auto = 0 THEN m.date END)
            FROM customers c
            LEFT JOIN links l ON l.customer_id = c.id
            LEFT JOIN messages m ON m.key = l.message_key
            WHERE ? IS NULL OR c.id = ?
            GROUP BY c.id
            ORDER BY CASE c.status WHEN 'configured' THEN 0 WHEN 'discovered' THEN 1 ELSE 2 END,
                     c.tier IS NULL, c.tier, c.name COLLATE NOCASE
            """,
            (customer_id, customer_id),
        ).fetchall()
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

    def find_customer(self, name: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT id, name, tier, status, language, owner, notes FROM customers "
            "WHERE name = ? COLLATE NOCASE",
            (name,),
        ).fetchone()
        if row is None:
            return None
        keys = ("id", "name", "tier", "status", "language", "owner", "notes")
        return dict(zip(keys, row, strict=True))

    def customer_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM customers ORDER BY name")]

    def customer_domains(self, customer_id: int) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT domain FROM customer_domains WHERE customer_id = ? ORDER BY domain",
                (customer_id,),
            )
        ]

    def customer_contacts(self, customer_id: int, own: Sequence[str]) -> list[dict[str, Any]]:
        """External addresses seen on the customer's messages, most used first."""
        placeholders = ",".join("?" * len(own)) or "''"
        rows = self.conn.execute(
            f"""
            SELECT a.email, MAX(a.name), COUNT(DISTINCT a.message_key),
                   MAX(m.date)
            FROM links l JOIN addresses a ON a.message_key = l.message_key
            JOIN messages m ON m.key = l.message_key
            WHERE l.customer_id = ? AND a.email NOT IN ({placeholders})
              AND a.role IN ('from', 'to', 'cc')
            GROUP BY a.email ORDER BY COUNT(DISTINCT a.message_key) DESC, a.email
            """,
            (customer_id, *own),
        ).fetchall()
        return [
            {"email": r[0], "name": r[1] or "", "messages": r[2], "last_seen": r[3]} for r in rows
        ]

    def customer_timeline(self, customer_id: int, limit: int | None) -> list[dict[str, Any]]:
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
        out = []
        for r in self.conn.execute(sql, params):
            out.append(
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
            )
        return out

    def folders_report(self, account: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            """
            SELECT f.folder, f.role, f.uidvalidity, f.last_uid, f.last_sync_at,
                   (SELECT COUNT(DISTINCT fm.message_key) FROM folder_messages fm
                    WHERE fm.account = f.account AND fm.folder = f.folder
                      AND fm.uidvalidity = f.uidvalidity)
            FROM folders f WHERE f.account = ? ORDER BY f.role, f.folder
            """,
            (account,),
        ).fetchall()
        return [
            {
                "name": r[0],
                "role": r[1],
                "uidvalidity": r[2],
                "last_uid": r[3],
                "messages": r[5],
                "last_sync_at": r[4],
            }
            for r in rows
        ]

    def message_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])

    def last_sync(self) -> tuple[str | None, str | None]:
        """(last finished sync time, the error of the last run if it failed)."""
        row = self.conn.execute(
            "SELECT finished_at, error FROM sync_runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if not row:
            return None, None
        ok = self.conn.execute(
            "SELECT MAX(finished_at) FROM sync_runs WHERE error IS NULL"
        ).fetchone()
        return ok[0], row[1]

    def size_bytes(self) -> int:
        if self.path is None or not self.path.exists():
            return 0
        total = self.path.stat().st_size
        wal = self.path.with_name(self.path.name + "-wal")
        if wal.exists():
            total += wal.stat().st_size
        return total
