"""Promise 4 whichever adapter reads the mail: the same message gives the same stored text.

Every message of ../shared/corpus and tests/malformed is delivered into one real Dovecot
Maildir, then synced twice: over IMAP, and as a local Maildir (the same directory, so both
sides number the messages with Dovecot's UIDs). The stored rows are compared field by field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, OFFLINE, write_config

from mailkeeper.app import App

pytestmark = [pytest.mark.imap, pytest.mark.corpus]

MALFORMED = Path(__file__).parent / "malformed"
SKIP = {"MANIFEST.tsv", "SOURCES.md"}
FIELDS = ("body", "reply_body", "html_only", "attachments", "defects")

# The messages that still differ, and in which fields: a ratchet. The test fails on any new
# difference and on a listed one that is gone (shrink the list then). Each entry of
# adapter_differences.json says why ("why"). Over ../shared/corpus + tests/malformed (1,575
# messages) 45 are left (was 484): attachments 21 (file names Dovecot's BODYSTRUCTURE cuts or
# rewrites, part lists split differently in broken multiparts), defects 17, body 18: broken
# structures the two MIME parsers read differently (Dovecot matches boundary lines by prefix,
# mbox envelopes, TNEF); making those equal would take Dovecot's parser on the Maildir side or
# whole messages over IMAP. The rules that made the rest equal: rawspans.body_spans (sizes),
# mime._BODY_SCAN_DEFECTS (defects), mime.nul_as_imap, mime._obs_header, _Unfolded.
KNOWN = Path(__file__).parent / "adapter_differences.json"


def _files() -> list[tuple[str, Path]]:
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    out = [
        (str(p.relative_to(CORPUS)), p)
        for p in sorted(CORPUS.rglob("*"))
        if p.is_file() and p.name not in SKIP
    ]
    out += [(f"malformed/{p.name}", p) for p in sorted(MALFORMED.glob("*.eml"))]
    return out


def _stored(cfg: Path) -> dict[int, dict[str, Any]]:
    """uid -> the compared fields of the message stored for it."""
    with App.from_config(cfg) as app:
        app.sync()
        rows = app.store.conn.execute(
            "SELECT f.uid, " + ", ".join(f"m.{c}" for c in FIELDS) + " FROM folder_messages f "
            "JOIN messages m ON m.key = f.message_key WHERE f.folder = 'INBOX'"
        ).fetchall()
    return {r[0]: dict(zip(FIELDS, r[1:], strict=True)) for r in rows}


def _uid_names(uidlist: Path) -> dict[int, str]:
    """Dovecot's UID -> file base name (dovecot-uidlist: `UID [ext...] :NAME`)."""
    out = {}
    for line in uidlist.read_text().splitlines()[1:]:
        head, _, name = line.partition(":")
        if name:
            out[int(head.split()[0])] = name.split(":", 1)[0]
    return out


def test_every_message_is_stored_alike_over_imap_and_as_a_maildir(tmp_path: Path, imap) -> None:
    files = _files()
    by_name: dict[str, str] = {}
    for label, p in files:
        path = imap.deliver("INBOX", p.read_bytes(), user=imap.user)
        by_name[path.name.split(":", 1)[0]] = label
    imap.index(imap.user)
    over_imap = _stored(write_config(tmp_path / "imap", imap, imap.user))
    cfg = write_config(tmp_path / "local", OFFLINE, "unused")
    head = cfg.read_text().split("accounts:", 1)[0]
    cfg.write_text(f"{head}accounts:\n  work:\n    maildir: {imap.maildir(imap.user)}\n")
    as_maildir = _stored(cfg)
    names = _uid_names(imap.maildir(imap.user) / "dovecot-uidlist")

    assert len(over_imap) == len(as_maildir) == len(files)
    differences: dict[str, list[str]] = {}
    for uid, a in sorted(over_imap.items()):
        b = as_maildir[uid]
        fields = [f for f in FIELDS if _norm(f, a[f]) != _norm(f, b[f])]
        if fields:
            differences[by_name[names[uid]]] = fields
    expected = {label: entry["fields"] for label, entry in json.loads(KNOWN.read_text()).items()}
    if differences != expected:
        report = []
        for label, fields in sorted(differences.items()):
            if expected.get(label) == fields:
                continue
            uid = next(u for u, n in names.items() if by_name.get(n) == label)
            for f in fields:
                report.append(
                    f"{label} {f}:\n  imap:    {str(over_imap[uid][f])[:300]!r}\n"
                    f"  maildir: {str(as_maildir[uid][f])[:300]!r}"
                )
        gone = sorted(set(expected) - set(differences))
        pytest.fail(
            f"{len(differences)} messages differ ({len(report)} unexpected fields); "
            f"no longer differing: {gone}\n" + "\n".join(report)
        )


