"""The Maildir adapter's own concerns: where UIDs come from (mbsync, Dovecot, our own map), files
renamed or deleted under our feet, folder layouts and names, errors, and never writing a byte
into the Maildir."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import CORPUS, ME, make_mail
from imapclient import IMAPClient
from test_backends import CUSTOMERS, MALFORMED, MaildirBox

from mailkeeper.app import App
from mailkeeper.errors import MailboxError, UserError
from mailkeeper.link import Party
from mailkeeper.mailbox.maildir import MaildirMailbox
from mailkeeper.mailbox.maildirlist import find_folders, split_name
from mailkeeper.mailbox.maildirread import _quick_fetched, split_message
from mailkeeper.model import Fetched
from mailkeeper.parse.mime import fetched_from_bytes
from mailkeeper.sync import _parse_batch


def _mail(n: int, folder: str = "INBOX") -> bytes:
    return make_mail("jane@birch.co.uk", ME, f"{folder} message {n}", msgid=f"<m{n}@birch.co.uk>")


def _mailbox(root: Path, state: Path, **kw: object) -> MaildirMailbox:
    return MaildirMailbox(root, "work", state_dir=state, **kw)  # type: ignore[arg-type]


def _read(batch: list[Fetched]) -> list[Fetched]:
    """What a parse worker makes of a batch: each file read and split (`Fetched.deferred`,
    after the trip through pickle that the batch takes to the worker)."""
    out = []
    for f in pickle.loads(pickle.dumps(batch)):
        got = f.deferred() if f.deferred is not None else f
        if got is not None:
            out.append(got)
    return out


def _subjects(mb: MaildirMailbox, folder: str, uids: list[int]) -> dict[int, str]:
    out = {}
    for f in _read(mb.fetch_batch(folder, uids)):
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
        fetched = {f.uid: f for f in _read(mb.fetch_batch("INBOX", [1, 2, 3]))}
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


# ----------------------------------------------------------------------------- splitting
# A Maildir file's MIME tree is walked in the parse worker by `split_message`, which must give
# exactly what `mime.fetched_from_bytes` gives (its quick path finds parts by their boundary
# lines; anything unusual goes to fetched_from_bytes itself).
def _nested(pdf_bytes: int = 10_240) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "jane@birch.co.uk", ME, "Order 88"
    m["Message-ID"] = "<nested@birch.co.uk>"
    m.set_content("Dear Amy,\n\nthe order is attached.\n\nJane")
    m.add_alternative("<p>Dear Amy,</p><p>the order is <b>attached</b>.</p><img src='cid:logo'>")
    m.get_payload()[1].add_related(b"\x89PNG fake", "image", "png", cid="<logo>")
    m.add_attachment(
        b"%PDF-1.4 " + bytes(range(256)) * (pdf_bytes // 256),
        "application",
        "pdf",
        filename="订单 88.pdf",
    )
    m.add_attachment("a,b\n1,2\n", subtype="csv", filename="prices.csv")
    return m.as_bytes()


def _multipart(body: str, ctype: str = "multipart/alternative", extra: str = "") -> bytes:
    return (
        "From: jane@birch.co.uk\nTo: amy@lumen-furniture.com\nSubject: crafted\n"
        f'MIME-Version: 1.0\n{extra}Content-Type: {ctype}; boundary="BND"\n\n{body}'
    ).encode("utf-8", "surrogateescape")


def _head(ctype: str) -> bytes:
    return f"From: jane@birch.co.uk\nSubject: crafted\nContent-Type: {ctype}\n\n".encode()


_TEXT = "Content-Type: text/plain; charset=utf-8\n\n"
_HTML = "Content-Type: text/html; charset=utf-8\n\n"
SPLIT_CASES = {
    "single part": _mail(1),
    "nested, attachments, RFC 2231 name": _nested(),
    "nested, CRLF": _nested().replace(b"\n", b"\r\n"),
    "bare CR": _multipart(f"--BND\n{_TEXT}one\rtwo\n--BND--\n"),
    "boundary-like lines in a body": _multipart(
        f"pre\n--BND\n{_TEXT}--BNDx\n --BND\n--BND text\nend\n--BND \t\n{_HTML}<p>x</p>\n\n"
        "--BND--  \nepilogue\n--BND\n"
    ),
    "missing close boundary": _multipart(f"--BND\n{_TEXT}hello\n--BND\n{_HTML}<p>hi</p>\n"),
    "no start boundary": _multipart("just text\n--BND--\n"),
    "part without a header": _multipart(f"--BND\n\nhello\n--BND\n{_HTML}<p>hi</p>\n--BND--\n"),
    "part that starts with text": _multipart("--BND\nhello there\n\nmore\n--BND--\n"),
    "two boundaries in a row": _multipart(f"--BND\n--BND\n{_TEXT}hello\n--BND--\n"),
    "empty parts": _multipart(f"--BND\n{_TEXT}--BND\n{_HTML}\n--BND--\n"),
    "digest": _multipart("--BND\n\nFrom: x@y.z\n\nhi\n--BND--\n", "multipart/digest"),
    "message/rfc822 inside": _multipart(
        f"--BND\n{_TEXT}see below\n--BND\nContent-Type: message/rfc822\n\n"
        "From: x@y.z\nSubject: inner\n\ninner body\n--BND--\n",
        "multipart/mixed",
    ),
    "base64 container": _multipart(
        f"--BND\n{_TEXT}hi\n--BND--\n", extra="Content-Transfer-Encoding: base64\n"
    ),
    "header defect": b" folded first line\n" + _multipart(f"--BND\n{_TEXT}hi\n--BND--\n"),
    "envelope line in the header": _multipart(
        f"--BND\n{_TEXT}hi\n--BND--\n", extra="From someone Tue Oct 1 2024\n"
    ),
    "odd case and repeated fields": _multipart(
        '--BND\nCONTENT-TYPE: Text/HTML; Charset="GB2312"\ncontent-type: text/plain\n'
        "Content-Transfer-Encoding: BASE64\n\nPGI+aGk8L2I+\n--BND--\n",
        extra="Content-type: text/plain\n",
    ),
    "no boundary parameter": b"From: a@b.c\nContent-Type: multipart/mixed\n\nhello\n",
    # the Content-Type of a multipart node read without the email package (_simple_multipart)
    "boundary in angle brackets": _head('multipart/mixed; boundary="<BND>"')
    + f"--BND\n{_TEXT}hi\n--BND--\n".encode(),
    "token boundary, odd case, more parameters": _head(
        'Multipart/Related; type="text/html"; BOUNDARY=BND; start="<x@y>";'
    )
    + f"--BND\n{_HTML}<p>hi</p>\n--BND--\n".encode(),
    "folded Content-Type, blank in the quotes": _head('multipart/alternative;\n\tboundary="BND "')
    + f"--BND\n{_TEXT}hi\n--BND\n{_HTML}<p>hi</p>\n--BND--\n".encode(),
    "two boundary parameters": _head("multipart/mixed; boundary=BND; boundary=OTHER")
    + f"--BND\n{_TEXT}hi\n--OTHER\n--BND--\n".encode(),
    "RFC 2231 boundary": _head("multipart/mixed; boundary*=''BND")
    + f"--BND\n{_TEXT}hi\n--BND--\n".encode(),
    "value on the continuation line": _head('\n multipart/mixed; boundary="BND"')
    + f"--BND\n{_TEXT}hi\n--BND--\n".encode(),
    "nested part header with a defect": _multipart(
        '--BND\nno colon here\nContent-Type: multipart/alternative; boundary="IN"\n\n'
        f"--IN\n{_TEXT}hi\n--IN--\n--BND--\n",
        "multipart/mixed",
    ),
    "leaf that mentions multipart/": _multipart(
        '--BND\nContent-Type: text/plain; name="multipart/x.txt"\n\nhi\n--BND--\n',
        "multipart/mixed",
    ),
    "nested digest": _multipart(
        '--BND\nContent-Type: multipart/digest; boundary="IN"\n\n--IN\n\nhi\n--IN--\n--BND--\n',
        "multipart/mixed",
    ),
    "line ends mixed LF and CRLF": _nested().replace(b"\n\n", b"\r\n\r\n", 3),
    "8-bit header and body": "From: 张 <a@b.c>\nSubject: 报价\nContent-Type: text/plain; "
    "charset=gbk\n\n你好\n".encode("gbk", "replace"),
    "malformed (test_backends)": MALFORMED,
    "no body at all": b"From: a@b.c\nSubject: header only",
    "OLE2": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(300),
}


def _fields(f: Fetched) -> tuple[object, ...]:
    return (f.folder, f.uid, f.size, f.header, f.parts, f.bodies, f.flags, f.internaldate, f.notes)


@pytest.mark.parametrize("case", sorted(SPLIT_CASES))
@pytest.mark.parametrize("max_text", [None, 12])
def test_split_message_is_fetched_from_bytes(case: str, max_text: int | None) -> None:
    raw = SPLIT_CASES[case]
    args = ("INBOX", 7, ("\\Seen",), datetime(2026, 1, 2, tzinfo=UTC), max_text)
    assert _fields(split_message(raw, *args)) == _fields(fetched_from_bytes(raw, *args))


def test_the_quick_path_takes_clean_multipart_mail() -> None:
    """Clean cases must not all fall back: the point is not to run the email parser."""
    for case in (
        "single part",
        "nested, attachments, RFC 2231 name",
        "nested, CRLF",
        "boundary-like lines in a body",
        "empty parts",
        "boundary in angle brackets",
        "token boundary, odd case, more parameters",
        "folded Content-Type, blank in the quotes",
        "two boundary parameters",
        "leaf that mentions multipart/",
        "line ends mixed LF and CRLF",
    ):
        assert _quick_fetched(SPLIT_CASES[case], "INBOX", 1, (), None, None) is not None, case
    for case in (
        "bare CR",
        "missing close boundary",
        "part without a header",
        "digest",
        "message/rfc822 inside",
        "header defect",
        "base64 container",
        "nested part header with a defect",
        "nested digest",
    ):
        assert _quick_fetched(SPLIT_CASES[case], "INBOX", 1, (), None, None) is None, case


@pytest.mark.parametrize(
    "ctype",
    [
        'multipart/mixed; boundary="BND"',
        "multipart/mixed; boundary=BND",
        'Multipart/ALTERNATIVE;\n\tBoundary="----=_NextPart_000_0001_01DA.5C3B"',
        'multipart/related; type="text/html"; boundary="<b1>"; start="<x@y>";',
        'multipart/mixed; boundary=" spaced  "',
        "multipart/mixed; boundary=a=b; charset=utf-8",
        "multipart/mixed; boundary=A; boundary=B",
        "multipart/mixed; boundary=<tok>",
        # left to the email package (None here)
        "multipart/mixed",
        "multipart/digest; boundary=X",
        "multipart/mixed; boundary*=''X",
        'multipart/mixed; boundary="a\\"b"',
        "multipart/mixed boundary=X",
        "multipart / mixed; boundary=X",
        "multipart/mixed; foo; boundary=X",
        'multipart/mixed; boundary=""',
        "text/plain; boundary=X",
    ],
)
@pytest.mark.parametrize("cte", [None, "7bit", "8BIT", "base64", " binary"])
def test_a_multipart_header_is_read_as_the_email_package_reads_it(
    ctype: str, cte: str | None
) -> None:
    """`_simple_multipart` reads the common Content-Type of a multipart node without the email
    package; whenever it answers (a boundary), the email package reads a splittable multipart
    (not a digest, not transfer-encoded) with that boundary."""
    from email.parser import BytesParser
    from email.policy import compat32

    from mailkeeper.mailbox.maildirread import _simple_multipart

    fields = f"Content-Type: {ctype}\n" + (f"Content-Transfer-Encoding: {cte}\n" if cte else "")
    raw = fields.encode() + b"\n"
    got = _simple_multipart(raw)
    head = BytesParser(policy=compat32).parsebytes(raw, headersonly=True)
    enc = str(head.get("content-transfer-encoding", "8bit")).lower()
    ok = (
        head.get_content_maintype() == "multipart"
        and head.get_boundary()
        and head.get_content_subtype() != "digest"
        and enc in ("7bit", "8bit", "binary")
    )
    if got is not None:
        assert ok and got == head.get_boundary()  # a multipart the quick path may split
    else:
        assert not ok or "*" in ctype or "\\" in ctype or "foo;" in ctype or " / " in ctype
    simple = ctype.startswith(("multipart/mixed; boundary=", "Multipart/", "multipart/related"))
    if simple and ok and "*" not in ctype and "\\" not in ctype and '""' not in ctype:
        assert got is not None, "the common form must not need the email package"


@pytest.mark.corpus
def test_split_message_is_fetched_from_bytes_on_the_corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    files = [p for p in sorted(CORPUS.rglob("*")) if p.is_file() and p.parent != CORPUS]
    assert len(files) > 1000
    for path in files:
        raw = path.read_bytes()
        for limit in (256 * 1024, 100):
            args = ("F", 1, (), None, limit)
            assert _fields(split_message(raw, *args)) == _fields(fetched_from_bytes(raw, *args)), (
                path
            )


def test_the_worker_reads_and_splits_each_file(tmp_path: Path) -> None:
    """The syncing process only stats a file; what it hands the parse worker is where the
    file is (a few hundred bytes pickled, however large the file), and the worker's read and
    split give what `fetched_from_bytes` gives for the file's bytes."""
    box = MaildirBox(tmp_path / "Maildir")
    small = box.deliver("INBOX", _nested(), flags="S")
    big_raw = _nested(2_000_000)
    big = box.deliver("INBOX", big_raw)
    with _mailbox(box.root, tmp_path / "state", max_text_bytes=20) as mb:
        batch = mb.fetch_batch("INBOX", mb.new_uids("INBOX", 0))
    assert all(f.deferred is not None and f.header == b"" and not f.parts for f in batch)
    assert len(pickle.dumps(batch)) < 2_000
    done_small, done_big = _read(batch)
    mtime = datetime.fromtimestamp(small.stat().st_mtime, UTC)
    want = fetched_from_bytes(small.read_bytes(), "INBOX", 1, ("\\Seen",), mtime, 20)
    assert _fields(done_small) == _fields(want)
    assert "text section 1.1 cut to 20 bytes" in done_small.notes
    mtime = datetime.fromtimestamp(big.stat().st_mtime, UTC)
    assert _fields(done_big) == _fields(fetched_from_bytes(big_raw, "INBOX", 2, (), mtime, 20))
    # The worker's step gives the same rows as for a message split beforehand.
    party = Party(frozenset({ME}), frozenset({"lumen-furniture.com"}), *[frozenset()] * 3)
    rows, _ = _parse_batch(batch[:1], "inbox", party)
    assert rows == _parse_batch([done_small], "inbox", party)[0]


