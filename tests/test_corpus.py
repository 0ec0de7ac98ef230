"""Every real-world message in ../shared/corpus goes through the parse step; specific files
check charset repair, auto/bulk detection and the identity rule (DESIGN.md promise 3)."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
from conftest import corpus_dir  # noqa: E402

from mailkeeper.model import Message
from mailkeeper.parse.message import parse
from mailkeeper.parse.mime import fetched_from_bytes

CORPUS = corpus_dir()
NOT_MAIL = {"MANIFEST.tsv", "SOURCES.md"}
HAN = re.compile("[\u4e00-\u9fff]")

pytestmark = pytest.mark.corpus


def _files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in NOT_MAIL)


def _folders() -> list[str]:
    return sorted({p.relative_to(CORPUS).parts[0] for p in _files()})


@cache
def parsed(rel: str) -> Message:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    path = CORPUS / rel
    assert path.is_file(), f"corpus file {rel} is missing"
    return parse(fetched_from_bytes(path.read_bytes(), folder="INBOX", uid=1))


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[bytes, Message]]:
    files = _files()
    if not files:
        pytest.skip(f"corpus not found at {CORPUS}")
    out = {}
    for p in files:
        raw = p.read_bytes()
        out[str(p.relative_to(CORPUS))] = (raw, parse(fetched_from_bytes(raw)))
    return out


@pytest.mark.parametrize("folder", _folders() or ["(corpus absent)"])
def test_every_file_parses(folder: str) -> None:
    files = [p for p in _files() if p.relative_to(CORPUS).parts[0] == folder]
    if not files:
        pytest.skip(f"corpus not found at {CORPUS}")
    for path in files:
        m = parse(fetched_from_bytes(path.read_bytes()))
        assert re.fullmatch(r"[0-9a-f]{32}", m.key), path
        assert m.thread_key, path
        assert not any(d.startswith("parse failed") for d in m.defects), (path, m.defects)
        assert m.date is None or m.date.utcoffset() is not None, path


# --- charsets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "subject_han", "body_han"),
    [
        # big5 label, subject "回覆: ..." in encoded words, Han in the quoted Outlook block
        ("openbmc-list/big5/5c6a214442909f4290502cf357a5c062cb1745e0.eml", "回覆", 10),
        # gb2312 label, subject "回复: ..."
        ("openbmc-list/gb2312/13301d7694d22c0d8a76ef6289ac39094226223b.eml", "回复", 10),
        ("openbmc-list/gb2312/a8c2820d33c9d7a59881226a585ce4d0ed817c0f.eml", "回覆", 10),
        # gbk label: 163.com mail with Chinese in the text
        ("openbmc-list/gbk/28f46a67dd810b5827beb65c78ad282d65bc2972.eml", None, 2),
        # raw 8-bit GB2312 headers, no encoded words
        ("spamassassin-tdata/nice/cjk/gb2312.1", "台湾鑫龙商贸集团公司向您拜年", 20),
        # big5 base64 body, raw 8-bit big5 subject
        ("spamassassin-tdata/nice/cjk/big5-base64.1", "新片又到", 20),
    ],
)
def test_chinese_charsets_decode_to_han(rel: str, subject_han: str | None, body_han: int) -> None:
    m = parsed(rel)
    if subject_han:
        assert subject_han in m.subject
    assert len(HAN.findall(m.text)) >= body_han
    assert "\ufffd" not in m.subject + m.text


def test_misdeclared_gb2312_body_is_really_utf8() -> None:
    # spamscope mail_test_12: the body says charset=GB2312 but its bytes are UTF-8.
    m = parsed("spamscope-mail-parser/mail_test_12")
    assert m.subject == "代开各地增值税发票"
    assert m.sender is not None and m.sender.name == "张先生"
    assert m.text.startswith("你好！我公司可代开各类增值税发票")
    assert m.language == "zh"
    assert "body: charset 'gb2312' declared, text is utf-8" in m.defects


@pytest.mark.parametrize(
    ("rel", "needle"),
    [
        ("ruby-mail/emails/plain_emails/raw_email10.eml", "Test test. Hi. Waving."),
        ("zbateson-mail-mime-parser/invalid-charset.txt", "The Hare and the Tortoise"),
    ],
)
def test_unknown_charset_labels(rel: str, needle: str) -> None:
    m = parsed(rel)
    assert needle in m.text
    assert any("unknown charset" in d for d in m.defects)


def test_unknown_charset_header_falls_back_to_latin() -> None:
    m = parsed("zbateson-mail-mime-parser/invalid-charset.txt")
    assert [a.name for a in m.to] == ["Jürgen Schmürgen"]


def test_big5_mis_encoded_as_utf8_latin1_is_repaired() -> None:
    m = parsed("ruby-mail/emails/error_emails/content_transfer_encoding_empty.eml")
    assert "大家說英語" in m.subject


def test_euc_jp_under_an_iso_2022_jp_label() -> None:
    m = parsed("sisimai-set-of-emails/maildir/bsd/lhost-ezweb-02.eml")
    assert m.text.startswith("次のあて先へのメッセージはエラーのため送信できませんでした。")
    assert m.language == "ja"


def test_outlook_msg_file() -> None:
    m = parsed("spamscope-mail-parser/mail_outlook_1")
    assert m.text == "" and m.attachments[0].content_type == "application/vnd.ms-outlook"


def test_japanese_b2b_support_mail() -> None:
    m = parsed("spamassassin-public-corpus/hard_ham/00042.5b7f2a0e87c853e8c8e13d556c1320d2")
    assert m.subject.startswith("Re: 三菱化学エンジニアリング様")
    assert m.language == "ja"


# --- automatic and bulk mail -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["delivery-status.txt", "delivery-status-no-blank-line.txt", "delivery-status.anonymized.eml"],
)
def test_mimekit_dsns_are_auto(name: str) -> None:
    # policy.default raises AttributeError reading From/To of these three.
    m = parsed(f"mimekit/messages/{name}")
    assert m.is_auto
    assert m.sender is not None


@pytest.mark.parametrize("n", range(1, 7))
def test_sisimai_rfc3834_auto_replies(n: int) -> None:
    m = parsed(f"sisimai-set-of-emails/maildir/bsd/rfc3834-0{n}.eml")
    assert m.is_auto, m.subject


def test_sisimai_bounces_are_mostly_auto(corpus: dict[str, tuple[bytes, Message]]) -> None:
    bounces = {k: m for k, (_, m) in corpus.items() if "/lhost-" in k or "/rhost-" in k}
    flagged = sum(m.is_auto for m in bounces.values())
    # Some sisimai samples are SES JSON notifications or carrier notices with no header,
    # subject or sender that says "bounce"; everything else must be caught.
    assert flagged >= 0.95 * len(bounces), sorted(k for k, m in bounces.items() if not m.is_auto)


def test_sisimai_non_bounces_are_not_auto() -> None:
    for n in (1, 2):
        assert not parsed(f"sisimai-set-of-emails/maildir/not/is-not-bounce-0{n}.eml").is_auto


def test_list_mail_is_bulk() -> None:
    m = parsed("openbmc-list/gb2312/13301d7694d22c0d8a76ef6289ac39094226223b.eml")
    assert m.is_bulk and m.bulk_reason == "List-Id"
    assert not m.is_auto


def test_humans_replying_to_an_out_of_office_are_not_auto() -> None:
    m = parsed("spamassassin-public-corpus/easy_ham_2/00045.2ee1e1652c664c64b323207f9e7a6f02")
    assert "out of the office" in m.subject and not m.is_auto


def test_enron_business_mail_is_neither_auto_nor_bulk(
    corpus: dict[str, tuple[bytes, Message]],
) -> None:
    m = parsed("enron-sample/arnold-j/all_documents/7_")
    assert m.subject == "Re: SAP Update"
    assert not m.is_auto and not m.is_bulk
    enron = [m for k, (_, m) in corpus.items() if k.startswith("enron-sample/")]
    assert len(enron) == 43
    assert not any(m.is_auto for m in enron)


# --- identity (DESIGN.md promise 3) -------------------------------------------------------------


def _same_message(a: bytes, b: bytes) -> bool:
    """Equal once line ends are normalised and trace (Received) headers are left out."""

    def norm(raw: bytes) -> bytes:
        text = raw.replace(b"\r\n", b"\n")
        return re.sub(rb"(?m)^Received:.*\n(?:[ \t].*\n)*", b"", text)

    return norm(a) == norm(b)


def test_reused_message_ids_keep_messages_apart(corpus: dict[str, tuple[bytes, Message]]) -> None:
    by_id: dict[str, list[tuple[bytes, Message]]] = defaultdict(list)
    for raw, m in corpus.values():
        if m.message_id:
            by_id[m.message_id].append((raw, m))
    shared = {i: v for i, v in by_id.items() if len({raw for raw, _ in v}) > 1}
    # DESIGN.md: 84 Message-IDs in the corpus are shared by 278 different files.
    assert len(shared) == 84
    assert sum(len(v) for v in shared.values()) == 278

    merged = 0
    for group in shared.values():
        for (raw_a, a), (raw_b, b) in itertools.combinations(group, 2):
            differs = (a.date, a.sender, a.size, a.text) != (b.date, b.sender, b.size, b.text)
            if differs:
                assert a.key != b.key, (a.subject, b.subject)
            if a.key == b.key:
                merged += 1
                # Only copies of one message may share a key: the same bytes up to line
                # ends (LF vs CRLF copies) and Received trace headers.
                assert _same_message(raw_a, raw_b)
    # 18 LF/CRLF twins + 3 SpamAssassin SPF samples that differ in one relay IP digit.
    assert merged == 21


def test_identical_bytes_in_two_folders_share_the_key() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    path = CORPUS / "openbmc-list" / "gb2312" / "13301d7694d22c0d8a76ef6289ac39094226223b.eml"
    raw = path.read_bytes()
    inbox = parse(fetched_from_bytes(raw, folder="INBOX", uid=5))
    archive = parse(fetched_from_bytes(raw, folder="Archive/2020", uid=812))
    assert inbox.key == archive.key
