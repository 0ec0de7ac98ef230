"""parse_fetch reads FETCH data exactly as imapclient does, real Dovecot data included."""

from __future__ import annotations

from datetime import UTC
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, make_mail
from imapclient import IMAPClient
from imapclient.imapclient import join_message_ids, seq_to_parenstr_upper
from imapclient.response_parser import parse_fetch_response

from mailkeeper.config.settings import AccountConfig
from mailkeeper.mailbox.bodystructure import parts_from_bodystructure
from mailkeeper.mailbox.fetchparse import FetchParseError, parse_fetch
from mailkeeper.mailbox.imap import HEADER_ITEMS, ImapMailbox
from mailkeeper.parse.mime import choose_text_sections

SKIP = {"MANIFEST.tsv", "SOURCES.md"}
TEXT_LIMIT = 256 * 1024


# ----------------------------------------------------------------------------- helpers
def assert_same(data: list[Any]) -> dict[int, dict[bytes, Any]]:
    """parse_fetch(data) == imapclient's reading of it, key by key, type by type."""
    ours = parse_fetch(data)
    theirs = parse_fetch_response(data, normalise_times=True, uid_is_key=True)
    assert sorted(ours) == sorted(theirs)
    for uid, want in theirs.items():
        got = ours[uid]
        assert sorted(got) == sorted(want), uid
        for key, value in want.items():
            if key == b"BODYSTRUCTURE":
                assert parts_from_bodystructure(got[key]) == parts_from_bodystructure(value), uid
            if key == b"INTERNALDATE" and value is not None:
                # ours is aware UTC, imapclient's local naive: the same instant
                assert got[key].tzinfo is UTC and got[key] == value.astimezone(UTC), uid
                continue
            assert got[key] == value, (uid, key)
            assert type(got[key]) is type(value), (uid, key)
            _same_types(got[key], value, (uid, key))
    return ours


def _same_types(a: Any, b: Any, where: object) -> None:
    """Equal values can still differ in type (True == 1); walk nested tuples/lists too."""
    assert type(a) is type(b), (where, a, b)
    if isinstance(a, (tuple, list)):
        for x, y in zip(a, b, strict=True):
            _same_types(x, y, where)


def raw_fetch(client: IMAPClient, uids: list[int], items: list[bytes]) -> list[Any]:
    """The untagged FETCH data exactly as IMAPClient.fetch hands it to its parser."""
    imap = client._imap
    tag = imap._command("UID", "FETCH", join_message_ids(uids), seq_to_parenstr_upper(items))
    typ, data = imap._command_complete("FETCH", tag)
    client._checkok("fetch", typ, data)
    typ, data = imap._untagged_response(typ, data, "FETCH")
    return list(data)


def generated_messages() -> list[tuple[bytes, str]]:
    """Shapes the corpus may lack: escaped quotes, 8-bit params (literals), rfc822 parts."""
    out: list[tuple[bytes, str]] = [
        (make_mail("a@x.example", "b@y.example", "plain"), ""),
        (make_mail("a@x.example", "b@y.example", 'He said "hi" \\ bye'), "S"),
    ]
    m = EmailMessage()
    m["From"] = '"Amy \\"A\\" Chen" <amy@lumen-furniture.com>'
    m["To"] = "b@y.example"
    m["Subject"] = 'Quote "Q3" \\ price'
    m.set_content("text part")
    m.add_alternative("<p>html part</p>", subtype="html")
    m.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename='r "Q3".pdf')
    m.add_attachment("报价单".encode(), maintype="application", subtype="octet-stream",
                     filename="报价单.xlsx")  # fmt: skip
    inner = EmailMessage()
    inner["From"] = '"Bob \\"B\\"" <bob@y.example>'
    inner["To"] = "amy@lumen-furniture.com"
    inner["Subject"] = 'Fwd: "quoted" subject'
    inner["Message-ID"] = "<inner@y.example>"
    inner.set_content("the forwarded text")
    inner.add_attachment(b"x" * 300, maintype="image", subtype="png", filename="a.png")
    m.add_attachment(inner)
    out.append((m.as_bytes(), "RS"))
    # 8-bit (unencoded) parameter and filename values: Dovecot sends them as literals.
    raw8 = (
        b"From: a@x.example\r\nTo: b@y.example\r\nSubject: raw 8bit\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\n'
        b"Content-Type: text/plain; charset=gb2312\r\n\r\n\xc4\xe3\xba\xc3\r\n--zz\r\n"
        + 'Content-Type: application/octet-stream; name="报价 \\"单\\".xlsx"\r\n'.encode()
        + 'Content-Disposition: attachment; filename="报价单.xlsx"\r\n\r\nAAAA\r\n'.encode()
        + b"--zz--\r\n"
    )
    out.append((raw8, "F"))
    out.append((b"Subject: no body, no type\r\n\r\n", ""))
    out.append((b'From: a@x.example\r\nContent-Type: text/plain; name=""\r\n\r\n', "S"))
    return out


