"""Promise 2: a sync cut at any point resumes with nothing lost and nothing duplicated."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import BIRCH, ME, make_mail, write_config
from cutproxy import CutProxy

from mailkeeper import sync as sync_module
from mailkeeper.app import App
from mailkeeper.errors import AuthError, ConnectionLost, LockedError
from mailkeeper.lock import sync_lock
from mailkeeper.store import db as store_db

pytestmark = pytest.mark.imap


def _fill(imap, n: int, folder: str = "INBOX", start: int = 0) -> None:
    for i in range(start, start + n):
        body = f"Order line {i}\n" + "Production is on schedule. " * 40
        imap.deliver(
            folder,
            make_mail(
                f"buyer{i % 7}@birch.co.uk", ME, f"Order {i}", body, msgid=f"<o{i}@birch.co.uk>"
            ),
            user=imap.user,
        )
    imap.index(imap.user)


def _linked(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT COUNT(DISTINCT message_key) FROM links").fetchone()[0]
    finally:
        conn.close()


def _counts(db: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(db)
    try:
        m = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        fm = conn.execute("SELECT COUNT(*) FROM folder_messages").fetchone()[0]
        uids = conn.execute(
            "SELECT COUNT(*) FROM (SELECT DISTINCT folder, uid FROM folder_messages)"
        ).fetchone()[0]
    finally:
        conn.close()
    return m, fm, uids


def canonical(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """What a sync decides, in a form two databases can be compared by: the messages, their
    folder entries, the links with their method and the customers with their counts (no
    timestamps of the run itself)."""
    conn = sqlite3.connect(db)
    try:
        q = conn.execute
        return {
            "messages": q(
                "SELECT key, message_id, thread_key, date, from_email, subject, direction, "
                "body, defects FROM messages ORDER BY key"
            ).fetchall(),
            "folder entries": q(
                "SELECT account, folder, uidvalidity, uid, message_key, flags FROM folder_messages "
                "ORDER BY account, folder, uid"
            ).fetchall(),
            "links": q(
                "SELECT l.message_key, c.name, l.method, l.via FROM links l "
                "JOIN customers c ON c.id = l.customer_id ORDER BY l.message_key, c.name"
            ).fetchall(),
            "customers": q(
                "SELECT c.name, c.tier, c.status, COUNT(DISTINCT l.message_key) FROM customers c "
                "LEFT JOIN links l ON l.customer_id = c.id GROUP BY c.id ORDER BY c.name"
            ).fetchall(),
        }
    finally:
        conn.close()


def assert_same_as_clean_sync(tmp_path: Path, imap, db: Path) -> None:
    """The database after an interrupted sync and its resumption equals a clean sync of the
    same mailbox into a new database (issue 8: "Done means")."""
    cfg = write_config(tmp_path / "clean", imap, imap.user, BIRCH)
    with App.from_config(cfg) as app:
        app.sync()
        clean = app.settings.database
    got, want = canonical(db), canonical(clean)
    for table in want:
        assert got[table] == want[table], f"{table} differ from a clean sync"


def _config_via(tmp_path: Path, imap, port: int, batch: int = 50) -> Path:
    cfg = write_config(tmp_path / "cfg", imap, imap.user, BIRCH)
    text = cfg.read_text().replace(f"port: {imap.port}", f"port: {port}")
    text = text.replace("accounts:", f"sync:\n  batch_size: {batch}\naccounts:\n", 1)
    cfg.write_text(text.replace("    tls: none", "    tls: none\n    timeout: 5"))
    return cfg


def _sync_cut_once(tmp_path: Path, imap, cut_after: int) -> tuple[Any, Path]:
    """A sync through a proxy that cuts the connection once, after `cut_after` bytes."""
    with CutProxy(imap.port, cut_after=cut_after, cut_connections=1) as proxy:
        with App.from_config(_config_via(tmp_path, imap, proxy.port)) as app:
            app.retry_delays = (0.1, 0.1, 0.1)
            [report] = app.sync()
            db = app.settings.database
        assert proxy.cuts == 1 and proxy.connections >= 2
    return report, db


def test_dropped_connection_mid_fetch_reconnects_and_completes(tmp_path: Path, imap) -> None:
    _fill(imap, 300)
    report, db = _sync_cut_once(tmp_path, imap, 120_000)
    assert report.new_messages == 300
    assert _counts(db) == (300, 300, 300)


def test_cut_during_a_bulk_first_sync_loses_nothing_and_counts_once(
    tmp_path: Path, imap, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large first sync groups batches into longer transactions (Store.bulk); a cut rolls
    back the open one, and the retry stores those messages again, counted once."""
    monkeypatch.setattr(sync_module, "POOL_THRESHOLD", 100)  # 300 messages: bulk mode
    monkeypatch.setattr(store_db, "BULK_MESSAGES", 120)  # commits after 150 and 300
    # ~1.4 KB per message fetched: the cut comes after batch 200-250 is saved, uncommitted
    _fill(imap, 300)
    report, db = _sync_cut_once(tmp_path, imap, 350_000)
    assert report.new_messages == 300
    assert sum(f.new for f in report.folders) == 300
    assert _counts(db) == (300, 300, 300)
    assert _linked(db) == 300


