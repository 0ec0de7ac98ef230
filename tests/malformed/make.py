"""The malformed-mail corpus of tests/test_malformed.py (issue 8.6): one .eml per case.

The small cases are committed next to this script (so a reader can open them); the large ones
(1 MB headers, 30,000 References, 3 MB and 30 MB parts) are only written at test time, into a
temporary directory. Run `python tests/malformed/make.py` to rewrite the committed files;
`python tests/malformed/make.py DIR --big` writes every case into DIR.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent

_HEAD = (
    b"From: Tom Birch <tom@birch.co.uk>\r\n"
    b"To: Amy Chen <amy@lumen-furniture.com>\r\n"
    b"Date: Tue, 06 Oct 2026 09:00:00 +0000\r\n"
)


def _mail(
    name: str, headers: bytes = b"", body: bytes = b"", subject: bytes | None = None
) -> bytes:
    """A message with the usual From/To/Date, a Message-ID named after the case, `headers`
    (each ending in CRLF) and `body`."""
    subj = subject if subject is not None else f"Case {name}".encode()
    return (
        _HEAD
        + b"Subject: "
        + subj
        + b"\r\n"
        + f"Message-ID: <{name}@malformed.test>\r\n".encode()
        + headers
        + b"\r\n"
        + body
    )


_PLAIN = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"


def control() -> bytes:
    return _mail("control", _PLAIN, b"Hello Amy,\r\n\r\nthe 200 oak chairs ship on Friday.\r\n")


def no_headers() -> bytes:
    return b"Hello Amy, this file has no header at all.\r\nThe samples left today.\r\n"


def no_headers_blank_line() -> bytes:
    return b"\r\nHello Amy, this file starts with a blank line.\r\nThe samples left today.\r\n"


def subject_1mb() -> bytes:
    words = b"Quotation for oak chairs " * (1_048_576 // 25)
    return _mail("subject_1mb", _PLAIN, b"Body after a huge subject.\r\n", subject=words.strip())


def xheader_1mb() -> bytes:
    filler = b"X-Filler: " + b"x" * 1_048_576 + b"\r\n"
    return _mail("xheader_1mb", _PLAIN + filler, b"Body after a huge X- header.\r\n")


def references_30k() -> bytes:
    ids = b"\r\n ".join(b"<ref%d@birch.co.uk>" % i for i in range(30_000))
    return _mail("references_30k", _PLAIN + b"References: " + ids + b"\r\n", b"Thread reply.\r\n")


def nul_bytes() -> bytes:
    return _mail(
        "nul_bytes",
        _PLAIN + b"X-Nul: a\x00b\r\n",
        b"Before the nul\x00after the nul.\r\n",
        subject=b"Nul\x00in subject",
    )


def base64_invalid() -> bytes:
    good1 = base64.encodebytes(b"Please confirm the order of 200 chairs.\n")
    good2 = base64.encodebytes(b"Delivery to Leeds by March.\n")
    body = good1 + b"This line is not base64 at all!\n" + good2
    headers = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    headers += b"Content-Transfer-Encoding: base64\r\n"
    return _mail("base64_invalid", headers, body.replace(b"\n", b"\r\n"))


def charset_unknown_body() -> bytes:
    headers = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-klingon\r\n"
    headers += b"Content-Transfer-Encoding: 8bit\r\n"
    return _mail(
        "charset_unknown_body", headers, "Caf\u00e9 chairs: the order is ready.\r\n".encode()
    )


def charset_unknown_word() -> bytes:
    return _mail(
        "charset_unknown_word",
        _PLAIN,
        b"Body of an odd subject.\r\n",
        subject=b"=?x-klingon?Q?Caf=C3=A9_order?=",
    )


def multipart_unclosed() -> bytes:
    headers = b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XX"\r\n'
    body = (
        b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"First part: the oak samples.\r\n"
        b'--XX\r\nContent-Type: application/pdf; name="spec.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
    )
    return _mail("multipart_unclosed", headers, body)


def multipart_no_boundary() -> bytes:
    headers = b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n"
    return _mail("multipart_no_boundary", headers, b"Text of a multipart without a boundary.\r\n")


def nested_200() -> bytes:
    depth = 200
    head = b"MIME-Version: 1.0\r\n"
    parts = []
    for level in range(1, depth + 1):
        parts.append(
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n'
            b"Content-Type: text/plain\r\n\r\nlevel %d\r\n--b%d\r\n" % (level, level, level, level)
        )
    inner = b"Content-Type: text/plain\r\n\r\nthe deepest text\r\n"
    closes = b"".join(b"\r\n--b%d--\r\n" % level for level in range(depth, 0, -1))
    whole = head + b"".join(parts) + inner + closes
    first_header_end = whole.index(b"\r\n\r\n")
    return _mail("nested_200", whole[: first_header_end + 2], whole[first_header_end + 4 :])


def from_encoded_crlf() -> bytes:
    msg = _mail("from_encoded_crlf", _PLAIN, b"Sender name hides a line break.\r\n")
    return msg.replace(
        b"From: Tom Birch <tom@birch.co.uk>",
        b"From: =?utf-8?Q?Tom=0D=0ABcc:_evil@x.test?= <tom@birch.co.uk>",
    )


def date_feb30_1850() -> bytes:
    return _mail("date_feb30_1850", _PLAIN, b"Dated on a day that never was.\r\n").replace(
        b"Tue, 06 Oct 2026 09:00:00 +0000", b"Sat, 30 Feb 1850 09:00:00 +0000"
    )


def date_year_9999() -> bytes:
    return _mail("date_year_9999", _PLAIN, b"Dated far ahead.\r\n").replace(
        b"Tue, 06 Oct 2026 09:00:00 +0000", b"Fri, 31 Dec 9999 23:59:59 -1200"
    )


def date_garbage() -> bytes:
    return _mail("date_garbage", _PLAIN, b"Dated with garbage.\r\n").replace(
        b"Tue, 06 Oct 2026 09:00:00 +0000", b"yesterday-ish, around tea time"
    )


def header_8bit_invalid_utf8() -> bytes:
    msg = _mail("header_8bit_invalid_utf8", _PLAIN, b"From has raw 8-bit bytes.\r\n")
    return msg.replace(b"From: Tom Birch", b"From: Tom \xff\xfe Birch \xc3t\xe9")


def qp_broken() -> bytes:
    headers = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    headers += b"Content-Transfer-Encoding: quoted-printable\r\n"
    body = b"Price =E2=82=AC 42 =ZZ per chair =\r\nsoft break, then =4\r\nend =\r\n"
    return _mail("qp_broken", headers, body)


def utf16_odd() -> bytes:
    headers = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-16-le\r\n"
    headers += b"Content-Transfer-Encoding: base64\r\n"
    data = "Chairs in UTF-16, odd length".encode("utf-16-le") + b"\x41"
    return _mail("utf16_odd", headers, base64.encodebytes(data).replace(b"\n", b"\r\n"))


def params_1000() -> bytes:
    params = b"".join(b";\r\n p%d=v%d" % (i, i) for i in range(1000))
    headers = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8" + params + b"\r\n"
    return _mail("params_1000", headers, b"A thousand parameters.\r\n")


def rfc2231_bogus() -> bytes:
    headers = b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="YY"\r\n'
    body = (
        b"--YY\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the attached drawing.\r\n"
        b"--YY\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=bogus-charset'xx'%ZZ%E4%B8%AD%\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--YY--\r\n"
    )
    return _mail("rfc2231_bogus", headers, body)


def empty_addresses() -> bytes:
    msg = _mail("empty_addresses", _PLAIN + b"Cc:\r\nReply-To: \r\n", b"Nobody sent this.\r\n")
    return msg.replace(b"From: Tom Birch <tom@birch.co.uk>", b"From:").replace(
        b"To: Amy Chen <amy@lumen-furniture.com>", b"To: "
    )


def bare_cr_headers() -> bytes:
    return _mail(
        "bare_cr_headers",
        _PLAIN + b"X-Odd: one\rtwo\r\n",
        b"Headers with a bare CR.\r\n",
        subject=b"Order\rconfirmed",
    )


def rfc822_broken() -> bytes:
    headers = b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="ZZ"\r\n'
    body = (
        b"--ZZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nForwarding the message below.\r\n"
        b"--ZZ\r\nContent-Type: message/rfc822\r\n\r\n"
        b"this is not a message header\r\nnor is this: \xff\xfe\r\n"
        b"--ZZ--\r\n"
    )
    return _mail("rfc822_broken", headers, body)


def uuencode() -> bytes:
    headers = b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
    headers += b"Content-Transfer-Encoding: x-uuencode\r\n"
    import binascii

    data = b"Uuencoded order text.\n"
    body = b"begin 644 order.txt\r\n" + binascii.b2a_uu(data).replace(b"\n", b"\r\n")
    body += b"`\r\nend\r\n"
    return _mail("uuencode", headers, body)


def shared_id_a() -> bytes:
    return _mail("shared", _PLAIN, b"First message with this id.\r\n", subject=b"Shared id A")


def shared_id_b() -> bytes:
    return _mail(
        "shared", _PLAIN, b"Second, different message, same id.\r\n", subject=b"Shared id B"
    )


def text_3mb() -> bytes:
    line = b"Production line report, all on schedule.\r\n"
    return _mail("text_3mb", _PLAIN, b"START of a 3 MB text.\r\n" + line * (3_000_000 // len(line)))


def text_30mb() -> bytes:
    line = b"Production line report, all on schedule.\r\n"
    return _mail(
        "text_30mb", _PLAIN, b"START of a 30 MB text.\r\n" + line * (30_000_000 // len(line))
    )


def attachment_30mb() -> bytes:
    headers = b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="AA"\r\n'
    blob = base64.encodebytes(bytes(range(256)) * (22_500_000 // 256)).replace(b"\n", b"\r\n")
    body = (
        b"--AA\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe catalogue is attached.\r\n"
        b"--AA\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
        b'filename="catalogue.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + blob
        + b"--AA--\r\n"
    )
    return _mail("attachment_30mb", headers, body)


SMALL: dict[str, Callable[[], bytes]] = {
    f.__name__: f
    for f in (
        control,
        no_headers,
        no_headers_blank_line,
        nul_bytes,
        base64_invalid,
        charset_unknown_body,
        charset_unknown_word,
        multipart_unclosed,
        multipart_no_boundary,
        nested_200,
        from_encoded_crlf,
        date_feb30_1850,
        date_year_9999,
        date_garbage,
        header_8bit_invalid_utf8,
        qp_broken,
        utf16_odd,
        params_1000,
        rfc2231_bogus,
        empty_addresses,
        bare_cr_headers,
        rfc822_broken,
        uuencode,
        shared_id_a,
        shared_id_b,
    )
}
# Too large to commit: written at test time.
LARGE: dict[str, Callable[[], bytes]] = {
    f.__name__: f for f in (subject_1mb, xheader_1mb, references_30k, text_3mb)
}
# 30 MB each: written once per test session, in tests marked slow.
HUGE: dict[str, Callable[[], bytes]] = {f.__name__: f for f in (text_30mb, attachment_30mb)}


def write(dest: Path, cases: dict[str, Callable[[], bytes]]) -> dict[str, Path]:
    dest.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, make in cases.items():
        path = dest / f"{name}.eml"
        path.write_bytes(make())
        out[name] = path
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1:
        big = "--big" in sys.argv
        write(Path(sys.argv[1]), {**SMALL, **LARGE, **(HUGE if big else {})})
    else:
        write(HERE, SMALL)
