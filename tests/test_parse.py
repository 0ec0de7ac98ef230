"""The parse step on small hand-written messages: each test builds the bytes it needs."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailkeeper.model import Fetched, Part
from mailkeeper.parse.charsets import decode_header_value, decode_text
from mailkeeper.parse.message import parse
from mailkeeper.parse.mime import choose_text_sections, fetched_from_bytes

HEAD = (
    "From: Tom Birch <Tom.Birch@Birch.co.uk>\n"
    "To: Amy Chen <amy@lumen-furniture.com>\n"
    "Subject: PO 4471\n"
    "Date: Tue, 2 Jan 2024 10:11:12 +0800\n"
    "Message-ID: <po4471.1@birch.co.uk>\n"
)


def mail(
    head: str = HEAD, body: bytes | str = "Hello Amy,\n\nplease confirm.\n", **hdrs: str
) -> bytes:
    extra = "".join(f"{k.replace('_', '-')}: {v}\n" for k, v in hdrs.items())
    raw_body = body.encode("utf-8") if isinstance(body, str) else body
    return (head + extra + "\n").encode("utf-8", "surrogateescape") + raw_body


def b64w(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def run(raw: bytes, **kw: object):
    return parse(fetched_from_bytes(raw, **kw))  # type: ignore[arg-type]


# --- headers --------------------------------------------------------------------------------


def test_basic_fields() -> None:
    m = run(mail(In_Reply_To="<a@x>", References="<root@x>\n <a@x>"))
    assert m.sender is not None
    assert (m.sender.name, m.sender.email) == ("Tom Birch", "tom.birch@birch.co.uk")
    assert [a.email for a in m.to] == ["amy@lumen-furniture.com"]
    assert m.subject == "PO 4471"
    assert m.message_id == "po4471.1@birch.co.uk"
    assert m.in_reply_to == "a@x"
    assert m.references == ["root@x", "a@x"]
    assert m.thread_key == "root@x"
    assert m.date == datetime(2024, 1, 2, 2, 11, 12, tzinfo=UTC)
    assert m.date_offset_minutes == 480
    assert m.text == "Hello Amy,\n\nplease confirm.\n"
    assert m.defects == []


def test_thread_key_falls_back_to_in_reply_to_then_own_id_then_key() -> None:
    assert run(mail(In_Reply_To="<parent@x>")).thread_key == "parent@x"
    assert run(mail()).thread_key == "po4471.1@birch.co.uk"
    no_id = run(mail(HEAD.replace("Message-ID: <po4471.1@birch.co.uk>\n", "")))
    assert no_id.message_id is None
    assert no_id.thread_key == no_id.key
    assert "no Message-ID" in no_id.defects


def test_garbage_message_id_is_none() -> None:
    m = run(mail(HEAD.replace("<po4471.1@birch.co.uk>", "<>")))
    assert m.message_id is None


def test_crlf_inside_encoded_display_name_does_not_break_anything() -> None:
    # policy.default raises ValueError on this From; we must not.
    evil = b64w("Evil\r\nBcc: victim@example.com")
    m = run(mail(HEAD.replace("Tom Birch <", f"{evil} <")))
    assert m.sender is not None
    assert m.sender.email == "tom.birch@birch.co.uk"
    assert "\r" not in m.sender.name and "\n" not in m.sender.name
    assert m.sender.name.startswith("Evil")


def test_groups_and_garbage_addresses() -> None:
    head = HEAD.replace("To: Amy Chen <amy@lumen-furniture.com>", "To: undisclosed-recipients:;")
    m = run(mail(head, Cc="Sales: a@x.com, B <b@y.com>;, <<<garbage>>>, ,"))
    assert m.to == []
    assert [a.email for a in m.cc] == ["a@x.com", "b@y.com"]


def test_encoded_word_display_name_and_subject() -> None:
    head = HEAD.replace("Tom Birch <", b64w("王伟", "gb2312") + " <").replace(
        "Subject: PO 4471", "Subject: " + b64w("回复: 订单", "gb2312") + " 4471"
    )
    m = run(mail(head))
    assert m.sender is not None and m.sender.name == "王伟"
    assert m.subject == "回复: 订单 4471"


def test_raw_8bit_gb2312_subject_and_name_are_readable() -> None:
    head = HEAD.replace("Subject: PO 4471", "Subject: 关于订单的问题").replace("Tom Birch", "王伟")
    raw = (
        head.encode("gb2312")
        + b"Content-Type: text/plain; charset=gb2312\n\n"
        + "请确认交期".encode("gb2312")
    )
    m = run(raw)
    assert m.subject == "关于订单的问题"
    assert m.sender is not None and m.sender.name == "王伟"
    assert m.text == "请确认交期"
    assert m.language == "zh"


def test_raw_8bit_big5_subject_without_any_charset_label() -> None:
    head = HEAD.replace("Subject: PO 4471", "Subject: 請確認訂單的交貨日期")
    m = run(head.encode("big5") + b"\nhello\n")
    assert m.subject == "請確認訂單的交貨日期"


def test_multibyte_character_split_across_two_encoded_words() -> None:
    raw = "中文".encode()
    first = base64.b64encode(raw[:2]).decode()
    second = base64.b64encode(raw[2:]).decode()
    assert decode_header_value(f"=?utf-8?B?{first}?= =?utf-8?B?{second}?=") == "中文"


def test_unparsable_date_falls_back_to_internaldate_with_defect() -> None:
    when = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)
    m = run(mail(HEAD.replace("Tue, 2 Jan 2024 10:11:12 +0800", "Whenever")), internaldate=when)
    assert m.date == when
    assert m.date_offset_minutes is None
    assert any("Date" in d and "internal date" in d for d in m.defects)


def test_lenient_date_forms() -> None:
    m = run(mail(HEAD.replace("Tue, 2 Jan 2024 10:11:12 +0800", "2 Jan 2024 10:11 -0500 (EST)")))
    assert m.date == datetime(2024, 1, 2, 15, 11, tzinfo=UTC)
    assert m.date_offset_minutes == -300


# --- bodies and charsets ----------------------------------------------------------------------


def test_base64_with_broken_padding() -> None:
    encoded = base64.b64encode(b"Deposit received, materials ordered.").rstrip(b"=")
    raw = mail(body=encoded[:-1] + b"\n", Content_Transfer_Encoding="base64")
    assert run(raw).text.startswith("Deposit received, materials ordered")


def test_quoted_printable_soft_breaks_and_8bit_utf8() -> None:
    body = "Qualit=C3=A4t ist gut, die Lieferung ist p=\nnktlich.\n"
    raw = mail(
        body=body,
        Content_Type="text/plain; charset=utf-8",
        Content_Transfer_Encoding="quoted-printable",
    )
    assert run(raw).text == "Qualität ist gut, die Lieferung ist pnktlich.\n"


def test_uuencoded_body() -> None:
    raw = mail(body="begin 644 x.txt\n%:&5L;&\\`\n`\nend\n", Content_Transfer_Encoding="x-uuencode")
    assert run(raw).text == "hello"


def test_gb2312_label_with_gbk_only_character() -> None:
    text = "請確認交期，謝謝"  # traditional characters exist in GBK, not in GB2312
    raw = mail(body=text.encode("gbk"), Content_Type="text/plain; charset=gb2312")
    m = run(raw)
    assert m.text == text
    assert not any("charset" in d for d in m.defects)


def test_charset_repairs() -> None:
    assert decode_text("樣品".encode("big5"), "big5")[0] == "樣品"
    assert decode_text("샘플".encode("cp949"), "ks_c_5601-1987")[0] == "샘플"
    assert decode_text("Müller".encode(), "iso-8859-1") == (
        "Müller",
        "charset 'iso-8859-1' declared, text is utf-8",
    )
    assert decode_text(b"\x93quoted\x94", "iso-8859-1") == ("\u201cquoted\u201d", None)
    assert decode_text("日本語".encode("utf-7"), "unicode-1-1-utf-7")[0] == "日本語"
    text, note = decode_text("交货日期已经确认".encode("gb18030"), "x-unknown")
    assert text == "交货日期已经确认"
    assert note is not None and "x-unknown" in note
    text, note = decode_text("Jürgen".encode("latin-1"), None)
    assert (text, note) == ("Jürgen", "no charset (or us-ascii) on 8-bit text: decoded as cp1252")
    # An IMAP server reports us-ascii for a part without a charset: the same text and note.
    chinese = "交货日期已经确认".encode("gb18030")
    for raw in ("Jürgen".encode("latin-1"), "Jürgen".encode(), chinese):
        assert decode_text(raw, "us-ascii") == decode_text(raw, None)


def test_html_only_message() -> None:
    html = "<html><body><p>Dear Amy,</p><p>the goods passed inspection &amp; are packed.</p>"
    m = run(mail(body=html, Content_Type="text/html; charset=utf-8"))
    assert m.has_html_only is True
    assert m.text == "Dear Amy,\n\nthe goods passed inspection & are packed."


# --- MIME structure ---------------------------------------------------------------------------

NESTED = """\
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