def test_connection_that_keeps_dropping_fails_clearly_and_keeps_progress(
    tmp_path: Path, imap
) -> None:
    _fill(imap, 300)
    cfg = _config_via(tmp_path, imap, 0)
    with CutProxy(imap.port, cut_after=150_000, cut_connections=99) as proxy:
        cfg.write_text(cfg.read_text().replace("port: 0", f"port: {proxy.port}"))
        with App.from_config(cfg) as app:
            app.retry_delays = (0.05,)
            with pytest.raises(ConnectionLost):
                app.sync()
            db = app.settings.database
            assert app.status()["last_error"]
    partial = _counts(db)
    assert 0 < partial[0] < 300  # whole batches were committed before the cut
    # Straight to the server now: the rest arrives, nothing twice.
    cfg.write_text(cfg.read_text().replace(f"port: {proxy.port}", f"port: {imap.port}"))
    with App.from_config(cfg) as app:
        [report] = app.sync()
        assert app.status()["last_error"] is None
    assert report.new_messages == 300 - partial[0]
    assert _counts(db) == (300, 300, 300)
    assert _linked(db) == 300
    assert_same_as_clean_sync(tmp_path, imap, db)


def test_kill_9_mid_sync_then_resume(tmp_path: Path, imap) -> None:
    """Only the sync process is killed (as the OOM killer would): its parse workers leave
    quietly, and the resumed sync ends where a clean one does."""
    _fill(imap, 10)
    cfg = _config_via(tmp_path, imap, imap.port, batch=100)
    db = tmp_path / "cfg" / "mailkeeper.db"
    with App.from_config(cfg) as app:  # an earlier, complete sync: rules applied, all linked
        app.sync()
    _fill(imap, 2990, start=10)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailkeeper", "--config", str(cfg), "sync"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                if _counts(db)[0] >= 210:
                    break
            except sqlite3.OperationalError:
                pass
        time.sleep(0.05)
    assert proc.poll() is None, (
        "sync finished before it could be killed: " + proc.stderr.read().decode()
    )
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    try:  # EOF once every process that shares the sync's stderr (its workers) is gone
        _, stderr = proc.communicate(timeout=10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    text = stderr.decode(errors="replace")
    assert "Traceback" not in text and "leaked" not in text, text
    partial = _counts(db)
    assert 10 < partial[0] < 3000
    with App.from_config(cfg) as app:
        [report] = app.sync()
    assert report.new_messages == 3000 - partial[0]
    assert _counts(db) == (3000, 3000, 3000)
    # The messages the killed run committed but never linked are linked now too.
    assert _linked(db) == 3000
    assert_same_as_clean_sync(tmp_path, imap, db)


def test_second_writer_is_refused_while_one_syncs(tmp_path: Path, imap) -> None:
    cfg = write_config(tmp_path / "cfg", imap, imap.user)
    with App.from_config(cfg) as app:
        with sync_lock(app.settings.database):
            with pytest.raises(LockedError, match=f"pid {os.getpid()}.*already syncing"):
                app.sync()
            # a one-off sync is not the daemon: only a running daemon is reported as one
            assert app.status()["daemon"]["running"] is False


def test_wrong_password_is_a_clear_auth_error(tmp_path: Path, imap) -> None:
    cfg = write_config(tmp_path / "cfg", imap, imap.user, password="wrong")
    with App.from_config(cfg) as app:
        with pytest.raises(AuthError, match="refused the login"):
            app.sync()


def test_server_restart_between_syncs(tmp_path: Path, imap) -> None:
    _fill(imap, 20)
    cfg = write_config(tmp_path / "cfg", imap, imap.user)
    with App.from_config(cfg) as app:
        app.sync()
        imap.restart()
        imap.deliver("INBOX", make_mail("x@birch.co.uk", ME, "after restart"), user=imap.user)
        [r] = app.sync()
        assert r.new_messages == 1
        assert app.store.mail.message_count() == 21


def test_a_bulk_first_sync_commits_by_time_so_repeated_cuts_make_progress(
    tmp_path: Path, imap, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8.7: bulk mode commits every BULK_MESSAGES messages *or* BULK_SECONDS, whichever
    comes first. With a message count no run reaches, a sync cut again and again still keeps
    what it fetched before each cut (by count alone, every cut rolled everything back)."""
    monkeypatch.setattr(sync_module, "POOL_THRESHOLD", 100)  # 300 messages: bulk mode
    monkeypatch.setattr(store_db, "BULK_MESSAGES", 10**6)  # never reached
    monkeypatch.setattr(store_db, "BULK_SECONDS", 0.0)  # ... but time always is
    _fill(imap, 300)
    cfg = _config_via(tmp_path, imap, 0, batch=20)
    # ~1.4 KB per message, batches of 20 (4 parsed ahead): the cut comes after some 200
    # messages were fetched, and about a hundred of them stored
    with CutProxy(imap.port, cut_after=350_000, cut_connections=99) as proxy:
        cfg.write_text(re.sub(r"port: \d+", f"port: {proxy.port}", cfg.read_text()))
        with App.from_config(cfg) as app:
            app.retry_delays = ()
            with pytest.raises(ConnectionLost):
                app.sync()
            db = app.settings.database
    stored = _counts(db)[0]
    assert 0 < stored < 300  # the cut run kept what it had stored (by count alone: 0)
