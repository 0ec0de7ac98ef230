"""Mail tables: messages, addresses, folders, folder_messages, sync_runs, account_warnings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailkeeper.store.db import Database, iso, now_iso


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
    server_messages: int | None = None  # what STATUS said at the last sync


@dataclass(frozen=True)
class FolderEntry:
    """One message as seen in one folder."""

    uid: int
    message_key: str
    flags: tuple[str, ...]
    internaldate: datetime | None


@dataclass(frozen=True)
class MessageRows:
    """A parsed message as the rows the store writes. Built by the step that produces them
    (rows.message_rows, in the parse workers), so that the writer only inserts."""

    key: str
    row: tuple[Any, ...]  # the messages columns, in MESSAGE_COLUMNS order, minus first_seen_at
    addresses: tuple[tuple[Any, ...], ...]  # (message_key, role, email, name, domain, org_domain)


MESSAGE_COLUMNS = (
    "key, message_id, in_reply_to, refs, thread_key, date, date_offset_minutes, from_email, "
    "from_name, to_json, cc_json, reply_to_json, subject, direction, language, body, reply_body, "
    "is_auto, auto_reason, is_bulk, bulk_reason, html_only, attachments, defects, size, "
    "loose_key, first_seen_at"
)


_MESSAGE_MARKS = ",".join("?" * len(MESSAGE_COLUMNS.split(",")))
_NAMES = [c.strip() for c in MESSAGE_COLUMNS.split(",")]
_LOOSE, _BODY = _NAMES.index("loose_key"), _NAMES.index("body")
# What reading a message again may change: its text and what was found while reading it.
_TEXT_COLUMNS = ("language", "body", "reply_body", "html_only", "attachments", "defects")
_TEXT_AT = [_NAMES.index(c) for c in _TEXT_COLUMNS]


def _same_text(a: str | None, b: str | None) -> bool:
    """Texts of one message extracted by two versions of the code: equal but for white space,
    or nearly so (a repaired character, a line break). A reused Message-ID with other content
    differs more than that."""
    import difflib  # only when a loose key matches: rare

    x, y = re.sub(r"\s+", "", a or ""), re.sub(r"\s+", "", b or "")
    if x == y:
        return True
    matcher = difflib.SequenceMatcher(None, x[:4000], y[:4000], autojunk=False)
    return matcher.quick_ratio() >= 0.95 and matcher.ratio() >= 0.95


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def _clean_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(_clean(v) for v in row) for row in rows]


class MailStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn = db.conn

    # ------------------------------------------------------------------ folders
    def folder_state(self, account: str, folder: str) -> FolderState | None:
        row = self.conn.execute(
            "SELECT account, folder, role, uidvalidity, uidnext, last_uid, highestmodseq, "
            "last_sync_at, server_messages FROM folders WHERE account = ? AND folder = ?",
            (account, folder),
        ).fetchone()
        return FolderState(*row) if row else None

    def reset_folder(self, account: str, folder: str, role: str | None, uidvalidity: int) -> int:
        """Start a folder over under a new UIDVALIDITY. Returns how many old entries went.

        Messages themselves stay (they may be in other folders, and history is kept); only
        this folder's UID entries are dropped, so the resync re-adds them without duplicates.
        """
        with self.db.transaction():
            cur = self.conn.execute(
                "DELETE FROM folder_messages WHERE account = ? AND folder = ?", (account, folder)
            )
            self.conn.execute(
                "INSERT INTO folders (account, folder, role, uidvalidity, uidnext, last_uid, "
                "highestmodseq) VALUES (?, ?, ?, ?, NULL, 0, NULL) "
                "ON CONFLICT(account, folder) DO UPDATE SET role = excluded.role, "
                "uidvalidity = excluded.uidvalidity, uidnext = NULL, last_uid = 0, "
                "highestmodseq = NULL, server_messages = NULL",
                (account, folder, role, uidvalidity),
            )
        return cur.rowcount

    def set_folder_role(self, account: str, folder: str, role: str) -> None:
        self.conn.execute(
            "UPDATE folders SET role = ? WHERE account = ? AND folder = ?", (role, account, folder)
        )

    def mark_folder_synced(
        self,
        account: str,
        folder: str,
        uidnext: int | None,
        highestmodseq: int | None,
        server_messages: int | None = None,
    ) -> None:
        self.conn.execute(
            "UPDATE folders SET uidnext = ?, highestmodseq = ?, last_sync_at = ?, "
            "server_messages = ? WHERE account = ? AND folder = ?",
            (uidnext, highestmodseq, now_iso(), server_messages, account, folder),
        )

    def entry_count(self, account: str, folder: str, uidvalidity: int) -> int:
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM folder_messages WHERE account = ? AND folder = ? "
                "AND uidvalidity = ?",
                (account, folder, uidvalidity),
            ).fetchone()[0]
        )

    def entry_uids(self, account: str, folder: str, uidvalidity: int) -> set[int]:
        return {
            r[0]
            for r in self.conn.execute(
                "SELECT uid FROM folder_messages WHERE account = ? AND folder = ? "
                "AND uidvalidity = ?",
                (account, folder, uidvalidity),
            )
        }

    def remove_entries(
        self, account: str, folder: str, uidvalidity: int, uids: Iterable[int]
    ) -> list[str]:
        """Drop the entries of messages the server no longer has in `folder`. The messages
        stay: the history is the rep's record. Returns the keys whose entries went."""
        uids = list(uids)
        keys: list[str] = []
        with self.db.transaction():
            prefix = "account = ? AND folder = ? AND uidvalidity = ? AND uid IN ({ids})"
            for chunk in [uids[i : i + 400] for i in range(0, len(uids), 400)]:
                args = (account, folder, uidvalidity, *chunk)
                marks = ",".join("?" * len(chunk))
                where = prefix.format(ids=marks)
                keys += [
                    r[0]
                    for r in self.conn.execute(
                        f"SELECT message_key FROM folder_messages WHERE {where}", args
                    )
                ]
                self.conn.execute(f"DELETE FROM folder_messages WHERE {where}", args)
        return keys

    def forget_folders(self, account: str, keep: Iterable[str]) -> None:
        """Drop the cursor rows of folders the configuration no longer syncs (their entries
        stay, so the messages keep their history)."""
        keep = list(keep)
        marks = ",".join("?" * len(keep))
        self.conn.execute(
            f"DELETE FROM folders WHERE account = ? AND folder NOT IN ({marks})",
            (account, *keep),
        )

    def drop_vanished_folders(self, account: str, on_server: Iterable[str]) -> list[str]:
        """Drop the folder rows and entries of folders the server no longer has (deleted or
        renamed in the rep's mail client). The messages stay: the history is the rep's
        record, and a message that is still in another folder keeps that entry. Returns the
        folders dropped."""
        present = set(on_server)
        known = {
            r[0]
            for r in self.conn.execute(
                "SELECT folder FROM folders WHERE account = ? "
                "UNION SELECT DISTINCT folder FROM folder_messages WHERE account = ?",
                (account, account),
            )
        }
        gone = sorted(
            f for f in known - present if not (f.upper() == "INBOX" and "INBOX" in present)
        )
        if gone:
            with self.db.transaction():
                for folder in gone:
                    args = (account, folder)
                    self.conn.execute(
                        "DELETE FROM folder_messages WHERE account = ? AND folder = ?", args
                    )
                    self.conn.execute("DELETE FROM folders WHERE account = ? AND folder = ?", args)
        return gone

    # ------------------------------------------------------------------ messages
    def known_keys(self, keys: Iterable[str]) -> set[str]:
        return {
            r[0] for r in self.db.select_in("SELECT key FROM messages WHERE key IN ({ids})", keys)
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

        A message already stored (same key, or the same loose key: see `loose_key`) is not
        stored again; its new folder entry is, pointing at the stored one. Returns the keys
        that were new.
        """
        seen_at = now_iso()
        with self.db.batch_transaction(len(messages)):
            new_keys, same = self._insert_messages(messages, seen_at)
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
                        same.get(e.message_key, e.message_key),
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

    def _insert_messages(
        self, messages: Sequence[MessageRows], seen_at: str
    ) -> tuple[list[str], dict[str, str]]:
        """(keys stored now, {key: the stored key} for messages stored before under another
        key of the same loose key)."""
        unique: dict[str, MessageRows] = {}
        for m in messages:
            unique.setdefault(m.key, m)
        known = self.known_keys(unique)
        loose = {m.row[_LOOSE]: k for k, m in unique.items() if k not in known and m.row[_LOOSE]}
        same: dict[str, str] = {}
        if loose:
            for stored, lk, body in self.db.select_in(
                "SELECT key, loose_key, body FROM messages WHERE loose_key IN ({ids})", loose
            ):
                if _same_text(body, unique[loose[lk]].row[_BODY]):
                    same[loose[lk]] = stored
        rows = []
        addr_rows: list[tuple[Any, ...]] = []
        new_keys = []
        for key, m in unique.items():
            if key in known or key in same:
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
        return new_keys, same

    def _write_messages(
        self, rows: list[tuple[Any, ...]], addr_rows: list[tuple[Any, ...]]
    ) -> None:
        self.conn.executemany(
            f"INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES ({_MESSAGE_MARKS})", rows
        )
        self.conn.executemany(
            "INSERT INTO addresses (message_key, role, email, name, domain, org_domain) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            addr_rows,
        )

    def reread_uids(self, account: str, folder: str, uidvalidity: int) -> dict[int, str]:
        """UID -> message key of this folder's messages marked to be read again (see
        migrations.M011_REREAD_EMPTY_TEXT)."""
        return dict(
            self.conn.execute(
                "SELECT f.uid, f.message_key FROM folder_messages f "
                "JOIN reread r ON r.message_key = f.message_key "
                "WHERE f.account = ? AND f.folder = ? AND f.uidvalidity = ?",
                (account, folder, uidvalidity),
            )
        )

    def reread_done(self, read: dict[str, MessageRows], keys: Iterable[str]) -> None:
        """Store what reading the marked messages `keys` again gave (`read`: stored key ->
        the rows parsed now; a message gone meanwhile is missing) and unmark them all: each
        is read once. The stored key stays: folder entries, links and findings point at it."""
        with self.db.transaction():
            self.conn.executemany(
                "UPDATE messages SET "
                + ", ".join(f"{c} = ?" for c in _TEXT_COLUMNS)
                + " WHERE key = ?",
                [(*(m.row[i] for i in _TEXT_AT), key) for key, m in read.items()],
            )
            self.db.execute_in("DELETE FROM reread WHERE message_key IN ({ids})", list(keys))

    def update_flags(
        self, account: str, folder: str, uidvalidity: int, flags: dict[int, tuple[str, ...]]
    ) -> None:
        self.conn.executemany(
            "UPDATE folder_messages SET flags = ? WHERE account = ? AND folder = ? "
            "AND uidvalidity = ? AND uid = ?",
            [(" ".join(f), account, folder, uidvalidity, uid) for uid, f in flags.items()],
        )

    def message_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])

    def keys_after(self, rowid: int) -> tuple[list[str], int]:
        """Keys of the messages stored after row `rowid`, and the last row id there is."""
        rows = self.conn.execute(
            "SELECT key, rowid FROM messages WHERE rowid > ? ORDER BY rowid", (rowid,)
        ).fetchall()
        return [r[0] for r in rows], (rows[-1][1] if rows else rowid)

    # ------------------------------------------------------------------ runs and status
    def record_sync_run(
        self, account: str, started_at: str, new_messages: int, error: str | None
    ) -> None:
        self.conn.execute(
            "INSERT INTO sync_runs (account, started_at, finished_at, new_messages, error) "
            "VALUES (?, ?, ?, ?, ?)",
            (account, started_at, now_iso(), new_messages, error),
        )

    def last_sync(self) -> tuple[str | None, str | None, str | None]:
        """(last finished sync time, the error of the last run if it failed, and when)."""
        row = self.conn.execute(
            "SELECT finished_at, error FROM sync_runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if not row:
            return None, None, None
        ok = self.conn.execute(
            "SELECT MAX(finished_at) FROM sync_runs WHERE error IS NULL"
        ).fetchone()
        return ok[0], row[1], (row[0] if row[1] else None)

    def set_warnings(self, account: str, warnings: Iterable[str]) -> None:
        """The account's current warnings: new ones are added, those no longer true go."""
        warnings = list(dict.fromkeys(warnings))
        now = now_iso()
        self.conn.execute(
            f"DELETE FROM account_warnings WHERE account = ? "
            f"AND warning NOT IN ({','.join('?' * len(warnings))})",
            (account, *warnings),
        )
        self.conn.executemany(
            "INSERT OR IGNORE INTO account_warnings (account, warning, since) VALUES (?, ?, ?)",
            [(account, w, now) for w in warnings],
        )

    def warnings(self, account: str) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT warning FROM account_warnings WHERE account = ? ORDER BY since, warning",
                (account,),
            )
        ]

    def folders_report(self, account: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            """
            SELECT f.folder, f.role, f.uidvalidity, f.last_uid, f.last_sync_at,
                   COUNT(fm.uid), COUNT(DISTINCT fm.message_key)
            FROM folders f LEFT JOIN folder_messages fm
              ON fm.account = f.account AND fm.folder = f.folder
             AND fm.uidvalidity = f.uidvalidity
            WHERE f.account = ? GROUP BY f.account, f.folder ORDER BY f.role, f.folder
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
                "distinct": r[6],
                "last_sync_at": r[4],
            }
            for r in rows
        ]
