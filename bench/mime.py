"""Render a generated mail to RFC 5322 bytes, the way the sender's mail client would.

Written by hand rather than with `email.message` because the generator must write
100,000 messages in well under two minutes. Lines end in LF, as in a Maildir.
"""

from __future__ import annotations

import base64
import binascii
import html
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import quote

from world import MY_DOMAIN, Person

B64_LINE = 57  # raw bytes per 76-character base64 line


@dataclass
class Mail:
    folder: str  # "INBOX" or "Sent"
    kind: str  # "normal" | "newsletter" | "autoreply" | "bounce" | "internal"
    date: datetime  # aware, in the sender's zone
    sender: Person
    to: list[Person]
    subject: str
    message_id: str
    language: str
    client: str  # which mail client wrote it: decides MIME shape, charset and encodings
    new_text: str  # what the sender wrote (greeting, body, signature)
    quoted: str = ""  # the quoted previous message, already formatted
    cc: list[Person] = field(default_factory=list)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    attachment: tuple[str, str, int] | None = None  # (filename, content type, raw size)
    flags: str = "S"
    list_id: str | None = None
    original_headers: str = ""  # for bounces

    @property
    def text(self) -> str:
        return self.new_text + ("\n\n" + self.quoted if self.quoted else "")


class AttachmentPool:
    """Random bytes pre-encoded as base64 lines; attachments are slices of it (fast)."""

    def __init__(self, seed: int, size: int = 1 << 20) -> None:
        raw = random.Random(f"pool-{seed}").randbytes(size - size % B64_LINE)
        encoded = base64.b64encode(raw)
        self.lines = b"".join(encoded[i : i + 76] + b"\n" for i in range(0, len(encoded), 76))
        self.n_lines = len(raw) // B64_LINE
        self.view = memoryview(self.lines)

    def encode(self, rng: random.Random, size: int, magic: bytes) -> bytes:
        return b"".join(self.pieces(rng, size, magic))

    def pieces(self, rng: random.Random, size: int, magic: bytes) -> list[bytes | memoryview]:
        """The encoded attachment as pieces, the bulk a view into the pool (no copy)."""
        head = magic + rng.randbytes(B64_LINE - len(magic))
        n = min(max(0, -(-size // B64_LINE) - 1), self.n_lines)
        start = rng.randrange(self.n_lines - n + 1)
        return [base64.b64encode(head), b"\n", self.view[start * 77 : (start + n) * 77]]


MAGIC = {
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "application/pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": b"PK\x03\x04\x14\x00",
}


# ------------------------------------------------------------------ header encoding


def _codec(charset: str) -> str:
    """gb2312-labelled mail is really GBK (and may hold GBK-only characters)."""
    return "gbk" if charset.lower() == "gb2312" else charset


def encode_word(text: str, charset: str = "utf-8", enc: str = "B") -> str:
    """RFC 2047 encoded words, each at most ~75 characters, joined by folding whitespace."""
    if text.isascii():
        return text
    if not _encodable(text, charset):
        charset = "utf-8"
    words: list[str] = []
    chunk = ""
    limit = 42 if enc == "B" else 20
    for ch in text:
        if len((chunk + ch).encode(_codec(charset))) > limit:
            words.append(_one_word(chunk, charset, enc))
            chunk = ""
        chunk += ch
    if chunk:
        words.append(_one_word(chunk, charset, enc))
    return "\n ".join(words)


def _one_word(text: str, charset: str, enc: str) -> str:
    data = text.encode(_codec(charset))
    if enc == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    q = "".join(
        chr(b)
        if (48 <= b <= 57 or 65 <= b <= 90 or 97 <= b <= 122)
        else ("_" if b == 32 else f"={b:02X}")
        for b in data
    )
    return f"=?{charset}?Q?{q}?="


def address(p: Person, charset: str) -> str:
    if p.name.isascii():
        name = p.name if p.name.replace(" ", "").isalnum() else f'"{p.name}"'
        return f"{name} <{p.email}>"
    enc = "B" if p.language == "zh" or charset != "utf-8" else "Q"
    return f"{encode_word(p.name, charset, enc)} <{p.email}>"


def address_list(people: list[Person], charset: str) -> str:
    return ",\n ".join(address(p, charset) for p in people)


# --------------------------------------------------------------------- body encoding


def encode_body(text: str, charset: str, cte: str) -> tuple[str, bytes]:
    data = text.encode(_codec(charset), errors="replace")
    if cte in ("7bit", "8bit"):
        return ("7bit" if data.isascii() else "8bit"), data
    if cte == "quoted-printable":
        return cte, binascii.b2a_qp(data)
    encoded = base64.b64encode(data)
    return "base64", b"\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


HTML_HEAD = {
    "outlook": (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:'
        'office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft'
        '.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">\n<head>\n<meta http-'
        'equiv="Content-Type" content="text/html; charset={cs}">\n<meta name="Generator" content='
        '"Microsoft Word 15 (filtered medium)">\n<style><!--\n/* Font Definitions */\n@font-face\n'
        '\t{{font-family:"Cambria Math";\n\tpanose-1:2 4 5 3 5 4 6 3 2 4;}}\n@font-face\n\t{{font-'
        "family:DengXian;\n\tpanose-1:2 1 6 0 3 1 1 1 1 1;}}\n@font-face\n\t{{font-family:Calibri;"
        "\n\tpanose-1:2 15 5 2 2 2 4 3 2 4;}}\n/* Style Definitions */\np.MsoNormal, li.MsoNormal,"
        " div.MsoNormal\n\t{{margin:0cm;\n\tfont-size:11.0pt;\n\t"
        'font-family:"Calibri",sans-serif;}}'
        "\na:link, span.MsoHyperlink\n\t{{mso-style-priority:99;\n\tcolor:#0563C1;\n\ttext-"
        "decoration:underline;}}\nspan.EmailStyle17\n\t{{mso-style-type:personal-compose;\n\tfont-"
        'family:"Calibri",sans-serif;\n\tcolor:windowtext;}}\n.MsoChpDefault\n\t{{mso-style-type:'
        'export-only;\n\tfont-family:"Calibri",sans-serif;}}\n@page WordSection1\n\t{{size:612.0pt '
        "792.0pt;\n\tmargin:72.0pt 72.0pt 72.0pt 72.0pt;}}\ndiv.WordSection1\n\t"
        "{{page:WordSection1;"
        '}}\n--></style>\n</head>\n<body lang="EN-US" link="#0563C1" vlink="#954F72" style="word-'
        'wrap:break-word">\n<div class="WordSection1">\n'
    ),
    "gmail": '<div dir="ltr">\n',
    "foxmail": (
        '<html><head><meta http-equiv="content-type" content="text/html; charset={cs}"><style>'
        "body {{ line-height: 1.5; }}blockquote {{ margin-top: 0px; margin-bottom: 0px; margin-"
        'left: 0.5em; }}body {{ font-size: 14px; font-family: "Microsoft YaHei UI"; color: rgb(0, '
        "0, 0); line-height: 1.5; }}</style></head><body>\n<div><span></span></div>\n"
    ),
}
HTML_HEAD["newsletter"] = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/'
    'DTD/xhtml1-transitional.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-'
    'equiv="Content-Type" content="text/html; charset={cs}"><meta name="viewport" content="width='
    'device-width, initial-scale=1.0"><style type="text/css">body{{margin:0;padding:0}}table,td{{'
    "border-collapse:collapse;mso-table-lspace:0pt;mso-table-rspace:0pt}}img{{border:0;height:auto;"
    "line-height:100%;outline:none;text-decoration:none}}@media only screen and (max-width:480px)"
    '{{.mj-column-per-100{{width:100%!important;max-width:100%}}}}</style></head>\n<body style="'
    'background-color:#f4f4f4"><table align="center" border="0" cellpadding="0" cellspacing="0" '
    'role="presentation" style="width:600px;background:#ffffff"><tbody>\n'
)
HTML_PARA = {
    "newsletter": '<tr><td align="left" style="font-size:0px;padding:10px 25px;word-break:break-'
    'word"><div style="font-family:Helvetica,Arial,sans-serif;font-size:15px;line-'
    'height:22px;text-align:left;color:#333333">{}</div></td></tr>\n',
    "outlook": '<p class="MsoNormal"><span lang="EN-US" style="font-size:11.0pt;font-family:'
    '&quot;Calibri&quot;,sans-serif;color:#1F497D">{}<o:p></o:p></span></p>\n',
    "gmail": '<div style="font-family:arial,sans-serif;font-size:small">{}</div>\n',
    "foxmail": '<div style="font-family: &quot;Microsoft YaHei UI&quot;; font-size: 14px; '
    'line-height: 1.5;"><span style="background-color: transparent;">{}</span></div>\n',
}
HTML_TAIL = {
    "newsletter": "</tbody></table></body></html>\n",
    "outlook": "</div>\n</body>\n</html>\n",
    "gmail": "</div>\n",
    "foxmail": "</body></html>\n",
}


def to_html(mail: Mail, charset: str) -> str:
    style = mail.client if mail.client in HTML_HEAD else "foxmail"
    para = HTML_PARA[style]
    parts = [HTML_HEAD[style].format(cs=charset)]
    for line in mail.new_text.split("\n"):
        parts.append(para.format(html.escape(line) if line else "&nbsp;"))
    if mail.quoted:
        parts.append(
            '<blockquote style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">\n'
        )
        for line in mail.quoted.split("\n"):
            parts.append(
                para.format(html.escape(line.lstrip("> ")) if line.strip("> ") else "&nbsp;")
            )
        parts.append("</blockquote>\n")
    parts.append(HTML_TAIL[style])
    return "".join(parts)


# ----------------------------------------------------------------------- the message


@dataclass(frozen=True)
class Shape:
    structure: str  # "plain" | "alternative" | "html"
    charset: str
    cte: str


def choose_shape(mail: Mail, rng: random.Random) -> Shape:
    zh = mail.language == "zh" or not mail.text.isascii() and _needs_cjk(mail.text)
    latin = not mail.text.isascii()
    client = mail.client
    if client in ("foxmail", "qqmail"):
        charset = "gb18030" if client == "qqmail" else rng.choice(("gb2312", "gb2312", "gbk"))
        if not _encodable(mail.text, charset):
            charset = "utf-8"
        return Shape("alternative" if rng.random() < 0.85 else "html", charset, "base64")
    if client == "outlook":
        charset = ("gb2312" if zh and rng.random() < 0.5 else "utf-8") if latin else "us-ascii"
        if charset == "gb2312" and not _encodable(mail.text, charset):
            charset = "utf-8"
        cte = "base64" if zh and rng.random() < 0.6 else "quoted-printable"
        return Shape("alternative", charset, cte)
    if client == "gmail":
        cte = ("base64" if zh else "quoted-printable") if latin else "7bit"
        return Shape("alternative", "UTF-8", cte)
    if client == "newsletter":
        return Shape("alternative" if rng.random() < 0.7 else "html", "utf-8", "quoted-printable")
    if client == "htmlonly":
        return Shape("html", "utf-8", rng.choice(("quoted-printable", "base64", "8bit")))
    if client == "plain8bit":
        charset = "gbk" if zh and _encodable(mail.text, "gbk") else "utf-8"
        return Shape("plain", charset, "8bit")
    return Shape("plain", "UTF-8", "8bit")  # thunderbird


def _needs_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _encodable(text: str, charset: str) -> bool:
    try:
        text.encode(_codec(charset))
    except UnicodeEncodeError:
        return False
    return True


def _boundary(rng: random.Random, client: str) -> str:
    token = rng.randbytes(12).hex()
    if client == "outlook":
        return f"_000_{token.upper()}_"
    if client in ("foxmail", "qqmail"):
        return f"----=_NextPart_{token[:6]}_{token[6:14]}_{token[14:]}"
    return f"000000000000{token[:12]}"


def _leaf(content_type: str, charset: str, cte: str, body: str, extra: str = "") -> bytes:
    cte_used, data = encode_body(body, charset, cte)
    head = (
        f'Content-Type: {content_type}; charset="{charset}"{extra}\n'
        f"Content-Transfer-Encoding: {cte_used}\n\n"
    )
    return head.encode() + data + b"\n"


def _multipart(subtype: str, boundary: str, parts: list[bytes], params: str = "") -> bytes:
    out = [f'Content-Type: multipart/{subtype};{params}\n\tboundary="{boundary}"\n\n'.encode()]
    if subtype != "alternative":
        out.append(b"This is a multi-part message in MIME format.\n\n")
    for part in parts:
        out.append(f"--{boundary}\n".encode())
        out.append(part)
        out.append(b"\n")
    out.append(f"--{boundary}--\n".encode())
    return b"".join(out)


def _text_body(mail: Mail, shape: Shape, rng: random.Random) -> bytes:
    plain = mail.text
    if shape.structure == "plain":
        flowed = "; format=flowed" if mail.client == "thunderbird" else ""
        return _leaf("text/plain", shape.charset, shape.cte, plain, flowed)
    html_text = to_html(mail, shape.charset)
    html_leaf = _leaf("text/html", shape.charset, shape.cte, html_text)
    if shape.structure == "html":
        return html_leaf
    plain_leaf = _leaf("text/plain", shape.charset, shape.cte, plain)
    return _multipart("alternative", _boundary(rng, mail.client), [plain_leaf, html_leaf])


def _attachment(
    attachment: tuple[str, str, int], client: str, rng: random.Random, pool: AttachmentPool
) -> bytes:
    return b"".join(_attachment_pieces(attachment, client, rng, pool))


def _attachment_pieces(
    attachment: tuple[str, str, int], client: str, rng: random.Random, pool: AttachmentPool
) -> list[bytes | memoryview]:
    filename, ctype, size = attachment
    if filename.isascii():
        params = f'; name="{filename}"'
        disp = f'attachment;\n\tfilename="{filename}"'
    elif client in ("foxmail", "qqmail", "outlook"):
        word = encode_word(filename, "gb2312" if client != "outlook" else "utf-8")
        params = f';\n\tname="{word}"'
        disp = f'attachment;\n\tfilename="{word}"'
    else:
        params = f';\n\tname="{encode_word(filename)}"'
        disp = f"attachment;\n\tfilename*=UTF-8''{quote(filename)}"
    head = (
        f"Content-Type: {ctype}{params}\nContent-Transfer-Encoding: base64\n"
        f"Content-Disposition: {disp}\n\n"
    )
    return [head.encode(), *pool.pieces(rng, size, MAGIC[ctype])]


def render(mail: Mail, rng: random.Random, pool: AttachmentPool, profile: str = "default") -> bytes:
    if profile == "html" and mail.kind != "bounce":
        return render_html_profile(mail, rng, pool)
    if mail.kind == "bounce":
        shape = Shape("report", "us-ascii", "7bit")
        body = _bounce_body(mail, rng)
    else:
        shape = choose_shape(mail, rng)
        body = _text_body(mail, shape, rng)
        if mail.attachment is not None:
            body = _multipart(
                "mixed",
                _boundary(rng, mail.client),
                [body, _attachment(mail.attachment, mail.client, rng, pool)],
            )
    return headers(mail, shape, rng).encode() + body


def _bounce_body(mail: Mail, rng: random.Random) -> bytes:
    failed = mail.original_headers.split("To: ", 1)[-1].split("\n", 1)[0]
    explain = (
        "This is the mail system at host mx1.lumen-furniture.com.\n\nI'm sorry to have to "
        "inform you that your message could not\nbe delivered to one or more recipients. "
        "It's attached below.\n\nFor further assistance, please send mail to postmaster.\n\n"
        "If you do so, please include this problem report. You can\ndelete your own text "
        "from the attached returned message.\n\n                   The mail system\n\n"
        f"<{failed}>: host mx.{failed.split('@')[-1]} said: 550 5.1.1\n"
        "    User unknown (in reply to RCPT TO command)\n"
    )
    status = (
        f"Reporting-MTA: dns; mx1.{MY_DOMAIN}\nArrival-Date: {format_datetime(mail.date)}"
        f"\n\nFinal-Recipient: rfc822; {failed}\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
    )
    parts = [
        b"Content-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n"
        + explain.encode(),
        b"Content-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
        + status.encode(),
        b"Content-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers\n\n"
        + mail.original_headers.encode("utf-8", "replace"),
    ]
    return _multipart(
        "report",
        f"{rng.randbytes(8).hex().upper()}.{int(mail.date.timestamp())}",
        parts,
        " report-type=delivery-status;",
    )


# --------------------------------------------------------------------------- headers


def _b64(rng: random.Random, n: int) -> str:
    return base64.b64encode(rng.randbytes(n)).decode()


def _fold(value: str, width: int = 74) -> str:
    return "\n\t".join(value[i : i + width] for i in range(0, len(value), width))


def _ip(rng: random.Random) -> str:
    return (
        f"{rng.randint(20, 220)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def _trace_headers(mail: Mail, rng: random.Random) -> list[str]:
    """What the receiving side adds: delivery, Received chain, authentication."""
    domain = mail.sender.email.split("@")[-1]
    when = format_datetime(mail.date)
    qid = rng.randbytes(5).hex().upper()
    out = [
        f"Return-Path: <{mail.sender.email}>",
        "Delivered-To: amy@lumen-furniture.com",
        f"Received: from mx1.{MY_DOMAIN}\n\tby mx1.{MY_DOMAIN} with LMTP\n\tid {_b64(rng, 12)}"
        f"\n\t(envelope-from <{mail.sender.email}>)\n\tfor <amy@{MY_DOMAIN}>; {when}",
        f"Received: from mail.{domain} (mail.{domain} [{_ip(rng)}])\n\t(using TLSv1.3 with cipher "
        f"TLS_AES_256_GCM_SHA384 (256/256 bits))\n\t(No client certificate requested)\n\tby mx1."
        f"{MY_DOMAIN} (Postfix) with ESMTPS id {qid}\n\tfor <amy@{MY_DOMAIN}>; {when}",
        f"Authentication-Results: mx1.{MY_DOMAIN};\n\tdkim=pass (2048-bit key; unprotected) "
        f'header.d={domain} header.i=@{domain} header.b="{_b64(rng, 6)}";\n\tspf=pass '
        f"smtp.mailfrom={domain};\n\tdmarc=pass (p=quarantine dis=none) header.from={domain}",
    ]
    if mail.client != "thunderbird":
        out.append(
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d="
            + domain
            + "; s=selector1;\n\th=From:Date:Subject:Message-ID:Content-Type:MIME-Version;"
            f"\n\tbh={_b64(rng, 32)};\n\tb=" + _fold(_b64(rng, 256))
        )
    if mail.client == "gmail":
        out += [
            f"X-Google-DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=1e100.net;"
            f"\n\ts=20230601; t={int(mail.date.timestamp())};\n\tbh={_b64(rng, 32)};\n\tb="
            + _fold(_b64(rng, 256)),
            f"X-Gm-Message-State: {_fold(_b64(rng, 60))}",
            f"X-Google-Smtp-Source: {_b64(rng, 60)}",
            f"X-Received: by 2002:a05:6512:{rng.randrange(9999)} with SMTP id "
            f"{rng.randbytes(10).hex()};\n\t{when}",
        ]
    if mail.client == "outlook":
        out += [
            "ARC-Seal: i=1; a=rsa-sha256; s=arcselector9901; d=microsoft.com; cv=none;\n\tb="
            + _fold(_b64(rng, 256)),
            "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=microsoft.com;\n"
            f"\ts=arcselector9901;\n\th=From:Date:Subject:Message-ID:Content-Type:MIME-Version"
            f";\n\tbh={_b64(rng, 32)};\n\tb=" + _fold(_b64(rng, 256)),
            f"X-MS-Exchange-Organization-Network-Message-Id: {_uuid(rng)}",
            f"X-MS-Exchange-CrossTenant-Id: {_uuid(rng)}",
            f"X-MS-Exchange-CrossTenant-OriginalArrivalTime: {when}",
            "X-MS-Exchange-CrossTenant-AuthAs: Internal",
            f"X-MS-Exchange-Transport-CrossTenantHeadersStamped: AM{rng.randrange(9)}PR0"
            f"{rng.randrange(9)}MB{rng.randrange(9999)}",
            f"X-Microsoft-Antispam-Message-Info:\n\t{_fold(_b64(rng, 420))}",
            "X-MS-Has-Attach: " + ("yes" if mail.attachment else ""),
            "X-MS-TNEF-Correlator:",
        ]
    if mail.client in ("qqmail", "foxmail"):
        out += [
            f"X-QQ-mid: bizesmtp{rng.randrange(10**8)}t{int(mail.date.timestamp())}t"
            f"{rng.randbytes(4).hex()}",
            f"X-QQ-SSF: {rng.randbytes(8).hex().upper()}",
            f"X-QQ-FEAT: {_fold(_b64(rng, 90))}",
            "X-QQ-GoodBg: 0",
            f"X-BIZMAIL-ID: {rng.randrange(10**19)}",
        ]
    return out


def _uuid(rng: random.Random) -> str:
    h = rng.randbytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


MAILERS = {
    "outlook": "X-Mailer: Microsoft Outlook 16.0",
    "foxmail": "X-Mailer: Foxmail 7.2.25.228[cn]",
    "qqmail": "X-Mailer: QQMail 2.x",
    "thunderbird": "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) "
    "Gecko/20100101 Thunderbird/115.6.0",
    "htmlonly": "X-Mailer: Zoho CRM",
}


def headers(mail: Mail, shape: Shape, rng: random.Random) -> str:
    charset = shape.charset if shape.charset not in ("us-ascii", "UTF-8") else "utf-8"
    hcs = charset if charset.startswith("gb") else "utf-8"
    lines = _trace_headers(mail, rng) if mail.folder == "INBOX" and mail.kind != "internal" else []
    lines += [
        f"Date: {format_datetime(mail.date)}",
        f"From: {address(mail.sender, hcs)}",
        f"To: {address_list(mail.to, hcs)}",
    ]
    if mail.cc:
        lines.append(f"Cc: {address_list(mail.cc, hcs)}")
    subject_enc = "B" if mail.language == "zh" else "Q"
    lines.append(f"Subject: {encode_word(mail.subject, hcs, subject_enc)}")
    if mail.client == "outlook":
        lines += [
            f"Thread-Topic: {encode_word(mail.subject, hcs, subject_enc)}",
            f"Thread-Index: {_b64(rng, 22 + 5 * len(mail.references))}",
        ]
    lines.append(f"Message-ID: <{mail.message_id}>")
    if mail.in_reply_to:
        lines.append(f"In-Reply-To: <{mail.in_reply_to}>")
    if mail.references:
        lines.append("References: " + "\n ".join(f"<{r}>" for r in mail.references))
    lines += _kind_headers(mail)
    if mail.client in MAILERS:
        lines.append(MAILERS[mail.client])
    if mail.client == "foxmail":
        lines += [
            "X-Priority: 3",
            f"X-GUID: {_uuid(rng).upper()}",
            "X-Has-Attach: " + ("yes" if mail.attachment else "no"),
        ]
    if mail.client == "outlook":
        lines.append("Content-Language: " + ("zh-CN" if mail.language == "zh" else "en-US"))
    lines.append("MIME-Version: 1.0")
    return "\n".join(lines) + "\n"


def _kind_headers(mail: Mail) -> list[str]:
    if mail.kind == "newsletter" and mail.list_id:
        host = mail.list_id
        return [
            f"List-Id: <{host}>",
            f"List-Unsubscribe: <https://{host}/u/{mail.message_id[:16]}>,\n"
            f" <mailto:unsubscribe@{host}?subject=unsubscribe>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Precedence: bulk",
        ]
    if mail.kind in ("autoreply", "bounce"):
        return ["Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All"]
    return []


# ====================================================================== the "html" profile
#
# Closer to what Outlook and Foxmail users receive: Outlook's Word-generated HTML (a <style>
# block with @font-face and mso- rules, MsoNormal paragraphs with <o:p>, MsoNormalTable
# tables, the border-top reply separator with From:/Sent:/To:/Subject:, the quoted history as
# HTML), Foxmail/QQ HTML (<div>/<br>, the 原始邮件 block, <blockquote>, GBK/GB18030), inline
# cid: images in multipart/related, order/price tables (tab-separated lines of the text).
# Everything random comes from the render stream, so the profile is deterministic per seed.

HTML_ONLY_SHARE = {"outlook": 0.22, "foxmail": 0.40, "qqmail": 0.30, "newsletter": 0.5}
GMAIL_PLAIN_SHARE = 0.25  # phone clients replying in plain text
HTML_CAP = 13_000  # the quoted history stops after about this many characters of HTML
SIGNOFFS = frozenset(
    ("Best regards,", "Kind regards,", "Thanks,", "BR", "祝好！", "此致", "Regards,")
)
SEPARATORS = {
    "________________________________": "outlook",
    "------------------ 原始邮件 ------------------": "foxmail",
    "------------------ Original ------------------": "foxmail",
}

OUTLOOK_HEAD = (
    '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:'
    'office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft'
    '.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">\n<head>\n<meta http-'
    'equiv="Content-Type" content="text/html; charset=@CS@">\n<meta name="Generator" content='
    '"Microsoft Word 15 (filtered medium)">\n<!--[if !mso]><style>v\\:* {behavior:url(#default#'
    "VML);}\no\\:* {behavior:url(#default#VML);}\nw\\:* {behavior:url(#default#VML);}\n.shape "
    "{behavior:url(#default#VML);}\n</style><![endif]--><style><!--\n/* Font Definitions */\n"
    '@font-face\n\t{font-family:"Cambria Math";\n\tpanose-1:2 4 5 3 5 4 6 3 2 4;}\n@font-face\n'
    '\t{font-family:"\\7B49\\7EBF";\n\tpanose-1:2 1 6 0 3 1 1 1 1 1;}\n@font-face\n\t{font-'
    'family:Calibri;\n\tpanose-1:2 15 5 2 2 2 4 3 2 4;}\n@font-face\n\t{font-family:"\\@\\7B49'
    '\\7EBF";\n\tpanose-1:2 1 6 0 3 1 1 1 1 1;}\n@font-face\n\t{font-family:"\\5FAE\\8F6F\\96C5'
    '\\9ED1";\n\tpanose-1:2 11 5 3 2 2 4 2 2 4;}\n@font-face\n\t{font-family:"\\@\\5FAE\\8F6F'
    '\\96C5\\9ED1";\n\tpanose-1:2 11 5 3 2 2 4 2 2 4;}\n/* Style Definitions */\np.MsoNormal, '
    "li.MsoNormal, div.MsoNormal\n\t{margin:0cm;\n\ttext-align:justify;\n\ttext-justify:inter-"
    'ideograph;\n\tfont-size:10.5pt;\n\tfont-family:"Calibri",sans-serif;}\na:link, span.Mso'
    "Hyperlink\n\t{mso-style-priority:99;\n\tcolor:#0563C1;\n\ttext-decoration:underline;}\n"
    "a:visited, span.MsoHyperlinkFollowed\n\t{mso-style-priority:99;\n\tcolor:#954F72;\n\ttext"
    "-decoration:underline;}\np.MsoListParagraph, li.MsoListParagraph, div.MsoListParagraph\n\t"
    "{mso-style-priority:34;\n\tmargin:0cm;\n\ttext-align:justify;\n\ttext-justify:inter-ideo"
    'graph;\n\ttext-indent:21.0pt;\n\tfont-size:10.5pt;\n\tfont-family:"Calibri",sans-serif;}\n'
    'span.EmailStyle18\n\t{mso-style-type:personal-reply;\n\tfont-family:"Calibri",sans-serif'
    ";\n\tcolor:windowtext;}\n.MsoChpDefault\n\t{mso-style-type:export-only;\n\tfont-size:10.0pt"
    ";}\n@page WordSection1\n\t{size:612.0pt 792.0pt;\n\tmargin:72.0pt 90.0pt 72.0pt 90.0pt;}\n"
    "div.WordSection1\n\t{page:WordSection1;}\n/* List Definitions */\n@list l0\n\t{mso-list-id"
    ":1843809327;\n\tmso-list-type:hybrid;\n\tmso-list-template-ids:-1536587706 67698703 676987"
    "13 67698715 67698703 67698713 67698715 67698703 67698713 67698715;}\n@list l0:level1\n\t"
    "{mso-level-tab-stop:none;\n\tmso-level-number-position:left;\n\tmargin-left:18.0pt;\n\ttext"
    "-indent:-18.0pt;}\nol\n\t{margin-bottom:0cm;}\nul\n\t{margin-bottom:0cm;}\n--></style><!--["
    'if gte mso 9]><xml>\n<o:shapedefaults v:ext="edit" spidmax="1026" />\n</xml><![endif]--><!'
    '--[if gte mso 9]><xml>\n<o:shapelayout v:ext="edit">\n<o:idmap v:ext="edit" data="1" />\n'
    '</o:shapelayout></xml><![endif]-->\n</head>\n<body lang="@LANG@" link="#0563C1" vlink="#95'
    '4F72" style="word-wrap:break-word;text-justify-trim:punctuation">\n<div class="Word'
    'Section1">\n'
)
FOXMAIL_HEAD = (
    '<html><head><meta http-equiv="content-type" content="text/html; charset=@CS@"><style>body '
    "{ line-height: 1.5; }blockquote { margin-top: 0px; margin-bottom: 0px; margin-left: 0.5em;"
    " }ol, ul { margin-top: 0px; margin-bottom: 0px; list-style-position: inside; }body { font-"
    'size: 10.5pt; font-family: "Microsoft YaHei UI"; color: rgb(0, 0, 0); line-height: 1.5; }'
    "</style></head><body>\n<div><span></span></div>\n"
)


@dataclass(frozen=True)
class Inline:
    cid: str
    filename: str
    ctype: str
    size: int
    width: int
    height: int
    logo: bool


class HtmlStyle:
    """How one client writes HTML; the renderer calls these for each block of the text."""

    quote_open = (
        '<blockquote style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">\n'
    )
    quote_close = "</blockquote>\n"

    def __init__(self, mail: Mail, charset: str, rng: random.Random) -> None:
        self.mail, self.charset, self.rng = mail, charset, rng
        self.zh = mail.language == "zh"

    def head(self) -> str:
        return '<div dir="ltr">\n'

    def tail(self) -> str:
        return "</div>\n"

    def line(self, text: str, quoted: bool) -> str:
        return f"<div>{text}</div>\n"

    def blank(self, quoted: bool) -> str:
        return "<div><br></div>\n"

    def table(self, rows: list[list[str]]) -> str:
        out = [
            '<table cellspacing="0" cellpadding="0" dir="ltr" border="1" style="table-layout:'
            "fixed;font-size:10pt;font-family:Arial;width:0px;border-collapse:collapse;border:"
            'none"><tbody>\n'
        ]
        for r, row in enumerate(rows):
            weight = "font-weight:bold;" if r == 0 else ""
            out.append(
                '<tr style="height:21px">'
                + "".join(
                    '<td style="border:1px solid rgb(204,204,204);overflow:hidden;padding:2px '
                    f'3px;vertical-align:bottom;{weight}">{cell}</td>\n'
                    for cell in row
                )
                + "</tr>\n"
            )
        return "".join(out) + "</tbody></table>\n"

    def separator(self, label: str, head: list[str]) -> str:
        fields = "<br>\n".join(_bold_key(h) for h in head)
        return (
            '<hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" '
            'dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000">'
            f"{fields}</font><div>&nbsp;</div></div>\n"
        )

    def attribution(self, text: str) -> str:
        return f'<div dir="ltr" class="gmail_attr">{text}<br></div>\n'

    def signature(self, lines: list[str], logo: Inline | None) -> str:
        img = (
            f'<img src="cid:{logo.cid}" alt="{logo.filename}" width="{logo.width}" '
            f'height="{logo.height}"><br>'
            if logo
            else ""
        )
        return (
            '<div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature"><div '
            f'dir="ltr">{"<br>".join(lines)}<br>{img}</div></div>\n'
        )

    def image(self, img: Inline) -> str:
        return (
            f'<div><img src="cid:{img.cid}" alt="{img.filename}" width="{img.width}" '
            f'height="{img.height}"><br></div>\n'
        )


def _bold_key(line: str) -> str:
    key, sep, value = line.partition(":")
    return f"<b>{key}:</b>{value}" if sep and len(key) < 12 else line


class OutlookStyle(HtmlStyle):
    quote_open = (
        '<blockquote style="border:none;border-left:solid #CCCCCC 1.0pt;padding:0cm 0cm 0cm '
        '6.0pt;margin-left:4.8pt;margin-top:5.0pt;margin-right:0cm;margin-bottom:5.0pt">\n'
    )

    def __init__(self, mail: Mail, charset: str, rng: random.Random) -> None:
        super().__init__(mail, charset, rng)
        self.lang = "ZH-CN" if self.zh else "EN-US"
        font = (
            "等线"
            if self.zh and charset.lower() != "us-ascii"
            else "&quot;Calibri&quot;,sans-serif"
        )
        self.new_span = (
            f'<span lang="{self.lang}" style="font-size:{"10.5" if self.zh else "11.0"}pt;'
            f'font-family:{font};color:#1F497D">'
        )

    def head(self) -> str:
        return OUTLOOK_HEAD.replace("@CS@", self.charset).replace("@LANG@", "ZH-CN")

    def tail(self) -> str:
        return "</div>\n</body>\n</html>\n"

    def line(self, text: str, quoted: bool) -> str:
        span = f'<span lang="{self.lang}">' if quoted else self.new_span
        return f'<p class="MsoNormal">{span}{text}<o:p></o:p></span></p>\n'

    def blank(self, quoted: bool) -> str:
        span = f'<span lang="{self.lang}">' if quoted else self.new_span
        return f'<p class="MsoNormal">{span}<o:p>&nbsp;</o:p></span></p>\n'

    def table(self, rows: list[list[str]]) -> str:
        widths = (40, 90, 220, 70, 90, 100)
        out = [
            '<table class="MsoNormalTable" border="0" cellspacing="0" cellpadding="0" width="0" '
            'style="width:455.0pt;border-collapse:collapse;mso-yfti-tbllook:1184;mso-padding-alt:'
            '0cm 5.4pt 0cm 5.4pt">\n'
        ]
        for r, row in enumerate(rows):
            out.append('<tr style="height:15.0pt">\n')
            for c, cell in enumerate(row):
                w = widths[c % len(widths)]
                shade = "background:#D9E2F3;" if r == 0 else ""
                bold = ("<b>", "</b>") if r == 0 or r == len(rows) - 1 else ("", "")
                align = ' align="right" style="text-align:right"' if c >= 3 and r else ""
                out.append(
                    f'<td width="{w}" style="width:{w * 0.75:.1f}pt;border:solid windowtext 1.0pt;'
                    f'{shade}padding:0cm 5.4pt">\n<p class="MsoNormal"{align}>{bold[0]}<span '
                    f'lang="EN-US" style="font-size:10.0pt">{cell or "<o:p>&nbsp;</o:p>"}</span>'
                    f"{bold[1]}<o:p></o:p></p>\n</td>\n"
                )
            out.append("</tr>\n")
        return "".join(out) + "</table>\n" + self.blank(False)

    def separator(self, label: str, head: list[str]) -> str:
        font = 'style="font-size:11.0pt;font-family:&quot;Calibri&quot;,sans-serif"'
        if SEPARATORS.get(label) != "outlook":
            return self.line(label, True) + "".join(self.line(_bold_key(h), True) for h in head)
        fields = []
        for h in head:
            key, _, value = h.partition(":")
            fields.append(f"<b>{key}:</b>{value}")
        return (
            '<div>\n<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm'
            f' 0cm">\n<p class="MsoNormal"><span lang="EN-US" {font}>'
            + "<br>\n".join(fields)
            + "<o:p></o:p></span></p>\n</div>\n</div>\n"
            + self.blank(True)
        )

    def attribution(self, text: str) -> str:
        return self.line(text, True)

    def signature(self, lines: list[str], logo: Inline | None) -> str:
        paras = "".join(self.line(ln, False) for ln in lines)
        if logo is None:
            return paras
        return (
            '<table class="MsoNormalTable" border="0" cellspacing="0" cellpadding="0" style="border'
            '-collapse:collapse">\n<tr>\n<td width="140" valign="top" style="width:105.0pt;padding'
            ':0cm 5.4pt 0cm 0cm">\n<p class="MsoNormal"><span lang="EN-US"><img width="'
            f'{logo.width}" height="{logo.height}" style="width:{logo.width / 96:.4f}in;height:'
            f'{logo.height / 96:.4f}in" id="Picture_x0020_1" src="cid:{logo.cid}" alt="cid:'
            f'{logo.cid}"></span><o:p></o:p></p>\n</td>\n<td valign="top" style="border:none;'
            'border-left:solid #1F497D 1.0pt;padding:0cm 0cm 0cm 7.5pt">\n'
            f"{paras}</td>\n</tr>\n</table>\n"
        )

    def image(self, img: Inline) -> str:
        return (
            f'<p class="MsoNormal"><span lang="EN-US"><img width="{img.width}" height="'
            f'{img.height}" style="width:{img.width / 96:.4f}in;height:{img.height / 96:.4f}in" '
            f'id="Picture_x0020_2" src="cid:{img.cid}"></span><o:p></o:p></p>\n'
        )


class FoxmailStyle(HtmlStyle):
    quote_open = (
        '<blockquote style="margin-top: 0px; margin-bottom: 0px; margin-left: 0.5em; margin-'
        'right: inherit;">\n'
    )

    def __init__(self, mail: Mail, charset: str, rng: random.Random) -> None:
        super().__init__(mail, charset, rng)
        self.br_mode = rng.random() < 0.4  # lines joined by <br> in one <div> vs a <div> each

    def head(self) -> str:
        return FOXMAIL_HEAD.replace("@CS@", self.charset)

    def tail(self) -> str:
        return "</body></html>\n"

    def line(self, text: str, quoted: bool) -> str:
        if quoted:
            return f"<div>{text}</div>\n" if not self.br_mode else f"{text}<br>\n"
        return (
            '<div><span style="font-family: &quot;Microsoft YaHei UI&quot;, Tahoma; font-size: '
            f'10.5pt; background-color: transparent;">{text}</span></div>\n'
            if not self.br_mode
            else f"{text}<br>\n"
        )

    def blank(self, quoted: bool) -> str:
        return "<div><br></div>\n"

    def table(self, rows: list[list[str]]) -> str:
        out = [
            '<table border="1" cellspacing="0" cellpadding="4" style="border-collapse: collapse; '
            'font-size: 10.5pt; font-family: &quot;Microsoft YaHei UI&quot;;"><tbody>\n'
        ]
        for r, row in enumerate(rows):
            bg = " background-color: rgb(242, 242, 242);" if r == 0 else ""
            out.append(
                "<tr>"
                + "".join(
                    f'<td style="border: 1px solid rgb(0, 0, 0); min-width: 60px;{bg}">'
                    f"{cell or '&nbsp;'}</td>"
                    for cell in row
                )
                + "</tr>\n"
            )
        return "".join(out) + "</tbody></table>\n"

    def separator(self, label: str, head: list[str]) -> str:
        fields = "".join(f"<div>{_bold_key(h)}</div>" for h in head)
        if SEPARATORS.get(label) == "foxmail":
            return (
                '<div><br></div><div style="font-size: 12px;font-family: Arial Narrow;padding:2px'
                f' 0 2px 0;">{label.replace(" ", "&nbsp;")}</div><div style="font-size: 12px;'
                f'background:#efefef;padding:8px;">{fields}</div><div><br></div>\n'
            )
        return (
            '<div><br></div><hr style="width: 210px; height: 1px;" color="#b5c4df" size="1" '
            f'align="left"><div style="padding-top:5px;font-size: 12px;">{fields}</div>\n'
        )

    def attribution(self, text: str) -> str:
        return f"<div>{text}</div>\n"

    def signature(self, lines: list[str], logo: Inline | None) -> str:
        img = f'<div><img src="cid:{logo.cid}" border="0"></div>' if logo else ""
        body = "".join(f"<div>{ln}</div>" for ln in lines)
        return (
            '<div><br></div><hr style="width: 210px; height: 1px;" color="#b5c4df" size="1" '
            'align="left">\n<div><span><div style="MARGIN: 10px; FONT-FAMILY: verdana; FONT-SIZE:'
            f' 10pt">{body}{img}</div></span></div>\n'
        )

    def image(self, img: Inline) -> str:
        return (
            f'<div><img src="cid:{img.cid}" border="0" style="width: {img.width}px; height: '
            f'{img.height}px;"></div>\n'
        )


STYLES: dict[str, type[HtmlStyle]] = {
    "outlook": OutlookStyle,
    "foxmail": FoxmailStyle,
    "qqmail": FoxmailStyle,
}


def _strip_quote(line: str) -> tuple[int, str]:
    depth = 0
    while line.startswith(">"):
        depth += 1
        line = line[1:]
    if depth and line.startswith(" "):
        line = line[1:]
    return depth, line


def _blocks(text: str) -> Iterator[tuple[str, int, object]]:
    """The text as blocks: line, blank, table (tab-separated lines), separator (a reply
    header block), attribution ("On ... wrote:"), each with its '>' quote depth."""
    lines = text.replace("&", "&amp;").replace("<", "&lt;").split("\n")
    i, n = 0, len(lines)
    while i < n:
        depth, line = _strip_quote(lines[i])
        if ">" in line:
            line = line.replace(">", "&gt;")
        if line in SEPARATORS:
            head: list[str] = []
            i += 1
            while i < n:
                _, h = _strip_quote(lines[i])
                if not h:
                    break
                head.append(h.replace(">", "&gt;"))
                i += 1
            yield "separator", depth, (line, head)
            continue
        if "\t" in line:
            rows: list[list[str]] = []
            while i < n:
                d, row = _strip_quote(lines[i])
                if "\t" not in row:
                    break
                rows.append(row.replace(">", "&gt;").split("\t"))
                i += 1
            yield "table", depth, rows
            continue
        if not line.strip():
            yield "blank", depth, ""
        elif line.startswith("On ") and line.endswith("wrote:"):
            yield "attribution", depth, line
        else:
            yield "line", depth, line
        i += 1


def _emit(
    style: HtmlStyle,
    text: str,
    quoted: bool,
    out: list[str],
    wrap_history: bool,
    budget: int = 1 << 30,
) -> None:
    """Append the HTML of `text`'s blocks to out, stopping after about `budget` characters."""
    depth = 0
    wrapped = False
    used = 0
    for kind, d, payload in _blocks(text):
        if used > budget:
            break
        while depth < d:
            out.append(style.quote_open)
            depth += 1
        while depth > d:
            out.append(style.quote_close)
            depth -= 1
        if kind == "line":
            piece = style.line(payload, quoted)  # type: ignore[arg-type]
        elif kind == "blank":
            piece = style.blank(quoted)
        elif kind == "table":
            piece = style.table(payload)  # type: ignore[arg-type]
        elif kind == "separator":
            label, head = payload  # type: ignore[misc]
            piece = style.separator(label, head)
            if wrap_history and not wrapped:
                piece += style.quote_open
                wrapped = True
        else:
            piece = style.attribution(payload)  # type: ignore[arg-type]
        out.append(piece)
        used += len(piece)
    out.append(style.quote_close * depth)
    if wrapped:
        out.append(style.quote_close)


def _split_signature(text: str) -> tuple[str, list[str], str]:
    """(body, the signature's first block of lines, the rest) at the last sign-off line."""
    lines = text.split("\n")
    at = next((i for i in range(len(lines) - 1, -1, -1) if lines[i] in SIGNOFFS), None)
    if at is None:
        return text, [], ""
    end = at
    while end < len(lines) and lines[end]:
        end += 1
    sig = [html.escape(ln) for ln in lines[at:end]]
    return "\n".join(lines[:at]), sig, "\n".join(lines[end:])


def html_profile_html(mail: Mail, charset: str, rng: random.Random, images: list[Inline]) -> str:
    if mail.client == "newsletter":
        return to_html(mail, charset)
    style = STYLES.get(mail.client, HtmlStyle)(mail, charset, rng)
    logo = next((img for img in images if img.logo), None)
    pasted = [img for img in images if img is not logo]
    body, sig, rest = _split_signature(mail.new_text)
    out = [style.head()]
    _emit(style, body, False, out, False)
    for img in pasted:
        out.append(style.image(img))
    if sig:
        out.append(style.signature(sig, logo))
        _emit(style, rest, False, out, False)
    if mail.quoted:
        out.append(style.blank(False))
        wrap = isinstance(style, FoxmailStyle) and rng.random() < 0.5
        budget = HTML_CAP - sum(len(s) for s in out)
        _emit(style, mail.quoted, True, out, wrap, budget)
    out.append(style.tail())
    return "".join(out)


def choose_shape_html(mail: Mail, rng: random.Random) -> Shape:
    latin = not mail.text.isascii()
    zh = mail.language == "zh"  # (the default profile also scans English text for CJK)
    client = mail.client
    html_only = rng.random() < HTML_ONLY_SHARE.get(client, 0.0)
    if client in ("foxmail", "qqmail"):
        if client == "qqmail":
            charset = "gb18030"
        else:
            charset = rng.choice(("gbk", "gbk", "gb18030", "gb2312"))
        if not _encodable(mail.text, charset):
            charset = "gb18030"
        return Shape("html" if html_only else "alternative", charset, "base64")
    if client == "outlook":
        charset = ("gb2312" if zh and rng.random() < 0.5 else "utf-8") if latin else "us-ascii"
        if charset == "gb2312" and not _encodable(mail.text, charset):
            charset = "utf-8"
        cte = "base64" if zh and rng.random() < 0.6 else "quoted-printable"
        return Shape("html" if html_only else "alternative", charset, cte)
    if client == "gmail":
        cte = ("base64" if zh else "quoted-printable") if latin else "7bit"
        plain = rng.random() < GMAIL_PLAIN_SHARE
        return Shape("plain" if plain else "alternative", "UTF-8", cte)
    if client == "newsletter":
        return Shape("html" if html_only else "alternative", "utf-8", "quoted-printable")
    if client == "htmlonly":
        return Shape("html", "utf-8", rng.choice(("quoted-printable", "base64", "8bit")))
    if client == "plain8bit":
        charset = "gbk" if zh and _encodable(mail.text, "gbk") else "utf-8"
        return Shape("plain", charset, "8bit")
    return Shape("plain", "UTF-8", "8bit")  # thunderbird


def _plan_images(mail: Mail, rng: random.Random) -> list[Inline]:
    """Inline images: a signature logo, pasted pictures; a few KB each."""
    client = mail.client
    if client not in ("outlook", "foxmail", "qqmail", "gmail") or mail.kind == "autoreply":
        return []
    mine = mail.folder == "Sent"
    want_logo = rng.random() < (0.9 if mine else 0.45 if client == "outlook" else 0.2)
    pasted = rng.choice((0, 0, 0, 0, 1, 1, 2))
    stamp = rng.randbytes(4).hex().upper()
    images: list[Inline] = []
    for k in range(int(want_logo) + pasted):
        logo = want_logo and k == 0
        ctype = "image/png" if logo or rng.random() < 0.5 else "image/jpeg"
        ext = "png" if ctype == "image/png" else "jpg"
        size = rng.randint(2_000, 9_000) if logo else rng.randint(4_000, 16_000)
        w, h = (
            (rng.randint(100, 180), rng.randint(40, 70))
            if logo
            else (
                rng.randint(300, 640),
                rng.randint(200, 480),
            )
        )
        if client == "outlook":
            name = f"image{k + 1:03d}.{ext}"
            cid = f"{name}@01D{stamp[:5]}.{rng.randbytes(4).hex().upper()}"
        elif client == "gmail":
            name = f"image{'' if k == 0 else k}.{ext}"
            cid = f"ii_{rng.randbytes(8).hex()[:15]}"
        else:
            name = f"{'logo' if logo else 'Catch'}{rng.randbytes(3).hex().upper()}.{ext}"
            cid = f"_Foxmail.{k + 1}@{_uuid(rng)}"
        images.append(Inline(cid, name, ctype, size, w, h, logo))
    return images


Pieces = list[bytes | memoryview]


def _inline_part(img: Inline, rng: random.Random, pool: AttachmentPool) -> Pieces:
    head = (
        f'Content-Type: {img.ctype};\n\tname="{img.filename}"\nContent-Description: '
        f'{img.filename}\nContent-Disposition: inline; filename="{img.filename}"; size='
        f"{img.size}\nContent-ID: <{img.cid}>\nContent-Transfer-Encoding: base64\n\n"
    )
    return [head.encode(), *pool.pieces(rng, img.size, MAGIC[img.ctype])]


def _multipart_pieces(subtype: str, boundary: str, parts: list[Pieces], params: str = "") -> Pieces:
    """_multipart, as pieces: the large parts are joined once, at the end of render."""
    out: Pieces = [
        f'Content-Type: multipart/{subtype};{params}\n\tboundary="{boundary}"\n\n'.encode()
    ]
    if subtype != "alternative":
        out.append(b"This is a multi-part message in MIME format.\n\n")
    sep = f"--{boundary}\n".encode()
    for part in parts:
        out.append(sep)
        out += part
        out.append(b"\n")
    out.append(f"--{boundary}--\n".encode())
    return out


def render_html_profile(mail: Mail, rng: random.Random, pool: AttachmentPool) -> bytes:
    shape = choose_shape_html(mail, rng)
    client = mail.client
    body: Pieces
    if shape.structure == "plain":
        flowed = "; format=flowed" if client == "thunderbird" else ""
        body = [_leaf("text/plain", shape.charset, shape.cte, mail.text, flowed)]
    else:
        images = _plan_images(mail, rng)
        text = html_profile_html(mail, shape.charset, rng, images)
        html_leaf: Pieces = [_leaf("text/html", shape.charset, shape.cte, text)]
        inline = [_inline_part(img, rng, pool) for img in images]
        related = ' type="text/html";'
        if shape.structure == "html":
            body = (
                _multipart_pieces("related", _boundary(rng, client), [html_leaf, *inline], related)
                if inline
                else html_leaf
            )
        else:
            plain_leaf: Pieces = [_leaf("text/plain", shape.charset, shape.cte, mail.text)]
            if not inline:
                body = _multipart_pieces(
                    "alternative", _boundary(rng, client), [plain_leaf, html_leaf]
                )
            elif client == "outlook":  # related( alternative(plain, html), images )
                alt = _multipart_pieces(
                    "alternative", _boundary(rng, client), [plain_leaf, html_leaf]
                )
                body = _multipart_pieces(
                    "related",
                    _boundary(rng, client),
                    [alt, *inline],
                    ' type="multipart/alternative";',
                )
            else:  # Foxmail, QQ, Gmail: alternative( plain, related(html, images) )
                rel = _multipart_pieces(
                    "related", _boundary(rng, client), [html_leaf, *inline], related
                )
                body = _multipart_pieces("alternative", _boundary(rng, client), [plain_leaf, rel])
    if mail.attachment is not None:
        attachment = _attachment_pieces(mail.attachment, client, rng, pool)
        body = _multipart_pieces("mixed", _boundary(rng, client), [body, attachment])
    return b"".join([headers(mail, shape, rng).encode(), *body])
