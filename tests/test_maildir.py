"""The Maildir adapter's own concerns: where UIDs come from (mbsync, Dovecot, our own map), files
renamed or deleted under our feet, folder layouts and names, errors, and never writing a byte
into the Maildir."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ME, make_mail
from imapclient import IMAPClient
from test_backends import CUSTOMERS, MaildirBox

from mailkeeper.app import App
from mailkeeper.errors import MailboxError, UserError
from mailkeeper.mailbox.maildir import MaildirMailbox, find_folders, split_name


def _mail(n: int, folder: str = "INBOX") -> bytes:
    return make_mail("jane@birch.co.uk", ME, f"{folder} message {n}", msgid=f"<m{n}@birch.co.uk>")


def _mailbox(root: Path, state: Path, **kw: object) -> MaildirMailbox:
    return MaildirMailbox(root, "work", state_dir=state, **kw)  # type: ignore[arg-type]


def _subjects(mb: MaildirMailbox, folder: str, uids: list[int]) -> dict[int, str]:
    out = {}
    for f in mb.fetch_batch(folder, uids):
        line = next(x for x in f.header.split(b"\n") if x.startswith(b"Subject:"))
        out[f.uid] = line[len(b"Subject: ") :].decode().strip()
    return out


def _tree_digest(root: Path) -> dict[str, str]:
    """Every path under root with its content hash (folders as 'dir'): a byte-level snapshot."""
    out = {}
    for p in sorted(root.rglob("*")):
        key = str(p.relative_to(root))
        out[key] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# ----------------------------------------------------------------------------- (c) own UID map
def test_own_map_numbers_new_files_in_arrival_order_and_survives_renames(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    first = box.deliver("INBOX", _mail(1), new=True)  # unread: new/, no info suffix
    second = box.deliver("INBOX", _mail(2))
    state = tmp_path / "state"
    with _mailbox(box.root, state) as mb:
        st = mb.status("INBOX")
        assert (st.uidnext, st.messages, st.highestmodseq) == (3, 2, None)
        assert mb.new_uids("INBOX", 0) == [1, 2]
    # A mail client reads the first (new/ -> cur/ with S) and answers the second (adds R).
    first.rename(box.root / "cur" / (first.name + ":2,S"))
    second.rename(second.with_name(split_name(second.name)[0] + ":2,RS"))
    box.deliver("INBOX", _mail(3))
    with _mailbox(box.root, state) as mb:
        again = mb.status("INBOX")
        assert again.uidvalidity == st.uidvalidity
        assert again.uidnext == 4  # two known + one not yet numbered
        assert mb.new_uids("INBOX", 2) == [3]
        fetched = {f.uid: f for f in mb.fetch_batch("INBOX", [1, 2, 3])}
    assert [fetched[u].flags for u in (1, 2, 3)] == [("\\Seen",), ("\\Answered", "\\Seen"), ()]
    assert b"INBOX message 1" in fetched[1].header and b"INBOX message 3" in fetched[3].header
    [uid_map] = list(state.rglob("*.uids"))
    lines = uid_map.read_text().splitlines()
    assert int(lines[0]) == st.uidvalidity
    assert [line.split(" ")[0] for line in lines[1:]] == ["1", "2", "3"]
    assert lines[1].split(" ", 1)[1] == split_name(first.name)[0]
    assert oct(uid_map.stat().st_mode & 0o777) == "0o600"


def test_a_line_cut_by_a_crash_is_dropped_and_numbered_again(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", _mail(1))
    box.deliver("INBOX", _mail(2))
    state = tmp_path / "state"
    with _mailbox(box.root, state) as mb:
        mb.new_uids("INBOX", 0)
    [uid_map] = list(state.rglob("*.uids"))
    text = uid_map.read_text()
    uid_map.write_text(text[: text.rindex("\n", 0, len(text) - 1) + 1] + "2 17900000")
    with _mailbox(box.root, state) as mb:
        assert mb.new_uids("INBOX", 0) == [1, 2]
    assert uid_map.read_text() == text


def test_a_file_deleted_between_listing_and_reading_is_skipped(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    paths = [box.deliver("INBOX", _mail(n)) for n in range(1, 5)]
    with _mailbox(box.root, tmp_path / "state") as mb:
        uids = mb.new_uids("INBOX", 0)
        paths[1].unlink()  # deleted by the mail client
        paths[2].rename(paths[2].with_name(split_name(paths[2].name)[0] + ":2,S"))  # just read
        got = mb.fetch_batch("INBOX", uids)
    assert [f.uid for f in got] == [1, 3, 4]
    assert got[1].flags == ("\\Seen",)


# ----------------------------------------------------------------------------- (a) mbsync
def test_mbsync_uids_and_uidvalidity_come_from_its_files(tmp_path: Path) -> None:
    root = tmp_path / "mail"
    box = MaildirBox(root, layout="verbatim")
    inbox = box.folder_dir("INBOX")
    (inbox / ".uidvalidity").write_text("1700000123\n7\n")
    for uid, n in ((3, 1), (7, 2)):
        (inbox / "cur" / f"17000001{n}.1234_{n}.host,U={uid}:2,S").write_bytes(_mail(n))
    (inbox / "new" / "1700000199.1234_9.host").write_bytes(_mail(9))  # not numbered yet
    with _mailbox(root, tmp_path / "state") as mb:
        st = mb.status("INBOX")
        assert (st.uidvalidity, st.uidnext, st.messages) == (1700000123, 8, 3)
        assert mb.new_uids("INBOX", 0) == [3, 7]
        assert _subjects(mb, "INBOX", [3, 7]) == {3: "INBOX message 1", 7: "INBOX message 2"}
    assert not (tmp_path / "state").exists()  # nothing of our own was needed


@pytest.mark.imap
def test_a_real_mbsync_pull_is_read_with_mbsyncs_uids(tmp_path: Path, imap) -> None:
    if shutil.which("mbsync") is None:
        pytest.skip("mbsync is not installed (apt-get install isync)")
    for n in range(1, 4):
        imap.deliver("INBOX", _mail(n), user=imap.user, flags="S" if n == 2 else "")
    imap.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Re: hi"), user=imap.user, flags="S")
    local = tmp_path / "mail"
    local.mkdir()
    rc = tmp_path / "mbsyncrc"
    rc.write_text(
        f"IMAPAccount t\nHost 127.0.0.1\nPort {imap.port}\nUser {imap.user}\nPass secret\n"
        "SSLType None\nAuthMechs LOGIN PLAIN\n\nIMAPStore remote\nAccount t\n\n"
        f"MaildirStore local\nPath {local}/\nInbox {local}/INBOX\nSubFolders Verbatim\n\n"
        "Channel c\nFar :remote:\nNear :local:\nPatterns *\nCreate Near\nSync Pull\n"
        "SyncState *\n"
    )
    subprocess.run(["mbsync", "-c", str(rc), "-a"], check=True, capture_output=True)
    before = _tree_digest(local)
    cfg = MaildirBox(local, layout="verbatim").config(tmp_path / "cfg", CUSTOMERS)
    with App.from_config(cfg) as app:
        [r] = app.sync()
        assert {f.name: f.new for f in r.folders} == {"INBOX": 3, "Sent": 1}
        stored = sorted(
            app.store.conn.execute("SELECT uid, flags FROM folder_messages WHERE folder='INBOX'")
        )
    names = [p.name for p in (local / "INBOX").glob("*/*")]
    mbsync_uids = sorted(int(n.split(",U=")[1].split(":")[0]) for n in names)
    assert [u for u, _ in stored] == mbsync_uids == [1, 2, 3]
    assert [f for _, f in stored] == ["", "\\Seen", ""]
    assert _tree_digest(local) == before


# ----------------------------------------------------------------------------- (b) Dovecot
def test_dovecot_uidlist_is_parsed_including_extension_fields(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    a = box.deliver("INBOX", _mail(1))
    b = box.deliver("INBOX", _mail(2), new=True)
    c = box.deliver("INBOX", _mail(3))  # delivered after Dovecot last looked: not numbered yet
    uidlist = box.root / "dovecot-uidlist"
    uidlist.write_text(
        "3 V1500000000 N1 G0123456789abcdef\n"  # N is stale: Dovecot appends lines only
        f"4 :{split_name(a.name)[0]}\n"
        f"9 G3f2a W2200 :{b.name}\n"
    )
    with _mailbox(box.root, tmp_path / "state") as mb:
        st = mb.status("INBOX")
        assert (st.uidvalidity, st.uidnext) == (1500000000, 10)
        assert mb.new_uids("INBOX", 0) == [4, 9]
        with uidlist.open("a") as fh:  # Dovecot numbers the third one
            fh.write(f"10 :{split_name(c.name)[0]}\n")
        assert mb.status("INBOX").uidnext == 11
        assert mb.new_uids("INBOX", 9) == [10]


@pytest.mark.imap
def test_a_dovecot_maildir_is_read_with_the_servers_uids(tmp_path: Path, imap) -> None:
    user = imap.user
    for n in range(1, 4):
        imap.deliver("INBOX", _mail(n), user=user)
    c = IMAPClient(imap.host, imap.port, ssl=False, timeout=10)
    c.login(user, "secret")
    info = c.select_folder("INBOX", readonly=True)
    fetched = c.fetch(c.search("ALL"), [b"BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    server = {u: d[b"BODY[HEADER.FIELDS (SUBJECT)]"] for u, d in fetched.items()}
    c.logout()
    with _mailbox(imap.maildir(user), tmp_path / "state") as mb:
        assert mb.status("INBOX").uidvalidity == info[b"UIDVALIDITY"]
        uids = mb.new_uids("INBOX", 0)
        assert uids == sorted(server)
        mine = _subjects(mb, "INBOX", uids)
    assert {u: s.split(b":", 1)[1].strip().decode() for u, s in server.items()} == mine
    assert not (tmp_path / "state").exists()


# ----------------------------------------------------------------------------- layouts, names
def test_folder_layouts_and_names(tmp_path: Path) -> None:
    plus = tmp_path / "plus"
    for d in ("", ".Archive.2024", ".&XfJT0ZAB-", ".Drafts"):  # &XfJT0ZAB- is 已发送
        for sub in ("cur", "new", "tmp"):
            (plus / d / sub).mkdir(parents=True, exist_ok=True)
    assert set(find_folders(plus)) == {"INBOX", "Archive/2024", "已发送", "Drafts"}
    verbatim = tmp_path / "verbatim"
    for d in ("INBOX", "Sent Items", "Archive/2024", "Legacy/.2023", "[Gmail]/Drafts"):
        for sub in ("cur", "new", "tmp"):
            (verbatim / d / sub).mkdir(parents=True, exist_ok=True)
    assert set(find_folders(verbatim)) == {
        "INBOX",
        "Sent Items",
        "Archive/2024",
        "Legacy/2023",
        "[Gmail]/Drafts",
    }
    with _mailbox(plus, tmp_path / "s1", extra_folders=["Archive.2024"]) as mb:
        assert mb.folder_roles() == {"inbox": "INBOX", "sent": "已发送", "drafts": "Drafts"}
        assert mb.status("Archive.2024").messages == 0  # a dotted name finds the folder too
    with _mailbox(verbatim, tmp_path / "s2") as mb:
        roles = mb.folder_roles()
    assert roles == {"inbox": "INBOX", "sent": "Sent Items", "drafts": "[Gmail]/Drafts"}


def test_missing_folders_are_a_user_error_listing_what_exists(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.folder_dir("Sent")
    mb = _mailbox(box.root, tmp_path / "s", folders={"sent": "Sent Items"}, extra_folders=["Old"])
    with mb, pytest.raises(UserError) as e:
        mb.folder_roles()
    problems = "\n".join(e.value.problems)
    assert "folders.sent is 'Sent Items'" in problems and "extra folder 'Old'" in problems
    assert "it has: INBOX, Sent" in problems
    no_inbox = MaildirBox(tmp_path / "v", layout="verbatim")
    shutil.rmtree(no_inbox.root / "INBOX")
    no_inbox.folder_dir("Posteingang")
    with _mailbox(no_inbox.root, tmp_path / "s") as mb, pytest.raises(UserError) as e:
        mb.folder_roles()
    assert "folders: {inbox: NAME}" in "\n".join(e.value.problems)
    with _mailbox(no_inbox.root, tmp_path / "s", folders={"inbox": "Posteingang"}) as mb:
        assert mb.folder_roles()["inbox"] == "Posteingang"


def test_a_folder_gone_since_the_roles_were_found_is_a_mailbox_error(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.folder_dir("Sent")
    with _mailbox(box.root, tmp_path / "s") as mb:
        mb.folder_roles()
        shutil.rmtree(box.root / ".Sent")
        with pytest.raises(MailboxError, match="'Sent' is not in the Maildir"):
            mb.status("Sent")


# ----------------------------------------------------------------------------- errors
def test_a_missing_root_or_a_folder_that_is_not_a_maildir_is_a_user_error(
    tmp_path: Path,
) -> None:
    with pytest.raises(UserError) as e, _mailbox(tmp_path / "nope", tmp_path / "s"):
        pass
    assert str(tmp_path / "nope") in str(e.value) and "does not exist" in str(e.value)
    assert any("accounts.work.maildir" in p for p in e.value.problems)
    plain = tmp_path / "plain"
    (plain / "photos").mkdir(parents=True)
    with pytest.raises(UserError) as e, _mailbox(plain, tmp_path / "s"):
        pass
    assert f"{plain} is not a Maildir" in str(e.value)
    assert any("cur/ and new/" in p for p in e.value.problems)


def test_state_inside_the_maildir_is_refused(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    with pytest.raises(UserError, match="inside the Maildir"), _mailbox(box.root, box.root / "s"):
        pass
    assert not (box.root / "s").exists()


def test_sync_of_an_account_whose_folder_is_not_a_maildir_says_so(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    shutil.rmtree(box.root)
    box.root.mkdir()  # exists (the config check passes) but holds no Maildir
    with App.from_config(cfg) as app, pytest.raises(UserError, match="is not a Maildir"):
        app.sync()


# ----------------------------------------------------------------------------- read-only
def test_sync_leaves_the_maildir_byte_identical(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", _mail(1), new=True)
    box.deliver("INBOX", _mail(2), flags="F")
    box.deliver("Sent", make_mail(ME, "jane@birch.co.uk", "Re: 1"), flags="S")
    box.deliver("Archive", _mail(1))
    cfg = box.config(tmp_path / "cfg", CUSTOMERS, extra="    extra_folders: [Archive]\n")
    before = _tree_digest(box.root)
    mtimes = {p: p.stat().st_mtime_ns for p in box.root.rglob("*")}
    with App.from_config(cfg) as app:
        app.sync()
        app.sync()
        state = Path(app.settings.database).parent / "maildir-state"
    assert _tree_digest(box.root) == before
    assert {p: p.stat().st_mtime_ns for p in box.root.rglob("*")} == mtimes
    assert sorted(p.name.split(".")[0] for p in state.rglob("*.uids")) == [
        "Archive",
        "INBOX",
        "Sent",
    ]
    assert oct(os.stat(state).st_mode & 0o777) == "0o700"


# ----------------------------------------------------------------------------- resume
def _stored(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        return (
            conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0],
            conn.execute("SELECT COUNT(*) FROM folder_messages").fetchone()[0],
        )
    finally:
        conn.close()


def test_kill_9_mid_sync_then_resume(tmp_path: Path) -> None:
    """Promise 2 on a Maildir: the UID map is written before any message is stored, so a sync
    killed at any point resumes with nothing lost and nothing duplicated."""
    box = MaildirBox(tmp_path / "Maildir")
    body = "Production is on schedule. " * 40
    for i in range(3000):
        box.deliver("INBOX", make_mail(f"b{i % 7}@birch.co.uk", ME, f"Order {i}", body))
    cfg = box.config(tmp_path / "cfg", CUSTOMERS, sync="sync:\n  batch_size: 100\n")
    db = tmp_path / "cfg" / "mailkeeper.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailkeeper", "--config", str(cfg), "sync"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if db.exists() and _stored(db)[0] >= 200:
                break
        except sqlite3.OperationalError:
            pass
        time.sleep(0.02)
    assert proc.poll() is None, "sync ended before the kill: " + proc.stderr.read().decode()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    partial = _stored(db)[0]
    assert 0 < partial < 3000
    with App.from_config(cfg) as app:
        [report] = app.sync()
    assert report.new_messages == 3000 - partial
    assert _stored(db) == (3000, 3000)
