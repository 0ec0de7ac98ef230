"""The shared connection: opening, pragmas, migrations, transactions and bulk mode.

Every table family (mail.py, customers.py, links.py, state.py) is a small class over one
Database, so a call such as `store.mail.save_batch(...)` shows which tables it touches.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailkeeper.errors import StoreError
from mailkeeper.files import private_file
from mailkeeper.store.migrations import MIGRATIONS

logger = logging.getLogger(__name__)

OPEN_TIMEOUT = 30.0  # seconds another process may hold the database before we give up
CACHE_KB = -65536  # 64 MB of SQLite page cache: index upkeep at 100k+ messages
BULK_MESSAGES = 2000  # messages per transaction during a large first sync (see Database.bulk)
# ...and at most this many seconds between commits, so that a sync killed again and again
# still makes progress (a first sync commits about every 2 s at 1,000+ messages a second).
BULK_SECONDS = 1.5


def iso(dt: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, the one time format of the database and of --json."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return iso(datetime.now(UTC)) or ""


def marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def chunks(values: Iterable[Any], size: int = 500) -> Iterator[list[Any]]:
    """`values` in lists of at most `size`: SQLite limits the parameters of one statement."""
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i : i + size]


def side_files(path: Path) -> tuple[Path, Path]:
    """The WAL and its index beside the database: they hold mail text too."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def writable(path: Path) -> bool:
    """Whether this process may write the database file at `path` and its WAL beside it."""
    if not os.access(path, os.W_OK):
        return False
    if os.access(path.parent, os.W_OK):
        return True
    return all(os.access(p, os.W_OK) for p in side_files(path))


def wal_mode(conn: sqlite3.Connection, wait: float = OPEN_TIMEOUT) -> None:
    """Switch `conn`'s database to WAL, waiting up to `wait` seconds for other processes.

    On a brand-new file, processes that open it at once each read it (a shared lock) and then
    ask to write its header; SQLite refuses the second one at once with "database is locked",
    without waiting, because two readers that both wait to write would wait forever. So the
    switch is tried again until the first one has done it (then it is a no-op)."""
    deadline = time.monotonic() + wait
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            busy = e.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # "database is locked"
            if not busy or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


# ----------------------------------------------------------------------------- damage
# SQLite's primary result codes for a damaged file: SQLITE_CORRUPT ("database disk image is
# malformed") and SQLITE_NOTADB ("file is not a database").
_DAMAGE_CODES = (11, 26)
QUICK_CHECK_KEY = "quick_check_ok_at"
# The rep's own records: what a rebuild from the mailbox cannot bring back (README: "A
# damaged database").
OWN_TABLES = ("orders", "order_events", "order_problems", "snoozes", "finding_events", "drafts")


def is_damage(exc: BaseException) -> bool:
    """Whether `exc` is SQLite saying the file is damaged or not a database at all."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _DAMAGE_CODES
    text = str(exc)
    return "malformed" in text or "not a database" in text


class DamagedError(StoreError):
    """The database file is damaged or not a database; `problems` say what to do."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


def damaged(path: Path | str | None, why: object) -> DamagedError:
    """The error for a damaged database at `path`: the file, what SQLite said, what to do."""
    where = str(path) if path is not None else "the database"
    tables = " ".join(OWN_TABLES)
    return DamagedError(
        f"the database {where} is damaged ({why})",
        [
            f"restore {where} from a backup, or rebuild it: a fresh sync rebuilds every "
            "message, customer and finding from the mailbox",
            "before rebuilding, export your own records (orders, snoozes, resolved and "
            f"dismissed findings, drafts): sqlite3 {where} '.dump {tables}' > my-records.sql "
            "(or `.recover` when .dump stops at the damage)",
            f"then move it aside with its -wal and -shm files (mv {where} {where}.damaged) "
            "and run `mailkeeper sync`; see the README, 'A damaged database'",
        ],
    )


def integrity_problem(path: Path) -> str | None:
    """None when the file at `path` is a SQLite database that passes PRAGMA quick_check
    (every page and index readable and consistent, in time linear in the file's size), or
    when it cannot be judged (not readable: the writability check says why); else what is
    wrong, in SQLite's words. Opened read-only: nothing is written."""
    uri = path.absolute().as_uri()
    for mode in ("mode=ro", "immutable=1"):  # immutable: a read-only mount without a -shm
        try:
            conn = sqlite3.connect(f"{uri}?{mode}", uri=True, isolation_level=None, timeout=5)
            try:
                rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
            finally:
                conn.close()
        except sqlite3.DatabaseError as e:
            if is_damage(e):
                return str(e)
            continue
        return None if rows == ["ok"] else "; ".join(str(r) for r in rows)
    return None


def record_quick_check(path: Path) -> bool:
    """Store the time the database at `path` last passed quick_check (for `status`); False
    when it cannot be written now (read-only, busy, or not a mailkeeper database yet)."""
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=2)
    except sqlite3.Error:
        return False
    try:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (QUICK_CHECK_KEY, now_iso()),
        )
        return True
    except sqlite3.Error:
        return False
    finally:
        conn.close()


class ReadOnlyError(StoreError):
    """A write was asked of a database opened read-only."""