def _both(tmp_path: Path, imap, raws: list[bytes]) -> list[tuple[dict, dict]]:
    """Each message delivered to Dovecot, then stored over IMAP and as a Maildir:
    [(row over IMAP, row as a Maildir)] in delivery order."""
    for raw in raws:
        imap.deliver("INBOX", raw, user=imap.user)
    imap.index(imap.user)
    over_imap = _stored(write_config(tmp_path / "imap", imap, imap.user))
    cfg = write_config(tmp_path / "local", OFFLINE, "unused")
    head = cfg.read_text().split("accounts:", 1)[0]
    cfg.write_text(f"{head}accounts:\n  work:\n    maildir: {imap.maildir(imap.user)}\n")
    as_maildir = _stored(cfg)
    return [(over_imap[u], as_maildir[u]) for u in sorted(over_imap)]


def _norm(field: str, value: Any) -> Any:
    return json.loads(value) if field in ("attachments", "defects") and value else value


# A multipart whose boundary no line of the body uses (old webmail, BBS gateways): Dovecot shows
# one empty text/plain part, BODY[1] is empty, BODY[TEXT] holds the whole text.
NO_BOUNDARY_LINE = (
    "From: 李经理 <li@birch.co.uk>\n"
    "To: amy@lumen-furniture.com\n"
    "Subject: =?gbk?b?tqm1pbLpxa8=?=\n"
    "Date: Tue, 03 Mar 2026 09:00:00 +0800\n"
    "Message-ID: <gateway-1@birch.co.uk>\n"
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/mixed; boundary="----=_NextPart_never_used"\n'
    "\n"
    "您好，订单 PO-7781 什么时候发货？请今天回复。\n"
    "\n"
    "李\n"
).encode("gbk")


def test_a_multipart_without_boundary_lines_keeps_its_text_over_imap(tmp_path: Path, imap) -> None:
    imap.deliver("INBOX", NO_BOUNDARY_LINE, user=imap.user)
    cfg = write_config(tmp_path / "cfg", imap, imap.user)
    [row] = _stored(cfg).values()
    assert "PO-7781" in row["body"] and "请今天回复" in row["body"]
    assert "StartBoundaryNotFoundDefect" in json.loads(row["defects"])


def test_a_message_stored_without_its_text_before_the_fix_heals_on_the_next_sync(
    tmp_path: Path, imap
) -> None:
    imap.deliver("INBOX", NO_BOUNDARY_LINE, user=imap.user)
    cfg = write_config(tmp_path / "cfg", imap, imap.user)
    with App.from_config(cfg) as app:
        app.sync()
        conn = app.store.conn
        [(key, good_body)] = conn.execute("SELECT key, body FROM messages").fetchall()
        # The row as the old code stored it, in a database from before migration m010.
        conn.execute(
            "UPDATE messages SET body = '', reply_body = '', defects = '[]', language = NULL"
        )
        conn.execute("DROP TABLE reread")
        conn.execute("DELETE FROM migrations WHERE name = 'm011_reread_empty_text'")
        conn.commit()
    with App.from_config(cfg) as app:  # the migration marks it
        [report] = app.sync()
        assert report.new_messages == 0
        rows = app.store.conn.execute("SELECT key, body, defects FROM messages").fetchall()
        assert rows == [(key, good_body, rows[0][2])]
        assert "StartBoundaryNotFoundDefect" in json.loads(rows[0][2])
        assert app.store.conn.execute("SELECT COUNT(*) FROM reread").fetchone() == (0,)
        [entry] = app.store.conn.execute("SELECT message_key FROM folder_messages").fetchall()
        assert entry == (key,)
        app.store.conn.execute("UPDATE messages SET body = ''")  # read once, not every sync
        app.store.conn.commit()
        app.sync()
        assert app.store.conn.execute("SELECT body FROM messages").fetchone() == ("",)


