"""Promise 4 over IMAP: every real-world message of ../shared/corpus syncs; none stops the sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CORPUS, write_config

from mailkeeper.app import App

pytestmark = [pytest.mark.imap, pytest.mark.corpus]

SKIP = {"MANIFEST.tsv", "SOURCES.md"}


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in SKIP)


def test_whole_corpus_syncs_through_dovecot(tmp_path: Path, imap) -> None:
    files = corpus_files()
    for p in files:
        imap.deliver("INBOX", p.read_bytes(), user=imap.user)
    imap.index(imap.user)
    cfg = write_config(tmp_path / "cfg", imap, imap.user)
    with App.from_config(cfg) as app:
        [report] = app.sync()
        conn = app.store.conn
        entries = conn.execute("SELECT COUNT(*) FROM folder_messages").fetchone()[0]
        stored = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        with_defects = conn.execute(
            "SELECT COUNT(*) FROM messages WHERE defects != '[]'"
        ).fetchone()[0]
        shared = conn.execute(
            "SELECT COUNT(*) FROM (SELECT message_id FROM messages WHERE message_id IS NOT NULL "
            "GROUP BY message_id HAVING COUNT(*) > 1)"
        ).fetchone()[0]
        cjk = conn.execute(
            "SELECT COUNT(*) FROM messages WHERE language IN ('zh', 'ja', 'ko')"
        ).fetchone()[0]
        no_id = conn.execute("SELECT COUNT(*) FROM messages WHERE message_id IS NULL").fetchone()[0]
        sample = conn.execute("SELECT defects FROM messages WHERE defects != '[]' LIMIT 1").fetchone()
    # Every file is one UID in INBOX, stored and linked to its message row.
    assert entries == len(files)
    assert report.new_messages == stored
    # Identical bytes collapse to one message; different content never does, so the count of
    # distinct messages can only fall short of the file count by exact duplicates.
    assert stored > 0.95 * len(files)
    # Message-IDs reused by different messages stay separate messages (promise 3).
    assert shared >= 50
    assert no_id > 0 and with_defects > 100
    assert json.loads(sample[0])
    assert cjk > 50