def test_a_file_renamed_or_deleted_before_the_worker_reads_it(tmp_path: Path) -> None:
    """Between the listing and the worker's read a mail client may change a file's flags
    (renaming it) or delete it: the renamed file is found by its basename, the deleted one
    gives None, which the sync skips (it is not stored, and nothing else is lost)."""
    box = MaildirBox(tmp_path / "Maildir")
    paths = [box.deliver("INBOX", _mail(n)) for n in range(1, 4)]
    with _mailbox(box.root, tmp_path / "state") as mb:
        batch = mb.fetch_batch("INBOX", mb.new_uids("INBOX", 0))
    paths[0].rename(paths[0].with_name(split_name(paths[0].name)[0] + ":2,S"))
    paths[1].unlink()
    party = Party(frozenset({ME}), frozenset({"lumen-furniture.com"}), *[frozenset()] * 3)
    rows, _ = _parse_batch(batch, "inbox", party)
    assert rows[1] is None and rows[0] is not None and rows[2] is not None
    assert [f.uid for f in _read(batch)] == [1, 3]
    assert b"INBOX message 1" in _read(batch)[0].header


def test_a_file_renamed_again_while_the_worker_looks_for_it_is_still_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mail client may rename a file more than once while the worker looks for it (moved
    from new/ to cur/, then flagged): the message is read all the same, not skipped as
    deleted — a skipped UID is never fetched again."""
    from mailkeeper.mailbox import maildirread as maildir

    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", _mail(1))
    with _mailbox(box.root, tmp_path / "state") as mb:
        batch = mb.fetch_batch("INBOX", mb.new_uids("INBOX", 0))
    real = maildir.read_message
    renames = iter(["S", "RS"])

    def renamed_first(path: str, max_size: int) -> object:
        flags = next(renames, None)
        if flags is not None:  # the client renames the file just before each of our reads
            [now] = [p for p in box.root.glob("*/*") if p.is_file()]
            base = split_name(now.name)[0]
            now.rename(box.root / "cur" / f"{base}:2,{flags}")
        return real(path, max_size)

    monkeypatch.setattr(maildir, "read_message", renamed_first)
    [f] = _read(batch)
    assert b"INBOX message 1" in f.header and f.parts


def test_a_file_the_worker_cannot_read_is_a_clear_error_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read error in the parse worker (a failing disk) ends the sync with the file and the
    reason, recorded for `status`; nothing of the batch is counted as synced, so the next sync,
    with the disk healed, stores every message."""
    import errno

    from mailkeeper.mailbox import maildirread as maildir

    box = MaildirBox(tmp_path / "Maildir")
    paths = [box.deliver("INBOX", _mail(n)) for n in range(1, 4)]
    real = maildir.read_message

    def failing_disk(path: str, max_size: int) -> object:
        if path == str(paths[1]):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(path, max_size)

    cfg = box.config(tmp_path / "cfg", CUSTOMERS)
    monkeypatch.setattr(maildir, "read_message", failing_disk)
    with App.from_config(cfg) as app:
        with pytest.raises(MailboxError) as err:
            app.sync()
        assert paths[1].name in str(err.value) and os.strerror(errno.EIO) in str(err.value)
        assert app.status()["last_error"] == str(err.value)
    monkeypatch.setattr(maildir, "read_message", real)
    with App.from_config(cfg) as app:
        [report] = app.sync()
        assert report.error is None
        uids = [r[0] for r in app.store.conn.execute("SELECT uid FROM folder_messages")]
    assert sorted(uids) == [1, 2, 3]