def _bounce(inner: str, close: bool = True) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.birch.co.uk\nTo: amy@lumen-furniture.com\nSubject: failed\n"
        "Message-ID: <bounce-{n}@mx.birch.co.uk>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
        "--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.birch.co.uk\n\nFinal-Recipient: rfc822; li@birch.co.uk\n"
        "Action: failed\nStatus: 5.1.1\n\n\n"
        f"--B\nContent-Type: message/rfc822\n\n{inner}" + ("--B--\n" if close else "")
    ).encode()


def test_attached_messages_are_sized_alike_by_both_adapters(tmp_path: Path, imap) -> None:
    """message/* parts are sized from their bytes as IMAP sizes them (the email package's
    rebuilt text is a few bytes off), so attachments and the message key agree."""
    raws = [
        _bounce("From: amy@lumen-furniture.com\nSubject: PO-7781\n\nWhen?\n\n\n"),
        _bounce("From: amy@lumen-furniture.com\nSubject: PO-7781\n\n"),  # header only
        _bounce("From: amy@lumen-furniture.com\nSubject: PO-7781\n\nNo close boundary\n", False),
    ]
    raws = [r.replace(b"{n}", str(i).encode()) for i, r in enumerate(raws)]
    for over_imap, as_maildir in _both(tmp_path, imap, raws):
        assert json.loads(over_imap["attachments"]) == json.loads(as_maildir["attachments"])
        assert len(json.loads(over_imap["attachments"])) == 2


TRUNCATED = (
    b"From: li@birch.co.uk\nTo: amy@lumen-furniture.com\nSubject: order PO-7781\n"
    b"Message-ID: <cut-1@birch.co.uk>\nMIME-Version: 1.0\n"
    b'Content-Type: multipart/mixed; boundary="A"\n\n'
    b"--A\nContent-Type: text/plain; charset=utf-8\n\nWhen does PO-7781 ship?\n\n"
    b"--A\nContent-Type: application/pdf; name=po.pdf\nnot a header line\n\nJVBERi0x\n"
)  # and no close boundary: the mail was cut


def test_defects_only_the_body_scan_finds_are_not_recorded_by_either_adapter(
    tmp_path: Path, imap
) -> None:
    [(over_imap, as_maildir)] = _both(tmp_path, imap, [TRUNCATED])
    assert over_imap["body"] == as_maildir["body"]
    assert "PO-7781" in as_maildir["body"]
    assert json.loads(over_imap["defects"]) == json.loads(as_maildir["defects"])
    for name in ("CloseBoundaryNotFoundDefect", "MissingHeaderBodySeparatorDefect"):
        assert name not in json.loads(as_maildir["defects"])


FOLDED_BOUNDARY = (
    b"From: li@birch.co.uk\nTo: amy@lumen-furniture.com\nSubject: PO-7781\n"
    b"Message-ID: <folded-1@birch.co.uk>\nMIME-Version: 1.0\n"
    b'Content-Type: multipart/mixed; boundary="foo\n bar"\n\n'  # unfolded: "foo bar"
    b"prologue\n\n--foo bar\nContent-Type: text/x-myown; charset=us-ascii\n\n"
    b"When does PO-7781 ship?\n\n--foo bar--\n"
)


