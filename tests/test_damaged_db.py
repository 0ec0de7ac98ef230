"""A damaged database is noticed: `check` runs PRAGMA quick_check and opens the file as
SQLite, `status` says when it last passed, and every command that meets a damaged page names
the file and says what to do (restore, or export the rep's records and rebuild by a sync)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ME, MaildirBox, make_mail

from mailkeeper.app import App
from mailkeeper.cli import cli

CUSTOMERS = "customers:\n" + "".join(
    f"  - name: Customer {i}\n    domains: [c{i}.example.com]\n    tier: B\n" for i in range(40)
)
PAGE = 4096


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def synced(tmp_path: Path) -> tuple[Path, Path]:
    """A config and its database after a sync of 300 messages, checkpointed (no WAL)."""
    box = MaildirBox(tmp_path / "Maildir")
    for n in range(300):
        frm = f"Person {n} <p{n}@c{n % 40}.example.com>"
        box.deliver("INBOX", make_mail(frm, ME, f"Order {n}", body=f"text {n} " * 40))
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    with App.from_config(cfg) as app:
        app.sync()
    db = tmp_path / "cfg" / "mailkeeper.db"
    return cfg, db


def _damage(db: Path, page: int, seed: int) -> None:
    rnd = random.Random(seed)
    with open(db, "r+b") as fh:
        fh.seek(page * PAGE)
        fh.write(bytes(rnd.getrandbits(8) for _ in range(PAGE)))


def test_check_passes_and_status_says_when(synced: tuple[Path, Path]) -> None:
    cfg, db = synced
    code, out = run("--config", str(cfg), "status")
    assert "quick_check): never" in out
    code, out = run("--config", str(cfg), "check", "--offline")
    assert code == 0, out
    assert f"database {db}: writable, quick_check ok" in out
    code, out = run("--config", str(cfg), "status", "--json")
    import json

    assert json.loads(out)["database_checked_at"].endswith("Z")


def test_damaged_pages_are_found_by_check_and_named_by_every_command(
    synced: tuple[Path, Path],
) -> None:
    cfg, db = synced
    pages = db.stat().st_size // PAGE
    assert pages >= 20
    original = db.read_bytes()
    # eight places, from the first pages after the header to the last
    for i, page in enumerate(
        sorted({1, 2, 3, pages // 4, pages // 2, 3 * pages // 4, pages - 2, pages - 1})
    ):
        db.write_bytes(original)
        _damage(db, page, seed=i)
        code, out = run("--config", str(cfg), "check", "--offline")
        assert code == 1, f"page {page} of {pages}: {out}"
        assert f"the database {db} is damaged" in out, out
        assert "restore" in out and "mailkeeper sync" in out and ".dump" in out
        for command in ("customers", "status", "neglected"):
            code, out = run("--config", str(cfg), command)
            if code != 0:  # the page it read was damaged: named, with advice
                assert f"the database {db} is damaged" in out, (command, page, out)
                assert "restore" in out


def test_a_database_that_is_not_sqlite_is_a_problem_in_check(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    cfg = box.config(tmp_path / "cfg", "customers: []\n")
    db = tmp_path / "cfg" / "mailkeeper.db"
    db.write_text("these are my notes, not a database\n" * 200)
    os.chmod(db, 0o600)
    code, out = run("--config", str(cfg), "check", "--offline")
    assert code == 1 and f"the database {db} is damaged (file is not a database)" in out, out
    code, out = run("--config", str(cfg), "sync")
    assert code == 1 and f"the database {db} is damaged" in out and "restore" in out, out


def test_dev_null_as_database_is_a_problem_in_check(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    cfg = box.config(tmp_path / "cfg", "customers: []\n")
    cfg.write_text(cfg.read_text().replace("database: ./mailkeeper.db", "database: /dev/null"))
    code, out = run("--config", str(cfg), "check", "--offline")
    assert code == 1 and "database: /dev/null is not a regular file" in out, out