def corpus_messages() -> list[bytes]:
    if not CORPUS.is_dir():
        return []
    return [p.read_bytes() for p in sorted(CORPUS.rglob("*")) if p.is_file() and p.name not in SKIP]


# ----------------------------------------------------------------------------- real Dovecot
@pytest.mark.imap
def test_generated_messages_parse_like_imapclient(imap) -> None:
    for raw, flags in generated_messages():
        imap.deliver("INBOX", raw, user=imap.user, flags=flags)
    imap.index(imap.user)
    _compare_folder(imap, expect_literal_in_bodystructure=True)


@pytest.mark.imap
@pytest.mark.corpus
def test_whole_corpus_parses_like_imapclient(imap) -> None:
    corpus = corpus_messages()
    if not corpus:
        pytest.skip(f"{CORPUS} is absent")
    for raw in corpus:
        imap.deliver("INBOX", raw, user=imap.user)
    for raw, flags in generated_messages():
        imap.deliver("INBOX", raw, user=imap.user, flags=flags)
    imap.index(imap.user)
    assert _compare_folder(imap, expect_literal_in_bodystructure=True) == len(corpus) + len(
        generated_messages()
    )


def _compare_folder(imap, expect_literal_in_bodystructure: bool) -> int:
    client = IMAPClient("127.0.0.1", port=imap.port, ssl=False, timeout=30)
    client._imap.debug = 0
    try:
        client.login(imap.user, "secret")
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search(["ALL"]))
        literals_in_structure = 0
        for i in range(0, len(uids), 200):
            batch = uids[i : i + 200]
            data = raw_fetch(client, batch, HEADER_ITEMS)
            literals_in_structure += sum(
                1
                for item in data
                if isinstance(item, tuple)
                and not item[0].endswith(b"BODY[HEADER] {%d}" % len(item[1]))
            )
            ours = assert_same(data)
            assert sorted(ours) == batch
            # The text parts mailkeeper then fetches, grouped by section as fetch_batch does.
            groups: dict[tuple[str, ...], list[int]] = {}
            for uid in batch:
                sections = tuple(
                    choose_text_sections(parts_from_bodystructure(ours[uid][b"BODYSTRUCTURE"]))
                )
                if sections:
                    groups.setdefault(sections, []).append(uid)
            for sections, group in groups.items():
                items = [f"BODY.PEEK[{s}]<0.{TEXT_LIMIT}>".encode() for s in sections]
                assert_same(raw_fetch(client, group, items))
            # Brackets with spaces inside one atom, and CONDSTORE's MODSEQ.
            more = [b"UID", b"FLAGS", b"MODSEQ", b"BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]"]
            ours = assert_same(raw_fetch(client, batch, more))
            assert all(isinstance(v[b"MODSEQ"], tuple) for v in ours.values())
        if expect_literal_in_bodystructure:
            assert literals_in_structure > 0
        return len(uids)
    finally:
        client.logout()


@pytest.mark.imap
def test_mailbox_fetch_uses_fast_parser_and_falls_back(imap, tmp_path: Path) -> None:
    for raw, flags in generated_messages():
        imap.deliver("INBOX", raw, user=imap.user, flags=flags)
    imap.index(imap.user)
    account = AccountConfig(
        name="work", host="127.0.0.1", port=imap.port, tls="none", username=imap.user
    )
    with ImapMailbox(account, password=lambda: "secret") as mb:
        uids = mb.new_uids("INBOX", 0)
        assert len(uids) == len(generated_messages())
        reference = mb._c().fetch(uids, HEADER_ITEMS)
        ours = mb._fetch(uids, HEADER_ITEMS)
        assert ours.keys() == reference.keys()
        for uid in uids:
            got, want = dict(ours[uid]), dict(reference[uid])
            assert got.pop(b"INTERNALDATE") == want.pop(b"INTERNALDATE").astimezone(UTC)
            assert got == want
        # ENVELOPE is left to imapclient: the fallback reads the same data.
        assert mb._fetch(uids, [b"ENVELOPE"]) == mb._c().fetch(uids, [b"ENVELOPE"])
        # Unknown UIDs are dropped, as IMAPClient.fetch drops them.
        assert mb._fetch([max(uids) + 100], HEADER_ITEMS) == {}
        fetched = mb.fetch_batch("INBOX", uids)
        assert [f.uid for f in fetched] == uids
        assert all(f.bodies for f in fetched[:3])


# ----------------------------------------------------------------------------- hand-written
DATE = b'"01-Oct-2026 09:00:00 +0800"'