def test_a_folded_boundary_and_a_text_x_part_give_the_same_text_over_both_adapters(
    tmp_path: Path, imap
) -> None:
    """The boundary parameter is read unfolded on the Maildir path too (as Dovecot reads it),
    and a message whose only text part is text/x-* has that part as its text on both sides."""
    [(over_imap, as_maildir)] = _both(tmp_path, imap, [FOLDED_BOUNDARY])
    assert over_imap["body"] == as_maildir["body"] == "When does PO-7781 ship?\n"
    assert json.loads(over_imap["defects"]) == json.loads(as_maildir["defects"])


NULS_AND_BARE_CR = (
    b"From: li@birch.co.uk\nTo: amy@lumen-furniture.com\nSubject: PO-7781\rready\n"
    b"Message-ID: <nul-1@birch.co.uk>\nMIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=utf-8\n\nPO-7781 ships\0 on Friday.\n"
)


def test_nul_bytes_and_a_bare_cr_give_the_same_text_and_defects_over_both_adapters(
    tmp_path: Path, imap
) -> None:
    """Dovecot sends each NUL as 0x80: the Maildir path reads the bytes the same way; the
    bare-CR note comes first whichever side found it."""
    [(over_imap, as_maildir)] = _both(tmp_path, imap, [NULS_AND_BARE_CR])
    assert over_imap["body"] == as_maildir["body"] == "PO-7781 ships on Friday.\n"
    assert json.loads(over_imap["defects"]) == json.loads(as_maildir["defects"])


UNCLOSED_TEXT = (
    b"From: li@birch.co.uk\nTo: amy@lumen-furniture.com\nSubject: PO-7781\n"
    b"Message-ID: <unclosed-1@birch.co.uk>\nMIME-Version: 1.0\n"
    b'Content-Type: multipart/mixed; boundary="1"\n\n'
    b"--1\nContent-Type: text/plain\n\nPO-7781 ships on Friday.\n\n"
    b"--1\nContent-Type: text/plain\n\nThe invoice follows.\n"  # cut here: no --1--
)


def test_the_last_text_part_of_an_unclosed_multipart_is_read_alike(tmp_path: Path, imap) -> None:
    """Its bytes run to the end of the message, last line end included, as Dovecot sends it."""
    [(over_imap, as_maildir)] = _both(tmp_path, imap, [UNCLOSED_TEXT])
    assert over_imap["body"] == as_maildir["body"]
    assert as_maildir["body"].endswith("The invoice follows.\n")


OBSOLETE_HEADER = (
    b"From  : li@birch.co.uk\r\nTo    : amy@lumen-furniture.com\r\n__\r\n"
    b"quite Delivered-To: amy@lumen-furniture.com\r\nSubject : PO-7781\r\n"
    b"Message-ID: <obs-1@birch.co.uk>\r\n\r\nPO-7781 ships on Friday.\r\n"
)


def test_a_header_with_obsolete_or_junk_lines_ends_at_its_blank_line_on_both_adapters(
    tmp_path: Path, imap
) -> None:
    """Blanks before a colon, a name with a blank, a line without a colon: Dovecot keeps them
    in the header; the Maildir path no longer starts the body there."""
    [(over_imap, as_maildir)] = _both(tmp_path, imap, [OBSOLETE_HEADER])
    assert over_imap["body"] == as_maildir["body"] == "PO-7781 ships on Friday.\n"


HEADER_ONLY_MULTIPART = (
    b"From: li@birch.co.uk\nTo: amy@lumen-furniture.com\nSubject: PO-7781\n"
    b"Message-ID: <empty-1@birch.co.uk>\nMIME-Version: 1.0\n"
    b'Content-Type: multipart/alternative; boundary="never"\n\n'
)


def test_a_multipart_with_an_empty_body_gets_the_same_defects_on_both_adapters(
    tmp_path: Path, imap
) -> None:
    """No text to read: neither side records StartBoundaryNotFoundDefect (the IMAP side reads
    a body as text only when it holds more than a line end)."""
    [(over_imap, as_maildir)] = _both(tmp_path, imap, [HEADER_ONLY_MULTIPART])
    assert json.loads(over_imap["defects"]) == json.loads(as_maildir["defects"])
    assert "StartBoundaryNotFoundDefect" not in json.loads(as_maildir["defects"])