Plain body
--alt
Content-Type: text/html; charset=utf-8

<p>Html body</p>
--alt--
--outer
Content-Type: application/pdf; name="=?utf-8?B?5oql5Lu35Y2VLnBkZg==?="
Content-Disposition: attachment; filename*=utf-8''%E6%8A%A5%E4%BB%B7%E5%8D%95.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSL0ZpbHRlci9GbGF0ZURlY29kZT4+
--outer
Content-Type: message/rfc822

From: someone@example.com
Subject: inner
Content-Type: multipart/mixed; boundary="inner"

--inner
Content-Type: text/plain

inner text
--inner--
--outer--
"""


def test_sections_are_numbered_like_imap_bodystructure() -> None:
    f = fetched_from_bytes(mail(body=NESTED, Content_Type='multipart/mixed; boundary="outer"'))
    assert [(p.section, p.content_type) for p in f.parts] == [
        ("1.1", "text/plain"),
        ("1.2", "text/html"),
        ("2", "application/pdf"),
        ("3", "message/rfc822"),
    ]
    assert choose_text_sections(f.parts) == ["1.1"]
    assert list(f.bodies) == ["1.1"]
    assert f.parts[2].filename == "报价单.pdf"
    m = parse(f)
    assert m.text.strip() == "Plain body"
    assert [(a.filename, a.content_type) for a in m.attachments] == [
        ("报价单.pdf", "application/pdf"),
        (None, "message/rfc822"),
    ]
    assert m.attachments[0].size == f.parts[2].size * 3 // 4


def test_attachment_file_names_in_every_spelling() -> None:
    def name_of(disposition: bytes) -> str | None:
        head = b"Content-Type: application/pdf\nContent-Disposition: attachment;" + disposition
        return fetched_from_bytes(head + b"\n\nAAAA\n").parts[0].filename

    assert name_of(' filename="报价单.pdf"'.encode("gbk")) == "报价单.pdf"  # raw 8-bit GBK
    assert name_of(' filename="报价单.pdf"'.encode()) == "报价单.pdf"  # raw 8-bit UTF-8
    assert name_of(b"\n filename*0*=utf-8''%E6%8A%A5%E4%BB;\n filename*1*=%B7%E5%8D%95.pdf") == (
        "报价单.pdf"
    )
    assert name_of(f' filename="{b64w("报价单.pdf")}"'.encode()) == "报价单.pdf"
    assert name_of(b" filename=This is a test.txt") == "This is a test.txt"
    assert name_of(b' filename="C:\\TEMP\\scan.png"') == "C:\\TEMP\\scan.png"


def test_single_part_body_is_section_1_and_size_counts_crlf() -> None:
    raw = mail()
    f = fetched_from_bytes(raw)
    assert [p.section for p in f.parts] == ["1"]
    assert f.size == len(raw) + raw.count(b"\n")
    assert f.header.endswith(b"\n\n")


def test_choose_html_when_no_plain_and_skip_attachments() -> None:
    parts = [
        Part("1", "text/plain", disposition="attachment", filename="notes.txt"),
        Part("2", "text/html", size=100),
        Part("3", "image/png", size=100),
    ]
    assert choose_text_sections(parts) == ["2"]
    assert choose_text_sections([Part("1", "image/png")]) == []


def test_max_text_bytes_cuts_the_fetched_text() -> None:
    f = fetched_from_bytes(mail(body="x" * 10_000), max_text_bytes=100)
    assert len(f.bodies["1"]) == 100
    assert any("cut" in n for n in f.notes)


def test_imap_path_without_fetched_bodies() -> None:
    # What an IMAP adapter hands over when the text section was not (yet) fetched.
    f = Fetched(
        folder="INBOX",
        uid=7,
        size=1234,
        header=mail().split(b"\n\n")[0] + b"\n\n",
        parts=[Part("1", "text/plain", "utf-8", size=1000)],
    )
    m = parse(f)
    assert m.text == "" and m.subject == "PO 4471" and m.key


def test_deeply_nested_multiparts_do_not_raise() -> None:
    body = "".join(
        f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n" for i in range(5000)
    )
    m = run(mail(body=body + "--b5000\n\nhi\n", Content_Type="multipart/mixed; boundary=b0"))
    assert m.key


def test_outlook_msg_file_is_not_parsed_as_text() -> None:
    raw = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 20
    m = run(raw)
    assert m.text == ""
    assert any("OLE2" in d for d in m.defects)


# --- automatic and bulk mail -----------------------------------------------------------------


def test_auto_submitted() -> None:
    assert run(mail(Auto_Submitted="auto-replied")).is_auto
    assert not run(mail(Auto_Submitted="no")).is_auto
    assert not run(mail(X_Auto_Response_Suppress="All")).is_auto


def test_out_of_office_subjects() -> None:
    for subject in ("Automatic reply: PO 4471", "自动回复: 订单"):  # only machines write these
        m = run(mail(HEAD.replace("Subject: PO 4471", "Subject: " + subject)))
        assert m.is_auto, subject
    # "Out of Office" is also what a person may title a mail: the text must say it too
    away = "I am out of the office until Monday with limited access to e-mail."
    head = HEAD.replace("Subject: PO 4471", "Subject: Out of Office: back Monday")
    assert run(mail(head, body=away)).is_auto
    assert not run(mail(head, body="Can we settle PO 4471 before I leave?")).is_auto
    human = run(
        mail(HEAD.replace("Subject: PO 4471", "Subject: Re: [list] Bob is out of the office"))
    )
    assert not human.is_auto


def test_bounce_and_read_receipt() -> None:
    dsn = run(mail(Content_Type='multipart/report; report-type=delivery-status; boundary="x"'))
    assert dsn.is_auto and dsn.auto_reason == "delivery status notification"
    mdn = run(
        mail(Content_Type="multipart/report; report-type=disposition-notification; boundary=x")
    )
    assert mdn.auto_reason == "read receipt"
    head = HEAD.replace("Tom Birch <Tom.Birch@Birch.co.uk>", "MAILER-DAEMON <>").replace(
        "PO 4471", "Undelivered Mail Returned to Sender"
    )
    assert run(mail(head)).is_auto


def test_bulk_markers_and_a_normal_business_mail() -> None:
    assert run(mail(List_Id="<news.example.com>")).bulk_reason == "List-Id"
    assert run(mail(Precedence="bulk")).is_bulk
    assert run(mail(X_Mailchimp_Campaign_Id="123")).is_bulk
    normal = run(mail(X_Mailer="Microsoft Outlook 16.0", Thread_Index="AQHaPNJ0kKx2s7mH"))
    assert not normal.is_bulk and not normal.is_auto


# --- identity -----------------------------------------------------------------------------------


def test_same_bytes_in_two_folders_share_a_key() -> None:
    raw = mail()
    a = run(raw, folder="INBOX", uid=1, internaldate=datetime(2024, 1, 2, tzinfo=UTC))
    b = run(raw, folder="Archive", uid=99, internaldate=datetime(2024, 5, 1, tzinfo=UTC))
    assert a.key == b.key and len(a.key) == 32


def test_reused_message_id_with_other_content_gets_another_key() -> None:
    base = run(mail())
    other_date = run(mail(HEAD.replace("10:11:12", "10:11:13")))
    other_sender = run(mail(HEAD.replace("Tom.Birch@", "Tim.Birch@")))
    other_body = run(mail(body="Hello Amy,\n\nplease cancel.\n"))
    assert len({base.key, other_date.key, other_sender.key, other_body.key}) == 4
    assert {m.message_id for m in (base, other_date, other_sender, other_body)} == {
        "po4471.1@birch.co.uk"
    }


def test_message_without_message_id_has_a_stable_key() -> None:
    raw = mail(HEAD.replace("Message-ID: <po4471.1@birch.co.uk>\n", ""))
    assert run(raw).key == run(raw).key


# --- never raises -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    m = run(raw)
    assert m.key
    assert not any(d.startswith("parse failed") for d in m.defects)


_PIECES = st.sampled_from(
    [
        b"From: ",
        b"To: ",
        b"Subject: ",
        b"Date: ",
        b"Content-Type: multipart/mixed; boundary=b\n",
        b"Content-Type: text/plain; charset=",
        b"Content-Transfer-Encoding: base64\n",
        b"Content-Transfer-Encoding: quoted-printable\n",
        b"\n--b\n",
        b"\n--b--\n",
        b"\n\n",
        b"\r\n",
        b"=?utf-8?B?",
        b"=?gb2312?Q?=D6=D0",
        b"?=",
        b"<a@b.c>",
        b'"',
        b";",
        b":",
        b"\xd6\xd0\xce\xc4",
        b"\xff\xfe",
        b"undisclosed-recipients:;",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.binary(max_size=20)), max_size=60))
def test_mail_shaped_noise_never_raises(pieces: list[bytes]) -> None:
    m = run(b"".join(pieces))
    assert m.key
    assert not any(d.startswith("parse failed") for d in m.defects)


@pytest.mark.parametrize("word", ["informação", "Cotação", "Möbel Größe", "Jürgen", "café crème"])
def test_accented_latin_words_are_not_mistaken_for_double_encoded_cjk(word: str) -> None:
    from mailkeeper.parse.charsets import decode_text, repair_double_encoding

    assert repair_double_encoding(word) is None
    assert decode_text(word.encode("iso-8859-1"), "iso-8859-1")[0] == word


def test_a_text_x_part_is_the_text_when_no_plain_or_html_part_has_any() -> None:
    """text/x-* (any inline text type but a file, calendar, card or bounce headers) is read
    when no text/plain or text/html part holds text, before an empty text/plain one."""
    one, empty = Part("1", "text/x-one", size=40), Part("2", "text/plain", size=0)
    assert choose_text_sections([one, empty]) == ["1"]
    assert choose_text_sections([Part("1", "text/rfc822-headers", size=40), empty]) == ["2"]
    assert choose_text_sections([Part("1", "text/x-one", size=40, filename="a.txt")]) == []
    raw = b"Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/x-one\n\n"
    raw += b"Blah\n--B--\n"
    assert parse(fetched_from_bytes(raw)).text == "Blah"


def test_a_byte_order_mark_before_the_first_field_does_not_make_the_header_text() -> None:
    """As Dovecot reads it: the body is what follows the blank line (a file saved by a
    Windows editor starts with a UTF-8 byte order mark)."""
    raw = b"\xef\xbb\xbfFrom: li@birch.co.uk\nSubject: PO-7781\n"
    raw += b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\n'
    raw += b"Ships Friday.\n--B--\n"
    assert parse(fetched_from_bytes(raw)).text == "Ships Friday."
