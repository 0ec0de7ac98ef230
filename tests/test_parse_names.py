"""Display names the address parser loses are kept as written, with a defect; a Cc of
10,000 people is stored whole."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import ME, MaildirBox

from mailkeeper.app import App
from mailkeeper.parse.message import parse
from mailkeeper.parse.mime import fetched_from_bytes

HEAD = b"To: amy@lumen-furniture.com\r\nSubject: x\r\nMessage-ID: <1@x.example>\r\n"
DATE = b"Date: Mon, 2 Jan 2006 15:04:05 +0800\r\n"
NOTE = "a display name could not be parsed (a stray parenthesis or quote); kept as written"


@pytest.mark.parametrize(
    ("from_", "name", "notes"),
    [
        (b"Jurgen ( Muller <jm@b.example>", "Jurgen Muller", [NOTE]),
        (
            b"J\xfcrgen \xc3\x28 M\xfcller <jm@b.example>",
            "J\u00fcrgen \u00c3 M\u00fcller",
            ["raw 8-bit header decoded as cp1252", NOTE],
        ),
        (b'"Jane Oak <jm@b.example>', "Jane Oak", [NOTE]),
        # well-formed: nothing to recover, no defect
        (b"Jane Oak <jm@b.example>", "Jane Oak", []),
        (b"<jm@b.example>", "", []),
        (b"Undisclosed recipients: <jm@b.example>;", "", []),
    ],
)
def test_a_broken_display_name_is_kept_with_a_defect(
    from_: bytes, name: str, notes: list[str]
) -> None:
    m = parse(fetched_from_bytes(b"From: " + from_ + b"\r\n" + HEAD + DATE + b"\r\nhi\r\n"))
    assert m.sender is not None
    assert (m.sender.email, m.sender.name) == ("jm@b.example", name)
    assert m.defects == notes


def _big_cc(n: int) -> bytes:
    return ", ".join(f"Person {i} <p{i}@c{i % 50}.example.com>" for i in range(n)).encode()


def test_a_cc_of_10000_addresses_is_read_whole() -> None:
    raw = b"From: jane@birch.co.uk\r\nCc: " + _big_cc(10_000) + b"\r\n" + HEAD + DATE + b"\r\n.\r\n"
    m = parse(fetched_from_bytes(raw))
    assert len(m.cc) == 10_000
    assert m.cc[-1].email == "p9999@c49.example.com" and m.cc[-1].name == "Person 9999"
    assert m.defects == []


def test_a_cc_of_10000_addresses_is_stored_whole(tmp_path: Path) -> None:
    box = MaildirBox(tmp_path / "Maildir")
    raw = (
        b"From: jane@birch.co.uk\r\nTo: "
        + ME.encode()
        + b"\r\nCc: "
        + _big_cc(10_000)
        + b"\r\nSubject: everyone\r\nMessage-ID: <all@birch.co.uk>\r\n"
        + DATE
        + b"\r\nhi\r\n"
    )
    box.deliver("INBOX", raw)
    cfg = box.config(tmp_path / "cfg", "customers: []\n")
    with App.from_config(cfg) as app:
        app.sync()
    conn = sqlite3.connect(tmp_path / "cfg" / "mailkeeper.db")
    try:
        [(n,)] = conn.execute("SELECT COUNT(*) FROM addresses WHERE role = 'cc'").fetchall()
    finally:
        conn.close()
    assert n == 10_000
