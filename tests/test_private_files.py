"""Files that hold mail or findings are private: 0600 (folders mailkeeper makes: 0700)
whatever the umask; checked under the common umask 022, where a plain open() makes 0644."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ME, MaildirBox, make_mail

from mailkeeper.app import App
from mailkeeper.config.defaults import init_config_dir
from mailkeeper.lock import daemon_lock, sync_lock

AS_OF = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)
CUSTOMERS = "customers:\n  - name: Birch & Co\n    domains: [birch.co.uk]\n    tier: A\n"


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_every_file_holding_mail_is_0600_under_umask_022(tmp_path: Path, umask_022) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.folder_dir("Drafts")
    box.deliver("INBOX", make_mail("Jane <jane@birch.co.uk>", ME, "Hi", date=AS_OF - timedelta(31)))
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Re: Hi", date=AS_OF - timedelta(30)))
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    # the database in a folder that does not exist yet: mailkeeper makes it, 0700
    text = cfg.read_text().replace("database: ./mailkeeper.db", "database: ./data/mk.db")
    cfg.write_text(text)
    db = tmp_path / "cfg" / "data" / "mk.db"
    with App.from_config(cfg) as app:
        app.sync()
        # while the connection is open the WAL and its index exist and hold mail text
        wal, shm = db.with_name("mk.db-wal"), db.with_name("mk.db-shm")
        assert wal.exists() and shm.exists()
        modes = {p.name: _mode(p) for p in (db, wal, shm)}
        assert modes == {"mk.db": "0o600", "mk.db-wal": "0o600", "mk.db-shm": "0o600"}
        app.draft(as_of=AS_OF)
    drafts = list((box.folder_dir("Drafts") / "cur").iterdir())
    assert drafts, "expected a check-in draft in the Maildir"
    assert {_mode(p) for p in drafts} == {"0o600"}
    assert _mode(db.parent) == "0o700"
    with sync_lock(db), daemon_lock(db):
        held = [p for p in db.parent.iterdir() if ".lock" in p.name]
        assert len(held) >= 4  # two locks, each with its holder file
        assert {p.name: _mode(p) for p in held} == {p.name: "0o600" for p in held}
    state = db.parent / "maildir-state"
    files = [p for p in state.rglob("*") if p.is_file()]
    assert files and {_mode(p) for p in files} == {"0o600"}
    assert {_mode(p) for p in state.rglob("*") if p.is_dir()} | {_mode(state)} == {"0o700"}
    # nothing beside the database is readable by others
    leaks = {
        str(p.relative_to(db.parent)): _mode(p)
        for p in db.parent.rglob("*")
        if p.stat().st_mode & 0o077
    }
    assert leaks == {}


def test_init_writes_the_config_that_may_hold_secrets_0600(tmp_path: Path, umask_022) -> None:
    dest = tmp_path / "new" / "mailkeeper"
    init_config_dir(dest)
    assert _mode(dest / "mailkeeper.yaml") == "0o600"
    assert _mode(dest) == "0o700"


def test_an_old_database_with_0644_files_is_made_private_when_opened(
    tmp_path: Path, umask_022
) -> None:
    from mailkeeper.store.db import Database

    path = tmp_path / "old.db"
    Database(path).close()
    for p in tmp_path.iterdir():
        p.chmod(0o644)
    database = Database(path)
    try:
        modes = {p.name: _mode(p) for p in tmp_path.iterdir()}
    finally:
        database.close()
    assert modes and set(modes.values()) == {"0o600"}, modes