def test_an_oversized_file_is_read_as_headers_only_by_the_worker(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    box.deliver("INBOX", _nested(200_000))
    with _mailbox(box.root, tmp_path / "state", max_message_size=100_000) as mb:
        [f] = _read(mb.fetch_batch("INBOX", mb.new_uids("INBOX", 0)))
    assert f.parts == [] and f.bodies == {} and f.header.startswith(b"From: jane@birch.co.uk")
    assert f.notes and "larger than max_message_size" in f.notes[0]


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Type: text/plain; charset=utf-8\n\n",
        b'Content-Type: application/pdf; name="=?UTF-8?B?6K6i5Y2VIDg4LnBkZg==?="\n'
        b"Content-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment;\n\tfilename="=?UTF-8?B?6K6i5Y2VIDg4LnBkZg==?="\n\n',
        b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n"
        b" filename*=utf-8''%E6%8A%A5%E4%BB%B7%20v2.xlsx\r\n\r\n",
        b"Content-Type: image/png\nContent-ID: <logo@x>\nContent-Disposition: inline\n\n",
        b'Content-Type: text/html; charset="GB2312"\n'
        b"Content-Transfer-Encoding: quoted-printable\n\n",
        b'Content-Type: application/x-zip; name="\xb1\xa8\xbc\xdb.zip"\n\n',  # raw GBK name
        b"Content-Type: application/pdf; name*=bogus''%ZZ.pdf\n\n",  # a note: not described
        b'CONTENT-TYPE: Text/Plain; Charset="ISO-8859-1"\ncontent-type: text/html\n\n',
        b"Content-Type: multipart/mixed; boundary=x\n\n",
        b"Content-Type: message/rfc822\n\n",
        b"X-Other: 1\n\n",
    ],
)
def test_a_leaf_is_described_without_the_email_parser_as_with_it(header: bytes) -> None:
    from mailkeeper.parse.mime import leaf_from_header

    got = leaf_from_header(header)
    full = fetched_from_bytes(header)
    if got is None:
        ctype = full.parts[0].content_type if full.parts else ""
        assert full.notes or b"multipart/" in header or b"message/" in header, (ctype, full)
    else:
        assert not full.notes and full.parts == [got]
