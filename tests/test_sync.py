"""Sync against a real Dovecot: first sync, resync, new mail, UIDVALIDITY, identity, flags."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import BIRCH, ME, make_mail, write_config
from imapclient import IMAPClient

from mailkeeper.app import App
from mailkeeper.store import Store
from mailkeeper.store.migrations import MIGRATIONS
from mailkeeper.sync import TIMING_KEYS

MIGRATION_NAMES = [name for name, _ in MIGRATIONS]

pytestmark = pytest.mark.imap

CUSTOMERS = BIRCH


def _app(tmp_path: Path, imap, customers: str = CUSTOMERS, extra: str = "") -> App:
    cfg = write_config(tmp_path / "cfg", imap, imap.user, customers, extra_account=extra)
    return App.from_config(cfg)


def _rows(app: App, sql: str, *args: object) -> list[tuple]:
    return list(app.store.conn.execute(sql, args))


def _seed(imap) -> None:
    u = imap.user
    imap.deliver(
        "INBOX",
        make_mail("Jane Oak <jane@birch.co.uk>", ME, "RFQ oak tables", msgid="<rfq1@birch.co.uk>"),
        user=u,
    )
    imap.deliver(
        "Sent",
        make_mail(
            ME,
            "jane@birch.co.uk",
            "Re: RFQ oak tables",
            msgid="<re1@lumen-furniture.com>",
            in_reply_to="<rfq1@birch.co.uk>",
        ),
        user=u,
        flags="S",
    )
    imap.deliver(
        "INBOX",
        make_mail("Tom <tom.birch@gmail.com>", ME, "Sample sizes", msgid="<s1@gmail.com>"),
        user=u,
    )
    imap.index(u)


def test_first_sync_stores_every_message_with_its_folder(tmp_path: Path, imap) -> None:
    _seed(imap)
    with _app(tmp_path, imap) as app:
        [report] = app.sync()
        assert report.new_messages == 3
        assert {f.name: f.new for f in report.folders} == {"INBOX": 2, "Sent": 1}
        rows = _rows(app, "SELECT message_id, direction, subject FROM messages ORDER BY message_id")
        assert rows == [
            ("re1@lumen-furniture.com", "outbound", "Re: RFQ oak tables"),
            ("rfq1@birch.co.uk", "inbound", "RFQ oak tables"),
            ("s1@gmail.com", "inbound", "Sample sizes"),
        ]
        st = app.status()
        folders = {f["name"]: f for f in st["accounts"][0]["folders"]}
        assert folders["INBOX"]["messages"] == 2 and folders["INBOX"]["last_uid"] == 2
        assert folders["Sent"]["role"] == "sent" and folders["Sent"]["uidvalidity"]
        assert st["messages"] == 3 and st["last_sync_at"]


def test_no_change_resync_fetches_nothing(tmp_path: Path, imap) -> None:
    _seed(imap)
    with _app(tmp_path, imap) as app:
        app.sync()
        [again] = app.sync()
        assert again.new_messages == 0
        assert all(f.fetched == 0 for f in again.folders)
        assert again.timings["fetch"] == 0  # STATUS said nothing is new: no FETCH at all
        assert list(again.timings) == list(TIMING_KEYS)  # the keys of any other sync
        assert app.store.mail.message_count() == 3


def test_new_mail_between_syncs_is_added_once(tmp_path: Path, imap) -> None:
    _seed(imap)
    with _app(tmp_path, imap) as app:
        app.sync()
        imap.deliver(
            "INBOX",
            make_mail("jane@birch.co.uk", ME, "PI please", msgid="<pi@birch.co.uk>"),
            user=imap.user,
        )
        [r] = app.sync()
        assert r.new_messages == 1
        assert {f.name: f.fetched for f in r.folders} == {"INBOX": 1, "Sent": 0}
        assert app.store.mail.message_count() == 4
        assert _rows(app, "SELECT COUNT(*) FROM folder_messages") == [(4,)]


def test_uidvalidity_change_resyncs_without_duplicates(tmp_path: Path, imap) -> None:
    _seed(imap)
    with _app(tmp_path, imap) as app:
        app.sync()
        before = _rows(app, "SELECT uidvalidity FROM folders WHERE folder = 'INBOX'")[0][0]
        imap.reset_uidvalidity("INBOX", user=imap.user)
        [r] = app.sync()
        inbox = next(f for f in r.folders if f.name == "INBOX")
        assert inbox.uidvalidity_reset and inbox.fetched == 2 and inbox.new == 0
        after = _rows(app, "SELECT uidvalidity FROM folders WHERE folder = 'INBOX'")[0][0]
        assert after != before
        assert app.store.mail.message_count() == 3
        assert _rows(app, "SELECT COUNT(*) FROM folder_messages WHERE folder = 'INBOX'") == [(2,)]
        assert _rows(app, "SELECT COUNT(*) FROM folder_messages WHERE uidvalidity = ?", before) == [
            (0,)
        ]


def test_same_message_in_two_folders_is_one_message(tmp_path: Path, imap) -> None:
    raw = make_mail("jane@birch.co.uk", ME, "Order 123 confirmed", msgid="<o123@birch.co.uk>")
    imap.deliver("INBOX", raw, user=imap.user)
    imap.deliver("Archive", raw, user=imap.user)
    extra = "    extra_folders: [Archive]\n"
    with _app(tmp_path, imap, extra=extra) as app:
        [r] = app.sync()
        assert r.new_messages == 1
        assert app.store.mail.message_count() == 1
        folders = _rows(app, "SELECT folder FROM folder_messages ORDER BY folder")
        assert folders == [("Archive",), ("INBOX",)]
        [c] = [c for c in app.customers() if c["name"] == "Birch & Co"]
        assert c["messages"] == 1


def test_same_message_id_different_content_stays_two(tmp_path: Path, imap) -> None:
    a = make_mail(
        "jane@birch.co.uk",
        ME,
        "Price list",
        "Prices attached, version 1",
        msgid="<dup@birch.co.uk>",
    )
    b = make_mail(
        "jane@birch.co.uk",
        ME,
        "Price list",
        "Prices attached, version 2 corrected",
        msgid="<dup@birch.co.uk>",
    )
    imap.deliver("INBOX", a, user=imap.user)
    imap.deliver("INBOX", b, user=imap.user)
    with _app(tmp_path, imap) as app:
        app.sync()
        assert _rows(app, "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM messages") == [(2, 1)]


def test_sync_never_sets_seen_or_changes_flags(tmp_path: Path, imap) -> None:
    _seed(imap)
    before = sorted(p.name for p in imap.maildir(imap.user).rglob("cur/*"))
    with _app(tmp_path, imap) as app:
        app.sync()
    c = IMAPClient(imap.host, imap.port, ssl=False, timeout=10)
    c.login(imap.user, "secret")
    c.select_folder("INBOX", readonly=True)
    flags = c.get_flags(c.search("ALL"))
    c.logout()
    assert all(b"\\Seen" not in f for f in flags.values()), flags
    after = sorted(p.name for p in imap.maildir(imap.user).rglob("cur/*"))
    assert after == before  # Maildir file names carry the flags: not one changed


def test_flag_changes_are_picked_up_with_condstore(tmp_path: Path, imap) -> None:
    _seed(imap)
    with _app(tmp_path, imap) as app:
        app.sync()
        c = IMAPClient(imap.host, imap.port, ssl=False, timeout=10)
        c.login(imap.user, "secret")
        c.select_folder("INBOX")
        c.add_flags([1], [b"\\Answered"])  # the rep answered it in their mail client
        c.logout()
        [r] = app.sync()
        inbox = next(f for f in r.folders if f.name == "INBOX")
        assert inbox.flags_updated == 1
        assert _rows(app, "SELECT flags FROM folder_messages WHERE folder='INBOX' AND uid=1") == [
            ("\\Answered",)
        ]


def test_json_status_field_names(tmp_path: Path, imap) -> None:
    _seed(imap)
    with _app(tmp_path, imap) as app:
        app.sync()
        st = json.loads(json.dumps(app.status()))
    assert {"accounts", "messages", "last_sync_at", "daemon", "last_error"} <= set(st)
    folder = st["accounts"][0]["folders"][0]
    assert {"name", "role", "uidvalidity", "last_uid", "messages"} <= set(folder)
    assert st["daemon"] == {"running": False, "pid": None, "since": None}


def test_message_over_size_cap_is_stored_with_headers_and_a_note(tmp_path: Path, imap) -> None:
    big = make_mail("jane@birch.co.uk", ME, "Catalogue", "x" * 300_000, msgid="<big@birch.co.uk>")
    imap.deliver("INBOX", big, user=imap.user)
    cfg = write_config(tmp_path / "cfg", imap, imap.user, CUSTOMERS)
    text = cfg.read_text().replace("accounts:", "sync:\n  max_message_size: 100000\naccounts:")
    cfg.write_text(text)
    with App.from_config(cfg) as app:
        app.sync()
        [(subject, body, defects)] = _rows(app, "SELECT subject, body, defects FROM messages")
    assert subject == "Catalogue"
    assert body == ""
    assert any("max_message_size" in d for d in json.loads(defects))


def test_database_is_plain_sqlite_with_readable_tables(tmp_path: Path, imap) -> None:
    _seed(imap)
    with _app(tmp_path, imap) as app:
        app.sync()
        db = app.settings.database
    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"messages", "folders", "folder_messages", "customers", "links", "addresses"} <= tables
    conn.close()


def test_fresh_database_columns() -> None:
    s = Store(":memory:")
    assert s.columns("messages")[:4] == ["key", "message_id", "in_reply_to", "refs"]
    for col in (
        "thread_key",
        "date",
        "date_offset_minutes",
        "from_email",
        "from_name",
        "to_json",
        "cc_json",
        "subject",
        "direction",
        "language",
        "body",
        "reply_body",
        "is_auto",
        "is_bulk",
        "attachments",
        "defects",
        "sent_seen",
    ):
        assert col in s.columns("messages")
    assert s.columns("links") == ["message_key", "customer_id", "method", "via", "contact"]
    assert s.columns("contacts") == ["email", "customer_id"]
    assert s.columns("folders")[:6] == [
        "account",
        "folder",
        "role",
        "uidvalidity",
        "uidnext",
        "last_uid",
    ]
    assert s.columns("account_warnings") == ["account", "warning", "since"]
    assert [r[0] for r in s.conn.execute("SELECT name FROM migrations")] == MIGRATION_NAMES
    assert MIGRATION_NAMES[:3] == [
        "m001_initial",
        "m002_drop_unused_indexes",
        "m003_direction_at_link_time",
    ]


def _indexes(s: Store) -> set[str]:
    return {
        r[0]
        for r in s.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        if not r[0].startswith("sqlite_")
    }


def _old_database(path: Path, upto: int) -> None:
    """A database as a release with only the first `upto` migrations made it."""
    import sqlite3

    from mailkeeper.store.migrations import MIGRATIONS

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for name, statements in MIGRATIONS[:upto]:
        for sql in statements:
            conn.execute(sql)
        conn.execute("INSERT INTO migrations VALUES (?, '2026-01-01T00:00:00Z')", (name,))
    conn.execute("INSERT INTO meta VALUES ('rules_fingerprint', 'old')")
    conn.close()


def test_a_database_made_before_m002_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    _old_database(db, 1)
    with Store(db) as s:
        assert "addresses_email" not in _indexes(s)
        assert {"messages_message_id", "messages_date", "addresses_org_domain"} <= _indexes(s)
        done = [r[0] for r in s.conn.execute("SELECT name FROM migrations")]
    assert done == MIGRATION_NAMES


def test_a_database_made_before_m003_is_upgraded_in_place_and_relinked(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    _old_database(db, 2)
    with Store(db) as s:
        assert "messages_thread_key" in _indexes(s)  # threads are looked up again (link.py)
        assert "account_warnings" in list(s.tables())
        # the fingerprint is gone: the next linking is a full relink, so old messages get
        # their direction decided by today's rule
        assert s.state.rules_fingerprint() is None


def test_two_processes_opening_a_new_database_at_once_both_succeed(tmp_path: Path) -> None:
    """The migrations are decided under the write lock: two processes creating the same new
    database never both create its tables ("table messages already exists")."""
    import subprocess
    import sys

    for trial in range(5):
        db = tmp_path / f"new{trial}.db"
        code = "import sys; from mailkeeper.store import Store; Store(sys.argv[1]).close()"
        procs = [
            subprocess.Popen([sys.executable, "-c", code, str(db)], stderr=subprocess.PIPE)
            for _ in range(4)
        ]
        errors = [p.communicate()[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
        with Store(db) as s:
            assert len(list(s.conn.execute("SELECT name FROM migrations"))) == len(MIGRATION_NAMES)


def test_opening_waits_for_a_writer_instead_of_failing_on_the_switch_to_wal(
    tmp_path: Path,
) -> None:
    """A process that finds a new database being written (still in rollback-journal mode)
    reads it, then must write to switch it to WAL; SQLite refuses that at once, ignoring the
    busy timeout (two readers waiting to write would deadlock). Opening retries until the
    writer is done — CI once failed here with "database is locked" when four processes
    opened one new database at once."""
    import threading
    import time

    path = tmp_path / "new.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE early (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO early VALUES (1)")

    def finish() -> None:
        time.sleep(0.3)
        writer.execute("COMMIT")

    done = threading.Thread(target=finish)
    done.start()
    try:
        with Store(path) as s:
            assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert len(list(s.conn.execute("SELECT name FROM migrations"))) == len(MIGRATIONS)
    finally:
        done.join()
        writer.close()


def _imap_client(imap) -> IMAPClient:
    c = IMAPClient(imap.host, imap.port, ssl=False, timeout=10)
    c.login(imap.user, "secret")
    return c


def test_a_deleted_extra_folder_is_a_warning_and_the_rest_syncs(tmp_path: Path, imap) -> None:
    imap.deliver("INBOX", make_mail("jane@birch.co.uk", ME, "in inbox"), user=imap.user)
    imap.deliver("Archive", make_mail("jane@birch.co.uk", ME, "archived"), user=imap.user)
    with _app(tmp_path, imap, extra="    extra_folders: [Archive]\n") as app:
        app.sync()
        c = _imap_client(imap)
        c.rename_folder("Archive", "Old")  # done by the rep in their mail client
        c.logout()
        for n in range(2):
            imap.deliver("INBOX", make_mail("jane@birch.co.uk", ME, f"new {n}"), user=imap.user)
        [report] = app.sync()  # no error: the Inbox and Sent sync and link as usual
        assert report.new_messages == 2
        assert any("extra folder 'Archive'" in w and "Old" in w for w in report.warnings)
        st = app.status()
        [warning] = st["accounts"][0]["warnings"]
        assert "Archive" in warning and st["last_error"] is None
        assert _rows(app, "SELECT COUNT(*) FROM links")[0][0] == 4
        assert _rows(app, "SELECT COUNT(*) FROM sync_runs")[0][0] == 2
        [again] = app.sync()  # still a warning, never an error that stops every sync
        assert again.warnings and again.error is None
        # The renamed folder's entries are gone with it (issue 19.9: they stayed); its
        # message stays in the history, and the folder's new name is no folder of ours.
        assert _rows(app, "SELECT DISTINCT folder FROM folder_messages") == [("INBOX",)]
        assert ("Archive",) not in _rows(app, "SELECT folder FROM folders")
        assert _rows(app, "SELECT COUNT(*) FROM messages WHERE subject = 'archived'") == [(1,)]
        c = _imap_client(imap)
        c.rename_folder("Old", "Archive")
        c.logout()
        app.sync()
        assert app.status()["accounts"][0]["warnings"] == []  # cleared once it is back
        entries = _rows(app, "SELECT folder, COUNT(*) FROM folder_messages GROUP BY folder")
        assert entries == [("Archive", 1), ("INBOX", 3)]  # read again, stored once
        assert _rows(app, "SELECT COUNT(*) FROM messages") == [(4,)]


def test_deleted_messages_leave_their_folder_but_stay_in_the_history(tmp_path: Path, imap) -> None:
    for n in range(5):
        imap.deliver("INBOX", make_mail("jane@birch.co.uk", ME, f"m{n}"), user=imap.user)
    same = make_mail("jane@birch.co.uk", ME, "twice", msgid="<same@birch.co.uk>")
    imap.deliver("INBOX", same, user=imap.user)
    imap.deliver("INBOX", same, user=imap.user)  # two copies: two entries, one message
    with _app(tmp_path, imap) as app:
        app.sync()
        [inbox] = [f for f in app.status()["accounts"][0]["folders"] if f["role"] == "inbox"]
        assert (inbox["messages"], inbox["distinct"]) == (7, 6)
        c = _imap_client(imap)
        c.select_folder("INBOX")
        doomed = c.search(["SUBJECT", "m1"]) + c.search(["SUBJECT", "m2"])
        c.delete_messages(doomed)  # the rep deletes two in their mail client
        c.expunge()
        c.logout()
        [report] = app.sync()
        assert [f.removed for f in report.folders if f.role == "inbox"] == [2]
        [inbox] = [f for f in app.status()["accounts"][0]["folders"] if f["role"] == "inbox"]
        assert (inbox["messages"], inbox["distinct"]) == (5, 4)
        # the messages themselves stay: the history is the rep's record
        assert app.store.mail.message_count() == 6
        gone = _rows(
            app,
            "SELECT subject FROM messages m WHERE NOT EXISTS "
            "(SELECT 1 FROM folder_messages fm WHERE fm.message_key = m.key) ORDER BY subject",
        )
        assert gone == [("m1",), ("m2",)]


def _link_rows(app: App) -> set[tuple[str, str, str, str]]:
    return set(
        _rows(
            app,
            "SELECT m.subject, c.name, l.method, l.via FROM links l "
            "JOIN messages m ON m.key = l.message_key JOIN customers c ON c.id = l.customer_id",
        )
    )


def test_a_reply_synced_before_its_parent_gets_the_clean_syncs_links(tmp_path: Path, imap) -> None:
    """Issue 8.1 on the real server: a freemail contact's reply reaches the Inbox, the rep's
    mail it answers is in Sent only later (an outage cut the first sync after the Inbox).
    The next sync links the reply through its thread, as a clean sync would."""
    from datetime import UTC, datetime

    sent = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    parent = make_mail(ME, "jane@birch.co.uk", "Samples", msgid="<p1@lumen>", date=sent)
    reply = make_mail("jane.oak@gmail.com", ME, "Re: Samples", in_reply_to="<p1@lumen>",
                      date=sent.replace(hour=15))  # fmt: skip
    imap.deliver("INBOX", reply, user=imap.user)
    with _app(tmp_path / "late", imap) as app:
        app.sync()
        assert _link_rows(app) == set()
        imap.deliver("Sent", parent, user=imap.user)
        app.sync()
        late = _link_rows(app)
    with _app(tmp_path / "clean", imap) as app:
        app.sync()
        clean = _link_rows(app)
    assert ("Re: Samples", "Birch & Co", "thread", "p1@lumen") in clean
    assert late == clean


def test_a_message_parsed_again_by_newer_code_is_not_stored_twice(tmp_path: Path) -> None:
    """A message stored before a change in how text is extracted gets another key when it is
    parsed again (a copy in another folder, a UIDVALIDITY resync); its loose key (Message-ID,
    date, sender, subject, size, attachments) and a nearly equal text map it to the stored
    message. A reused Message-ID with other text stays a second message."""
    from datetime import UTC, datetime

    from mailkeeper.model import Address, Message
    from mailkeeper.parse.rows import message_rows
    from mailkeeper.store import FolderEntry

    def msg(key: str, text: str) -> Message:
        return Message(
            key=key, message_id="m1@birch.co.uk", in_reply_to=None, references=[],
            thread_key="m1@birch.co.uk", date=datetime(2026, 10, 1, tzinfo=UTC),
            date_offset_minutes=0, sender=Address("Jane", "jane@birch.co.uk"), to=[], cc=[],
            reply_to=[], subject="Order", text=text, reply_text=text, language="en",
            is_auto=False, auto_reason=None, is_bulk=False, bulk_reason=None,
            has_html_only=True, attachments=[], defects=[], size=4321,
        )  # fmt: skip

    with Store(tmp_path / "m.db") as s:
        s.mail.reset_folder("work", "INBOX", "inbox", 1)
        s.mail.reset_folder("work", "Archive", "extra", 1)
        old = message_rows(msg("k-old", "Dear Amy,\\n\\nThe  order is ready."), "inbound")
        s.mail.save_batch("work", "INBOX", 1, [old], [FolderEntry(1, "k-old", (), None)], 1)
        again = message_rows(msg("k-new", "Dear Amy,\\nThe order is ready."), "inbound")
        assert (
            s.mail.save_batch("work", "Archive", 1, [again], [FolderEntry(7, "k-new", (), None)], 7)
            == []
        )
        other = message_rows(msg("k-other", "Completely different text here."), "inbound")
        assert s.mail.save_batch(
            "work", "Archive", 1, [other], [FolderEntry(8, "k-other", (), None)], 8
        ) == ["k-other"]
        entries = sorted(s.conn.execute("SELECT folder, uid, message_key FROM folder_messages"))
    assert entries == [("Archive", 7, "k-old"), ("Archive", 8, "k-other"), ("INBOX", 1, "k-old")]


def test_the_syncs_question_about_mail_to_oneself_reads_an_index_not_every_message(
    tmp_path: Path,
) -> None:
    """Every sync, a no-change one too, asks which of the rep's own messages stored from the
    Inbox now have a copy in Sent (links.sent_not_seen). It read the whole messages table; it
    now reads a partial index holding only such messages (m016)."""
    with Store(tmp_path / "m.db") as s:
        said: list[str] = []
        s.conn.set_trace_callback(said.append)
        assert s.links.sent_not_seen([ME, "amy@home.example"]) == []
        s.conn.set_trace_callback(None)
        [query] = [q for q in said if "sent_seen = 0" in q]
        plan = " ".join(str(r[-1]) for r in s.conn.execute(f"EXPLAIN QUERY PLAN {query}"))
    assert "USING INDEX messages_unseen_own" in plan, plan
    assert "SCAN m" not in plan, plan
