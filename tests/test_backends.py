"""One backend test class, run against every mailbox adapter.

The same sync scenarios run on a real Dovecot user (IMAP) and on local Maildirs built here, in
both layouts a rep may have (Maildir++ and mbsync's `SubFolders Verbatim`). A backend knows how
to put a message into a folder, how to write a mailkeeper.yaml for itself, and how to take a
snapshot of everything a mail client would call the messages' state (their flags).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import pytest
from conftest import BIRCH, ME, MaildirBox, make_mail, write_config
from imapclient import IMAPClient

from mailkeeper.app import App
from mailkeeper.sync import TIMING_KEYS

CUSTOMERS = BIRCH

MALFORMED = (
    b"From: Jane Oak <jane@birch.co.uk\n"  # unclosed angle bracket
    b"To: amy@lumen-furniture.com\n"
    b"Subject: =?utf-8?B?QnJva2VuIGZpbGU=?= \xff\xfe 8-bit junk\n"
    b"Date: Tuesday, sometime in October\n"
    b"Message-ID: <malformed@birch.co.uk>\n"
    b"MIME-Version: 1.0\n"
    b'Content-Type: multipart/mixed; boundary="never-used"\n'
    b"This header line has no colon\n"
    b"\n"
    b"No boundary ever appears in this body.\n"
    b"--wrong-boundary\n"
    b"Content-Type: text/plain; charset=x-unknown-charset\n"
    b"Content-Transfer-Encoding: base64\n"
    b"\n"
    b"!!!! not base64 at all ====\n"
)


class Backend(Protocol):
    name: str

    def deliver(self, folder: str, raw: bytes, flags: str = "") -> None: ...

    def config(self, dest: Path, customers: str, extra: str = "", sync: str = "") -> Path: ...

    def flag_state(self) -> Any:
        """Everything that would show a message's flags (IMAP FLAGS / Maildir file names)."""
        ...


# ----------------------------------------------------------------------------- IMAP (Dovecot)
class ImapBackend:
    name = "imap"

    def __init__(self, imap: Any) -> None:
        self.imap = imap

    def deliver(self, folder: str, raw: bytes, flags: str = "") -> None:
        self.imap.deliver(folder, raw, user=self.imap.user, flags=flags)

    def config(self, dest: Path, customers: str, extra: str = "", sync: str = "") -> Path:
        cfg = write_config(dest, self.imap, self.imap.user, customers, extra_account=extra)
        if sync:
            cfg.write_text(cfg.read_text().replace("accounts:", f"{sync}accounts:", 1))
        return cfg

    def flag_state(self) -> dict[str, dict[int, tuple[bytes, ...]]]:
        c = IMAPClient(self.imap.host, self.imap.port, ssl=False, timeout=10)
        c.login(self.imap.user, "secret")
        out: dict[str, dict[int, tuple[bytes, ...]]] = {}
        for _, _, name in c.list_folders():
            c.select_folder(name, readonly=True)
            out[name] = {u: tuple(f) for u, f in c.get_flags(c.search("ALL")).items()}
        c.logout()
        return out


