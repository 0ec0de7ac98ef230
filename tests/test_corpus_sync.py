"""Promise 4 over IMAP: every real-world message of ../shared/corpus syncs; none stops the sync."""

from __future__ import annotations

import email
import email.policy
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
        sample = conn.execute(
            "SELECT defects FROM messages WHERE defects != '[]' LIMIT 1"
        ).fetchone()
        merged = conn.execute(
            "SELECT message_key, GROUP_CONCAT(uid) FROM folder_messages GROUP BY message_key "
            "HAVING COUNT(*) > 1"
        ).fetchall()
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
    # Where files did collapse into one message, they are the same message: same Message-ID,
    # Date, From and Subject and the same size with CRLF line ends (LF/CRLF copies, a relay
    # hop rewritten in Received:, MIME parts in another order).
    assert merged and len(files) - stored == sum(len(u.split(",")) - 1 for _, u in merged)
    for _, uids in merged:
        group = [files[int(u) - 1].read_bytes() for u in uids.split(",")]
        assert len({_identity(raw) for raw in group}) == 1, [
            files[int(u) - 1] for u in uids.split(",")
        ]


def _identity(raw: bytes) -> tuple[object, ...]:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    crlf_size = len(raw) + raw.count(b"\n") - raw.count(b"\r\n")
    return (*(str(msg[h]) for h in ("Message-ID", "Date", "From", "Subject")), crlf_size)