class Database:
    """One SQLite connection in WAL mode, migrated to the current schema.

    A database file this process may not write (another user's, a read-only mount) is
    opened read-only: reading works, and any write raises ReadOnlyError with the reason."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        self._bulk = False
        self._bulk_pending = 0
        self._bulk_since = 0.0
        self.readonly = self.path is not None and self.path.is_file() and not writable(self.path)
        try:
            if self.path is None:
                conn = sqlite3.connect(":memory:", isolation_level=None)
            elif self.readonly:
                conn = self._open_readonly(self.path)
            else:
                private_file(self.path)
                conn = sqlite3.connect(str(self.path), timeout=OPEN_TIMEOUT, isolation_level=None)
            self.conn = conn
            if not self.readonly:
                wal_mode(conn)
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA cache_size={CACHE_KB}")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA foreign_keys=OFF")
            self._migrate()
        except sqlite3.DatabaseError as e:
            if is_damage(e):
                raise damaged(path, e) from e
            raise StoreError(f"cannot open the database {path}: {e}") from e
        except OSError as e:  # the folder cannot be made: under a file, no permission ...
            raise StoreError(f"cannot open the database {path}: {e.strerror or e}") from e
        if self.path is not None and not self.readonly:
            # A database made by an older version (or copied in) may have 0644 files beside
            # it; SQLite gives new -wal/-shm files the database file's mode.
            for p in (self.path, *side_files(self.path)):
                try:
                    if p.exists() and p.stat().st_mode & 0o077:
                        p.chmod(0o600)
                except OSError:
                    pass

    @staticmethod
    def _open_readonly(path: Path) -> sqlite3.Connection:
        """mode=ro reads a WAL database when its -shm file exists or can be made; on a
        read-only mount without one, `immutable` (nobody can write there either)."""
        uri = path.absolute().as_uri()
        try:
            conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            logger.info("opening %s immutable: its WAL index cannot be made", path)
            return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)

    def refuse_writes(self, what: str) -> None:
        """Raise ReadOnlyError when the database is read-only; `what` names the write."""
        if self.readonly:
            raise ReadOnlyError(
                f"the database {self.path} is read-only for this user, so {what} cannot write "
                "to it (customers, customer and status still work)"
            )

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------------ schema
    def _applied(self) -> set[str] | None:
        try:
            return {r[0] for r in self.conn.execute("SELECT name FROM migrations")}
        except sqlite3.OperationalError:  # a brand-new database
            return None

    def _migrate(self) -> None:
        done = self._applied()
        if done is not None and all(name in done for name, _ in MIGRATIONS):
            return
        self.refuse_writes("upgrading its tables")
        # Take the write lock before deciding what to apply: two processes opening a new
        # database at once must not both create its tables.
        with self.transaction():
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
            )
            done = self._applied() or set()
            for name, statements in MIGRATIONS:
                if name in done:
                    continue
                logger.info("applying migration %s", name)
                for step in statements:
                    if callable(step):
                        step(self.conn)
                    else:
                        self.conn.execute(step)
                self.conn.execute(
                    "INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, now_iso())
                )

    def columns(self, table: str) -> list[str]:
        return [r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")]

    def tables(self) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]

    # ------------------------------------------------------------------ queries
    def select_in(self, sql: str, values: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        """Rows of `sql` whose `{ids}` stands for the placeholders of `values`, 500 at a time."""
        for chunk in chunks(values):
            yield from self.conn.execute(sql.format(ids=marks(chunk)), chunk)

    def execute_in(self, sql: str, values: Iterable[Any]) -> int:
        """Run a write whose `{ids}` stands for `values`, 500 at a time; rows changed."""
        n = 0
        for chunk in chunks(values):
            n += self.conn.execute(sql.format(ids=marks(chunk)), chunk).rowcount
        return n

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.refuse_writes("this command")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """For a large first sync: let the WAL grow (checkpointing every 1,000 pages rewrites
        the same index pages again and again), then checkpoint once at the end; and group
        batch writes into transactions of about BULK_MESSAGES messages or BULK_SECONDS,
        whichever comes first, because each commit writes every index page the batch touched
        (message keys are hashes, so a batch of 200 touches most leaf pages). A batch's rows
        and its folder cursor still commit together, so a killed sync resumes exactly; it
        only redoes what was not committed yet."""
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

    @property
    def uncommitted(self) -> bool:
        """True while bulk mode holds batches that are not committed yet."""
        return self._bulk and self.conn.in_transaction

    @contextmanager
    def batch_transaction(self, messages: int) -> Iterator[None]:
        """One batch write: its own transaction, or in bulk mode part of a longer one."""
        if not self._bulk:
            with self.transaction():
                yield
            return
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
            self._bulk_since = time.monotonic()
        yield  # on an exception bulk() rolls back everything not yet committed
        self._bulk_pending += messages
        if (
            self._bulk_pending >= BULK_MESSAGES
            or time.monotonic() - self._bulk_since >= BULK_SECONDS
        ):
            self.conn.execute("COMMIT")
            self._bulk_pending = 0

    def size_bytes(self) -> int:
        if self.path is None or not self.path.exists():
            return 0
        total = self.path.stat().st_size
        wal = self.path.with_name(self.path.name + "-wal")
        if wal.exists():
            total += wal.stat().st_size
        return total