# ----------------------------------------------------------------------------- local Maildir
@pytest.fixture(
    params=[
        pytest.param("imap", marks=pytest.mark.imap),
        "maildir++",
        "verbatim",
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "imap":
        return ImapBackend(request.getfixturevalue("imap"))
    return MaildirBox(tmp_path / "Maildir", layout=request.param)


# ----------------------------------------------------------------------------- the tests
def _seed(b: Backend) -> None:
    b.deliver(
        "INBOX",
        make_mail("Jane Oak <jane@birch.co.uk>", ME, "RFQ oak tables", msgid="<rfq1@birch.co.uk>"),
    )
    b.deliver(
        "Sent",
        make_mail(
            ME,
            "jane@birch.co.uk",
            "Re: RFQ oak tables",
            msgid="<re1@lumen-furniture.com>",
            in_reply_to="<rfq1@birch.co.uk>",
        ),
        flags="S",
    )
    b.deliver(
        "INBOX",
        make_mail("Tom <tom.birch@gmail.com>", ME, "Sample sizes", msgid="<s1@gmail.com>"),
    )


def _rows(app: App, sql: str, *args: object) -> list[tuple[Any, ...]]:
    return list(app.store.conn.execute(sql, args))


class TestBackend:
    def app(self, b: Backend, tmp_path: Path, extra: str = "", sync: str = "") -> App:
        return App.from_config(b.config(tmp_path / "cfg", CUSTOMERS, extra, sync))

    def test_first_sync_stores_every_message_with_its_folder(
        self, backend: Backend, tmp_path: Path
    ) -> None:
        _seed(backend)
        with self.app(backend, tmp_path) as app:
            [report] = app.sync()
            assert report.new_messages == 3
            assert {f.name: f.new for f in report.folders} == {"INBOX": 2, "Sent": 1}
            rows = _rows(app, "SELECT message_id, direction FROM messages ORDER BY message_id")
            assert rows == [
                ("re1@lumen-furniture.com", "outbound"),
                ("rfq1@birch.co.uk", "inbound"),
                ("s1@gmail.com", "inbound"),
            ]
            folders = {f["name"]: f for f in app.status()["accounts"][0]["folders"]}
            assert folders["INBOX"]["messages"] == 2 and folders["INBOX"]["last_uid"] == 2
            assert folders["Sent"]["role"] == "sent" and folders["Sent"]["uidvalidity"]
            [birch] = [c for c in app.customers() if c["name"] == "Birch & Co"]
            assert birch["messages"] == 3

    def test_no_change_resync_fetches_nothing(self, backend: Backend, tmp_path: Path) -> None:
        _seed(backend)
        with self.app(backend, tmp_path) as app:
            app.sync()
            [again] = app.sync()
            assert again.new_messages == 0
            assert all(f.fetched == 0 for f in again.folders)
            assert again.timings["fetch"] == 0  # status said nothing is new: nothing read
            assert list(again.timings) == list(TIMING_KEYS)  # the keys of any other sync
            assert app.store.mail.message_count() == 3

    def test_new_message_arrives(self, backend: Backend, tmp_path: Path) -> None:
        _seed(backend)
        with self.app(backend, tmp_path) as app:
            app.sync()
            backend.deliver(
                "INBOX", make_mail("jane@birch.co.uk", ME, "PI please", msgid="<pi@birch.co.uk>")
            )
            [r] = app.sync()
            assert r.new_messages == 1
            assert {f.name: f.fetched for f in r.folders} == {"INBOX": 1, "Sent": 0}
            assert _rows(app, "SELECT COUNT(*) FROM folder_messages") == [(4,)]
            assert _rows(app, "SELECT MAX(uid) FROM folder_messages WHERE folder = 'INBOX'") == [
                (3,)
            ]

    def test_same_message_in_two_folders_is_one_message(
        self, backend: Backend, tmp_path: Path
    ) -> None:
        raw = make_mail("jane@birch.co.uk", ME, "Order 123 confirmed", msgid="<o123@birch.co.uk>")
        backend.deliver("INBOX", raw)
        backend.deliver("Archive", raw)
        with self.app(backend, tmp_path, extra="    extra_folders: [Archive]\n") as app:
            [r] = app.sync()
            assert r.new_messages == 1
            assert app.store.mail.message_count() == 1
            folders = _rows(app, "SELECT folder FROM folder_messages ORDER BY folder")
            assert folders == [("Archive",), ("INBOX",)]
            [c] = [c for c in app.customers() if c["name"] == "Birch & Co"]
            assert c["messages"] == 1

    def test_same_message_id_different_content_stays_two(
        self, backend: Backend, tmp_path: Path
    ) -> None:
        for body in ("Prices attached, version 1", "Prices attached, version 2 corrected"):
            backend.deliver(
                "INBOX",
                make_mail("jane@birch.co.uk", ME, "Price list", body, msgid="<dup@birch.co.uk>"),
            )
        with self.app(backend, tmp_path) as app:
            app.sync()
            assert _rows(app, "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM messages") == [
                (2, 1)
            ]

    def test_sync_never_changes_flags(self, backend: Backend, tmp_path: Path) -> None:
        _seed(backend)
        backend.deliver(
            "INBOX", make_mail("jane@birch.co.uk", ME, "Flagged", msgid="<f@b.uk>"), "F"
        )
        before = backend.flag_state()
        with self.app(backend, tmp_path) as app:
            app.sync()
            app.sync()
            rows = _rows(
                app,
                "SELECT m.subject, f.flags FROM folder_messages f "
                "JOIN messages m ON m.key = f.message_key",
            )
        assert backend.flag_state() == before
        # \\Recent is IMAP's per-session flag, not one the rep set
        stored = {subject: flags.replace("\\Recent", "").strip() for subject, flags in rows}
        assert stored == {
            "RFQ oak tables": "",
            "Sample sizes": "",
            "Flagged": "\\Flagged",
            "Re: RFQ oak tables": "\\Seen",
        }

    def test_malformed_message_is_stored_with_its_defects(
        self, backend: Backend, tmp_path: Path
    ) -> None:
        backend.deliver("INBOX", MALFORMED)
        backend.deliver(
            "INBOX", make_mail("jane@birch.co.uk", ME, "Fine", msgid="<ok@birch.co.uk>")
        )
        with self.app(backend, tmp_path) as app:
            [r] = app.sync()
            assert r.new_messages == 2
            rows = dict(_rows(app, "SELECT message_id, defects FROM messages"))
        assert json.loads(rows["malformed@birch.co.uk"]), "defects recorded"
        assert json.loads(rows["ok@birch.co.uk"]) == []

    def test_message_over_the_size_cap_keeps_headers_and_a_note(
        self, backend: Backend, tmp_path: Path
    ) -> None:
        big = make_mail("jane@birch.co.uk", ME, "Catalogue", "x" * 300_000, msgid="<big@b.uk>")
        backend.deliver("INBOX", big)
        with self.app(backend, tmp_path, sync="sync:\n  max_message_size: 100000\n") as app:
            app.sync()
            [(subject, body, defects)] = _rows(app, "SELECT subject, body, defects FROM messages")
        assert subject == "Catalogue"
        assert body == ""
        assert any("max_message_size" in d for d in json.loads(defects))