CASES: dict[str, list[Any]] = {
    "escaped quotes, backslashes, NIL, empty FLAGS": [
        b"1 (UID 7 FLAGS () RFC822.SIZE 0 INTERNALDATE " + DATE + b" BODYSTRUCTURE "
        b'("text" "plain" ("charset" "utf-8" "name" "a \\"b\\" \\\\ c \\q") NIL NIL "7bit" 12 1 '
        b"NIL NIL NIL NIL))"
    ],
    "literal inside BODYSTRUCTURE params, then the header literal": [
        (
            b'2 (UID 8 RFC822.SIZE 3000 FLAGS (\\Seen $Forwarded) BODYSTRUCTURE (("text" "plain" '
            b'("charset" "utf-8") NIL NIL "base64" 100 3 NIL NIL NIL NIL)("application" "pdf" '
            b'("name" {10}',
            "报价.pdf".encode(),
        ),
        (
            b') NIL NIL "base64" 2000 NIL ("attachment" ("filename" "x.pdf")) NIL NIL) "mixed" '
            b'("boundary" "b1") NIL NIL NIL) BODY[HEADER] {10}',
            b"A: b\r\n\r\n\r\n",
        ),
        b")",
    ],
    "message/rfc822 part with envelope and nested structure": [
        b'3 (UID 9 BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" '
        b'4 1 NIL NIL NIL NIL)("message" "rfc822" ("name" "fwd.eml") NIL NIL "7bit" 500 '
        b'("Mon, 1 Oct 2026 09:00:00 +0000" "Fwd \\"x\\"" (("Amy \\"A\\"" NIL "amy" "x.example")) '
        b'(("Amy" NIL "amy" "x.example")) NIL ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL '
        b'NIL)) NIL NIL NIL "<id@x>") (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 1 '
        b'NIL NIL NIL NIL)("image" "png" NIL "<cid@x>" "desc" "base64" 400 NIL ("inline" NIL) '
        b'NIL NIL) "related" ("boundary" "in") NIL NIL NIL) 20 NIL ("attachment" ("filename" '
        b'"fwd.eml")) NIL NIL) "mixed" ("boundary" "out") NIL NIL NIL) RFC822.SIZE 900 MODSEQ '
        b"(12345))"
    ],
    "numeric-looking atoms and quoted numbers": [
        b'4 (UID 10 FLAGS (\\Seen 0123 0 42 "7") X-THING (0 007 "12" NIL "NIL" "" 1.5 a[b c]d))'
    ],
    "text part literal with an origin, two messages": [
        (b"5 (UID 11 BODY[1.2]<0> {5}", b"hello"),
        b")",
        (b"6 (UID 12 BODY[1]<0> {0}", b""),
        b")",
    ],
    "unsolicited FLAGS merged into the same message": [
        b"7 (UID 13 FLAGS (\\Seen) RFC822.SIZE 5)",
        b"7 (UID 13 FLAGS (\\Seen \\Flagged))",
        b"8 (FLAGS (\\Deleted))",
    ],
    "NIL INTERNALDATE and a bad one": [
        b"9 (UID 14 INTERNALDATE NIL)",
        b'10 (UID 15 INTERNALDATE "not a date")',
    ],
    "nothing": [None],
    "lower-case item names": [b"11 (uid 16 rfc822.size 77 flags ())"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hand_written_responses(name: str) -> None:
    assert_same(CASES[name])


def test_structure_details() -> None:
    [msg] = parse_fetch(CASES["escaped quotes, backslashes, NIL, empty FLAGS"]).values()
    assert msg[b"FLAGS"] == ()
    assert msg[b"BODYSTRUCTURE"][2] == (b"charset", b"utf-8", b"name", b'a "b" \\ c \\q')
    [msg] = parse_fetch(
        CASES["literal inside BODYSTRUCTURE params, then the header literal"]
    ).values()
    parts = parts_from_bodystructure(msg[b"BODYSTRUCTURE"])
    assert [p.filename for p in parts] == [None, "x.pdf"]
    assert msg[b"BODYSTRUCTURE"][0][1][2] == (b"name", "报价.pdf".encode())
    assert msg[b"BODY[HEADER]"] == b"A: b\r\n\r\n\r\n"
    assert msg[b"FLAGS"] == (b"\\Seen", b"$Forwarded")
    [msg] = parse_fetch(CASES["message/rfc822 part with envelope and nested structure"]).values()
    assert [p.content_type for p in parts_from_bodystructure(msg[b"BODYSTRUCTURE"])] == [
        "text/plain",
        "message/rfc822",
    ]
    assert msg[b"MODSEQ"] == (12345,)


@pytest.mark.parametrize(
    "data",
    [
        [b"1 (UID 1 X %)"],  # imapclient has its own reading of stray specials
        [b'1 (UID 1 X "open)'],
        [b"1 (UID 1 X [open)"],
        [b"1 (UID 1 BODY[] {5})"],  # a literal marker without its literal
        [(b"1 (UID 1 BODY[] {6}", b"hello"), b")"],  # wrong literal length
        [b"1 (UID 1 FLAGS (\\Seen)"],  # unclosed
        [b"1 (UID 1 ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))"],
        [b"1 (UID 1 X\x01 Y)"],
    ],
)
def test_what_it_leaves_to_imapclient(data: list[Any]) -> None:
    with pytest.raises(FetchParseError):
        parse_fetch(data)
